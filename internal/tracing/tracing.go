// Package tracing sends OpenTelemetry traces of the service: a span for each HTTP request,
// each SQL statement and each job, with the trace context carried inside the queued job so
// that a training shows up in the trace of the request that queued it.
//
// It is configured by the standard OTEL_* environment variables, read by the OpenTelemetry
// SDK and its OTLP/HTTP exporter (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME,
// OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, ...). Without an exporter endpoint tracing is
// off: New returns a nil *Tracing, and nothing is instrumented at all, so that tracing off
// costs nothing.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracing is the tracer provider of a process and the propagation it uses. A nil *Tracing is
// tracing off; its methods then return what instruments nothing.
type Tracing struct {
	provider   trace.TracerProvider
	propagator propagation.TextMapPropagator
	shutdown   func(context.Context) error
}

// instrumentation names the tracer of the service's own spans.
const instrumentation = "github.com/chatsphere/bots"

// Enabled says whether the environment configures an exporter: an OTLP endpoint for traces,
// unless OTEL_SDK_DISABLED is true or OTEL_TRACES_EXPORTER is none.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || getenv("OTEL_TRACES_EXPORTER") == "none" {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// New starts tracing as the environment configures it, or returns nil when it configures no
// exporter (see Enabled). The exporter and the SDK read the OTEL_* variables from the
// process's environment; getenv only decides whether to start. The caller owes a Shutdown,
// which sends the spans still buffered.
func New(ctx context.Context, getenv func(string) string) (*Tracing, error) {
	if !Enabled(getenv) {
		return nil, nil
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: start the OTLP exporter: %w", err)
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the default name.
	res, err := resource.Merge(resource.NewSchemaless(semconv.ServiceName("bots")), resource.Default())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: describe the process: %w", err)
	}
	// Without WithSampler the SDK takes OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return NewWithProvider(tp, tp.Shutdown), nil
}

// NewWithProvider traces with provider, for tests that collect spans in memory; shutdown
// (may be nil) is what Shutdown calls.
func NewWithProvider(provider trace.TracerProvider, shutdown func(context.Context) error) *Tracing {
	return &Tracing{
		provider:   provider,
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		shutdown:   shutdown,
	}
}

// Shutdown sends the spans still buffered and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// tracer is the tracer of the service's own spans.
func (t *Tracing) tracer() trace.Tracer { return t.provider.Tracer(instrumentation) }
