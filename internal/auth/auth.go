// Package auth issues and verifies the bearer tokens of the API: HS256 JWTs whose sub claim
// is the user's UUID and which must carry an expiry.
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Verifier checks bearer tokens against one shared secret. It remembers the tokens it
// accepted until they expire, so that a client sending the same token again costs no
// signature check; a token it refused is checked again every time.
type Verifier struct {
	secret []byte
	parser *jwt.Parser
	// audience is the aud a token must name; empty: a token must name none.
	audience string
	// maxTTL is the longest lifetime a token may have; zero: any.
	maxTTL time.Duration

	accepted *lru.Cache[[sha256.Size]byte, acceptedToken]
	now      func() time.Time
}

type acceptedToken struct {
	user    uuid.UUID
	expires time.Time
}

// maxCachedTokens bounds the memory of accepted tokens: beyond it, the least recently used
// is forgotten. Tokens are remembered by their SHA-256, so each costs the same whatever its
// length: about 190 bytes, under 10 MB in all.
const maxCachedTokens = 50_000

// tokenKey is what the memory of accepted tokens knows a token by.
func tokenKey(token string) [sha256.Size]byte {
	return sha256.Sum256([]byte(token))
}

// Option sets a rule of a Verifier.
type Option func(*Verifier)

// WithAudience makes the Verifier accept only tokens whose aud claim names audience (as a
// string, or in an array). Without it, a token that has an aud claim at all is refused: it
// was minted for another service (RFC 7519, section 4.1.3).
func WithAudience(audience string) Option {
	return func(v *Verifier) { v.audience = audience }
}

// WithMaxTTL makes the Verifier refuse tokens that live longer than ttl: exp - iat, or
// exp - now (less the clock leeway) for a token without iat. A leaked token is then useful
// for at most ttl, whoever minted it.
func WithMaxTTL(ttl time.Duration) Option {
	return func(v *Verifier) { v.maxTTL = ttl }
}

// NewVerifier returns a Verifier for tokens signed with secret. Only HS256 is accepted, so
// that neither "none" nor an asymmetric algorithm can be slipped in through the header.
func NewVerifier(secret []byte, opts ...Option) *Verifier {
	accepted, err := lru.New[[sha256.Size]byte, acceptedToken](maxCachedTokens)
	if err != nil {
		panic(err) // only for a size that is not positive
	}
	v := &Verifier{secret: secret, accepted: accepted, now: time.Now}
	for _, opt := range opts {
		opt(v)
	}
	options := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	}
	if v.audience != "" {
		options = append(options, jwt.WithAudience(v.audience))
	}
	v.parser = jwt.NewParser(options...)
	return v
}

// leeway is the clock skew allowed between the token's issuer and this server.
const leeway = 30 * time.Second

// ErrInvalidToken wraps every reason a token is refused; its message is safe to show.
var ErrInvalidToken = errors.New("invalid bearer token")

// Verify returns the user a token speaks for.
func (v *Verifier) Verify(token string) (uuid.UUID, error) {
	now := v.now()
	key := tokenKey(token)
	if known, ok := v.accepted.Get(key); ok && now.Before(known.expires) {
		return known.user, nil
	}
	user, expires, err := v.verify(token)
	if err == nil {
		v.accepted.Add(key, acceptedToken{user: user, expires: expires})
	}
	return user, err
}

// verify checks a token's signature and claims, and returns its user and when it stops
// being accepted.
func (v *Verifier) verify(token string) (uuid.UUID, time.Time, error) {
	var c claims
	parsed, err := v.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return v.secret, nil })
	var r *refusal
	switch {
	case errors.As(err, &r) && v.signed(token):
		return refuse(r.reason)
	case errors.Is(err, jwt.ErrTokenMalformed), errors.Is(err, jwt.ErrTokenSignatureInvalid),
		errors.Is(err, jwt.ErrTokenUnverifiable):
		return refuse("the token is malformed or its signature does not verify")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && c.ExpiresAt == nil:
		return refuse("the token has no expiry (exp)")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing), errors.Is(err, jwt.ErrTokenInvalidAudience):
		return refuse(fmt.Sprintf("the token is not meant for this service: its aud claim must name %q", v.audience))
	case errors.Is(err, jwt.ErrTokenExpired):
		return refuse("the token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return refuse("the token is not valid yet")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return refuse("the token's issue time (iat) is in the future")
	case err != nil:
		return refuse("the token is malformed or its signature does not verify")
	}
	if _, ok := parsed.Header["crit"]; ok {
		// RFC 7515, section 4.1.11: extensions listed in crit must be understood, and this
		// service understands none.
		return refuse("the token's header lists critical extensions (crit), which this service does not support")
	}
	if c.hasAudience && v.audience == "" {
		return refuse("the token is meant for another service: it has an aud claim, and this service accepts only tokens without one")
	}
	if v.maxTTL > 0 {
		lifetime := c.ExpiresAt.Sub(v.now()) - leeway
		if c.IssuedAt != nil {
			lifetime = c.ExpiresAt.Sub(c.IssuedAt.Time)
		}
		if lifetime > v.maxTTL {
			return refuse(fmt.Sprintf("the token lives longer than the %s this service accepts; get one that expires sooner", v.maxTTL))
		}
	}
	user, err := uuid.Parse(c.Subject)
	if err != nil || user == uuid.Nil || len(c.Subject) != 36 {
		return refuse("the token's sub claim is not a user UUID")
	}
	return user, c.ExpiresAt.Add(leeway), nil
}

// signed reports whether token carries an HS256 signature made with the secret. jwt decodes
// the claims before it checks the signature, so a claim of the wrong type is found first;
// only a token that the secret signed is told which claim is wrong.
func (v *Verifier) signed(token string) bool {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	return err == nil && jwt.SigningMethodHS256.Verify(token[:i], sig, v.secret) == nil
}

// refuse is verify's answer for a refused token.
func refuse(reason string) (uuid.UUID, time.Time, error) {
	return uuid.Nil, time.Time{}, fmt.Errorf("%w: %s", ErrInvalidToken, reason)
}

// refusal is a reason to refuse a token found while decoding its claims.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

// claims are the registered claims of a token, decoded more strictly than jwt does: the
// times must be JSON numbers (jwt also takes a string that holds one), and whether the token
// has an aud claim at all is kept, whatever its value.
type claims struct {
	jwt.RegisteredClaims
	hasAudience bool
}

func (c *claims) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		raw, ok := fields[name]
		if !ok {
			continue
		}
		if len(raw) == 0 || raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return &refusal{fmt.Sprintf("the token's %s claim must be a number of seconds since 1970-01-01 (a JSON number, not a string)", name)}
		}
		// Beyond this, jwt's conversion to a time overflows: 2^63 seconds would be a time
		// long past, and the token "expired".
		if secs, err := strconv.ParseFloat(string(raw), 64); err != nil || math.Abs(secs) > maxSeconds {
			return &refusal{fmt.Sprintf("the token's %s claim is out of range: it must be a number of seconds since 1970-01-01 before the year 10000", name)}
		}
	}
	if raw, ok := fields["sub"]; ok && !isJSONString(raw) {
		return &refusal{"the token's sub claim must be a string holding a user UUID"}
	}
	var aud any
	if raw, ok := fields["aud"]; ok && (json.Unmarshal(raw, &aud) != nil || !audienceShape(aud)) {
		return &refusal{"the token's aud claim must be a string or an array of strings"}
	}
	_, c.hasAudience = fields["aud"]
	return json.Unmarshal(data, &c.RegisteredClaims)
}

// maxSeconds is the last second of the year 9999 (UTC), the latest time a token may name.
const maxSeconds = 253402300799

func isJSONString(raw json.RawMessage) bool {
	var s string
	return json.Unmarshal(raw, &s) == nil
}

// audienceShape reports whether an aud claim, decoded, is a string or an array of strings
// (RFC 7519, section 4.1.3).
func audienceShape(aud any) bool {
	switch a := aud.(type) {
	case string:
		return true
	case []any:
		for _, v := range a {
			if _, ok := v.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

// Issue signs a token for user that expires after ttl. Its aud claim lists audience; without
// one, the token has no aud claim.
func Issue(secret []byte, user uuid.UUID, ttl time.Duration, now time.Time, audience ...string) (string, error) {
	claims := jwt.RegisteredClaims{
		Subject:   user.String(),
		Audience:  audience,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

type userKey struct{}

// WithUser returns a context that carries the authenticated user.
func WithUser(ctx context.Context, user uuid.UUID) context.Context {
	return context.WithValue(ctx, userKey{}, user)
}

// User returns the authenticated user of a request; uuid.Nil when there is none, which no
// query matches.
func User(ctx context.Context) uuid.UUID {
	u, _ := ctx.Value(userKey{}).(uuid.UUID)
	return u
}
