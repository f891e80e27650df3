package httpapi

import (
	"errors"
	"net/http"
	"regexp"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
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
	// headers are the header parameters the operation declares, by their names in openapi.yaml.
	headers []string
}

// contract enforces openapi.yaml on every request that matches one of its operations. Each
// of its rules is a middleware of its own, wired in the order of pipeline: authentication
// where the operation asks for it, the user's limits, then the query string, the body's
// size, encoding and media type, the request timeout, then every parameter and the body
// against their schemas. Handlers only ever see requests that passed.
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
			single := singleValued(item, op)
			o := operation{
				route: &routers.Route{
					Spec: spec, Path: path, PathItem: item, Method: method, Operation: op,
				},
				secured:   len(security) > 0,
				write:     method != http.MethodGet && method != http.MethodHead,
				streaming: streams(op),
				takesBody: op.RequestBody != nil,
				single:    single,
				headers:   headerParameters(item, op),
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

// pipeline is the contract's middlewares in the order NewServer wires them. A request that
// matches no operation (an unknown path, /metrics, /docs) passes through all of them
// untouched.
func (ct *contract) pipeline() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{
		ct.match,        // find the request's operation
		ct.checkHeaders, // 400 for a header that takes one value sent twice; notes an empty Idempotency-Key
		ct.authenticate, // 401 without a valid bearer token, where the operation asks for one
		ct.limitWrites,  // 429 past the user's write rate
		ct.limitReads,   // wait for the user's turn (lists, requests in progress), or 429
		ct.checkQuery,   // 400 for a query string no column could hold; notes unreadable parameters
		ct.readBody,     // 413, 415 or 400 for a body the API does not read
		ct.timeout,      // from here on, every request but a stream has RequestTimeout
		ct.refuseNulls,  // notes nulls the validator would replace with the default
		ct.validate,     // 422 listing every invalid parameter and field, or 400 for a body that is not JSON
		ct.ensureUser,   // only a request that passed everything writes the user's row
	}
}

// streams reports whether an operation answers with an event stream.
func streams(op *openapi3.Operation) bool {
	ok := op.Responses.Status(http.StatusOK)
	return ok != nil && ok.Value != nil && ok.Value.Content.Get("text/event-stream") != nil
}

// pathParam matches an OpenAPI path template parameter such as {bot_id}.
var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// matched is what the contract's middlewares know about a request that matches an operation,
// kept in the echo.Context by match for the middlewares after it.
type matched struct {
	op operation
	// fields are the invalid fields found before validate runs: a query parameter given
	// twice or that Go's parser would drop (checkQuery), a null where the schema has a
	// default (refuseNulls). validate lists them next to its own.
	fields []api.FieldError
	// body is the request body as readBody read it; nil when there is none.
	body []byte
}

// matchedKey is the echo.Context key of a request's *matched.
const matchedKey = "httpapi.matched"

// matchOf returns what match stored for c's request, or nil when the request matches no
// operation of openapi.yaml: unknown paths, other methods, /metrics, /docs. Every middleware
// of the contract lets such requests pass untouched.
func matchOf(c echo.Context) *matched {
	m, _ := c.Get(matchedKey).(*matched)
	return m
}

// onOperations runs rule on a request that matches an operation of openapi.yaml for which
// applies holds, and hands any other request to next untouched: each middleware of the
// contract is one rule of this shape.
func onOperations(next echo.HandlerFunc, applies func(operation) bool, rule func(echo.Context, *matched) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		m := matchOf(c)
		if m == nil || !applies(m.op) {
			return next(c)
		}
		return rule(c, m)
	}
}

// everyOperation applies a rule to every operation of openapi.yaml.
func everyOperation(operation) bool { return true }

// securedOperation applies a rule to the operations that need a bearer token.
func securedOperation(op operation) bool { return op.secured }

// match finds the operation of openapi.yaml that the request's route belongs to, for the
// contract's middlewares after it.
func (ct *contract) match(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if op, ok := ct.ops[c.Request().Method+" "+c.Path()]; ok {
			c.Set(matchedKey, &matched{op: op})
		}
		return next(c)
	}
}
