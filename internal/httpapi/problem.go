package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/chatsphere/bots/gen/api"
)

// problemKind is one of the problem types listed in openapi.yaml.
type problemKind struct {
	status int
	typ    string
}

// The problem types of the API; openapi.yaml documents each.
var (
	kindBadRequest           = problemKind{http.StatusBadRequest, "/problems/bad-request"}
	kindUnauthorized         = problemKind{http.StatusUnauthorized, "/problems/unauthorized"}
	kindForbidden            = problemKind{http.StatusForbidden, "/problems/forbidden"}
	kindNotFound             = problemKind{http.StatusNotFound, "/problems/not-found"}
	kindMethodNotAllowed     = problemKind{http.StatusMethodNotAllowed, "/problems/method-not-allowed"}
	kindNameTaken            = problemKind{http.StatusConflict, "/problems/name-taken"}
	kindConflict             = problemKind{http.StatusConflict, "/problems/conflict"}
	kindPreconditionFailed   = problemKind{http.StatusPreconditionFailed, "/problems/precondition-failed"}
	kindPayloadTooLarge      = problemKind{http.StatusRequestEntityTooLarge, "/problems/payload-too-large"}
	kindUnsupportedMedia     = problemKind{http.StatusUnsupportedMediaType, "/problems/unsupported-media-type"}
	kindValidation           = problemKind{http.StatusUnprocessableEntity, "/problems/validation"}
	kindConfirmationRequired = problemKind{http.StatusPreconditionRequired, "/problems/confirmation-required"}
	kindInternal             = problemKind{http.StatusInternalServerError, "/problems/internal"}
	kindUnavailable          = problemKind{http.StatusServiceUnavailable, "/problems/unavailable"}
	kindTimeout              = problemKind{http.StatusServiceUnavailable, "/problems/timeout"}
	kindHeaderTooLarge       = problemKind{http.StatusRequestHeaderFieldsTooLarge, "/problems/bad-request"}
	kindKeyInFlight          = problemKind{http.StatusConflict, "/problems/idempotency-key-in-use"}
	kindKeyReused            = problemKind{http.StatusUnprocessableEntity, "/problems/idempotency-key-reused"}
	kindRateLimited          = problemKind{http.StatusTooManyRequests, "/problems/rate-limited"}
	kindTooManyStreams       = problemKind{http.StatusTooManyRequests, "/problems/too-many-streams"}
	kindVersionNotReady      = problemKind{http.StatusConflict, "/problems/version-not-ready"}
	kindTooManyAliases       = problemKind{http.StatusConflict, "/problems/too-many-aliases"}
	kindTooManyWebhooks      = problemKind{http.StatusConflict, "/problems/too-many-webhooks"}
	kindDeliveryPending      = problemKind{http.StatusConflict, "/problems/delivery-pending"}
	kindWebhookDisabled      = problemKind{http.StatusConflict, "/problems/webhook-disabled"}
)

// problemError is an error that is answered with a problem; middleware returns it and the
// error handler writes it.
type problemError struct {
	problem api.Problem
	header  http.Header
}

func (e *problemError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.problem.Status, e.problem.Type, e.problem.Detail)
}

// requestInfo is what a problem body quotes of its request.
type requestInfo struct {
	id   string
	path string
}

type requestInfoKey struct{}

func withRequestInfo(ctx context.Context, info requestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, info)
}

// newProblem builds the problem body of kind k for the request in ctx.
func newProblem(ctx context.Context, k problemKind, detail string) api.Problem {
	p := api.Problem{
		Type:   k.typ,
		Title:  http.StatusText(k.status),
		Status: int32(k.status),
		Detail: detail,
	}
	if info, ok := ctx.Value(requestInfoKey{}).(requestInfo); ok {
		p.Instance = &info.path
		if info.id != "" {
			p.RequestId = &info.id
		}
	}
	return p
}

// fail returns an error answered with a problem of kind k.
func fail(ctx context.Context, k problemKind, detail string) *problemError {
	return &problemError{problem: newProblem(ctx, k, detail)}
}

// invalid returns a 422 problem listing the offending fields.
func invalid(ctx context.Context, fields []api.FieldError) *problemError {
	detail := fmt.Sprintf("the request has %d invalid fields", len(fields))
	if len(fields) == 1 {
		detail = describeField(fields[0])
	}
	p := newProblem(ctx, kindValidation, detail)
	p.Errors = &fields
	return &problemError{problem: p}
}

// describeField says in a sentence what is wrong with one field.
func describeField(f api.FieldError) string {
	switch {
	case f.Field == "":
		return fmt.Sprintf("the %s %s", f.Location, f.Message)
	case f.Location == api.Body:
		return fmt.Sprintf("the field %q %s", f.Field, f.Message)
	default:
		return fmt.Sprintf("the %s parameter %q %s", f.Location, f.Field, f.Message)
	}
}
