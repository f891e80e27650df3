// Package auth issues and verifies the bearer tokens of the API: HS256 JWTs whose sub claim
// is the user's UUID and which must carry an expiry.
package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Verifier checks bearer tokens against one shared secret. It remembers the tokens it
// accepted until they expire, so that a client sending the same token again costs no
// signature check; a token it refused is checked again every time.
type Verifier struct {
	secret []byte
	parser *jwt.Parser

	mu       sync.RWMutex
	accepted map[string]acceptedToken
	now      func() time.Time
}

type acceptedToken struct {
	user    uuid.UUID
	expires time.Time
}

// Bounds of the accepted-token memory: tokens longer than maxCachedToken are not kept, and
// the memory is emptied when it holds maxCachedTokens.
const (
	maxCachedToken  = 2048
	maxCachedTokens = 50_000
)

// NewVerifier returns a Verifier for tokens signed with secret. Only HS256 is accepted, so
// that neither "none" nor an asymmetric algorithm can be slipped in through the header.
func NewVerifier(secret []byte) *Verifier {
	v := &Verifier{secret: secret, accepted: make(map[string]acceptedToken), now: time.Now}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	)
	return v
}

// leeway is the clock skew allowed between the token's issuer and this server.
const leeway = 30 * time.Second

// ErrInvalidToken wraps every reason a token is refused; its message is safe to show.
var ErrInvalidToken = errors.New("invalid bearer token")

// Verify returns the user a token speaks for.
func (v *Verifier) Verify(token string) (uuid.UUID, error) {
	now := v.now()
	v.mu.RLock()
	known, ok := v.accepted[token]
	v.mu.RUnlock()
	if ok && now.Before(known.expires) {
		return known.user, nil
	}
	user, expires, err := v.verify(token)
	if err == nil && len(token) <= maxCachedToken {
		v.mu.Lock()
		if len(v.accepted) >= maxCachedTokens {
			clear(v.accepted)
		}
		v.accepted[token] = acceptedToken{user: user, expires: expires}
		v.mu.Unlock()
	}
	return user, err
}

// verify checks a token's signature and claims, and returns its user and when it stops
// being accepted.
func (v *Verifier) verify(token string) (uuid.UUID, time.Time, error) {
	var claims jwt.RegisteredClaims
	_, err := v.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return v.secret, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return uuid.Nil, time.Time{}, fmt.Errorf("%w: the token has expired", ErrInvalidToken)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return uuid.Nil, time.Time{}, fmt.Errorf("%w: the token is not valid yet", ErrInvalidToken)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return uuid.Nil, time.Time{}, fmt.Errorf("%w: the token has no expiry (exp)", ErrInvalidToken)
	case err != nil:
		return uuid.Nil, time.Time{}, fmt.Errorf("%w: the token is malformed or its signature does not verify", ErrInvalidToken)
	}
	user, err := uuid.Parse(claims.Subject)
	if err != nil || user == uuid.Nil || len(claims.Subject) != 36 {
		return uuid.Nil, time.Time{}, fmt.Errorf("%w: the token's sub claim is not a user UUID", ErrInvalidToken)
	}
	return user, claims.ExpiresAt.Add(leeway), nil
}

// Issue signs a token for user that expires after ttl.
func Issue(secret []byte, user uuid.UUID, ttl time.Duration, now time.Time) (string, error) {
	claims := jwt.RegisteredClaims{
		Subject:   user.String(),
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
