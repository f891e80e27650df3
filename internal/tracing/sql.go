package tracing

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// QueryTracer returns the pgx tracer that gives each SQL statement run inside a traced request
// or job a client span named by the statement: sqlc's name of the query (BotCreate,
// BotUpdate, ...), or the statement's first keyword for SQL that has no name. It records
// neither the statement's text nor its parameters. Statements outside any span (the job
// queue's polling, the status feed) start no trace. With tracing off it returns nil, which
// pgx takes as no tracer.
func (t *Tracing) QueryTracer() pgx.QueryTracer {
	if t == nil {
		return nil
	}
	return queryTracer{tracer: t.tracer()}
}

type queryTracer struct{ tracer trace.Tracer }

func (q queryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	name := StatementName(data.SQL)
	ctx, _ = q.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.DBSystemNamePostgreSQL, semconv.DBOperationName(name)))
	return ctx
}

func (q queryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if data.Err != nil {
		span.RecordError(data.Err)
		span.SetStatus(codes.Error, "statement failed")
	}
	span.End()
}

// StatementName is the name sqlc gives a query in the comment it starts with ("-- name:
// BotGet :one"), or the first word of a statement without one, in upper case.
func StatementName(sql string) string {
	sql = strings.TrimSpace(sql)
	if rest, ok := strings.CutPrefix(sql, "-- name: "); ok {
		if name, _, ok := strings.Cut(rest, " "); ok {
			return name
		}
	}
	for strings.HasPrefix(sql, "--") { // other comments before the statement
		_, sql, _ = strings.Cut(sql, "\n")
		sql = strings.TrimSpace(sql)
	}
	word, _, _ := strings.Cut(sql, " ")
	if word == "" {
		return "SQL"
	}
	return strings.ToUpper(strings.TrimRight(word, "\n\t(;"))
}
