package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/chatsphere/bots/gen/api"
)

// validate checks every parameter and the body against openapi.yaml with kin-openapi, which
// also fills in the spec's defaults, and refuses the request with 422 listing every invalid
// field: the ones the middlewares before it noted first, then the validator's. A body that
// is not JSON at all is a 400.
func (ct *contract) validate(next echo.HandlerFunc) echo.HandlerFunc {
	return onOperations(next, everyOperation, func(c echo.Context, m *matched) error {
		params := make(map[string]string, len(c.ParamNames()))
		for i, name := range c.ParamNames() {
			params[name] = c.ParamValues()[i]
		}
		req := c.Request()
		ctx := req.Context()
		input := &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      m.op.route,
			Options:    ct.options,
		}
		if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
			return validationError(ctx, err, m.fields...)
		}
		if len(m.fields) > 0 {
			return invalid(ctx, m.fields)
		}
		plainIntegers(req, m.op.route.Operation)
		return next(c)
	})
}

// plainIntegers rewrites the body of a request that passed validation when a number the
// schema types as integer was written with a fraction or an exponent (1.0, 1e0): JSON Schema
// counts it as the integer it is, and the validator accepted it, but the generated server
// decodes it into a Go integer, which refuses such a literal. Any other body is left as sent.
func plainIntegers(req *http.Request, op *openapi3.Operation) {
	validated, ok := req.Body.(interface{ ValidatedValue() any })
	if !ok || op.RequestBody == nil || op.RequestBody.Value == nil {
		return
	}
	media := op.RequestBody.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil {
		return
	}
	value, changed := integralNumbers(validated.ValidatedValue(), media.Schema.Value)
	if !changed {
		return
	}
	body, err := json.Marshal(value)
	if err != nil {
		return // the generated server then reports the body it cannot read, as before
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
}

// integralNumbers returns v with each number at a place schema types as integer written as a
// plain integer literal, and whether it rewrote any. v is a JSON value decoded with
// UseNumber, as the validator decodes bodies.
func integralNumbers(v any, schema *openapi3.Schema) (any, bool) {
	if schema == nil {
		return v, false
	}
	changed := false
	switch v := v.(type) {
	case json.Number:
		if !schema.Type.Is("integer") {
			return v, false
		}
		if _, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return v, false
		}
		r, ok := new(big.Rat).SetString(string(v))
		if !ok || !r.IsInt() {
			return v, false
		}
		return json.Number(r.Num().String()), true
	case map[string]any:
		for name, member := range v {
			prop := schema.Properties[name]
			if prop == nil {
				continue
			}
			if rewritten, ok := integralNumbers(member, prop.Value); ok {
				v[name], changed = rewritten, true
			}
		}
	case []any:
		if schema.Items == nil {
			return v, false
		}
		for i, item := range v {
			if rewritten, ok := integralNumbers(item, schema.Items.Value); ok {
				v[i], changed = rewritten, true
			}
		}
	}
	return v, changed
}

var errUnknownModel = errors.New("is not a known model; GET /api/v1/models lists the models")

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
	var s *openapi3.Schema
	if ref := err.Parameter.Schema; ref != nil {
		s = ref.Value
	}
	if errors.Is(err.Err, openapi3filter.ErrInvalidEmptyValue) {
		return "is empty; it " + typeMessage(s)
	}
	var parseErr *openapi3filter.ParseError
	if errors.As(err.Err, &parseErr) {
		if raw, ok := parseErr.Value.(string); ok && errors.Is(parseErr.Cause, strconv.ErrRange) && s != nil && s.Type.Is("integer") {
			return integerRange(s, strings.HasPrefix(raw, "-"))
		}
		return typeMessage(s)
	}
	return "is invalid"
}

// typeMessage says what type a parameter's value must have.
func typeMessage(s *openapi3.Schema) string {
	switch {
	case s == nil:
	case s.Type.Is("integer"):
		return "must be an integer"
	case s.Type.Is("boolean"):
		return "must be true or false"
	case s.Type.Is("number"):
		return "must be a number"
	}
	return "is invalid"
}

// integerRange explains an integer parameter too large (or, when negative, too small) for its
// format: by the schema's bound where it has one, else by the format's.
func integerRange(s *openapi3.Schema, negative bool) string {
	bits := 64
	if s.Format == "int32" {
		bits = 32
	}
	if negative {
		if s.Min != nil {
			return "must be at least " + plainNumber(*s.Min)
		}
		return "must be at least " + strconv.FormatInt(-1<<(bits-1), 10)
	}
	if s.Max != nil {
		return "must be at most " + plainNumber(*s.Max)
	}
	return "must be at most " + strconv.FormatInt(1<<(bits-1)-1, 10)
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
