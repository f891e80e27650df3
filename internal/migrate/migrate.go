// Package migrate applies the embedded SQL migrations to a database.
//
// Migrations are the files of sql/migrations, applied once each in the order of their names,
// each in its own transaction together with its row in schema_migrations (and, for the few
// that need what SQL cannot compute, after a Go step in the same transaction), followed by the
// migrations of River, the job queue, which keeps its own record. The whole run holds
// a PostgreSQL advisory lock, so that several replicas starting at once apply every migration
// exactly once: the first one migrates, the others wait and then find nothing left to do.
package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/sql/migrations"
)

// lockKey identifies the advisory lock held while migrating ("chatsphere bots" in ASCII,
// folded into an int64); any constant works as long as every replica uses the same one.
const lockKey int64 = 0x63687473_626f7473

// prepare holds, by migration name, what a migration needs that SQL cannot compute. Each step
// runs in its migration's transaction, just before the migration's SQL, and hands its
// results to the SQL in temporary tables.
var prepare = map[string]func(context.Context, pgx.Tx) error{
	"0008_folded_names":   foldNames,
	"0012_versions_train": prepareVersions,
}

// foldBatch is how many bots foldNames reads at a time.
const foldBatch = 10000

// foldNames fills the temporary table folded_names, which migration 0008 reads, with the
// folded forms (bots.Fold) of every bot's name and description. It first locks bots against
// writes, so that no bot is written between its read and the migration's ALTER TABLE.
func foldNames(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `LOCK TABLE bots IN SHARE MODE`); err != nil {
		return fmt.Errorf("lock bots: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE folded_names (
		id               uuid PRIMARY KEY,
		name_fold        text NOT NULL,
		description_fold text
	) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("create folded_names: %w", err)
	}
	after := pgtype.UUID{Valid: true} // the zero UUID, before every other
	for {
		rows, err := tx.Query(ctx, `SELECT id, name, description FROM bots WHERE id > $1 ORDER BY id LIMIT $2`, after, foldBatch)
		if err != nil {
			return fmt.Errorf("read names: %w", err)
		}
		var (
			id          pgtype.UUID
			name        string
			description *string
			folded      [][]any
		)
		_, err = pgx.ForEachRow(rows, []any{&id, &name, &description}, func() error {
			var descriptionFold *string
			if description != nil {
				f := bots.Fold(*description)
				descriptionFold = &f
			}
			folded = append(folded, []any{id, bots.Fold(name), descriptionFold})
			return nil
		})
		if err != nil {
			return fmt.Errorf("read names: %w", err)
		}
		if len(folded) == 0 {
			return nil
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"folded_names"},
			[]string{"id", "name_fold", "description_fold"}, pgx.CopyFromRows(folded)); err != nil {
			return fmt.Errorf("write folded names: %w", err)
		}
		after = id
	}
}

// Migration is one schema change.
type Migration struct {
	Name string
	SQL  string
}

// Apply makes the migration's change in tx: its Go step, if it has one, then its SQL. It does
// not record the migration in schema_migrations; Up does.
func (m Migration) Apply(ctx context.Context, tx pgx.Tx) error {
	if step := prepare[m.Name]; step != nil {
		if err := step(ctx, tx); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, m.SQL)
	return err
}

// All returns the embedded migrations in the order they apply.
func All() ([]Migration, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	out := make([]Migration, 0, len(names))
	for _, name := range names {
		body, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Name: strings.TrimSuffix(name, ".sql"), SQL: string(body)})
	}
	return out, nil
}

// Option changes how Up runs.
type Option func(*options)

type options struct {
	waiting func()
}

// WhenWaiting has Up call f once, before it waits for another process that holds the
// migration lock (another replica migrating), so that the wait can be told; without it a
// waiting process says nothing until the other is done.
func WhenWaiting(f func()) Option {
	return func(o *options) { o.waiting = f }
}

// Up applies every migration that the database has not seen yet and returns the names of
// those it applied. It runs on one connection because advisory locks belong to a session.
func Up(ctx context.Context, conn *pgx.Conn, opts ...Option) ([]string, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	all, err := All()
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var took bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lockKey).Scan(&took); err != nil {
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	if !took {
		if o.waiting != nil {
			o.waiting()
		}
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
			return nil, fmt.Errorf("take the migration lock: %w", err)
		}
	}
	defer func() {
		// A failed unlock ends with the session anyway; the caller closes the connection.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey)
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := conn.Query(ctx, "SELECT name FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}

	applied := []string{}
	for _, m := range all {
		if slices.Contains(done, m.Name) {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if err := m.Apply(ctx, tx); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (name) VALUES ($1)", m.Name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		applied = append(applied, m.Name)
	}

	queue, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return applied, fmt.Errorf("prepare job queue migrations: %w", err)
	}
	// One version per transaction: some of River's migrations add an enum value that the
	// next one uses, which PostgreSQL allows only after a commit.
	for {
		var res *rivermigrate.MigrateResult
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			res, err = queue.MigrateTx(ctx, tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1})
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("apply job queue migrations: %w", err)
		}
		if len(res.Versions) == 0 {
			break
		}
		for _, v := range res.Versions {
			applied = append(applied, riverStep(v.Version, v.Name))
		}
	}
	return applied, nil
}

// Fingerprint identifies the schema that Up produces: it changes with any of our migrations
// and with the job queue's. Test templates are keyed by it.
func Fingerprint() (string, error) {
	all, err := All()
	if err != nil {
		return "", err
	}
	queue, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range all {
		fmt.Fprintf(h, "%s\x00%s\x00", m.Name, m.SQL)
	}
	for _, m := range queue.AllVersions() {
		fmt.Fprintf(h, "river %d\x00%s\x00", m.Version, m.SQLUp)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Steps names everything Up applies to an empty database, in order, as Up reports it: our
// migrations, then the job queue's.
func Steps() ([]string, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	queue, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return nil, err
	}
	steps := make([]string, 0, len(all))
	for _, m := range all {
		steps = append(steps, m.Name)
	}
	for _, m := range queue.AllVersions() {
		steps = append(steps, riverStep(m.Version, m.Name))
	}
	return steps, nil
}

func riverStep(version int, name string) string {
	return fmt.Sprintf("river_%03d_%s", version, name)
}
