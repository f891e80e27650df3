package httpapi

import (
	"context"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/chatsphere/bots/internal/auth"
)

// ensureUser writes the user's row on their first request to a secured operation. It is the
// contract's last middleware: only a request that passed every check writes it.
func (ct *contract) ensureUser(next echo.HandlerFunc) echo.HandlerFunc {
	return onOperations(next, securedOperation, func(c echo.Context, _ *matched) error {
		ctx := c.Request().Context()
		if err := ct.users.EnsureUser(ctx, auth.User(ctx)); err != nil {
			return err
		}
		return next(c)
	})
}

// userEnsurer creates a user's row on first use.
type userEnsurer interface {
	EnsureUser(ctx context.Context, user uuid.UUID) error
}
