package tracing

import (
	"context"
	"encoding/json"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/otel/propagation"
)

// JobMiddleware returns River's OpenTelemetry middleware, which carries the trace context
// of the transaction that queues a job inside the job's metadata and gives each attempt at a
// job a span, and before it a middleware that makes that span a child of the queuing span:
// otelriver only links the two, which leaves a training in a trace of its own. A training
// thus shows up in the trace of the request that queued it, however long after. Both go in
// river.Config.Middleware, in this order (River enters its Plugins before its Middleware,
// which would put the parent in place too late). With tracing off it returns nothing.
func (t *Tracing) JobMiddleware() []rivertype.Middleware {
	if t == nil {
		return nil
	}
	return []rivertype.Middleware{
		&parentFromMetadata{propagator: t.propagator},
		otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
			TracerProvider: t.provider, EnableTracePropagation: true, EnableWorkSpanJobKindSuffix: true,
		}),
	}
}

// parentFromMetadata puts the trace context found in a job's metadata into the context the
// job is worked in, as the parent of the spans that follow.
type parentFromMetadata struct {
	river.MiddlewareDefaults
	propagator propagation.TextMapPropagator
}

func (p *parentFromMetadata) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	var meta map[string]any
	if len(job.Metadata) > 0 && json.Unmarshal(job.Metadata, &meta) == nil {
		carrier := propagation.MapCarrier{}
		for k, v := range meta {
			if s, ok := v.(string); ok {
				carrier[k] = s
			}
		}
		ctx = p.propagator.Extract(ctx, carrier)
	}
	return doInner(ctx)
}
