package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/chatsphere/bots/internal/auth"
)

// authenticate refuses a request to a secured operation without a valid bearer token with
// 401 and the challenge of RFC 6750, and puts the token's user in the request's context.
// Answers to secured operations may hold a user's private bots, so no cache may store them.
func (ct *contract) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return onOperations(next, securedOperation, func(c echo.Context, _ *matched) error {
		req := c.Request()
		c.Response().Header().Set("Cache-Control", "no-store")
		user, err := ct.bearerUser(req)
		if err != nil {
			p := fail(req.Context(), kindUnauthorized, err.Error())
			p.header = http.Header{"Www-Authenticate": {wwwAuthenticate(err)}}
			return p
		}
		c.SetRequest(req.WithContext(auth.WithUser(req.Context(), user)))
		return next(c)
	})
}

// bearerUser returns the user of the request's bearer token. Tokens are only taken from the
// Authorization header, never from the query string.
func (ct *contract) bearerUser(req *http.Request) (uuid.UUID, error) {
	header := req.Header.Get("Authorization")
	scheme, token, found := strings.Cut(header, " ")
	if header == "" {
		return uuid.Nil, errNoToken
	}
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return uuid.Nil, fmt.Errorf("%w: %w", auth.ErrInvalidToken, errNotBearer)
	}
	return ct.verifier.Verify(strings.TrimSpace(token))
}

// errNoToken is the reason given when no Authorization header was sent.
var errNoToken = errors.New("this operation needs an Authorization: Bearer <token> header")

// errNotBearer is the reason given when the Authorization header holds no bearer token: another
// scheme (Basic), or "Bearer" alone.
var errNotBearer = errors.New(`the Authorization header must be "Bearer <token>"`)

// wwwAuthenticate is the challenge of RFC 6750 (§3.1): bare when no bearer token was sent
// (no Authorization header, another scheme, or "Bearer" alone), with error="invalid_token"
// when one was refused.
func wwwAuthenticate(err error) string {
	if errors.Is(err, errNoToken) || errors.Is(err, errNotBearer) {
		return `Bearer realm="chatsphere"`
	}
	return `Bearer realm="chatsphere", error="invalid_token"`
}
