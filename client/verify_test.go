package client_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

// webhookVerifyCase is one case of testdata/webhook_verify.json, the cases that VerifyWebhook
// and the TypeScript SDK's verifyWebhook both pass, so that the two accept the same deliveries.
type webhookVerifyCase struct {
	Name      string      `json:"name"`
	Secret    string      `json:"secret"`
	Headers   [][2]string `json:"headers"`
	Body      string      `json:"body"`
	Now       int64       `json:"now"`
	Tolerance int64       `json:"tolerance"`
	Outcome   string      `json:"outcome"`
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/webhook_verify.json")
	require.NoError(t, err)
	var file struct {
		Cases []webhookVerifyCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(data, &file))
	require.NotEmpty(t, file.Cases)

	for _, tc := range file.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, nv := range tc.Headers {
				h.Add(nv[0], nv[1])
			}
			err := client.VerifyWebhook(tc.Secret, h, []byte(tc.Body), time.Unix(tc.Now, 0), time.Duration(tc.Tolerance)*time.Second)
			require.Equal(t, tc.Outcome, webhookVerifyOutcome(err), "error: %v", err)
		})
	}
}

// webhookVerifyOutcome names VerifyWebhook's result as the cases do: ok, signature, timestamp,
// or secret for an error that is neither (the secret is not a secret).
func webhookVerifyOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, client.ErrWebhookSignature):
		return "signature"
	case errors.Is(err, client.ErrWebhookTimestamp):
		return "timestamp"
	default:
		return "secret"
	}
}
