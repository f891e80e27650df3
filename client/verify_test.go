package client_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
)

// The Standard Webhooks specification's published test vector, as literal values: a receiver
// that verifies it interoperates with every sender that follows the specification, the
// service included.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = "1614265330"
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var vectorTime = time.Unix(1614265330, 0)

func vectorHeader(signature string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", vectorID)
	h.Set("webhook-timestamp", vectorTimestamp)
	h.Set("webhook-signature", signature)
	return h
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()

	t.Run("TheStandardWebhooksTestVectorVerifies", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, client.VerifyWebhook(vectorSecret, vectorHeader(vectorSignature), []byte(vectorBody), vectorTime, 0))
	})

	t.Run("ASecretWithoutItsPrefixVerifiesToo", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, client.VerifyWebhook(vectorSecret[len("whsec_"):], vectorHeader(vectorSignature), []byte(vectorBody), vectorTime, 0))
	})

	t.Run("AnyOfSeveralSignaturesVerifies", func(t *testing.T) {
		t.Parallel()
		// As during a rotation: another secret's signature first, an unknown version, then ours.
		h := vectorHeader("v1,Ym9ndXMgc2lnbmF0dXJlIG9mIGFub3RoZXIgc2VjcmV0IQ== v2,whatever " + vectorSignature)
		require.NoError(t, client.VerifyWebhook(vectorSecret, h, []byte(vectorBody), vectorTime, 0))
	})

	t.Run("ADifferentBodyIsRefused", func(t *testing.T) {
		t.Parallel()
		err := client.VerifyWebhook(vectorSecret, vectorHeader(vectorSignature), []byte(`{"test": 2432232315}`), vectorTime, 0)
		require.ErrorIs(t, err, client.ErrWebhookSignature)
	})

	t.Run("AnotherSecretIsRefused", func(t *testing.T) {
		t.Parallel()
		err := client.VerifyWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx", vectorHeader(vectorSignature), []byte(vectorBody), vectorTime, 0)
		require.ErrorIs(t, err, client.ErrWebhookSignature)
	})

	t.Run("ASignatureOfAnotherVersionIsNotAccepted", func(t *testing.T) {
		t.Parallel()
		err := client.VerifyWebhook(vectorSecret, vectorHeader("v2,"+vectorSignature[len("v1,"):]), []byte(vectorBody), vectorTime, 0)
		require.ErrorIs(t, err, client.ErrWebhookSignature)
	})

	t.Run("AChangedIDIsRefused", func(t *testing.T) {
		t.Parallel()
		h := vectorHeader(vectorSignature)
		h.Set("webhook-id", "msg_another")
		require.ErrorIs(t, client.VerifyWebhook(vectorSecret, h, []byte(vectorBody), vectorTime, 0), client.ErrWebhookSignature)
	})

	t.Run("MissingHeadersAreRefused", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"webhook-id", "webhook-signature"} {
			h := vectorHeader(vectorSignature)
			h.Del(name)
			require.ErrorIs(t, client.VerifyWebhook(vectorSecret, h, []byte(vectorBody), vectorTime, 0), client.ErrWebhookSignature, name)
		}
		h := vectorHeader(vectorSignature)
		h.Del("webhook-timestamp")
		require.ErrorIs(t, client.VerifyWebhook(vectorSecret, h, []byte(vectorBody), vectorTime, 0), client.ErrWebhookTimestamp)
	})

	t.Run("ATimestampBeyondTheToleranceEitherWayIsRefused", func(t *testing.T) {
		t.Parallel()
		for _, now := range []time.Time{vectorTime.Add(5*time.Minute + time.Second), vectorTime.Add(-5*time.Minute - time.Second)} {
			err := client.VerifyWebhook(vectorSecret, vectorHeader(vectorSignature), []byte(vectorBody), now, 0)
			require.ErrorIs(t, err, client.ErrWebhookTimestamp, "now %s", now)
		}
		require.NoError(t, client.VerifyWebhook(vectorSecret, vectorHeader(vectorSignature), []byte(vectorBody), vectorTime.Add(5*time.Minute), 0),
			"the default tolerance is five minutes")
		require.ErrorIs(t, client.VerifyWebhook(vectorSecret, vectorHeader(vectorSignature), []byte(vectorBody), vectorTime.Add(2*time.Minute), time.Minute),
			client.ErrWebhookTimestamp, "a tolerance given is used")
	})

	t.Run("ASecretThatIsNotBase64IsAnError", func(t *testing.T) {
		t.Parallel()
		err := client.VerifyWebhook("whsec_not base64!", vectorHeader(vectorSignature), []byte(vectorBody), vectorTime, 0)
		require.Error(t, err)
		require.NotErrorIs(t, err, client.ErrWebhookSignature)
	})
}
