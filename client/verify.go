package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultWebhookTolerance is how far a delivery's webhook-timestamp may be from the
// receiver's clock, either way, for VerifyWebhook to accept it: Standard Webhooks' five
// minutes, wide enough for clock skew and slow networks, narrow enough that a captured
// delivery cannot be replayed later.
const DefaultWebhookTolerance = 5 * time.Minute

// The errors of VerifyWebhook, for a receiver to tell a forged or damaged delivery from a
// stale one (both are answered with a 4xx, and neither is processed).
var (
	// ErrWebhookSignature: the delivery has no webhook-id or webhook-signature header, or
	// none of its signatures is the secret's signature of it.
	ErrWebhookSignature = errors.New("webhook: no valid signature")
	// ErrWebhookTimestamp: the delivery's webhook-timestamp is missing, not a number of
	// seconds, or further from now than the tolerance.
	ErrWebhookTimestamp = errors.New("webhook: timestamp outside the tolerance")
)

// VerifyWebhook checks that a delivery of the service's webhooks is genuine, as the
// Standard Webhooks specification says: one of the signatures in header's
// webhook-signature (space-separated, "v1," and the base64 of an HMAC-SHA256) must be the
// HMAC-SHA256, keyed with the base64-decoded part of secret after "whsec_", of the
// webhook-id, the webhook-timestamp and body joined by dots; and the timestamp must be within
// tolerance of now (0: DefaultWebhookTolerance), either way, so that a captured delivery
// cannot be replayed later. Signatures are compared in constant time; other versions than
// v1 are skipped. While a rotated secret overlaps with the new one a delivery carries a
// signature by each, and either secret verifies it.
//
// body must be the request body exactly as received, before any decoding. A receiver calls
// it first in its handler and answers 4xx without processing on an error, which wraps
// ErrWebhookSignature or ErrWebhookTimestamp (or says that secret is not a secret).
// Deliveries can repeat: deduplicate by webhook-id.
func VerifyWebhook(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return errors.New("webhook: the secret is not whsec_ and base64")
	}
	id, ts, sigs := header.Get("webhook-id"), header.Get("webhook-timestamp"), header.Get("webhook-signature")
	if id == "" || sigs == "" {
		return fmt.Errorf("%w: the webhook-id or webhook-signature header is missing", ErrWebhookSignature)
	}
	sent, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp %q is not a number of seconds", ErrWebhookTimestamp, ts)
	}
	if tolerance <= 0 {
		tolerance = DefaultWebhookTolerance
	}
	if skew := now.Sub(time.Unix(sent, 0)); skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w: sent %s, %s from now", ErrWebhookTimestamp, time.Unix(sent, 0).UTC().Format(time.RFC3339), skew.Round(time.Second))
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for sig := range strings.FieldsSeq(sigs) {
		version, encoded, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(encoded)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: none of the signatures of %s is the secret's", ErrWebhookSignature, id)
}
