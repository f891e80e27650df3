package tracing_test

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	collector "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/botsproc"
	"github.com/chatsphere/bots/internal/dbtest"
	"github.com/chatsphere/bots/internal/tracing"
)

func TestMain(m *testing.M) {
	defer botsproc.RemoveBinary()
	m.Run()
}

// receiver is an OTLP/HTTP trace endpoint that keeps the spans it is sent in memory.
type receiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		z, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = z
	}
	raw, err := io.ReadAll(body)
	var msg collector.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &msg)
	}
	if req.URL.Path != "/v1/traces" || err != nil {
		http.Error(w, fmt.Sprint(req.URL.Path, err), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range msg.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			r.spans = append(r.spans, ss.Spans...)
		}
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&collector.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

// trace returns the spans received so far of the trace id.
func (r *receiver) trace(id []byte) []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range r.spans {
		if bytes.Equal(s.TraceId, id) {
			out = append(out, s)
		}
	}
	return out
}

// One create, traced from the caller's traceparent: the request's span, its SQL statements,
// the queuing of the training and the training itself, with its own statements, all in the
// caller's trace, each under the span that caused it.
func TestACreateAndItsTrainingAreOneTrace(t *testing.T) {
	t.Parallel()
	rec := &receiver{}
	collectorSrv := httptest.NewServer(rec)
	defer collectorSrv.Close()

	const secret = "tracing-test-secret-tracing-test-secret"
	p, err := botsproc.Start(botsproc.Config{Args: []string{"serve"}, Env: []string{
		"DATABASE_URL=" + dbtest.URL(t), "LISTEN_ADDR=127.0.0.1:0", "JWT_SECRET=" + secret,
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + collectorSrv.URL, "OTEL_TRACES_SAMPLER=parentbased_always_on",
		"OTEL_BSP_SCHEDULE_DELAY=50",
	}})
	require.NoError(t, err)
	defer func() { _ = p.Kill() }()
	tok, err := auth.Issue([]byte(secret), uuid.New(), time.Hour, time.Now())
	require.NoError(t, err)

	traceID, parentID := bytes.Repeat([]byte{0x4b}, 16), bytes.Repeat([]byte{0x0c}, 8)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.URL()+"/api/v1/bots",
		strings.NewReader(`{"name":"Traced secret name","model":"gpt-4o-mini"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+hex.EncodeToString(traceID)+"-"+hex.EncodeToString(parentID)+"-01")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var bot struct{ ID uuid.UUID }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&bot))
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)

	// The training ends with VersionFinishTraining inside the job's span.
	var spans []*tracepb.Span
	require.Eventually(t, func() bool {
		spans = rec.trace(traceID)
		return slices.ContainsFunc(spans, func(s *tracepb.Span) bool { return s.Name == "VersionFinishTraining" })
	}, 30*time.Second, 50*time.Millisecond, "the training's spans never arrived")

	byID := map[string]*tracepb.Span{}
	for _, s := range spans {
		byID[string(s.SpanId)] = s
	}
	// ancestors names the spans above s, nearest first, up to the caller's span.
	ancestors := func(s *tracepb.Span) []string {
		var names []string
		for parent := byID[string(s.ParentSpanId)]; parent != nil; parent = byID[string(parent.ParentSpanId)] {
			names = append(names, parent.Name)
			s = parent
		}
		require.Equal(t, parentID, s.ParentSpanId, "%s does not lead up to the caller's span", s.Name)
		return names
	}
	find := func(name string) *tracepb.Span {
		i := slices.IndexFunc(spans, func(s *tracepb.Span) bool { return s.Name == name })
		require.GreaterOrEqual(t, i, 0, "no span %q", name)
		return spans[i]
	}

	request := find("POST /api/v1/bots")
	require.Equal(t, tracepb.Span_SPAN_KIND_SERVER, request.Kind)
	require.Equal(t, parentID, request.ParentSpanId)
	require.Equal(t, []string{"POST /api/v1/bots"}, ancestors(find("BotCreate")))
	require.Equal(t, []string{"POST /api/v1/bots"}, ancestors(find("river.insert_many")))
	work := find("river.work/train_bot")
	require.Equal(t, []string{"river.insert_many", "POST /api/v1/bots"}, ancestors(work))
	require.Equal(t, []string{"river.work/train_bot", "river.insert_many", "POST /api/v1/bots"},
		ancestors(find("VersionFinishTraining")))

	attrs := map[string]string{}
	for _, kv := range request.Attributes {
		attrs[kv.Key] = kv.Value.String()
	}
	require.Contains(t, attrs["http.route"], "/api/v1/bots")
	require.Contains(t, attrs["http.response.status_code"], "201")
	require.Contains(t, attrs["http.request.id"], res.Header.Get("X-Request-Id"))

	// No span carries what the request sent: statements are named, never quoted.
	for _, s := range spans {
		for _, kv := range s.Attributes {
			require.NotContains(t, kv.Value.String(), "Traced secret name", "span %s, attribute %s", s.Name, kv.Key)
		}
	}
}

func TestStatementName(t *testing.T) {
	t.Parallel()
	for sql, want := range map[string]string{
		"-- name: BotGet :one\nSELECT * FROM bots WHERE id = $1":    "BotGet",
		"  -- name: JobInsertFastMany :many\nINSERT INTO river_job": "JobInsertFastMany",
		"select 1":                            "SELECT",
		"-- a comment\nUPDATE bots SET x = 1": "UPDATE",
		"begin;":                              "BEGIN",
		"":                                    "SQL",
	} {
		require.Equal(t, want, tracing.StatementName(sql), "%q", sql)
	}
}

func TestEnabled(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	require.False(t, tracing.Enabled(env()), "no exporter, no tracing")
	require.True(t, tracing.Enabled(env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")))
	require.True(t, tracing.Enabled(env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces")))
	require.False(t, tracing.Enabled(env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", "OTEL_SDK_DISABLED", "true")))
	require.False(t, tracing.Enabled(env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER", "none")))
}
