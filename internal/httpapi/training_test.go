package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/training"
)

// waitForStatus polls the bot through the API until it has status want, and returns it.
func (e *env) waitForStatus(u user, id uuid.UUID, want api.BotStatus) api.BotResponse {
	e.t.Helper()
	var bot api.BotResponse
	waitUntil(e.t, fmt.Sprintf("bot %s is %q", id, want), func() bool {
		res := e.get(u, botPath(id))
		require.Equal(e.t, http.StatusOK, res.code, string(res.body))
		res.decode(e.t, &bot)
		return bot.Status == want
	})
	return bot
}

// history returns the bot's status events, newest first.
func (e *env) history(u user, id uuid.UUID) []api.StatusEvent {
	e.t.Helper()
	res := e.get(u, botPath(id, "/status-events?limit=100"))
	require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	var list api.StatusEventList
	res.decode(e.t, &list)
	require.Equal(e.t, int64(len(list.Items)), list.Total)
	return list.Items
}

// transitions renders a history oldest first as "from>to" steps.
func transitions(events []api.StatusEvent) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		from := "none"
		if f, err := ev.FromStatus.Get(); err == nil {
			from = string(f)
		}
		out[len(events)-1-i] = from + ">" + string(ev.ToStatus)
	}
	return out
}

func TestTrainingMakesANewBotActive(t *testing.T) {
	t.Parallel()
	e := setupTraining(t, training.CatalogTrainer{}, testTraining)
	u := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Ready soon", "system_prompt": "You help with returns."})
	require.Equal(t, api.BotStatusTraining, bot.Status)

	active := e.waitForStatus(u, bot.Id, api.BotStatusActive)
	require.False(t, active.StatusMessage.IsSpecified() && !active.StatusMessage.IsNull())
	require.Greater(t, active.UpdatedAt, bot.UpdatedAt)
	require.Equal(t, []string{"none>training", "training>active"}, transitions(e.history(u, bot.Id)))

	var prepared []byte
	require.NoError(t, e.pool.QueryRow(context.Background(),
		"SELECT prepared_config FROM bots WHERE id = $1", bot.Id).Scan(&prepared))
	var cfg training.Prepared
	require.NoError(t, json.Unmarshal(prepared, &cfg))
	require.Equal(t, "gpt-4o-mini", cfg.Model)
	require.Equal(t, "You help with returns.", cfg.SystemPrompt)
	require.Equal(t, 0.7, cfg.Temperature)
	// 22 code points are 6 tokens, plus 8 for the framing, of GPT-4o mini's 128,000.
	require.Equal(t, 14, cfg.SystemPromptTokens)
	require.Equal(t, 127986, cfg.MaxConversationTokens)
}

func TestTrainingRefusesConfigurationsThatCannotWork(t *testing.T) {
	t.Parallel()
	e := setupTraining(t, training.CatalogTrainer{}, testTraining)
	cases := map[string]struct {
		body map[string]any
		want string
	}{
		"RetiredModel": {map[string]any{"model": "gpt-3.5-turbo"},
			`model "gpt-3.5-turbo" is retired; choose another model listed by GET /api/v1/models`},
		"TemperatureAboveTheModels": {map[string]any{"model": "claude-3-haiku", "temperature": 1.01},
			"temperature 1.01 is above 1, the most that Claude 3 Haiku supports; lower it or choose another model"},
		// 481 code points are 121 tokens, plus 8: one over half of the 256-token window.
		"PromptTooLongForTheContext": {map[string]any{"model": "chatsphere-nano", "system_prompt": strings.Repeat("é", 481)},
			"the system prompt is about 129 tokens, but ChatSphere Nano allows at most 128 (half of its 256-token context window); shorten the prompt or choose a model with a larger context window"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			c.body["name"] = name
			bot := e.createBot(u, c.body)
			failed := e.waitForStatus(u, bot.Id, api.BotStatusError)
			msg, err := failed.StatusMessage.Get()
			require.NoError(t, err)
			require.Equal(t, c.want, msg)

			// Fixing the configuration trains the bot again, and this time it works.
			res := e.put(u, botPath(bot.Id), map[string]any{"model": "gpt-4o", "temperature": 0.5}, nil)
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			e.waitForStatus(u, bot.Id, api.BotStatusActive)
			require.Equal(t, []string{"none>training", "training>error", "error>training", "training>active"},
				transitions(e.history(u, bot.Id)))
		})
	}
}

// jobsFor lists the versions of the bot that have a training job.
func (e *env) jobsFor(id uuid.UUID) []int64 {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(),
		`SELECT (args->>'version')::bigint FROM river_job WHERE kind = 'train_bot' AND args->>'bot_id' = $1 ORDER BY id`, id.String())
	require.NoError(e.t, err)
	defer rows.Close()
	var versions []int64
	for rows.Next() {
		var v int64
		require.NoError(e.t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(e.t, rows.Err())
	return versions
}

func TestEveryWriteThatNeedsTrainingQueuesAJob(t *testing.T) {
	t.Parallel()
	e := setup(t) // jobs are queued, not worked
	u := newUser(t)
	ctx := context.Background()
	bot := e.createBot(u, map[string]any{"name": "Queued"})
	require.Equal(t, []int64{1}, e.jobsFor(bot.Id), "create")

	e.activate(bot.Id)
	res := e.put(u, botPath(bot.Id), map[string]any{"name": "Renamed"}, nil)
	require.Equal(t, http.StatusOK, res.code)
	require.Len(t, e.jobsFor(bot.Id), 1, "a rename of an active bot needs no training")

	res = e.put(u, botPath(bot.Id), map[string]any{"system_prompt": "Be brief."}, nil)
	require.Equal(t, http.StatusOK, res.code)
	var updated api.BotResponse
	res.decode(t, &updated)
	require.Equal(t, api.BotStatusTraining, updated.Status)
	require.Equal(t, []int64{1, versionOf(t, res)}, e.jobsFor(bot.Id), "a prompt change")

	res = e.post(u, botPath(bot.Id, "/train"), nil)
	require.Equal(t, http.StatusAccepted, res.code)
	require.Len(t, e.jobsFor(bot.Id), 3, "train")
	require.Equal(t, versionOf(t, res), e.jobsFor(bot.Id)[2])

	res = e.post(u, botPath(bot.Id, "/duplicate"), nil)
	require.Equal(t, http.StatusCreated, res.code)
	var copied api.BotResponse
	res.decode(t, &copied)
	require.Equal(t, []int64{1}, e.jobsFor(copied.Id), "duplicate")

	// A bot deleted in error comes back into training, with a job.
	_, err := e.pool.Exec(ctx, "UPDATE bots SET status = 'error', status_message = 'x' WHERE id = $1", copied.Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, e.delete(u, botPath(copied.Id), map[string]string{"If-Match": "*"}).code)
	res = e.post(u, botPath(copied.Id, "/restore"), nil)
	require.Equal(t, http.StatusOK, res.code)
	var restored api.BotResponse
	res.decode(t, &restored)
	require.Equal(t, api.BotStatusTraining, restored.Status)
	require.Equal(t, []int64{1, versionOf(t, res)}, e.jobsFor(copied.Id), "restore")
}

func TestAnUpdateOfABotInTrainingQueuesATrainingOfItsNewVersion(t *testing.T) {
	t.Parallel()
	e := setup(t) // jobs are queued, not worked
	u := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Still training"})
	require.Equal(t, []int64{1}, e.jobsFor(bot.Id))

	// A rename changes nothing that training uses, but the running job trains version 1,
	// whose result would be discarded: the new version needs its own job.
	res := e.put(u, botPath(bot.Id), map[string]any{"name": "Renamed while training", "temperature": 0.3}, nil)
	require.Equal(t, http.StatusOK, res.code)
	var updated api.BotResponse
	res.decode(t, &updated)
	require.Equal(t, api.BotStatusTraining, updated.Status)
	require.Equal(t, "Renamed while training", updated.Name)
	require.Equal(t, []int64{1, versionOf(t, res)}, e.jobsFor(bot.Id))

	// Once active, the same kind of update is one statement and queues nothing.
	e.activate(bot.Id)
	res = e.put(u, botPath(bot.Id), map[string]any{"temperature": 0.9}, map[string]string{"If-Match": res.header.Get("ETag")})
	require.Equal(t, http.StatusOK, res.code)
	res.decode(t, &updated)
	require.Equal(t, api.BotStatusActive, updated.Status)
	require.Equal(t, 0.9, updated.Temperature)
	require.Len(t, e.jobsFor(bot.Id), 2)
}

func TestAFailedWriteLeavesNoJobBehind(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	e.createBot(u, map[string]any{"name": "Taken"})
	e.createBot(u, map[string]any{"name": "Other"})
	var before int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job").Scan(&before))

	require.Equal(t, http.StatusConflict, e.post(u, "/api/v1/bots", map[string]any{"name": "taken", "model": "gpt-4o"}).code)
	other := e.createBot(u, map[string]any{"name": "Third"})
	e.activate(other.Id)
	res := e.put(u, botPath(other.Id), map[string]any{"name": "TAKEN", "model": "gpt-4o"}, nil)
	require.Equal(t, http.StatusConflict, res.code)

	var after int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job").Scan(&after))
	require.Equal(t, before+1, after, "only the successful create of Third queued a job")
}

func versionOf(t *testing.T, res *response) int64 {
	t.Helper()
	tag := strings.Trim(res.header.Get("ETag"), `"`)
	var v int64
	for _, c := range tag {
		require.True(t, c >= '0' && c <= '9', tag)
		v = v*10 + int64(c-'0')
	}
	return v
}

// flakyTrainer fails its first failures calls with a transient error.
type flakyTrainer struct {
	failures int32
	calls    atomic.Int32
}

func (f *flakyTrainer) Prepare(ctx context.Context, bot bots.Bot) (training.Prepared, error) {
	if f.calls.Add(1) <= f.failures {
		return training.Prepared{}, errors.New("model provider timed out")
	}
	return training.CatalogTrainer{}.Prepare(ctx, bot)
}

// A transient failure of the trainer is retried, and the bot ends up trained; when every
// attempt fails, the bot is in error and says why.
func TestTransientTrainingFailures(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		failures int32
		want     api.BotStatus
		// message is the bot's status message in error.
		message string
	}{
		{"AreRetried", 2, api.BotStatusActive, ""},
		{"ExhaustingTheRetriesPutsTheBotInError", 1000, api.BotStatusError, "training failed after 3 attempts: model provider timed out"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			trainer := &flakyTrainer{failures: c.failures}
			e := setupTraining(t, trainer, testTraining)
			u := newUser(t)
			bot := e.createBot(u, map[string]any{"name": c.name})
			done := e.waitForStatus(u, bot.Id, c.want)
			require.Equal(t, int32(3), trainer.calls.Load())
			var attempt int
			require.NoError(t, e.pool.QueryRow(context.Background(),
				`SELECT attempt FROM river_job WHERE args->>'bot_id' = $1`, bot.Id.String()).Scan(&attempt))
			require.Equal(t, 3, attempt)
			if c.want == api.BotStatusError {
				msg, err := done.StatusMessage.Get()
				require.NoError(t, err)
				require.Equal(t, c.message, msg)
			}
		})
	}
}

// gateTrainer holds its first call until released, then answers it with first; later calls
// train normally.
type gateTrainer struct {
	started, release chan struct{}
	first            error
	once             sync.Once
}

func newGateTrainer(first error) *gateTrainer {
	return &gateTrainer{started: make(chan struct{}), release: make(chan struct{}), first: first}
}

func (g *gateTrainer) Prepare(ctx context.Context, bot bots.Bot) (training.Prepared, error) {
	held := false
	g.once.Do(func() { held = true })
	if !held {
		return training.CatalogTrainer{}.Prepare(ctx, bot)
	}
	close(g.started)
	<-g.release
	return training.Prepared{}, g.first
}

func waitClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		t.Fatal("timed out")
	}
}

func TestAStaleTrainingResultIsDiscarded(t *testing.T) {
	t.Parallel()
	// The first training would put the bot in error; it finishes after the bot was edited,
	// so its result must not be written over the newer version.
	gate := newGateTrainer(&training.ConfigError{Message: "stale verdict"})
	e := setupTraining(t, gate, testTraining)
	u := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Edited while training"})
	waitClosed(t, gate.started)

	res := e.put(u, botPath(bot.Id), map[string]any{"system_prompt": "A newer prompt."}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	close(gate.release)

	active := e.waitForStatus(u, bot.Id, api.BotStatusActive)
	require.Equal(t, "A newer prompt.", active.SystemPrompt)
	require.Equal(t, []string{"none>training", "training>active"}, transitions(e.history(u, bot.Id)))
}

func TestTrainingOfADeletedBotHasNoEffect(t *testing.T) {
	t.Parallel()
	gate := newGateTrainer(nil)
	e := setupTraining(t, gate, testTraining)
	u := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Deleted while training"})
	waitClosed(t, gate.started)
	require.Equal(t, http.StatusOK, e.delete(u, botPath(bot.Id), map[string]string{"If-Match": "*"}).code)
	close(gate.release)

	// The job completes without touching the bot.
	waitUntil(t, "the training job is completed", func() bool {
		var state string
		require.NoError(t, e.pool.QueryRow(context.Background(),
			`SELECT state FROM river_job WHERE args->>'bot_id' = $1`, bot.Id.String()).Scan(&state))
		return state == "completed"
	})
	var status string
	var deleted bool
	require.NoError(t, e.pool.QueryRow(context.Background(),
		"SELECT status, deleted_at IS NOT NULL FROM bots WHERE id = $1", bot.Id).Scan(&status, &deleted))
	require.Equal(t, "training", status)
	require.True(t, deleted)
}

func TestTheDatabaseRefusesTransitionsTheLifecycleDoesNotHave(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	ctx := context.Background()
	bot := e.createBot(u, map[string]any{"name": "Strict"})
	set := func(status string) error {
		_, err := e.pool.Exec(ctx, "UPDATE bots SET status = $2 WHERE id = $1", bot.Id, status)
		return err
	}
	refused := func(t *testing.T, err error) {
		t.Helper()
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr)
		require.Equal(t, "23514", pgErr.Code)
		require.Equal(t, "bots_status_transition", pgErr.ConstraintName)
	}
	require.NoError(t, set("active"))   // training -> active
	refused(t, set("error"))            // active -> error
	require.NoError(t, set("training")) // active -> training
	require.NoError(t, set("error"))    // training -> error
	refused(t, set("active"))           // error -> active
	require.NoError(t, set("training")) // error -> training
	require.NoError(t, set("training")) // no change is no transition
	require.Equal(t,
		[]string{"none>training", "training>active", "active>training", "training>error", "error>training"},
		transitions(e.history(u, bot.Id)))
}
