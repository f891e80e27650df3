package bots_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/db"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// errExplained stands in for a query's result: the explainer ran EXPLAIN instead.
var errExplained = errors.New("explained, not run")

// explainer is a db.DBTX that, instead of running a query, runs EXPLAIN ANALYZE on it with
// the same arguments and keeps the plan. Writes run inside the test's transaction, which is
// rolled back.
type explainer struct {
	tx    pgx.Tx
	plans []plan
	name  string
	// need is how many rows the next query must produce in order (offset + limit); 0 for
	// queries that are not paged.
	need float64
	// search is set when the next query searches a user's thousands of bots for a text of
	// three characters or more, which a trigram index must serve.
	search bool
}

type plan struct {
	name, sql string
	root      planNode
	need      float64
	search    bool
}

// inlined are the scalar SQL functions that must be inlined into the queries that call them
// (migration 0025): a call left in a plan runs once per row, as a function of its own.
var inlined = []string{"preconditions_hold"}

// trigramIndexes serve q searches (migration 0008).
var trigramIndexes = []string{"bots_owner_name_trgm_idx", "bots_owner_description_trgm_idx"}

// planNode is the part of PostgreSQL's JSON plan that the checks read.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	FunctionName string     `json:"Function Name"`
	IndexName    string     `json:"Index Name"`
	Filter       string     `json:"Filter"`
	ActualRows   float64    `json:"Actual Rows"`
	ActualLoops  float64    `json:"Actual Loops"`
	Plans        []planNode `json:"Plans"`
}

func (x *explainer) explain(ctx context.Context, sql string, args []any) {
	var raw []byte
	err := x.tx.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+sql, args...).Scan(&raw)
	if err != nil {
		panic(fmt.Sprintf("explain %s: %v", x.name, err))
	}
	var out []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(err)
	}
	x.plans = append(x.plans, plan{name: x.name, sql: sql, root: out[0].Plan, need: x.need, search: x.search})
}

func (x *explainer) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	x.explain(ctx, sql, args)
	return pgconn.CommandTag{}, nil
}

func (x *explainer) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	x.explain(ctx, sql, args)
	return nil, errExplained
}

func (x *explainer) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	x.explain(ctx, sql, args)
	return explainedRow{}
}

type explainedRow struct{}

func (explainedRow) Scan(...any) error { return errExplained }

// smallSort is the most rows a sort may take whatever a query returns: the planner rightly
// sorts a few dozen matches of a selective filter rather than walk an index for them, and
// such a sort does not grow with the tables.
const smallSort = 500

// problems lists what makes a plan slow as the tables grow: a sequential scan, a sort or a
// function scan of more rows than the query returns, a call of a function that should be
// inlined, or a search that no trigram index serves (it would read
// every bot of the caller). A paged query must produce offset + limit rows in order whatever
// the plan; its sort may take up to twice that, which happens on deep pages with a filter,
// where reading the matching rows and sorting them beats walking the index.
func (p plan) problems() []string {
	var out []string
	returned := p.root.ActualRows
	allowed := max(returned, 2*p.need, smallSort)
	trigrams := false
	var walk func(n planNode)
	walk = func(n planNode) {
		if slices.Contains(trigramIndexes, n.IndexName) && n.ActualLoops > 0 {
			trigrams = true
		}
		for _, f := range inlined {
			if strings.Contains(n.Filter, f+"(") {
				out = append(out, f+" is called, not inlined")
			}
		}
		switch n.NodeType {
		case "Seq Scan":
			out = append(out, "sequential scan of "+n.RelationName)
		case "Function Scan":
			// A set-returning function that is not inlined (bots_matching, if it stopped being
			// one STABLE SELECT) returns every row before the query can filter or page them.
			if read := n.ActualRows * max(n.ActualLoops, 1); read > allowed {
				out = append(out, fmt.Sprintf("Function Scan of %s reading %.0f rows to return %.0f", n.FunctionName, read, returned))
			}
		case "Sort", "Incremental Sort":
			sorted := 0.0
			for _, c := range n.Plans {
				sorted += c.ActualRows * max(c.ActualLoops, 1)
			}
			if sorted > allowed {
				out = append(out, fmt.Sprintf("%s of %.0f rows to return %.0f", n.NodeType, sorted, returned))
			}
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(p.root)
	if p.search && !trigrams {
		out = append(out, "search without a trigram index")
	}
	return out
}

// seed loads users and bots with COPY: a few users with thousands of bots, most with a
// handful; some public, some deleted, statuses mixed; plus a status history.
func seed(t *testing.T, conn *pgx.Conn, users, heavyUsers, heavyBots, lightBots int) (heavy, light uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]uuid.UUID, users)
	userRows := make([][]any, users)
	for i := range ids {
		ids[i] = uuid.New()
		userRows[i] = []any{ids[i]}
	}
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"id"}, pgx.CopyFromRows(userRows))
	require.NoError(t, err)

	statuses := []string{"active", "active", "active", "training", "error"}
	models := []string{"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "claude-3-haiku", "mistral-small"}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var rows [][]any
	for i, owner := range ids {
		n := lightBots
		if i < heavyUsers {
			n = heavyBots
		}
		for j := range n {
			created := start.Add(time.Duration(rng.Int64N(int64(300 * 24 * time.Hour))))
			var deleted *time.Time
			if rng.IntN(20) == 0 {
				d := created.Add(time.Hour)
				deleted = &d
			}
			name := fmt.Sprintf("Bot %d of user %d", j, i)
			description := fmt.Sprintf("Answers questions about topic %d", rng.IntN(1000))
			rows = append(rows, []any{
				uuid.New(), owner, name, bots.Fold(name), description, bots.Fold(description),
				models[rng.IntN(len(models))], float64(rng.IntN(21)) / 10,
				strings.Repeat("You are helpful. ", rng.IntN(50)),
				rng.IntN(10) == 0, statuses[rng.IntN(len(statuses))],
				created, created.Add(time.Duration(rng.Int64N(int64(24 * time.Hour)))), deleted,
			})
		}
	}
	// The triggers would notify and count once per row; history and counts are loaded in
	// bulk below.
	_, err = conn.Exec(ctx, "ALTER TABLE bots DISABLE TRIGGER USER")
	require.NoError(t, err)
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"bots"},
		[]string{"id", "owner_id", "name", "name_fold", "description", "description_fold", "model", "temperature", "system_prompt", "is_public", "status", "created_at", "updated_at", "deleted_at"},
		pgx.CopyFromRows(rows))
	require.NoError(t, err)
	for _, sql := range []string{
		"ALTER TABLE bots ENABLE TRIGGER USER",
		`INSERT INTO bot_counts (owner_id, shard, live) SELECT owner_id, 0, count(*) FROM bots WHERE deleted_at IS NULL GROUP BY owner_id`,
		`INSERT INTO bot_events (bot_id, type, actor, created_at, data)
		 SELECT id, 'bot.status_changed', owner_id::text, created_at, '{"from": null, "to": "training", "message": null}' FROM bots`,
		`INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, prepared_config, created_at, created_by, source)
		 SELECT id, 1, model, temperature, system_prompt, status,
		        CASE WHEN status = 'active' THEN jsonb_build_object('model', model, 'temperature', temperature) END,
		        created_at, owner_id, 'create' FROM bots`,
		`INSERT INTO bot_events (bot_id, type, actor, created_at, data)
		 SELECT id, 'bot.status_changed', 'system', updated_at, jsonb_build_object('from', 'training', 'to', status, 'message', NULL)
		 FROM bots WHERE status <> 'training'`,
		// Idempotency keys of the last day.
		`INSERT INTO idempotency_keys (user_id, scope, key, request_hash, resource)
		 SELECT owner_id, 'bot', id::text, '\x00', '{}' FROM bots WHERE created_at > '2025-10-01'`,
		"VACUUM ANALYZE",
	} {
		_, err := conn.Exec(ctx, sql)
		require.NoError(t, err)
	}
	return ids[0], ids[users-1]
}

// planPages are the pages each page query is explained on: the first, and one deep enough that
// a plan reading every row before it would show.
var planPages = []struct {
	name     string
	off, lim int32
}{{"FirstPage", 0, 20}, {"DeepPage", 2000, 20}}

// TestQueryPlansStayFlatAsTablesGrow runs EXPLAIN ANALYZE on every query the API and the
// worker run, on 200,000 bots over 2,000 users, and fails when a plan scans a table
// sequentially or sorts more rows than it returns.
func TestQueryPlansStayFlatAsTablesGrow(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 200,000 bots")
	}
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbtest.URL(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(ctx) })
	heavy, light := seed(t, conn, 2000, 20, 5000, 50)

	var bot, deletedBot db.Bot
	require.NoError(t, conn.QueryRow(ctx, "SELECT id, version FROM bots WHERE owner_id = $1 AND deleted_at IS NULL LIMIT 1", heavy).Scan(&bot.ID, &bot.Version))
	require.NoError(t, conn.QueryRow(ctx, "SELECT id FROM bots WHERE owner_id = $1 AND deleted_at IS NOT NULL LIMIT 1", heavy).Scan(&deletedBot.ID))
	// A long history for the bot whose versions are listed.
	for _, sql := range []string{
		`INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, prepared_config, created_by, source)
		 SELECT id, n, model, temperature, system_prompt, 'active', '{}', owner_id, 'update'
		 FROM bots, generate_series(2, 3000) n WHERE id = $1`,
		`UPDATE bots SET config_version = 3000 WHERE id = $1`,
		// Every bot has an alias; the listed bot has many, and a long history for one.
		`INSERT INTO bot_aliases (bot_id, name, version) SELECT id, 'production', 1 FROM bots WHERE id <> $1`,
		`INSERT INTO bot_aliases (bot_id, name, version) SELECT $1::uuid, 'alias-' || n, n FROM generate_series(1, 300) n
		 UNION ALL SELECT $1::uuid, 'production', 1`,
		`INSERT INTO bot_alias_moves (bot_id, name, to_version, changed_by) SELECT id, 'production', 1, owner_id FROM bots WHERE id <> $1`,
		`INSERT INTO bot_alias_moves (bot_id, name, from_version, to_version, changed_by)
		 SELECT id, 'production', n - 1, n, owner_id FROM bots, generate_series(2, 3000) n WHERE id = $1`,
		// The training jobs River keeps until its cleaner deletes them: one per bot, each
		// finished, one in twenty discarded.
		`INSERT INTO river_job (args, kind, max_attempts, queue, state, attempt, finalized_at)
		 SELECT jsonb_build_object('bot_id', id, 'number', 1), 'train_bot', 5, 'training',
		        CASE WHEN $1::uuid IS NOT NULL AND random() < 0.05 THEN 'discarded' ELSE 'completed' END::river_job_state, 1, now()
		 FROM bots`,
	} {
		_, err := conn.Exec(ctx, sql, bot.ID)
		require.NoError(t, err)
	}
	// The triggers recorded an event for each version and alias move: the listed bot has
	// 6,000, half of them alias.moved.
	_, err = conn.Exec(ctx, "ANALYZE bot_versions, bot_aliases, bot_alias_moves, river_job, bot_events")
	require.NoError(t, err)

	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	x := &explainer{tx: tx}
	q := db.New()
	str := func(s string) *string { return &s }
	yes := true
	active := db.NullBotStatus{BotStatus: db.BotStatusActive, Valid: true}

	run := func(name string, call func() error) {
		x.name = name
		err := call()
		if err != nil && !errors.Is(err, errExplained) && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// runPages explains a page query on each of planPages; what runs after it needs no rows.
	runPages := func(name string, call func(off, lim int32) error) {
		for _, page := range planPages {
			x.need = float64(page.off + page.lim)
			run(name+"/"+page.name, func() error { return call(page.off, page.lim) })
		}
		x.need = 0
	}
	for _, owner := range []struct {
		name string
		id   uuid.UUID
	}{{"HeavyUser", heavy}, {"LightUser", light}} {
		filters := map[string]db.BotCountParams{
			"NoFilter":   {Caller: owner.id},
			"Status":     {Caller: owner.id, Status: active},
			"Model":      {Caller: owner.id, Model: str("gpt-4o")},
			"Public":     {Caller: owner.id, IsPublic: &yes},
			"Search":     {Caller: owner.id, QPattern: str(bots.SearchPattern("topic 12"))},
			"SearchName": {Caller: owner.id, QPattern: str(bots.SearchPattern("BOT 1234 OF"))},
			// Two characters have no trigram: the caller's bots are read, from an index.
			"ShortSearch": {Caller: owner.id, QPattern: str(bots.SearchPattern("12"))},
			"AllFilters":  {Caller: owner.id, Status: active, Model: str("gpt-4o"), IsPublic: &yes, QPattern: str(bots.SearchPattern("bot"))},
		}
		for fname, f := range filters {
			// A user with thousands of bots must not have them all read by a search; a
			// user's few dozen may be.
			x.search = owner.id == heavy && (fname == "Search" || fname == "SearchName" || fname == "AllFilters")
			for _, page := range planPages {
				a := db.BotListCreatedDescParams{Caller: f.Caller, Status: f.Status, Model: f.Model, IsPublic: f.IsPublic, QPattern: f.QPattern, Off: page.off, Lim: page.lim}
				x.need = float64(page.off + page.lim)
				prefix := owner.name + "/" + fname + "/" + page.name + "/"
				run(prefix+"CreatedDesc", queryCall(ctx, x, q.BotListCreatedDesc, a))
				run(prefix+"CreatedAsc", queryCall(ctx, x, q.BotListCreatedAsc, db.BotListCreatedAscParams(a)))
				run(prefix+"UpdatedDesc", queryCall(ctx, x, q.BotListUpdatedDesc, db.BotListUpdatedDescParams(a)))
				run(prefix+"UpdatedAsc", queryCall(ctx, x, q.BotListUpdatedAsc, db.BotListUpdatedAscParams(a)))
				run(prefix+"NameAsc", queryCall(ctx, x, q.BotListNameAsc, db.BotListNameAscParams(a)))
				run(prefix+"NameDesc", queryCall(ctx, x, q.BotListNameDesc, db.BotListNameDescParams(a)))
			}
			x.need = 0
			run(owner.name+"/"+fname+"/Count", queryCall(ctx, x, q.BotCount, f))
		}
	}
	x.search = false
	other := uuid.New()
	run("Get", queryCall(ctx, x, q.BotGet, db.BotGetParams{ID: bot.ID, Caller: heavy}))
	run("GetPublicOfOther", queryCall(ctx, x, q.BotGet, db.BotGetParams{ID: bot.ID, Caller: other}))
	run("Access", queryCall(ctx, x, q.BotAccess, db.BotAccessParams{ID: bot.ID, Caller: heavy}))
	run("Update", queryCall(ctx, x, q.BotUpdate, db.BotUpdateParams{ID: bot.ID, Caller: heavy, Name: str("Renamed in a plan"), NameFold: str("renamed in a plan"), CheckVersion: true, Versions: []int64{bot.Version}, ExceptVersions: []int64{}}))
	run("UpdateConfiguration", queryCall(ctx, x, q.BotUpdate, db.BotUpdateParams{ID: bot.ID, Caller: heavy, Temperature: new(1.9), Versions: []int64{}, ExceptVersions: []int64{},
		Servable: []byte(`{"gpt-4o": 2}`)}))
	runPages("VersionList", func(off, lim int32) error {
		_, err := q.BotVersionList(ctx, x, db.BotVersionListParams{BotID: bot.ID, Caller: heavy, Off: off, Lim: lim})
		return err
	})
	run("VersionCount", queryCall(ctx, x, q.BotVersionCount, db.BotVersionCountParams{BotID: bot.ID, Caller: heavy}))
	run("VersionGet", queryCall(ctx, x, q.BotVersionGet, db.BotVersionGetParams{BotID: bot.ID, Number: 1500, Caller: heavy}))
	run("VersionPair", queryCall(ctx, x, q.BotVersionPair, db.BotVersionPairParams{BotID: bot.ID, Number: 1500, Against: 3, Caller: heavy}))
	runPages("AliasHistory", func(off, lim int32) error {
		_, err := q.BotAliasHistory(ctx, x, db.BotAliasHistoryParams{BotID: bot.ID, Name: "production", Caller: heavy, Off: off, Lim: lim})
		return err
	})
	run("AliasHistoryCount", queryCall(ctx, x, q.BotAliasHistoryCount, db.BotAliasHistoryCountParams{BotID: bot.ID, Name: "production", Caller: heavy}))
	run("AliasList", queryCall(ctx, x, q.BotAliasList, db.BotAliasListParams{BotID: bot.ID, Caller: heavy}))
	run("AliasGet", queryCall(ctx, x, q.BotAliasGet, db.BotAliasGetParams{BotID: bot.ID, Name: "production", Caller: heavy}))
	run("AliasPut", queryCall(ctx, x, q.BotAliasPut, db.BotAliasPutParams{BotID: bot.ID, Name: "staging", Version: 1500, Caller: heavy}))
	run("AliasMove", queryCall(ctx, x, q.BotAliasMove, db.BotAliasMoveParams{BotID: bot.ID, Name: "production", Version: 1501, Caller: heavy, Etags: []int64{1}}))
	run("AliasMoveRecord", func() error {
		return q.BotAliasMoveRecord(ctx, x, db.BotAliasMoveRecordParams{BotID: bot.ID, Name: "production", FromVersion: new(int32(1)), ToVersion: new(int32(2)), Caller: heavy})
	})
	run("AliasDelete", queryCall(ctx, x, q.BotAliasDelete, db.BotAliasDeleteParams{BotID: bot.ID, Name: "alias-7", Caller: heavy}))
	run("RuntimeBot", queryCall(ctx, x, q.BotRuntime, db.BotRuntimeParams{BotID: bot.ID, Caller: heavy}))
	run("RuntimeLatestActive", queryCall(ctx, x, q.BotLatestActive, db.BotLatestActiveParams{BotID: bot.ID, Caller: heavy}))
	run("RuntimeVersion", queryCall(ctx, x, q.VersionRuntime, db.VersionRuntimeParams{BotID: bot.ID, Number: 2000, Caller: heavy}))
	run("Revert", queryCall(ctx, x, q.BotRevert, db.BotRevertParams{ID: bot.ID, Caller: heavy, Number: 2, Versions: []int64{}, ExceptVersions: []int64{}}))
	run("Train", queryCall(ctx, x, q.BotTrain, db.BotTrainParams{ID: bot.ID, Caller: heavy}))
	run("TrainingAbandoned", func() error { _, err := q.TrainingAbandoned(ctx, x); return err })
	run("Delete", queryCall(ctx, x, q.BotDelete, db.BotDeleteParams{ID: bot.ID, Caller: heavy, Versions: []int64{}, ExceptVersions: []int64{}}))
	run("Restore", queryCall(ctx, x, q.BotRestore, db.BotRestoreParams{ID: deletedBot.ID, Caller: heavy}))
	run("FirstFreeCopyName", func() error {
		names := make([]string, 50)
		folds := make([]string, 50)
		for i := range names {
			names[i] = fmt.Sprintf("Bot 1 of user 0 (copy %d)", i+1)
			folds[i] = bots.Fold(names[i])
		}
		_, err := q.BotFirstFreeName(ctx, x, db.BotFirstFreeNameParams{Candidates: names, Folds: folds, OwnerID: heavy})
		return err
	})
	run("Create", queryCall(ctx, x, q.BotCreate, db.BotCreateParams{ID: uuid.New(), OwnerID: heavy, Name: "A new bot in a plan", NameFold: "a new bot in a plan", Model: "gpt-4o", Temperature: 0.7, Source: "create"}))
	run("UserEnsure", func() error { return q.UserEnsure(ctx, x, other) })
	run("UserLock", func() error { return q.UserLock(ctx, x, heavy) })
	run("StatusEventList", queryCall(ctx, x, q.BotStatusEventList, db.BotStatusEventListParams{BotID: bot.ID, Caller: heavy, Lim: 20}))
	run("StatusEventCount", queryCall(ctx, x, q.BotStatusEventCount, db.BotStatusEventCountParams{BotID: bot.ID, Caller: heavy}))
	run("StatusEventsAfter", queryCall(ctx, x, q.BotStatusEventsAfter, db.BotStatusEventsAfterParams{BotID: bot.ID, Caller: heavy, Lim: bots.EventsAfterPage}))
	runPages("EventList", func(off, lim int32) error {
		_, err := q.BotEventList(ctx, x, db.BotEventListParams{BotID: bot.ID, Caller: heavy, Off: off, Lim: lim})
		return err
	})
	runPages("EventListByType", func(off, lim int32) error {
		_, err := q.BotEventListByType(ctx, x, db.BotEventListByTypeParams{BotID: bot.ID, Caller: heavy, Type: "alias.moved", Off: off, Lim: lim})
		return err
	})
	run("EventCount", queryCall(ctx, x, q.BotEventCount, db.BotEventCountParams{BotID: bot.ID, Caller: heavy}))
	run("EventCountByType", queryCall(ctx, x, q.BotEventCountByType, db.BotEventCountByTypeParams{BotID: bot.ID, Caller: heavy, Type: "alias.moved"}))
	run("ForTraining", queryCall(ctx, x, q.VersionForTraining, db.VersionForTrainingParams{BotID: bot.ID, Number: bot.ConfigVersion}))
	run("FinishTraining", queryCall(ctx, x, q.VersionFinishTraining, db.VersionFinishTrainingParams{BotID: bot.ID, Number: bot.ConfigVersion,
		Status: db.BotStatusActive, PreparedConfig: []byte(`{}`)}))
	run("IdempotencyGet", queryCall(ctx, x, q.IdempotencyGet, db.IdempotencyGetParams{UserID: heavy, Key: "k", TtlSeconds: 86400}))
	run("PurgeDeleted", queryCall(ctx, x, q.BotPurgeDeleted, db.BotPurgeDeletedParams{RetentionSeconds: 30 * 86400, Batch: 1000}))

	require.NotEmpty(t, x.plans)
	for _, p := range x.plans {
		if probs := p.problems(); len(probs) > 0 {
			t.Errorf("%s: %s\n%s", p.name, strings.Join(probs, "; "), p.sql)
		}
	}
	t.Logf("%d plans checked", len(x.plans))
}

// queryCall is a call of query with args on x, for run: only its error matters.
func queryCall[P, R any](ctx context.Context, x db.DBTX, query func(context.Context, db.DBTX, P) (R, error), args P) func() error {
	return func() error {
		_, err := query(ctx, x, args)
		return err
	}
}

// The checks themselves must catch what they look for.
func TestPlanChecksCatchSlowPlans(t *testing.T) {
	t.Parallel()
	seq := plan{root: planNode{NodeType: "Limit", ActualRows: 20, Plans: []planNode{{NodeType: "Seq Scan", RelationName: "bots", ActualRows: 20}}}}
	require.Equal(t, []string{"sequential scan of bots"}, seq.problems())
	sort := plan{root: planNode{NodeType: "Limit", ActualRows: 20, Plans: []planNode{{NodeType: "Sort", ActualRows: 20,
		Plans: []planNode{{NodeType: "Index Scan", ActualRows: 5000, ActualLoops: 1}}}}}}
	require.Equal(t, []string{"Sort of 5000 rows to return 20"}, sort.problems())
	small := plan{root: planNode{NodeType: "Limit", ActualRows: 20, Plans: []planNode{{NodeType: "Sort", ActualRows: 20,
		Plans: []planNode{{NodeType: "Bitmap Heap Scan", ActualRows: 54, ActualLoops: 1}}}}}}
	require.Empty(t, small.problems(), "a sort of a few dozen matches does not grow with the table")
	function := plan{root: planNode{NodeType: "Limit", ActualRows: 20, Plans: []planNode{{NodeType: "Function Scan",
		FunctionName: "bots_matching", ActualRows: 5000, ActualLoops: 1}}}}
	require.Equal(t, []string{"Function Scan of bots_matching reading 5000 rows to return 20"}, function.problems())
	candidates := plan{root: planNode{NodeType: "Limit", ActualRows: 1, Plans: []planNode{{NodeType: "Function Scan",
		FunctionName: "unnest", ActualRows: 5, ActualLoops: 1}}}}
	require.Empty(t, candidates.problems(), "a function scan of a few values does not grow with the table")
	fine := plan{root: planNode{NodeType: "Limit", ActualRows: 20, Plans: []planNode{{NodeType: "Index Scan", ActualRows: 20}}}}
	require.Empty(t, fine.problems())
	deep := sort
	deep.need = 2520 // offset 2500, limit 20: 5000 rows is within twice that
	require.Empty(t, deep.problems())
	search := plan{search: true, root: planNode{NodeType: "Aggregate", ActualRows: 1, Plans: []planNode{{NodeType: "Index Scan",
		IndexName: "bots_owner_created_idx", ActualRows: 5000, ActualLoops: 1}}}}
	require.Equal(t, []string{"search without a trigram index"}, search.problems())
	search.root.Plans = []planNode{{NodeType: "Bitmap Heap Scan", ActualRows: 12, ActualLoops: 1, Plans: []planNode{{NodeType: "Bitmap Index Scan",
		IndexName: "bots_owner_description_trgm_idx", ActualRows: 12, ActualLoops: 1}}}}
	require.Empty(t, search.problems())
	called := plan{root: planNode{NodeType: "Update", Plans: []planNode{{NodeType: "Index Scan", ActualRows: 1,
		Filter: "((deleted_at IS NULL) AND preconditions_hold(version, true, '{3}'::bigint[], '{}'::bigint[]))"}}}}
	require.Equal(t, []string{"preconditions_hold is called, not inlined"}, called.problems())
}
