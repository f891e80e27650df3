package bots

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/chatsphere/bots/gen/db"
)

// RowError is what a query's err means to a caller: notFound when the query found no row (a
// row that is missing, deleted or not the caller's reads the same), err saying what failed
// otherwise, and nil for nil. One rule for every read of one row, so that no read tells
// missing and hidden rows apart.
func RowError(err, notFound error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return notFound
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

// PageOf is one page of a list and the number of items over all pages.
type PageOf[T any] struct {
	Items []T
	Total int64
}

// CountedPage reads one page of rows through list and the number of rows over all pages
// through count, and converts each row with from; what names the rows in errors. The count
// runs first and decides visibility: it has no row for a parent the caller may not see
// (notFound), so that an empty page of a visible parent is told apart from a parent the
// caller may not see.
func CountedPage[C, L, R, T any](ctx context.Context, conn db.DBTX, what string, notFound error,
	count func(context.Context, db.DBTX, C) (int64, error), countArgs C,
	list func(context.Context, db.DBTX, L) ([]R, error), listArgs L, from func(R) T,
) (PageOf[T], error) {
	total, err := count(ctx, conn, countArgs)
	if err != nil {
		return PageOf[T]{}, RowError(err, notFound, "count "+what)
	}
	rows, err := list(ctx, conn, listArgs)
	if err != nil {
		return PageOf[T]{}, fmt.Errorf("list %s: %w", what, err)
	}
	items := make([]T, len(rows))
	for i, r := range rows {
		items[i] = from(r)
	}
	return PageOf[T]{Items: items, Total: total}, nil
}
