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
// webhook-signature ("v1," and the base64 of an HMAC-SHA256) must be the HMAC-SHA256, keyed
// with the base64-decoded part of secret after "whsec_", of the webhook-id, the
// webhook-timestamp and body joined by dots; and the timestamp must be within tolerance of now
// (0: DefaultWebhookTolerance), either way, so that a captured delivery cannot be replayed
// later. Signatures are compared in constant time; other versions than v1 are skipped. While
// a rotated secret overlaps with the new one a delivery carries a signature by each, and
// either secret verifies it.
//
// It reads the headers by the same rules as the TypeScript SDK's verifyWebhook, so that the
// two accept the same deliveries (client/testdata/webhook_verify.json holds the cases both
// pass): a header repeated counts as its values joined by ", ", as fetch's Headers and Node
// join them, so a repeated webhook-id, webhook-timestamp or webhook-signature is refused;
// spaces and tabs around a value are not part of it; webhook-timestamp is digits only;
// webhook-signature's signatures are separated by spaces (one or more), and each must be the
// padded standard base64 of the HMAC exactly; secret likewise, after "whsec_".
//
// body must be the request body exactly as received, before any decoding. A receiver calls
// it first in its handler and answers 4xx without processing on an error, which wraps
// ErrWebhookSignature or ErrWebhookTimestamp (or says that secret is not a secret).
// Deliveries can repeat: deduplicate by webhook-id.
func VerifyWebhook(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	encodedKey := strings.TrimPrefix(secret, "whsec_")
	key, err := base64.StdEncoding.DecodeString(encodedKey)
	if err != nil || len(key) == 0 || base64.StdEncoding.EncodeToString(key) != encodedKey {
		return errors.New("webhook: the secret is not whsec_ and base64")
	}
	id, ts, sigs := webhookHeader(header, "webhook-id"), webhookHeader(header, "webhook-timestamp"), webhookHeader(header, "webhook-signature")
	if id == "" || sigs == "" {
		return fmt.Errorf("%w: the webhook-id or webhook-signature header is missing", ErrWebhookSignature)
	}
	if strings.Contains(sigs, ", ") {
		return fmt.Errorf("%w: the webhook-signature header is repeated", ErrWebhookSignature)
	}
	if ts == "" || strings.Trim(ts, "0123456789") != "" {
		return fmt.Errorf("%w: webhook-timestamp %q is not a number of seconds", ErrWebhookTimestamp, ts)
	}
	sent, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp %q is too far from now", ErrWebhookTimestamp, ts)
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
	want := []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	for sig := range strings.SplitSeq(sigs, " ") {
		version, encoded, ok := strings.Cut(sig, ",")
		if ok && version == "v1" && hmac.Equal([]byte(encoded), want) {
			return nil
		}
	}
	return fmt.Errorf("%w: none of the signatures of %s is the secret's", ErrWebhookSignature, id)
}

// webhookHeader is one header of a delivery as fetch's Headers reads it: each value without
// the spaces and tabs around it, and the values of a repeated header joined by ", "; "" when
// absent.
func webhookHeader(header http.Header, name string) string {
	values := header.Values(name)
	trimmed := make([]string, len(values))
	for i, v := range values {
		trimmed[i] = strings.Trim(v, httpWhitespace)
	}
	return strings.Join(trimmed, ", ")
}

// httpWhitespace is what fetch's Headers strips around a header's value.
const httpWhitespace = " \t\r\n"
