package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// A failed attempt whose answer has no body is recorded with the status alone.
func TestWebhookDeliveryOfAnEmptyAnswerRecordsTheStatusAlone(t *testing.T) {
	t.Parallel()
	e := setupWith(t, envConfig{webhooks: &testWebhooks})
	u := newUser(t)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	hook := e.register(u, failing.URL+"/hook", "bot.created")

	e.createBot(u, map[string]any{"name": "Unanswered"})

	waitUntil(t, "an attempt is recorded", func() bool {
		d := e.deliveries(hook.Id)
		return len(d) == 1 && d[0].Attempts > 0
	})
	d := e.deliveries(hook.Id)[0]
	require.Equal(t, http.StatusInternalServerError, *d.LastStatus)
	require.Equal(t, "the endpoint answered 500", *d.LastError)
}
