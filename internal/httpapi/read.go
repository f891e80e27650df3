package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/ijson"
)

// What the validator cannot see, each a middleware of the contract: a query string read pair
// by pair, a body read whole and checked as bytes, and nulls the validator would replace.

// checkQuery refuses a query string that no text column could hold (invalid UTF-8, NUL)
// with 400, and notes the parameters it cannot read as sent (see queryFields), which
// validate refuses with 422 next to every other invalid field.
func (ct *contract) checkQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return onOperations(next, everyOperation, func(c echo.Context, m *matched) error {
		fields, readable := queryFields(c.Request().URL.RawQuery, m.op.single)
		if !readable {
			return fail(c.Request().Context(), kindBadRequest,
				"the query string must be UTF-8 text without NUL characters")
		}
		m.fields = append(m.fields, fields...)
		return next(c)
	})
}

// checkHeaders refuses with 400 a request that sends a header taking one value on several
// lines (see repeatedHeader), before authentication reads Authorization, and a write that
// sends a precondition its operation would ignore (see undeclaredPrecondition); it notes an
// empty Idempotency-Key, which validate refuses with 422 next to every other invalid field.
func (ct *contract) checkHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return onOperations(next, everyOperation, func(c echo.Context, m *matched) error {
		h := c.Request().Header
		if name := repeatedHeader(h, m.op.headers); name != "" {
			return fail(c.Request().Context(), kindBadRequest, fmt.Sprintf("the %s header must be sent once", name))
		}
		// GET and HEAD keep ignoring an undeclared precondition: browsers and caches send
		// If-None-Match by themselves, and the resource is the answer they expect.
		if m.op.write {
			if detail := undeclaredPrecondition(m.op.route.Method, m.op.route.Path, h, m.op.headers); detail != "" {
				return fail(c.Request().Context(), kindBadRequest, detail)
			}
		}
		m.fields = append(m.fields, emptyIdempotencyKey(h, m.op.headers)...)
		return next(c)
	})
}

// readBody reads a body of at most MaxBodyBytes, on every operation, and refuses what the
// API does not read: a Content-Encoding other than identity, a body on an operation that
// takes none, a media type other than JSON, and JSON that not every parser reads the same
// way (I-JSON, RFC 7493: UTF-8, no lone surrogates, no noncharacters, no member name twice).
// It puts the body back for the validator and keeps it for refuseNulls. An empty body
// passes; the schema says whether one is required.
func (ct *contract) readBody(next echo.HandlerFunc) echo.HandlerFunc {
	return onOperations(next, everyOperation, func(c echo.Context, m *matched) error {
		b, err := checkedBody(c, m.op.takesBody)
		if err != nil {
			return err
		}
		m.body = b
		return next(c)
	})
}

// checkedBody reads and checks the request body; see readBody.
func checkedBody(c echo.Context, takesBody bool) ([]byte, error) {
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
	if ijson.LoneSurrogate(body) {
		return nil, fail(ctx, kindBadRequest, errLoneSurrogate.Error())
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

// refuseNulls notes the top-level fields of the body that are null although their schema has
// a default and is not nullable (nullDefaults); validate refuses them with 422.
func (ct *contract) refuseNulls(next echo.HandlerFunc) echo.HandlerFunc {
	return onOperations(next, everyOperation, func(c echo.Context, m *matched) error {
		m.fields = append(m.fields, nullDefaults(m.body, m.op.route.Operation)...)
		return next(c)
	})
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

var errLoneSurrogate = errors.New(`the request body has a \u escape of a lone UTF-16 surrogate`)
