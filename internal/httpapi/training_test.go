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
	list := decoded[api.StatusEventList](e.t, res)
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
		"SELECT prepared_config FROM bot_versions WHERE bot_id = $1 AND number = 1", bot.Id).Scan(&prepared))
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

// jobsFor lists the versions of the bot that have a training job, by number.
func (e *env) jobsFor(id uuid.UUID) []int32 {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(),
		`SELECT (args->>'number')::int FROM river_job WHERE kind = 'train_bot' AND args->>'bot_id' = $1 ORDER BY id`, id.String())
	require.NoError(e.t, err)
	defer rows.Close()
	var versions []int32
	for rows.Next() {
		var v int32
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
	bot := e.createBot(u, map[string]any{"name": "Queued"})
	require.Equal(t, []int32{1}, e.jobsFor(bot.Id), "create")

	e.activate(bot.Id)
	res := e.put(u, botPath(bot.Id), map[string]any{"name": "Renamed"}, nil)
	require.Equal(t, http.StatusOK, res.code)
	require.Equal(t, []int32{1}, e.jobsFor(bot.Id), "a rename of an active bot needs no training")

	res = e.put(u, botPath(bot.Id), map[string]any{"system_prompt": "Be brief."}, nil)
	require.Equal(t, http.StatusOK, res.code)
	updated := decodeBot(t, res)
	require.Equal(t, api.BotStatusTraining, updated.Status)
	require.Equal(t, int32(2), updated.ConfigVersion)
	require.Equal(t, []int32{1, 2}, e.jobsFor(bot.Id), "a prompt change")

	// Training a version in training again trains it in place.
	res = e.post(u, botPath(bot.Id, "/train"), nil)
	require.Equal(t, http.StatusAccepted, res.code)
	require.Equal(t, int32(2), decodeBot(t, res).ConfigVersion)
	require.Equal(t, []int32{1, 2, 2}, e.jobsFor(bot.Id), "train in training")

	// An active version never changes: training it again records a new version.
	e.activate(bot.Id)
	res = e.post(u, botPath(bot.Id, "/train"), nil)
	require.Equal(t, http.StatusAccepted, res.code)
	trained := decodeBot(t, res)
	require.Equal(t, api.BotStatusTraining, trained.Status)
	require.Equal(t, int32(3), trained.ConfigVersion)
	require.Equal(t, []int32{1, 2, 2, 3}, e.jobsFor(bot.Id), "train when active")

	res = e.post(u, botPath(bot.Id, "/duplicate"), nil)
	require.Equal(t, http.StatusCreated, res.code)
	copied := decodeBot(t, res)
	require.Equal(t, []int32{1}, e.jobsFor(copied.Id), "duplicate")

	// A bot deleted in error comes back into training, with a job.
	e.setStatus("error", "x", copied.Id)
	require.Equal(t, http.StatusOK, e.delete(u, botPath(copied.Id), map[string]string{"If-Match": "*"}).code)
	res = e.post(u, botPath(copied.Id, "/restore"), nil)
	require.Equal(t, http.StatusOK, res.code)
	restored := decodeBot(t, res)
	require.Equal(t, api.BotStatusTraining, restored.Status)
	require.Equal(t, int32(1), restored.ConfigVersion, "restore trains the version in place")
	require.Equal(t, []int32{1, 1}, e.jobsFor(copied.Id), "restore")
}

func TestAnUpdateOfABotInTrainingQueuesATrainingOfItsNewVersion(t *testing.T) {
	t.Parallel()
	e := setup(t) // jobs are queued, not worked
	u := newUser(t)
	bot := e.createBot(u, map[string]any{"name": "Still training"})
	require.Equal(t, []int32{1}, e.jobsFor(bot.Id))

	// A rename changes nothing that training uses: the running job still trains the latest
	// version.
	res := e.put(u, botPath(bot.Id), map[string]any{"name": "Renamed while training"}, nil)
	require.Equal(t, http.StatusOK, res.code)
	require.Equal(t, api.BotStatusTraining, decodeBot(t, res).Status)
	require.Equal(t, []int32{1}, e.jobsFor(bot.Id))

	// A new temperature of a version that is not active yet is a version to train.
	res = e.put(u, botPath(bot.Id), map[string]any{"temperature": 0.3}, nil)
	require.Equal(t, http.StatusOK, res.code)
	updated := decodeBot(t, res)
	require.Equal(t, api.BotStatusTraining, updated.Status)
	require.Equal(t, int32(2), updated.ConfigVersion)
	require.Equal(t, []int32{1, 2}, e.jobsFor(bot.Id))

	// Once active, a new temperature within the model's range is active at once, in one
	// statement, and queues nothing.
	e.activate(bot.Id)
	res = e.put(u, botPath(bot.Id), map[string]any{"temperature": 0.9}, map[string]string{"If-Match": e.get(u, botPath(bot.Id)).header.Get("ETag")})
	require.Equal(t, http.StatusOK, res.code)
	updated = decodeBot(t, res)
	require.Equal(t, api.BotStatusActive, updated.Status)
	require.Equal(t, 0.9, updated.Temperature)
	require.Equal(t, int32(3), updated.ConfigVersion)
	require.Equal(t, []int32{1, 2}, e.jobsFor(bot.Id))
}

// decodeBot reads a bot from an answer.
func decodeBot(t *testing.T, res *response) api.BotResponse {
	t.Helper()
	bot := decoded[api.BotResponse](t, res)
	return bot
}

func TestAFailedWriteLeavesNoJobBehind(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
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

func (f *flakyTrainer) Prepare(ctx context.Context, bot bots.Configuration) (training.Prepared, error) {
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

func (g *gateTrainer) Prepare(ctx context.Context, bot bots.Configuration) (training.Prepared, error) {
	held := false
	g.once.Do(func() { held = true })
	if !held {
		return training.CatalogTrainer{}.Prepare(ctx, bot)
	}
	close(g.started)
	<-g.release
	return training.Prepared{}, g.first
}

// setupHeldTraining starts a server whose trainer is a newGateTrainer(first), and a user's bot
// of that name whose training has started and is held until gate.release is closed.
func setupHeldTraining(t *testing.T, first error, name string) (e *env, u user, bot api.BotResponse, gate *gateTrainer) {
	t.Helper()
	gate = newGateTrainer(first)
	e = setupTraining(t, gate, testTraining)
	u = newUser(t)
	bot = e.createBot(u, map[string]any{"name": name})
	waitUntil(t, "the first training is held", func() bool {
		select {
		case <-gate.started:
			return true
		default:
			return false
		}
	})
	return e, u, bot, gate
}

// A training trains one version and writes only that version: a version edited away while
// it trains still gets its result, and the bot, which is its latest version, does not.
func TestASupersededVersionFinishesItsTrainingOnItsOwn(t *testing.T) {
	t.Parallel()
	// The trainer's verdict on the first version: the version ends in error or active.
	for name, verdict := range map[string]error{"Failed": &training.ConfigError{Message: "stale verdict"}, "Active": nil} {
		want := api.BotStatusActive
		if verdict != nil {
			want = api.BotStatusError
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, u, bot, gate := setupHeldTraining(t, verdict, "Edited while training")

			res := e.put(u, botPath(bot.Id), map[string]any{"system_prompt": "A newer prompt."}, nil)
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			close(gate.release)

			active := e.waitForStatus(u, bot.Id, api.BotStatusActive)
			require.Equal(t, "A newer prompt.", active.SystemPrompt)
			waitUntil(t, "version 1 is trained", func() bool {
				v, _ := e.version(u, bot, 1)
				return v.Status != api.BotStatusTraining
			})
			v1, _ := e.version(u, bot, 1)
			require.Equal(t, want, v1.Status)
			require.Equal(t, []string{"none>training", "training>active"}, transitions(e.history(u, bot.Id)),
				"the bot follows its latest version only")
			after := decodeBot(t, e.get(u, botPath(bot.Id)))
			require.Equal(t, api.BotStatusActive, after.Status)

			// Only an active version can be aliased.
			res = e.put(u, botPath(bot.Id, "/aliases/previous"), map[string]any{"version": 1}, nil)
			if want == api.BotStatusActive {
				require.Equal(t, http.StatusCreated, res.code, string(res.body))
			} else {
				require.Equal(t, http.StatusConflict, res.code, string(res.body))
			}
		})
	}
}

// A training works on a version whatever happens to its bot: a bot deleted while training
// is restored trained, with no training to start again.
func TestTrainingOfADeletedBotStillFinishes(t *testing.T) {
	t.Parallel()
	e, u, bot, gate := setupHeldTraining(t, nil, "Deleted while training")
	require.Equal(t, http.StatusOK, e.delete(u, botPath(bot.Id), map[string]string{"If-Match": "*"}).code)
	close(gate.release)

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
	require.Equal(t, "active", status)
	require.True(t, deleted, "training does not bring a bot back")

	res := e.post(u, botPath(bot.Id, "/restore"), nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	require.Equal(t, api.BotStatusActive, decodeBot(t, res).Status)
	require.Equal(t, []int32{1}, e.jobsFor(bot.Id), "nothing to train again")
}

func TestTheDatabaseRefusesTransitionsTheLifecycleDoesNotHave(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
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
	require.NoError(t, set("active"))   // error -> active: a revert to an active version
	require.NoError(t, set("training")) // active -> training
	require.NoError(t, set("error"))    // training -> error
	require.NoError(t, set("training")) // error -> training
	require.NoError(t, set("training")) // no change is no transition
	require.Equal(t,
		[]string{"none>training", "training>active", "active>training", "training>error", "error>active",
			"active>training", "training>error", "error>training"},
		transitions(e.history(u, bot.Id)))
}
