package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// The response check is what keeps server and spec together, so it must itself reject
// responses that break the spec.
func TestResponseCheckRejectsWhatTheSpecDoesNot(t *testing.T) {
	t.Parallel()
	get := httptest.NewRequest(http.MethodGet, "/api/v1/bots/3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a", nil)
	json := http.Header{"Content-Type": {"application/json"}}
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	cases := map[string]*response{
		"BotMissingFields":    {code: 200, header: json, body: []byte(`{"id":"3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a"}`)},
		"UndocumentedStatus":  {code: 418, header: problem, body: []byte(`{"type":"x","title":"x","status":418,"detail":"x"}`)},
		"ProblemWithoutTitle": {code: 404, header: problem, body: []byte(`{"type":"x","status":404,"detail":"x"}`)},
		"WrongContentType":    {code: 404, header: json, body: []byte(`{"type":"x","title":"x","status":404,"detail":"x"}`)},
	}
	for name, res := range cases {
		t.Run(name, func(t *testing.T) {
			require.Error(t, responseError(get, res))
		})
	}
	t.Run("UnknownPathNeedsAProblem", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/nowhere", nil)
		require.Error(t, responseError(req, &response{code: 404, header: json, body: []byte(`{}`)}))
		require.NoError(t, responseError(req, &response{code: 404, header: problem,
			body: []byte(`{"type":"/problems/not-found","title":"Not Found","status":404,"detail":"x"}`)}))
	})
	t.Run("BesideTheContractOnlySuccessesGoUnchecked", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/docs", nil)
		html := http.Header{"Content-Type": {"text/html"}}
		require.NoError(t, responseError(req, &response{code: 200, header: html, body: []byte(`<html></html>`)}))
		require.Error(t, responseError(req, &response{code: 404, header: html, body: []byte(`<html></html>`)}))
		preflight := httptest.NewRequest(http.MethodOptions, "/api/v1/bots", nil)
		require.Error(t, responseError(preflight, &response{code: 204, header: http.Header{}}), "not a preflight without Origin")
		preflight.Header.Set("Origin", "https://app.example.com")
		preflight.Header.Set("Access-Control-Request-Method", http.MethodPost)
		require.NoError(t, responseError(preflight, &response{code: 204, header: http.Header{}}))
	})
}
