package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
)

// MaxBodyBytes is the largest request body the API reads (64 KiB).
const MaxBodyBytes = 64 << 10

// operation is one operation of openapi.yaml, ready for request validation.
type operation struct {
	route   *routers.Route
	secured bool
	// write is true for operations that change something; they count against the rate limit.
	write bool
	// streaming operations answer a stream that lasts as long as the client wants; the
	// request timeout does not apply to them.
	streaming bool
	// takesBody is false for operations that declare no request body; they refuse one.
	takesBody bool
	// single lists the query parameters that take one value; a repeat is refused.
	single map[string]bool
}

// contract enforces openapi.yaml on every request that matches one of its operations:
// authentication where the operation asks for it, then the body's media type, size and
// encoding, then every parameter and the body against their schemas. Handlers only ever see
// requests that passed.
type contract struct {
	ops      map[string]operation // by method and Echo path, "GET /api/v1/bots/:bot_id"
	verifier *auth.Verifier
	users    userEnsurer
	options  *openapi3filter.Options
	limits   Limits
	writes   *writeLimiter
	reads    *readLimiter
}

func newContract(spec *openapi3.T, verifier *auth.Verifier, users userEnsurer, limits Limits) (*contract, error) {
	c := &contract{
		ops:      make(map[string]operation),
		verifier: verifier,
		users:    users,
		limits:   limits,
		writes:   newWriteLimiter(limits.WriteRate, limits.WriteBurst),
		reads:    newReadLimiter(limits),
		options: &openapi3filter.Options{
			MultiError:         true,
			KeepValidatedValue: true,
			// Authentication is done by the middleware itself, before validation.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
				// A bot's model is checked with the schema, so that an unknown model is listed
				// next to every other invalid field.
				openapi3.WithStringFormatValidator("bot-model", openapi3.NewCallbackValidator(func(id string) error {
					if _, ok := bots.LookupModel(id); !ok {
						return errUnknownModel
					}
					return nil
				})),
			},
		},
	}
	for path, item := range spec.Paths.Map() {
		echoPath := pathParam.ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			security := spec.Security
			if op.Security != nil {
				security = *op.Security
			}
			o := operation{
				route: &routers.Route{
					Spec: spec, Path: path, PathItem: item, Method: method, Operation: op,
				},
				secured:   len(security) > 0,
				write:     method != http.MethodGet && method != http.MethodHead,
				streaming: streams(op),
				takesBody: op.RequestBody != nil,
				single:    singleValued(item, op),
			}
			c.ops[method+" "+echoPath] = o
			if method == http.MethodGet {
				// HEAD is the GET without its body (head.go), so it is checked as the GET.
				c.ops[http.MethodHead+" "+echoPath] = o
			}
		}
	}
	if len(c.ops) == 0 {
		return nil, errors.New("the OpenAPI document has no operations")
	}
	return c, nil
}

// streams reports whether an operation answers with an event stream.
func streams(op *openapi3.Operation) bool {
	ok := op.Responses.Status(http.StatusOK)
	return ok != nil && ok.Value != nil && ok.Value.Content.Get("text/event-stream") != nil
}

// pathParam matches an OpenAPI path template parameter such as {bot_id}.
var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// middleware applies the contract; requests that match no operation (unknown paths, other
// methods, /metrics, /docs) pass through untouched.
func (ct *contract) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		op, ok := ct.ops[req.Method+" "+c.Path()]
		if !ok {
			return next(c)
		}
		ctx := req.Context()
		if op.secured {
			c.Response().Header().Set("Cache-Control", "no-store")
			user, err := ct.authenticate(req)
			if err != nil {
				p := fail(ctx, kindUnauthorized, err.Error())
				p.header = http.Header{"Www-Authenticate": {wwwAuthenticate(err)}}
				return p
			}
			if op.write {
				if ok, wait := ct.writes.allow(user, time.Now()); !ok {
					secs := int(math.Ceil(wait.Seconds()))
					p := fail(ctx, kindRateLimited, "too many writes; retry in "+seconds(secs))
					p.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
					return p
				}
			}
			release, err := ct.reads.admit(ctx, user, op)
			if err != nil {
				return err
			}
			defer release()
			ctx = auth.WithUser(ctx, user)
		}
		if !op.streaming {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, ct.limits.RequestTimeout)
			defer cancel()
		}
		c.SetRequest(req.WithContext(ctx))
		queryErrs, err := checkQuery(c, op.single)
		if err != nil {
			return err
		}
		body, err := readBody(c, op.takesBody)
		if err != nil {
			return err
		}
		also := append(queryErrs, nullDefaults(body, op.route.Operation)...)
		params := make(map[string]string, len(c.ParamNames()))
		for i, name := range c.ParamNames() {
			params[name] = c.ParamValues()[i]
		}
		req = c.Request()
		input := &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      op.route,
			Options:    ct.options,
		}
		if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
			return validationError(ctx, err, also...)
		}
		if len(also) > 0 {
			return invalid(ctx, also)
		}
		// Only a request that passed the contract writes the user's row.
		if op.secured {
			if err := ct.users.EnsureUser(ctx, auth.User(ctx)); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// authenticate returns the user of the request's bearer token. Tokens are only taken from
// the Authorization header, never from the query string.
func (ct *contract) authenticate(req *http.Request) (uuid.UUID, error) {
	header := req.Header.Get("Authorization")
	scheme, token, found := strings.Cut(header, " ")
	if header == "" {
		return uuid.Nil, errNoToken
	}
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return uuid.Nil, fmt.Errorf("%w: the Authorization header must be \"Bearer <token>\"", auth.ErrInvalidToken)
	}
	return ct.verifier.Verify(strings.TrimSpace(token))
}

// errNoToken is the reason given when no Authorization header was sent.
var errNoToken = errors.New("this operation needs an Authorization: Bearer <token> header")

// wwwAuthenticate is the challenge of RFC 6750: bare when no token was sent, with
// error="invalid_token" when one was refused.
func wwwAuthenticate(err error) string {
	if errors.Is(err, errNoToken) {
		return `Bearer realm="chatsphere"`
	}
	return `Bearer realm="chatsphere", error="invalid_token"`
}

// checkQuery refuses a query string that no text column could hold (invalid UTF-8, NUL)
// with 400, and lists the parameters it cannot read as sent (see queryFields), which are
// refused with 422 next to every other invalid field.
func checkQuery(c echo.Context, single map[string]bool) ([]api.FieldError, error) {
	fields, readable := queryFields(c.Request().URL.RawQuery, single)
	if !readable {
		return nil, fail(c.Request().Context(), kindBadRequest,
			"the query string must be UTF-8 text without NUL characters")
	}
	return fields, nil
}

// readBody reads a body of at most MaxBodyBytes, on every operation, and refuses what the
// API does not read: a Content-Encoding other than identity, a body on an operation that
// takes none, a media type other than JSON, and JSON that not every parser reads the same
// way (I-JSON, RFC 7493: UTF-8, no lone surrogates, no noncharacters, no member name twice).
// It puts the body back for the validator and returns it. An empty body passes; the schema
// says whether one is required.
func readBody(c echo.Context, takesBody bool) ([]byte, error) {
	req := c.Request()
	ctx := req.Context()
	tooLarge := fmt.Sprintf("the request body must be at most %d bytes (64 KiB)", MaxBodyBytes)
	if req.ContentLength > MaxBodyBytes {
		return nil, fail(ctx, kindPayloadTooLarge, tooLarge)
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, fail(ctx, kindBadRequest, "the request body could not be read")
	}
	if len(body) > MaxBodyBytes {
		return nil, fail(ctx, kindPayloadTooLarge, tooLarge)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	if (len(body) > 0 || takesBody) && !identityOnly(req.Header) {
		p := fail(ctx, kindUnsupportedMedia,
			"the request body must be sent uncompressed: Content-Encoding must be identity or absent")
		p.header = http.Header{"Accept-Encoding": {"identity"}}
		return nil, p
	}
	if len(body) == 0 {
		return nil, nil
	}
	if !takesBody {
		return nil, fail(ctx, kindUnsupportedMedia, "this operation takes no request body")
	}
	mediaType, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return nil, fail(ctx, kindUnsupportedMedia, "the request body must be JSON, sent with Content-Type: application/json")
	}
	if !utf8.Valid(body) {
		return nil, fail(ctx, kindBadRequest, "the request body is not valid UTF-8")
	}
	if err := checkSurrogates(body); err != nil {
		return nil, fail(ctx, kindBadRequest, err.Error())
	}
	if !json.Valid(body) {
		// Also refuses what a lenient decoder would skip: data after the JSON value, and
		// nesting deeper than 10000 levels.
		return nil, fail(ctx, kindBadRequest, errNotJSON.Error())
	}
	if err := checkMembers(body); err != nil {
		return nil, fail(ctx, kindBadRequest, err.Error())
	}
	return body, nil
}

// nullDefaults lists the top-level fields of an object body that are null although their
// schema has a default and is not nullable. The validator would quietly replace such a null
// with the default; the contract refuses it, as it refuses null anywhere it is not allowed.
func nullDefaults(body []byte, op *openapi3.Operation) []api.FieldError {
	if body == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	media := op.RequestBody.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return nil
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil // not an object; the validator says so
	}
	var fields []api.FieldError
	for name, raw := range top {
		prop := media.Schema.Value.Properties[name]
		if string(raw) == "null" && prop != nil && prop.Value != nil && prop.Value.Default != nil && !prop.Value.Nullable {
			fields = append(fields, api.FieldError{Location: api.Body, Field: name, Message: "must not be null"})
		}
	}
	return fields
}

// checkSurrogates refuses \u escapes of UTF-16 surrogates that do not form a pair, which
// decoders would otherwise silently replace with U+FFFD.
func checkSurrogates(body []byte) error {
	pendingHigh := false
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' || i+1 >= len(body) {
			if pendingHigh {
				return errLoneSurrogate
			}
			continue
		}
		if body[i+1] != 'u' || i+5 >= len(body) {
			if pendingHigh {
				return errLoneSurrogate
			}
			i++ // skip the escaped character, which may be a backslash
			continue
		}
		r, err := strconv.ParseUint(string(body[i+2:i+6]), 16, 16)
		if err != nil {
			return nil // not an escape JSON accepts; the decoder reports it
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if pendingHigh {
				return errLoneSurrogate
			}
			pendingHigh = true
		case r >= 0xDC00 && r <= 0xDFFF:
			if !pendingHigh {
				return errLoneSurrogate
			}
			pendingHigh = false
		default:
			if pendingHigh {
				return errLoneSurrogate
			}
		}
		i += 5
	}
	if pendingHigh {
		return errLoneSurrogate
	}
	return nil
}

var errUnknownModel = errors.New("is not a known model; GET /api/v1/models lists the models")

var errLoneSurrogate = errors.New(`the request body has a \u escape of a lone UTF-16 surrogate`)

// userEnsurer creates a user's row on first use.
type userEnsurer interface {
	EnsureUser(ctx context.Context, user uuid.UUID) error
}

// validationError turns a failure of openapi3filter into a problem: 400 when the body is not
// JSON at all, 422 listing every offending field otherwise. The contract's own findings come
// first (also); the validator's errors about a field they already name are left out, since
// the contract saw what the validator could not (a parameter given twice or that Go's query
// parser drops, a null the validator would replace with the default).
func validationError(ctx context.Context, err error, also ...api.FieldError) error {
	fields := also
	named := make(map[api.FieldError]bool, len(also))
	for _, f := range also {
		named[api.FieldError{Location: f.Location, Field: f.Field}] = true
	}
	add := func(f api.FieldError) {
		if !named[api.FieldError{Location: f.Location, Field: f.Field}] {
			fields = append(fields, f)
		}
	}
	var walk func(error)
	walk = func(err error) {
		// Type switches, not errors.As: a MultiError answers As for its first element only.
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, inner := range e {
				walk(inner)
			}
		case *openapi3filter.RequestError:
			switch {
			case e.Parameter != nil:
				add(api.FieldError{
					Location: api.FieldErrorLocation(e.Parameter.In), Field: e.Parameter.Name, Message: parameterMessage(e),
				})
			case errors.Is(e.Err, openapi3filter.ErrInvalidRequired):
				add(api.FieldError{Location: api.Body, Field: "", Message: "is required"})
			default:
				walk(e.Err)
			}
		default:
			add(schemaFieldError(err))
		}
	}

	var reqErr *openapi3filter.RequestError
	var parseErr *openapi3filter.ParseError
	if errors.As(err, &reqErr) && reqErr.RequestBody != nil && errors.As(reqErr.Err, &parseErr) {
		return fail(ctx, kindBadRequest, "the request body is not valid JSON")
	}
	walk(err)
	return invalid(ctx, fields)
}

// parameterMessage explains a parameter's failure without echoing its value.
func parameterMessage(err *openapi3filter.RequestError) string {
	var schemaErr *openapi3.SchemaError
	if errors.As(err.Err, &schemaErr) {
		return schemaMessage(schemaErr)
	}
	if errors.Is(err.Err, openapi3filter.ErrInvalidRequired) {
		return "is required"
	}
	var parseErr *openapi3filter.ParseError
	if errors.As(err.Err, &parseErr) {
		switch t := err.Parameter.Schema.Value.Type; {
		case t.Is("integer"):
			return "must be an integer"
		case t.Is("boolean"):
			return "must be true or false"
		case t.Is("number"):
			return "must be a number"
		}
	}
	return "is invalid"
}

// schemaFieldError names the body field a schema error is about.
func schemaFieldError(err error) api.FieldError {
	var schemaErr *openapi3.SchemaError
	if !errors.As(err, &schemaErr) {
		return api.FieldError{Location: api.Body, Field: "", Message: "is invalid"}
	}
	field := strings.Join(schemaErr.JSONPointer(), ".")
	msg := schemaMessage(schemaErr)
	if m := unsupportedProperty.FindStringSubmatch(schemaErr.Reason); m != nil {
		field = strings.TrimPrefix(field+"."+m[1], ".")
		msg = "is not a field that can be set here (unknown or read-only)"
	}
	if m := missingProperty.FindStringSubmatch(schemaErr.Reason); m != nil {
		// The pointer of a missing property already ends with its name.
		if !strings.HasSuffix(field, m[1]) {
			field = strings.TrimPrefix(field+"."+m[1], ".")
		}
		msg = "is required"
	}
	return api.FieldError{Location: api.Body, Field: field, Message: msg}
}

var (
	unsupportedProperty = regexp.MustCompile(`^property "(.+)" is unsupported$`)
	missingProperty     = regexp.MustCompile(`^property "(.+)" is missing$`)
)

// schemaMessage phrases a schema error for a person, from the keyword that failed.
func schemaMessage(e *openapi3.SchemaError) string {
	s := e.Schema
	switch e.SchemaField {
	case "type":
		if _, isNumber := e.Value.(json.Number); isNumber && (s.Type.Is("number") || s.Type.Is("integer")) {
			// A number too large for any float64; the bounds are the useful part.
			if s.Min != nil && s.Max != nil {
				return fmt.Sprintf("is out of range; it must be between %s and %s", plainNumber(*s.Min), plainNumber(*s.Max))
			}
			return "is out of range for a number"
		}
		if s.Type.Is("integer") {
			return "must be an integer"
		}
		if s.Type != nil && len(*s.Type) > 0 {
			return "must be a JSON " + (*s.Type)[0]
		}
	case "nullable":
		return "must not be null"
	case "minLength":
		if s.MinLength == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must be at least %d characters", s.MinLength)
	case "maxLength":
		return fmt.Sprintf("must be at most %d characters", *s.MaxLength)
	case "minimum":
		return "must be at least " + plainNumber(*s.Min)
	case "maximum":
		return "must be at most " + plainNumber(*s.Max)
	case "enum":
		vals := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			vals[i] = fmt.Sprint(v)
		}
		return "must be one of: " + strings.Join(vals, ", ")
	case "pattern":
		if msg, ok := s.Extensions["x-pattern-message"].(string); ok {
			return msg
		}
		return "must match the pattern " + s.Pattern
	case "format":
		switch s.Format {
		case "bot-model":
			return errUnknownModel.Error()
		case "uuid":
			return "must be a UUID"
		}
		return "must have the format " + s.Format
	case "minProperties":
		return "must set at least one field"
	}
	return e.Reason
}
