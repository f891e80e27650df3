package bots

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatsphere/bots/gen/db"
)

// nameConstraint is the partial unique index that keeps names unique per owner.
const nameConstraint = "bots_owner_name_key"

// transitionConstraint names the trigger check that refuses status changes the lifecycle
// does not have.
const transitionConstraint = "bots_status_transition"

// TrainingQueue queues the training of one version of a bot inside the transaction that
// put the version into training, so that a committed version in training always has its job
// and a rolled-back write never leaves one behind.
type TrainingQueue interface {
	QueueTraining(ctx context.Context, tx pgx.Tx, bot uuid.UUID, number int32) error
}

// Service implements the bot operations for one caller at a time.
type Service struct {
	pool  *pgxpool.Pool
	q     *db.Queries
	queue TrainingQueue

	// knownUsers remembers the users whose row exists, so that a request costs no extra
	// round trip once its user has been seen by this process. It holds the most recently
	// seen maxKnownUsers; a user it forgot costs one round trip on their next request.
	knownUsers *lru.Cache[uuid.UUID, struct{}]

	// runtime caches the runtime read path (RuntimeConfig).
	runtime *runtimeCache

	// reads is the standby that serves some reads (ReadPool); nil: the primary serves all.
	reads *standby
}

// DefaultRuntimeCacheBytes is about the most memory the runtime read path keeps unless told
// otherwise (config's CONFIG_CACHE_MB): 24 MiB of versions, some 15,000 at a typical 1.5 KB,
// and 8 MiB of bots.
const DefaultRuntimeCacheBytes = 32 << 20

// Option changes how NewService builds a service.
type Option func(*Service)

// RuntimeCacheBytes bounds the runtime read path's cache to about bytes of memory; 0 turns
// it off.
func RuntimeCacheBytes(bytes int) Option {
	return func(s *Service) { s.runtime = newRuntimeCache(bytes) }
}

// maxKnownUsers bounds the users a process remembers: about 115 bytes each, under 6 MB in
// all, however many users come by.
const maxKnownUsers = 50_000

// NewService returns a Service on the pool that queues training on queue.
func NewService(pool *pgxpool.Pool, queue TrainingQueue, opts ...Option) *Service {
	known, err := lru.New[uuid.UUID, struct{}](maxKnownUsers)
	if err != nil {
		panic(err) // only for a size that is not positive
	}
	s := &Service{pool: pool, q: db.New(), queue: queue, knownUsers: known, runtime: newRuntimeCache(DefaultRuntimeCacheBytes)}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// ForgetConfig drops what the runtime read path keeps of a bot that changed (statusfeed
// calls it for changes made by any process).
func (s *Service) ForgetConfig(bot uuid.UUID) { s.runtime.forget(bot) }

// ConfigFeedLost says that changes of other processes may be missed from now on: the runtime
// read path reads from the database until ConfigFeedListening.
func (s *Service) ConfigFeedLost() { s.runtime.lost() }

// ConfigFeedListening says that changes of other processes are heard (again).
func (s *Service) ConfigFeedListening() { s.runtime.listen() }

// RuntimeCacheStats returns the runtime read path's cache hits and misses so far.
func (s *Service) RuntimeCacheStats() (hits, misses uint64) {
	return s.runtime.hits.Load(), s.runtime.misses.Load()
}

// RuntimeCacheListening reports whether the runtime read path serves from its cache: it is on
// and the notification feed listens.
func (s *Service) RuntimeCacheListening() bool { return s.runtime.on() }

// RuntimeCacheBytes returns about how much memory the runtime read path's cache holds.
func (s *Service) RuntimeCacheBytes() int {
	_, versions := s.runtime.versions.size()
	_, bots := s.runtime.bots.size()
	return versions + bots
}

// queueIfTraining finishes a write that returned row inside tx: a bot the write left in
// training gets a training job for its latest version, in the same transaction.
func (s *Service) queueIfTraining(ctx context.Context, tx pgx.Tx, row db.Bot) (Bot, error) {
	if row.Status == db.BotStatusTraining {
		if err := s.queue.QueueTraining(ctx, tx, row.ID, row.ConfigVersion); err != nil {
			return Bot{}, fmt.Errorf("queue training: %w", err)
		}
	}
	return fromDB(row), nil
}

// Ping reports whether the database answers.
func (s *Service) Ping(ctx context.Context) error {
	return s.pool.Ping(ctx)
}

// EnsureUser creates the user's row on their first request.
func (s *Service) EnsureUser(ctx context.Context, user uuid.UUID) error {
	if _, ok := s.knownUsers.Get(user); ok {
		return nil
	}
	if err := s.q.UserEnsure(ctx, s.pool, user); err != nil {
		return fmt.Errorf("ensure user: %w", err)
	}
	s.knownUsers.Add(user, struct{}{})
	return nil
}

// CreateTx stores a new bot owned by caller, in status training, inside tx: the transaction
// of an idempotent request (see Idempotent), which commits the bot with its answer.
func (s *Service) CreateTx(ctx context.Context, tx pgx.Tx, caller uuid.UUID, p CreateParams) (Bot, error) {
	// Only the name: its Unicode rules are beyond openapi.yaml, which checks every other field.
	var v ValidationError
	name, nameFold := normalizeName(&v, "name", p.Name)
	if err := v.err(); err != nil {
		return Bot{}, err
	}
	p.Name = name
	return s.insert(ctx, tx, caller, p, nameFold, SourceCreate, uuid.NullUUID{}, "create bot")
}

// insert stores a new bot of owner's with settings p inside tx, with its configuration as
// version 1 recorded by source, and queues its training. p.Name is already normalised, and
// nameFold is its folded key; duplicateOf is the source of a copy; what names the write in
// an unexpected error.
func (s *Service) insert(ctx context.Context, tx pgx.Tx, owner uuid.UUID, p Settings, nameFold string, source Source, duplicateOf uuid.NullUUID, what string) (Bot, error) {
	row, err := s.q.BotCreate(ctx, tx, db.BotCreateParams{
		ID:              uuid.New(),
		OwnerID:         owner,
		Name:            p.Name,
		NameFold:        nameFold,
		Description:     p.Description,
		DescriptionFold: fold(p.Description),
		Model:           p.Model,
		Temperature:     unsigned(p.Temperature),
		SystemPrompt:    p.SystemPrompt,
		IsPublic:        p.IsPublic,
		Source:          string(source),
		RequestID:       RequestID(ctx),
		DuplicateOf:     duplicateOf,
	})
	if err != nil {
		return Bot{}, writeError(what, err)
	}
	return s.queueIfTraining(ctx, tx, db.Bot(row))
}

// Get returns a bot the caller owns, or any public bot.
func (s *Service) Get(ctx context.Context, caller, id uuid.UUID) (Bot, error) {
	row, err := s.q.BotGet(ctx, s.pool, db.BotGetParams{ID: id, Caller: caller})
	if err != nil {
		return Bot{}, RowError(err, ErrNotFound, "get bot")
	}
	return fromDB(row), nil
}

// Update changes the fields that p sets. It first tries the write as one statement (see
// updateAlone), which BotUpdate refuses when the edit records a version that needs training;
// such an edit is then written in a transaction that locks the bot first (see InTx) and
// queues the training of the new version. Which edits train is decided by BotUpdate alone.
func (s *Service) Update(ctx context.Context, caller, id uuid.UUID, p UpdateParams) (_ Bot, err error) {
	if p.IsPublic != nil { // who may see the bot: what the runtime cache keeps
		defer s.forgetIfWritten(id, &err)
	}
	// Only the name: its Unicode rules are beyond openapi.yaml, which checks every other field.
	var v ValidationError
	if p.Name != nil {
		name, _ := normalizeName(&v, "name", *p.Name)
		p.Name = &name
	}
	if err := v.err(); err != nil {
		return Bot{}, err
	}
	row, err := s.updateAlone(ctx, s.updateParams(ctx, caller, id, p, true))
	if err == nil {
		return fromDB(db.Bot(row)), nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Bot{}, writeError("update bot", err)
	}
	// Missing, not the caller's, a failed If-Match, or in training after the edit: the
	// transaction below, which locks the bot first, makes the edit or tells why not.
	return InTx(ctx, s.pool, func(tx pgx.Tx) (Bot, error) {
		if err := s.lockBot(ctx, tx, caller, id); err != nil {
			return Bot{}, err
		}
		row, err := s.q.BotUpdate(ctx, tx, s.updateParams(ctx, caller, id, p, false))
		return s.finishWrite(ctx, tx, caller, id, "update bot", false, p.Precondition, db.Bot(row), err)
	})
}

// updateAttempts bounds updateAlone's tries.
const updateAttempts = 3

// deadlockDetected is PostgreSQL's SQLSTATE for a statement chosen as a deadlock's victim.
const deadlockDetected = "40P01"

// updateAlone runs the settled-only edit as one statement: one round trip instead of BEGIN,
// the lock, the UPDATE and COMMIT, for the edit nearly every PUT is. It is the one write of a
// bot that does not lock the bot in a statement of its own first (see InTx), and so the one
// that can still be chosen as a deadlock's victim, when writers of the same bot race; a
// deadlock rolls the statement back whole, so it is run again, at most updateAttempts times.
func (s *Service) updateAlone(ctx context.Context, p db.BotUpdateParams) (db.BotUpdateRow, error) {
	for attempt := 1; ; attempt++ {
		row, err := s.q.BotUpdate(ctx, s.pool, p)
		var pgErr *pgconn.PgError
		if attempt == updateAttempts || !errors.As(err, &pgErr) || pgErr.Code != deadlockDetected {
			return row, err
		}
	}
}

// finishWrite completes a conditional write under pre of the caller's bot id inside tx, which
// returned row and err: a write that matched no row is explained (see explainMiss, restoring
// for a restore), and a bot the write left in training gets its job. op names the write in
// errors.
func (s *Service) finishWrite(ctx context.Context, tx pgx.Tx, caller, id uuid.UUID, op string, restoring bool, pre Precondition, row db.Bot, err error) (Bot, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return Bot{}, s.explainMiss(ctx, tx, caller, id, restoring, pre)
	}
	if err != nil {
		return Bot{}, writeError(op, err)
	}
	return s.queueIfTraining(ctx, tx, row)
}

func (s *Service) updateParams(ctx context.Context, caller, id uuid.UUID, p UpdateParams, settledOnly bool) db.BotUpdateParams {
	return db.BotUpdateParams{
		ID:              id,
		Caller:          caller,
		Name:            p.Name,
		NameFold:        fold(p.Name),
		SetDescription:  p.SetDescription,
		Description:     p.Description,
		DescriptionFold: fold(p.Description),
		Model:           p.Model,
		Temperature:     unsignedPtr(p.Temperature),
		SystemPrompt:    p.SystemPrompt,
		IsPublic:        p.IsPublic,
		CheckVersion:    p.Precondition.Required,
		Versions:        p.Precondition.versions(),
		ExceptVersions:  p.Precondition.exceptVersions(),
		Servable:        servable,
		SettledOnly:     settledOnly,
		RequestID:       RequestID(ctx),
	}
}

// Delete soft-deletes a bot: it disappears from every read and frees its name, but its owner
// can restore it.
func (s *Service) Delete(ctx context.Context, caller, id uuid.UUID, pre Precondition) (_ Deleted, err error) {
	defer s.forgetIfWritten(id, &err)
	row, err := s.q.BotDelete(ctx, s.pool, db.BotDeleteParams{
		ID:             id,
		Caller:         caller,
		CheckVersion:   pre.Required,
		Versions:       pre.versions(),
		ExceptVersions: pre.exceptVersions(),
		RequestID:      RequestID(ctx),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Deleted{}, s.explainMiss(ctx, s.pool, caller, id, false, pre)
	}
	if err != nil {
		return Deleted{}, fmt.Errorf("delete bot: %w", err)
	}
	return Deleted{ID: row.ID, DeletedAt: row.DeletedAt, Version: row.Version}, nil
}

// Restore brings back one of the caller's deleted bots, with the status it had, if its
// version passes pre. That is the deleted bot's version: the one its deletion gave it, or a
// later one when a training of it finished since; never the one it had before.
func (s *Service) Restore(ctx context.Context, caller, id uuid.UUID, pre Precondition) (_ Bot, err error) {
	defer s.forgetIfWritten(id, &err)
	return InTx(ctx, s.pool, func(tx pgx.Tx) (Bot, error) {
		if err := s.lockBot(ctx, tx, caller, id); err != nil {
			return Bot{}, err
		}
		row, err := s.q.BotRestore(ctx, tx, db.BotRestoreParams{
			ID:             id,
			Caller:         caller,
			CheckVersion:   pre.Required,
			Versions:       pre.versions(),
			ExceptVersions: pre.exceptVersions(),
			RequestID:      RequestID(ctx),
		})
		return s.finishWrite(ctx, tx, caller, id, "restore bot", true, pre, db.Bot(row), err)
	})
}

// Train puts the bot (back) into training, if its version passes pre (the zero Precondition:
// always): its latest version, or, when that version is active, a new version with its
// configuration (see BotTrain).
func (s *Service) Train(ctx context.Context, caller, id uuid.UUID, pre Precondition) (Bot, error) {
	return InTx(ctx, s.pool, func(tx pgx.Tx) (Bot, error) {
		if err := s.lockBot(ctx, tx, caller, id); err != nil {
			return Bot{}, err
		}
		row, err := s.q.BotTrain(ctx, tx, db.BotTrainParams{
			ID:             id,
			Caller:         caller,
			CheckVersion:   pre.Required,
			Versions:       pre.versions(),
			ExceptVersions: pre.exceptVersions(),
			RequestID:      RequestID(ctx),
		})
		return s.finishWrite(ctx, tx, caller, id, "train bot", false, pre, db.Bot(row), err)
	})
}

// copyNameBatch is how many default copy names are tried per query.
const copyNameBatch = 50

// copyNameAttempts bounds the picks of a default copy name (see insertCopy). The caller's
// lock keeps the caller's other copies out, so an attempt loses its name only to a create,
// rename or restore of the caller's that takes that very name between the pick and the
// insert, and a write takes a name once: the next pick sees it. Losing this many times in a
// row takes a client racing its own writes against the copy, name after name, and it gets
// the ErrNameTaken its writes caused.
const copyNameAttempts = 5

// DuplicateTx copies the configuration of a bot the caller may see into a new private bot
// of the caller's, in training, inside tx: the transaction of an idempotent request (see
// Idempotent). Without a name, the copy gets the first free of "<name> (copy)",
// "<name> (copy 2)", ...; the caller's row lock serialises concurrent duplicates so that
// they pick different names (see insertCopy). A copy named by the caller is ErrNameTaken
// when the name is taken. A source whose version source does not allow is a
// *PreconditionError with the source's version, which the caller may read anyway (the zero
// Precondition allows any).
func (s *Service) DuplicateTx(ctx context.Context, tx pgx.Tx, caller, id uuid.UUID, p DuplicateParams, source Precondition) (Bot, error) {
	var v ValidationError
	var name, nameFold string
	if p.Name != nil { // its Unicode rules are beyond openapi.yaml
		name, nameFold = normalizeName(&v, "name", *p.Name)
	}
	if err := v.err(); err != nil {
		return Bot{}, err
	}
	src, err := s.q.BotGet(ctx, tx, db.BotGetParams{ID: id, Caller: caller})
	if err != nil {
		return Bot{}, RowError(err, ErrNotFound, "get source bot")
	}
	// The row checked is the row copied, so the copy is of a version source allows.
	if !source.allows(src.Version) {
		return Bot{}, &PreconditionError{Version: src.Version}
	}
	copied := settingsFromDB(src)
	copied.Name, copied.IsPublic = name, p.IsPublic
	of := uuid.NullUUID{UUID: src.ID, Valid: true}
	if p.Name != nil {
		return s.insert(ctx, tx, caller, copied, nameFold, SourceDuplicate, of, "create copy")
	}
	if err := s.q.UserLock(ctx, tx, caller); err != nil {
		return Bot{}, fmt.Errorf("lock user: %w", err)
	}
	return s.insertCopy(ctx, tx, caller, src.Name, copied, of)
}

// insertCopy stores copied, the copy of a bot named source, as a bot of the caller's under the
// first free default copy name, inside tx, which holds the caller's lock. Only copies take
// that lock, so a create, rename or restore of the caller's may commit the picked name before
// the insert does. The insert therefore runs in a savepoint: a name taken meanwhile is rolled
// back to it and picked again, by a new statement that sees the name committed (tx is READ
// COMMITTED), at most copyNameAttempts times.
func (s *Service) insertCopy(ctx context.Context, tx pgx.Tx, caller uuid.UUID, source string, copied Settings, of uuid.NullUUID) (Bot, error) {
	for attempt := 1; ; attempt++ {
		name, err := s.freeCopyName(ctx, tx, caller, source)
		if err != nil {
			return Bot{}, err
		}
		copied.Name = name
		var bot Bot
		err = pgx.BeginFunc(ctx, tx, func(savepoint pgx.Tx) (err error) {
			bot, err = s.insert(ctx, savepoint, caller, copied, Fold(name), SourceDuplicate, of, "create copy")
			return err
		})
		if !errors.Is(err, ErrNameTaken) || attempt == copyNameAttempts {
			return bot, err
		}
	}
}

// freeCopyName finds the first default copy name of source that the owner does not use.
func (s *Service) freeCopyName(ctx context.Context, tx pgx.Tx, owner uuid.UUID, source string) (string, error) {
	for first := 1; ; first += copyNameBatch {
		candidates := make([]string, copyNameBatch)
		folds := make([]string, copyNameBatch)
		for i := range candidates {
			candidates[i] = CopyName(source, first+i)
			folds[i] = Fold(candidates[i])
		}
		name, err := s.q.BotFirstFreeName(ctx, tx, db.BotFirstFreeNameParams{Candidates: candidates, Folds: folds, OwnerID: owner})
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("find a free copy name: %w", err)
		}
		return name, nil
	}
}

// ListParams selects and orders a page of the caller's bots. Nil filters match everything.
type ListParams struct {
	Status   *Status
	Model    *string
	IsPublic *bool
	Q        *string
	Sort     Sort
	Skip     int32
	Limit    int32
}

// Sort is a list order; a leading "-" means descending.
type Sort string

// The list orders.
const (
	SortCreatedAsc  Sort = "created_at"
	SortCreatedDesc Sort = "-created_at"
	SortUpdatedAsc  Sort = "updated_at"
	SortUpdatedDesc Sort = "-updated_at"
	SortNameAsc     Sort = "name"
	SortNameDesc    Sort = "-name"
)

// Page is one page of a list and the number of bots over all pages.
type Page = PageOf[Bot]

// List returns a page of the caller's bots that are not deleted.
func (s *Service) List(ctx context.Context, caller uuid.UUID, p ListParams) (Page, error) {
	var pattern *string
	if p.Q != nil {
		// q matches the folded name and description: what a name is compared by.
		if Fold(*p.Q) == "" { // invisible characters are a Unicode property openapi.yaml has not
			return Page{}, &ValidationError{Fields: []FieldError{{Field: "q", Message: "must contain a visible character, not only invisible ones"}}}
		}
		pat := SearchPattern(*p.Q)
		pattern = &pat
	}
	f := db.BotCountParams{Caller: caller, Model: p.Model, IsPublic: p.IsPublic, QPattern: pattern}
	if p.Status != nil {
		f.Status = db.NullBotStatus{BotStatus: db.BotStatus(*p.Status), Valid: true}
	}
	args := db.BotListCreatedDescParams{
		Caller: f.Caller, Status: f.Status, Model: f.Model, IsPublic: f.IsPublic, QPattern: f.QPattern,
		Off: p.Skip, Lim: p.Limit,
	}
	var list func(db.DBTX) ([]Bot, int64, error)
	switch p.Sort {
	case SortCreatedAsc:
		list = sorted(ctx, s.q.BotListCreatedAsc, args)
	case SortUpdatedAsc:
		list = sorted(ctx, s.q.BotListUpdatedAsc, args)
	case SortUpdatedDesc:
		list = sorted(ctx, s.q.BotListUpdatedDesc, args)
	case SortNameAsc:
		list = sorted(ctx, s.q.BotListNameAsc, args)
	case SortNameDesc:
		list = sorted(ctx, s.q.BotListNameDesc, args)
	case SortCreatedDesc, "":
		list = sorted(ctx, s.q.BotListCreatedDesc, args)
	default:
		// The contract's enum lets no other order through: this is a caller's mistake.
		return Page{}, fmt.Errorf("list bots: unknown sort order %q", p.Sort)
	}
	var (
		items []Bot
		total int64
	)
	err := s.read(ctx, func(conn db.DBTX) error {
		if pattern != nil {
			conn = customPlans{conn}
		}
		var err error
		if items, total, err = list(conn); err != nil {
			return fmt.Errorf("list bots: %w", err)
		}
		if len(items) == 0 && p.Skip > 0 {
			// A page past the end has no row to carry the total.
			if total, err = s.q.BotCount(ctx, conn, f); err != nil {
				return fmt.Errorf("count bots: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Page{}, err
	}
	return Page{Items: items, Total: total}, nil
}

// customPlans runs queries as unnamed statements (pgx's QueryExecModeCacheDescribe), which
// PostgreSQL plans for their arguments every time. A named prepared statement, pgx's default,
// may switch after five runs to a generic plan, made without the arguments: for a search,
// such a plan cannot use the trigram indexes and reads every bot of the caller. Planning a
// search again costs about half a millisecond.
type customPlans struct{ db.DBTX }

func (c customPlans) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return c.DBTX.Exec(ctx, sql, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
}

func (c customPlans) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return c.DBTX.Query(ctx, sql, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
}

func (c customPlans) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return c.DBTX.QueryRow(ctx, sql, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
}

// listRow is a row of any of the list queries: a bot and the number of matching bots.
type listRow interface {
	db.BotListCreatedDescRow | db.BotListCreatedAscRow | db.BotListUpdatedDescRow |
		db.BotListUpdatedAscRow | db.BotListNameAscRow | db.BotListNameDescRow
}

// listParams are the arguments of any of the list queries: the same fields in each.
type listParams interface {
	db.BotListCreatedDescParams | db.BotListCreatedAscParams | db.BotListUpdatedDescParams |
		db.BotListUpdatedAscParams | db.BotListNameAscParams | db.BotListNameDescParams
}

// sorted reads a page with query, one list query per order, on the connection it is given.
func sorted[P listParams, R listRow](ctx context.Context, query func(context.Context, db.DBTX, P) ([]R, error), args db.BotListCreatedDescParams) func(db.DBTX) ([]Bot, int64, error) {
	return func(c db.DBTX) ([]Bot, int64, error) { return page(query(ctx, c, P(args))) }
}

// page converts the rows of a list query.
func page[R listRow](rows []R, err error) ([]Bot, int64, error) {
	if err != nil {
		return nil, 0, err
	}
	items := make([]Bot, len(rows))
	var total int64
	for i, r := range rows {
		row := db.BotListCreatedDescRow(r)
		items[i] = fromDB(row.Bot)
		total = row.Total
	}
	return items, total, nil
}

// StatusCounts returns how many bots that are not deleted are in each status.
func (s *Service) StatusCounts(ctx context.Context) (map[Status]int64, error) {
	rows, err := s.q.BotCountByStatus(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("count bots by status: %w", err)
	}
	counts := make(map[Status]int64, len(rows))
	for _, r := range rows {
		counts[Status(r.Status)] = r.Bots
	}
	return counts, nil
}

// ownerAccess looks up the caller's access to bot id after a write scoped to the caller's
// bot matched no row: ErrNotFound for a bot the caller may not see (the lookup itself is
// scoped to what the caller may see), ErrForbidden for another user's public bot, and
// otherwise the caller's own bot, deleted or not.
func (s *Service) ownerAccess(ctx context.Context, dbtx db.DBTX, caller, id uuid.UUID) (db.BotAccessRow, error) {
	acc, err := s.q.BotAccess(ctx, dbtx, db.BotAccessParams{ID: id, Caller: caller})
	switch {
	case err != nil:
		return acc, RowError(err, ErrNotFound, "check bot access")
	case !acc.Owned:
		return acc, ErrForbidden
	}
	return acc, nil
}

// explainMiss says why a write under pre scoped to the caller's bot matched no row, without
// revealing a bot the caller may not see (see ownerAccess). It looks after the write, so the
// bot may have changed in between; a 412 is only ever the answer to a precondition the
// caller sent.
func (s *Service) explainMiss(ctx context.Context, dbtx db.DBTX, caller, id uuid.UUID, restoring bool, pre Precondition) error {
	acc, err := s.ownerAccess(ctx, dbtx, caller, id)
	switch {
	case err != nil:
		return err
	case restoring && !acc.Deleted:
		return ErrNotDeleted
	case acc.Deleted != restoring:
		return ErrNotFound
	case !pre.checks():
		// The caller's own bot, live (deleted for a restore), missed by a write that checked
		// no version: it was deleted (not deleted) when the write ran and changed before this
		// look, and the answer is the one that was true when the write ran.
		if restoring {
			return ErrNotDeleted
		}
		return ErrNotFound
	default:
		// The caller's own bot, live (deleted for a restore), so the version did not match
		// (or the bot changed between the write and this look, which a retry resolves the
		// same way).
		return &PreconditionError{Version: acc.Version}
	}
}

// writeError turns a failed write into ErrNameTaken or a ValidationError where the
// database's constraints explain it.
func writeError(op string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505" && pgErr.ConstraintName == nameConstraint:
			return ErrNameTaken
		case pgErr.Code == "23514" && pgErr.ConstraintName == transitionConstraint:
			return fmt.Errorf("%s: %w", op, ErrInvalidTransition)
		case pgErr.Code == "23514" && strings.HasPrefix(pgErr.ConstraintName, "bots_"):
			// A CHECK constraint repeats one of the contract's bounds; name the field.
			field := strings.TrimSuffix(strings.TrimPrefix(pgErr.ConstraintName, "bots_"), "_check")
			return &ValidationError{Fields: []FieldError{{Field: field, Message: "is out of bounds"}}}
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// allows reports whether a bot at version passes p: the rule that the conditional writes
// state in SQL (BotUpdate), for a check on a row that is read, not written.
func (p Precondition) allows(version int64) bool {
	return (!p.Required || slices.Contains(p.Versions, version)) && !slices.Contains(p.Except, version)
}

// checks reports whether p checks the version at all: whether the request carried If-Match
// or If-None-Match.
func (p Precondition) checks() bool { return p.Required || len(p.Except) > 0 }

// versions returns the versions to compare against, never nil (the query takes an array).
func (p Precondition) versions() []int64 {
	if p.Versions == nil {
		return []int64{}
	}
	return p.Versions
}

// exceptVersions returns the versions that fail the precondition, never nil: a NULL array
// would match no row at all.
func (p Precondition) exceptVersions() []int64 {
	if p.Except == nil {
		return []int64{}
	}
	return p.Except
}

// normalizeName returns the name to store and its folded key, or records why name cannot be
// a bot's name (see NormalizeName).
// unsigned stores a temperature of -0 as 0. PostgreSQL compares the two equal, so a bot set
// from -0 to 0 would record no new version, and the bot and its version would then disagree
// about the sign.
func unsigned(t float64) float64 {
	if t == 0 {
		return 0
	}
	return t
}

func unsignedPtr(t *float64) *float64 {
	if t == nil {
		return nil
	}
	u := unsigned(*t)
	return &u
}

func normalizeName(v *ValidationError, field, name string) (stored, key string) {
	stored, key, problems := NormalizeName(name)
	for _, p := range problems {
		v.add(field, "%s", p)
	}
	return stored, key
}

// fold returns the folded form of a text that may be absent.
func fold(s *string) *string {
	if s == nil {
		return nil
	}
	f := Fold(*s)
	return &f
}
