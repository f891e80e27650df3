package httpapi_test

import (
	"fmt"
	"maps"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/bots"
)

// Tests of If-Match and If-None-Match on the lifecycle's POSTs: train and restore evaluate
// both as PUT does, on the bot they change (for restore, the deleted bot); duplicate
// evaluates If-Match only, on the source it copies.

// condCase is one set of precondition headers, made from the bot's current ETag and a stale
// one, and whether the request is carried out with them.
type condCase struct {
	header  func(current, stale string) map[string]string
	carried bool
}

func ifMatch(tag string) map[string]string     { return map[string]string{"If-Match": tag} }
func ifNoneMatch(tag string) map[string]string { return map[string]string{"If-None-Match": tag} }

// ifMatchCases are the If-Match headers and what they do, as UpdateBot evaluates them.
var ifMatchCases = map[string]condCase{
	"WithoutPreconditionsItIsCarriedOut": {func(string, string) map[string]string { return nil }, true},
	"CurrentETagMatches":                 {func(cur, _ string) map[string]string { return ifMatch(cur) }, true},
	"StaleETagFails":                     {func(_, stale string) map[string]string { return ifMatch(stale) }, false},
	"AnETagNeverIssuedFails":             {func(string, string) map[string]string { return ifMatch(`"999"`) }, false},
	"WeakCurrentETagFails":               {func(cur, _ string) map[string]string { return ifMatch("W/" + cur) }, false},
	"ListWithTheCurrentETagMatches":      {func(cur, _ string) map[string]string { return ifMatch(`"999", ` + cur) }, true},
	"StarMatches":                        {func(string, string) map[string]string { return ifMatch("*") }, true},
}

// ifNoneMatchCases are the If-None-Match headers and what they do to a write, as UpdateBot
// evaluates them.
var ifNoneMatchCases = map[string]condCase{
	"IfNoneMatchStaleETagIsCarriedOut":  {func(_, stale string) map[string]string { return ifNoneMatch(stale) }, true},
	"IfNoneMatchCurrentETagFails":       {func(cur, _ string) map[string]string { return ifNoneMatch(cur) }, false},
	"IfNoneMatchWeakCurrentETagFails":   {func(cur, _ string) map[string]string { return ifNoneMatch("W/" + cur) }, false},
	"IfNoneMatchStarFails":              {func(string, string) map[string]string { return ifNoneMatch("*") }, false},
	"MatchingIfMatchAndIfNoneMatchFail": {func(cur, _ string) map[string]string { return map[string]string{"If-Match": cur, "If-None-Match": cur} }, false},
}

// writesOf is what a write of a bot leaves behind: the bot's row, its versions, its events
// and its training jobs.
type writesOf struct {
	row                    lifeRow
	versions, events, jobs int
}

func loadWrites(t *testing.T, e *env, id uuid.UUID) writesOf {
	t.Helper()
	return writesOf{
		row:      lifeLoad(t, e, id),
		versions: e.count(`SELECT 1 FROM bot_versions WHERE bot_id = $1`, id),
		events:   e.count(`SELECT 1 FROM bot_events WHERE bot_id = $1`, id),
		jobs:     e.count(`SELECT 1 FROM river_job WHERE kind = 'train_bot' AND args->>'bot_id' = $1`, id.String()),
	}
}

// requirePreconditionFailed checks a 412 that gives current as the ETag.
func requirePreconditionFailed(t *testing.T, res *response, current string) {
	t.Helper()
	p := res.problem(t, http.StatusPreconditionFailed)
	require.Equal(t, "/problems/precondition-failed", p.Type)
	require.Equal(t, current, lifeETag(t, res))
}

// requireRefused checks that u's POST to op of bot id is answered status with each of the
// headers, whatever they say, and writes nothing.
func requireRefused(t *testing.T, e *env, u user, id uuid.UUID, op string, status int, headers ...map[string]string) {
	t.Helper()
	before := loadWrites(t, e, id)
	for _, h := range headers {
		e.postWith(u, botPath(id, op), nil, h).problem(t, status)
	}
	require.Equal(t, before, loadWrites(t, e, id))
}

func (e *env) postWith(u user, path string, body any, header map[string]string) *response {
	e.t.Helper()
	return e.do(request{method: http.MethodPost, path: path, as: &u, body: body, header: header})
}

// etagOf is the ETag of a bot at version, deleted or not.
func etagOf(version int64) string { return fmt.Sprintf(`"%d"`, version) }

func TestTrainBotPreconditions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// An active bot, renamed once so that it has a current ETag and a stale one: a training
	// would record a new version and queue a job.
	activeBot := func(t *testing.T, e *env, u user) (id uuid.UUID, current, stale string) {
		t.Helper()
		bot, created := e.create(u, map[string]any{"name": "Support"})
		e.activate(bot.Id)
		renamed := e.put(u, botPath(bot.Id), map[string]any{"name": "Renamed"}, nil)
		require.Equal(t, http.StatusOK, renamed.code, string(renamed.body))
		return bot.Id, lifeETag(t, renamed), lifeETag(t, created)
	}
	for name, c := range merged(ifMatchCases, ifNoneMatchCases) {
		e.run(t, name, func(t *testing.T, e *env, u user) {
			id, current, stale := activeBot(t, e, u)
			before := loadWrites(t, e, id)

			res := e.postWith(u, botPath(id, "/train"), nil, c.header(current, stale))
			after := loadWrites(t, e, id)
			if !c.carried {
				requirePreconditionFailed(t, res, current)
				require.Equal(t, before, after, "a failed precondition wrote something")
				require.Equal(t, current, lifeETag(t, e.get(u, botPath(id))))
				return
			}
			require.Equal(t, http.StatusAccepted, res.code, string(res.body))
			require.Equal(t, api.BotStatusTraining, decoded[api.BotResponse](t, res).Status)
			require.Equal(t, etagOf(after.row.version), lifeETag(t, res))
			require.Equal(t, before.row.version+1, after.row.version)
			require.Equal(t, before.versions+1, after.versions, "the active version's configuration is recorded anew")
			require.Equal(t, before.jobs+1, after.jobs)
			require.Greater(t, after.events, before.events)
		})
	}

	e.run(t, "AnotherUsersPrivateBotIsNotFoundWhateverThePrecondition", func(t *testing.T, e *env, u user) {
		owner := newUser(t)
		id, current, stale := activeBot(t, e, owner)
		requireRefused(t, e, u, id, "/train", http.StatusNotFound, ifMatch(stale), ifMatch(current), ifMatch("*"), ifNoneMatch("*"))
	})
	e.run(t, "AnotherUsersPublicBotIsForbiddenWhateverThePrecondition", func(t *testing.T, e *env, u user) {
		owner := newUser(t)
		bot, created := e.create(owner, map[string]any{"name": "Shared", "is_public": true})
		requireRefused(t, e, u, bot.Id, "/train", http.StatusForbidden, ifMatch(`"999"`), ifMatch(lifeETag(t, created)))
	})
	e.run(t, "ADeletedBotIsNotFoundWhateverThePrecondition", func(t *testing.T, e *env, u user) {
		id, current, _ := activeBot(t, e, u)
		require.Equal(t, http.StatusOK, e.delete(u, botPath(id), ifMatch(current)).code)
		deleted := etagOf(lifeLoad(t, e, id).version)
		requireRefused(t, e, u, id, "/train", http.StatusNotFound, ifMatch(current), ifMatch(deleted), ifMatch("*"))
	})
	e.run(t, "AMissingBotIsNotFound", func(t *testing.T, e *env, u user) {
		e.postWith(u, botPath(uuid.New(), "/train"), nil, ifMatch(`"1"`)).problem(t, http.StatusNotFound)
	})
	e.run(t, "OnlyOneOfManyTrainingsWithTheSameIfMatchWins", func(t *testing.T, e *env, u user) {
		id, current, _ := activeBot(t, e, u)
		before := loadWrites(t, e, id)
		reqs := make([]request, 10)
		for i := range reqs {
			reqs[i] = request{method: http.MethodPost, path: botPath(id, "/train"), as: &u, header: ifMatch(current)}
		}
		won := 0
		for _, res := range e.race(reqs) {
			switch res.code {
			case http.StatusAccepted:
				won++
			case http.StatusPreconditionFailed:
				requirePreconditionFailed(t, res, etagOf(before.row.version+1))
			default:
				t.Fatalf("a training answered %d: %s", res.code, res.body)
			}
		}
		require.Equal(t, 1, won)
		after := loadWrites(t, e, id)
		require.Equal(t, before.row.version+1, after.row.version)
		require.Equal(t, before.jobs+1, after.jobs)
	})
}

func TestRestoreBotPreconditions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// A deleted bot (in training, so that a restore queues a job): stale is the ETag read
	// before the delete, current the one the delete gave it, which its answer carries.
	deletedBot := func(t *testing.T, e *env, u user) (id uuid.UUID, current, stale string) {
		t.Helper()
		bot, created := e.create(u, map[string]any{"name": "Support"})
		stale = lifeETag(t, created)
		res := e.delete(u, botPath(bot.Id), ifMatch(stale))
		require.Equal(t, http.StatusOK, res.code)
		current = res.header.Get("ETag")
		require.Equal(t, etagOf(lifeLoad(t, e, bot.Id).version), current, "the delete's answer carries the deleted bot's ETag")
		return bot.Id, current, stale
	}
	for name, c := range merged(ifMatchCases, ifNoneMatchCases) {
		e.run(t, name, func(t *testing.T, e *env, u user) {
			id, current, stale := deletedBot(t, e, u)
			before := loadWrites(t, e, id)

			res := e.postWith(u, botPath(id, "/restore"), nil, c.header(current, stale))
			after := loadWrites(t, e, id)
			if !c.carried {
				requirePreconditionFailed(t, res, current)
				require.Equal(t, before, after, "a failed precondition wrote something")
				require.NotNil(t, after.row.deletedAt)
				e.getNotFound(u, botPath(id))
				return
			}
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			require.Nil(t, after.row.deletedAt)
			require.Equal(t, before.row.version+1, after.row.version)
			require.Equal(t, etagOf(after.row.version), lifeETag(t, res))
			require.Equal(t, before.jobs+1, after.jobs)
			require.Greater(t, after.events, before.events)
		})
	}

	e.run(t, "TheETagOfThe412Restores", func(t *testing.T, e *env, u user) {
		id, _, stale := deletedBot(t, e, u)
		failed := e.postWith(u, botPath(id, "/restore"), nil, ifMatch(stale))
		current := lifeETag(t, failed)
		require.NotEqual(t, stale, current, "deleting changed the ETag")
		requirePreconditionFailed(t, failed, current)

		res := e.postWith(u, botPath(id, "/restore"), nil, ifMatch(current))
		require.Equal(t, http.StatusOK, res.code, string(res.body))
	})
	e.run(t, "ATrainingThatFinishedWhileDeletedChangesTheETag", func(t *testing.T, e *env, u user) {
		id, current, _ := deletedBot(t, e, u)
		msg := "the configuration cannot work"
		recorded, err := e.svc.FinishTraining(t.Context(), id, 1, bots.Outcome{Status: bots.StatusError, Message: &msg})
		require.NoError(t, err)
		require.True(t, recorded)
		now := etagOf(lifeLoad(t, e, id).version)
		require.NotEqual(t, current, now)
		requirePreconditionFailed(t, e.postWith(u, botPath(id, "/restore"), nil, ifMatch(current)), now)
		require.Equal(t, http.StatusOK, e.postWith(u, botPath(id, "/restore"), nil, ifMatch(now)).code)
	})
	e.run(t, "AnotherUsersPrivateDeletedBotIsNotFoundWhateverThePrecondition", func(t *testing.T, e *env, u user) {
		owner := newUser(t)
		id, current, stale := deletedBot(t, e, owner)
		requireRefused(t, e, u, id, "/restore", http.StatusNotFound, ifMatch(stale), ifMatch(current), ifMatch("*"), ifNoneMatch("*"))
	})
	e.run(t, "AnotherUsersPublicBotIsForbiddenWhateverThePrecondition", func(t *testing.T, e *env, u user) {
		owner := newUser(t)
		bot, created := e.create(owner, map[string]any{"name": "Shared", "is_public": true})
		requireRefused(t, e, u, bot.Id, "/restore", http.StatusForbidden, ifMatch(`"999"`), ifMatch(lifeETag(t, created)))
	})
	e.run(t, "ABotThatIsNotDeletedIsAConflictWhateverThePrecondition", func(t *testing.T, e *env, u user) {
		bot, created := e.create(u, map[string]any{"name": "Live"})
		requireRefused(t, e, u, bot.Id, "/restore", http.StatusConflict, ifMatch(`"999"`), ifMatch(lifeETag(t, created)), ifNoneMatch("*"))
	})
}

func TestDuplicateBotPreconditions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// A source renamed once, so that it has a current ETag and a stale one.
	sourceBot := func(t *testing.T, e *env, owner user, public bool) (id uuid.UUID, current, stale string) {
		t.Helper()
		bot, created := e.create(owner, map[string]any{"name": "Source", "is_public": public})
		renamed := e.put(owner, botPath(bot.Id), map[string]any{"name": "Source v2"}, nil)
		require.Equal(t, http.StatusOK, renamed.code, string(renamed.body))
		return bot.Id, lifeETag(t, renamed), lifeETag(t, created)
	}
	for name, c := range ifMatchCases {
		for _, public := range []bool{false, true} {
			whose := "OfOwnBot"
			if public {
				whose = "OfAnotherUsersPublicBot"
			}
			e.run(t, name+whose, func(t *testing.T, e *env, u user) {
				owner := u
				if public {
					owner = newUser(t)
				}
				id, current, stale := sourceBot(t, e, owner, public)
				source := loadWrites(t, e, id)
				count := e.countBots(u)

				res := e.postWith(u, botPath(id, "/duplicate"), nil, c.header(current, stale))
				require.Equal(t, source, loadWrites(t, e, id), "a copy changed its source")
				if !c.carried {
					requirePreconditionFailed(t, res, current)
					require.Equal(t, count, e.countBots(u), "a failed precondition made a copy")
					return
				}
				require.Equal(t, http.StatusCreated, res.code, string(res.body))
				require.Equal(t, "Source v2 (copy)", decoded[api.BotResponse](t, res).Name)
				require.Equal(t, count+1, e.countBots(u))
			})
		}
	}

	// If-None-Match is not a parameter of a copy: it is refused rather than ignored, and
	// nothing is copied.
	for whose, public := range map[string]bool{"OfOwnBot": false, "OfAnotherUsersPublicBot": true} {
		e.run(t, "IfNoneMatchIsRefused"+whose, func(t *testing.T, e *env, u user) {
			owner := u
			if public {
				owner = newUser(t)
			}
			id, current, _ := sourceBot(t, e, owner, public)
			count := e.countBots(u)
			requireRefused(t, e, u, id, "/duplicate", http.StatusBadRequest, ifNoneMatch(current), ifNoneMatch("*"))
			require.Equal(t, count, e.countBots(u), "a refused request made a copy")
		})
	}

	e.run(t, "AnotherUsersPrivateBotIsNotFoundWhateverThePrecondition", func(t *testing.T, e *env, u user) {
		owner := newUser(t)
		id, current, stale := sourceBot(t, e, owner, false)
		requireRefused(t, e, u, id, "/duplicate", http.StatusNotFound, ifMatch(stale), ifMatch(current), ifMatch("*"))
		require.Zero(t, e.countBots(u))
	})
	e.run(t, "ADeletedBotIsNotFoundWhateverThePrecondition", func(t *testing.T, e *env, u user) {
		id, current, _ := sourceBot(t, e, u, false)
		require.Equal(t, http.StatusOK, e.delete(u, botPath(id), ifMatch(current)).code)
		deleted := etagOf(lifeLoad(t, e, id).version)
		requireRefused(t, e, u, id, "/duplicate", http.StatusNotFound, ifMatch(current), ifMatch(deleted), ifMatch("*"))
		require.Equal(t, 1, e.countBots(u))
	})
	e.run(t, "AReplayAnswersTheFirstAnswerWhateverItsIfMatch", func(t *testing.T, e *env, u user) {
		id, current, _ := sourceBot(t, e, u, false)
		key := uuid.NewString()
		first := e.postWith(u, botPath(id, "/duplicate"), map[string]any{}, map[string]string{"Idempotency-Key": key, "If-Match": current})
		require.Equal(t, http.StatusCreated, first.code, string(first.body))
		// The source changes, so the If-Match the first request sent no longer matches.
		require.Equal(t, http.StatusOK, e.put(u, botPath(id), map[string]any{"name": "Source v3"}, nil).code)
		for _, h := range []string{current, `"999"`, "*", ""} {
			again := e.postWith(u, botPath(id, "/duplicate"), map[string]any{}, map[string]string{"Idempotency-Key": key, "If-Match": h})
			requireReplay(t, first, again)
		}
		require.Equal(t, 2, e.countBots(u))
	})
	e.run(t, "ARequestAnswered412KeepsNothingForItsKey", func(t *testing.T, e *env, u user) {
		id, current, stale := sourceBot(t, e, u, false)
		key := uuid.NewString()
		failed := e.postWith(u, botPath(id, "/duplicate"), map[string]any{}, map[string]string{"Idempotency-Key": key, "If-Match": stale})
		requirePreconditionFailed(t, failed, current)
		res := e.postWith(u, botPath(id, "/duplicate"), map[string]any{}, map[string]string{"Idempotency-Key": key, "If-Match": current})
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		require.Empty(t, res.header.Get("Idempotent-Replayed"))
		require.Equal(t, 2, e.countBots(u))
	})
}

// merged is the cases of both maps, which name different cases.
func merged(a, b map[string]condCase) map[string]condCase {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}
