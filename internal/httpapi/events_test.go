package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/training"
)

// event is a BotEvent as sent.
type event struct {
	ID        int64           `json:"id"`
	BotID     uuid.UUID       `json:"bot_id"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	RequestID *string         `json:"request_id"`
	Data      json.RawMessage `json:"data"`
}

// eventPage is a BotEventList as sent.
type eventPage struct {
	Items []event `json:"items"`
	Total int64   `json:"total"`
}

// events reads one page of a bot's events, failing unless it gets 200.
func (e *env) events(u user, id uuid.UUID, query string) eventPage {
	e.t.Helper()
	res := e.get(u, botPath(id, "/events"+query))
	require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	var page eventPage
	res.decode(e.t, &page)
	return page
}

// eventHistory is every event of a bot, oldest first. A page's total and its items are read
// by two statements: an event recorded between them (a training ending) is read again.
func (e *env) eventHistory(u user, id uuid.UUID) []event {
	e.t.Helper()
	page := e.events(u, id, "?limit=100")
	for range 5 {
		if len(page.Items) == int(page.Total) {
			break
		}
		page = e.events(u, id, "?limit=100")
	}
	require.Len(e.t, page.Items, int(page.Total))
	slices.Reverse(page.Items)
	return page.Items
}

// recorded is what the test expects of one event.
type recorded struct {
	Type, Actor string
	RequestID   *string
}

// representation is a bot's JSON as GET /bots/{id} sends it, less what bot.updated leaves
// to other events: updated_at, status and status_message.
func representation(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m), string(body))
	created, err := time.Parse(time.RFC3339Nano, m["created_at"].(string))
	require.NoError(t, err)
	m["created_at"] = created.UTC().Format(time.RFC3339Nano) // the same instant, written one way
	for _, field := range []string{"updated_at", "status", "status_message"} {
		delete(m, field)
	}
	return m
}

// Every write records its events with the caller and the request, training records the
// status it ends in as the system's, and each bot.updated patch takes the bot as it was
// before the write to the bot as it is after it.
func TestBotEventsRecordEveryChange(t *testing.T) {
	t.Parallel()
	e := setupTraining(t, training.CatalogTrainer{}, testTraining)
	owner := newUser(t)
	var want []recorded
	// states are the bot's representations after each write that changed it.
	var states []map[string]any
	var id uuid.UUID
	wrote := func(res *response, status int, types ...string) {
		t.Helper()
		require.Equal(t, status, res.code, string(res.body))
		rid := res.header.Get("X-Request-Id")
		require.NotEmpty(t, rid)
		for _, typ := range types {
			want = append(want, recorded{typ, owner.id.String(), &rid})
			if typ == "bot.updated" {
				states = append(states, representation(t, e.get(owner, botPath(id)).body))
			}
		}
	}
	trained := func() {
		t.Helper()
		waitUntil(t, "the bot is trained", func() bool {
			return lifeJSON(t, e.get(owner, botPath(id)))["status"] != "training"
		})
		want = append(want, recorded{"bot.status_changed", bots.ActorSystem, nil})
	}

	bot, res := e.create(owner, map[string]any{"name": "Support", "model": "gpt-4o-mini", "temperature": 0.3})
	id = bot.Id
	wrote(res, http.StatusCreated, "bot.created", "version.created")
	trained()
	wrote(e.put(owner, botPath(id), map[string]any{"description": "Answers questions about billing"}, nil), http.StatusOK,
		"bot.updated")
	// Active at once: no change of status.
	wrote(e.put(owner, botPath(id), map[string]any{"temperature": 0.7}, nil), http.StatusOK,
		"bot.updated", "version.created")
	wrote(e.put(owner, botPath(id), map[string]any{"system_prompt": "Be brief."}, nil), http.StatusOK,
		"bot.updated", "bot.status_changed", "version.created")
	trained()
	wrote(e.put(owner, botPath(id, "/aliases/production"), map[string]any{"version": 2}, nil), http.StatusCreated, "alias.moved")
	wrote(e.put(owner, botPath(id, "/aliases/production"), map[string]any{"version": 3}, nil), http.StatusOK, "alias.moved")
	// Pointing an alias at the version it has moves nothing.
	require.Equal(t, http.StatusOK, e.put(owner, botPath(id, "/aliases/production"), map[string]any{"version": 3}, nil).code)
	wrote(e.delete(owner, botPath(id, "/aliases/production"), nil), http.StatusNoContent, "alias.deleted")
	wrote(e.post(owner, botPath(id, "/versions/1/revert"), nil), http.StatusCreated, "bot.updated", "version.created")
	wrote(e.post(owner, botPath(id, "/train"), nil), http.StatusAccepted, "bot.updated", "bot.status_changed", "version.created")
	trained()
	wrote(e.delete(owner, botPath(id)+"?confirm=true", nil), http.StatusOK, "bot.deleted")
	wrote(e.post(owner, botPath(id, "/restore"), nil), http.StatusOK, "bot.restored")
	wrote(e.put(owner, botPath(id), map[string]any{"name": "Support desk", "is_public": true, "description": nil}, nil), http.StatusOK,
		"bot.updated")
	// The same values again change nothing, and record nothing.
	require.Equal(t, http.StatusOK, e.put(owner, botPath(id), map[string]any{"name": "Support desk"}, nil).code)

	got := e.eventHistory(owner, id)
	var gotRecorded []recorded
	for _, ev := range got {
		require.Equal(t, id, ev.BotID)
		gotRecorded = append(gotRecorded, recorded{ev.Type, ev.Actor, ev.RequestID})
	}
	require.Equal(t, want, gotRecorded)

	t.Run("EachPatchTakesThePreviousRepresentationToTheNext", func(t *testing.T) {
		var created struct {
			Bot json.RawMessage `json:"bot"`
		}
		require.NoError(t, json.Unmarshal(got[0].Data, &created))
		doc := created.Bot
		prev := representation(t, doc)
		var states0 []map[string]any
		for _, ev := range got {
			if ev.Type != "bot.updated" {
				continue
			}
			var data struct {
				Patch json.RawMessage `json:"patch"`
			}
			require.NoError(t, json.Unmarshal(ev.Data, &data))
			patch, err := jsonpatch.DecodePatch(data.Patch)
			require.NoError(t, err, string(data.Patch))
			next, err := patch.Apply(doc)
			require.NoError(t, err)
			require.NotEqual(t, prev, representation(t, next), "an empty patch: %s", data.Patch)
			doc, prev = next, representation(t, next)
			states0 = append(states0, prev)
		}
		require.Equal(t, states, states0)
	})

	t.Run("StatusChangesSayFromWhatToWhat", func(t *testing.T) {
		var changes [][2]string
		for _, ev := range got {
			if ev.Type == "bot.status_changed" {
				var data struct {
					From, To string
					Message  *string
				}
				require.NoError(t, json.Unmarshal(ev.Data, &data))
				require.Nil(t, data.Message)
				changes = append(changes, [2]string{data.From, data.To})
			}
		}
		require.Equal(t, [][2]string{{"training", "active"}, {"active", "training"}, {"training", "active"},
			{"active", "training"}, {"training", "active"}}, changes)
	})

	t.Run("VersionsAndAliasesAreTold", func(t *testing.T) {
		var versions []float64
		var aliases []string
		for _, ev := range got {
			var data map[string]any
			require.NoError(t, json.Unmarshal(ev.Data, &data))
			switch ev.Type {
			case "version.created":
				v := data["version"].(map[string]any)
				require.Equal(t, owner.id.String(), v["created_by"])
				versions = append(versions, v["number"].(float64))
			case "alias.moved", "alias.deleted":
				raw, err := json.Marshal(data)
				require.NoError(t, err)
				aliases = append(aliases, string(raw))
			}
		}
		require.Equal(t, []float64{1, 2, 3, 4, 5}, versions)
		require.Equal(t, []string{
			`{"alias":"production","from_version":null,"to_version":2}`,
			`{"alias":"production","from_version":2,"to_version":3}`,
			`{"alias":"production","from_version":3,"to_version":null}`,
		}, aliases)
	})

	t.Run("ACopyIsToldWithItsSource", func(t *testing.T) {
		e := e.authzFor(t)
		res := e.post(owner, botPath(id, "/duplicate"), map[string]any{})
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		copied := decoded[api.BotResponse](t, res)
		evs := e.eventHistory(owner, copied.Id)
		// The copy trains: its training may already have ended, with a status change.
		require.GreaterOrEqual(t, len(evs), 2)
		require.Equal(t, []string{"bot.duplicated", "version.created"}, []string{evs[0].Type, evs[1].Type})
		for _, ev := range evs[2:] {
			require.Equal(t, "bot.status_changed", ev.Type)
			require.Equal(t, bots.ActorSystem, ev.Actor)
		}
		var data struct {
			SourceBotID uuid.UUID       `json:"source_bot_id"`
			Bot         json.RawMessage `json:"bot"`
		}
		require.NoError(t, json.Unmarshal(evs[0].Data, &data))
		require.Equal(t, id, data.SourceBotID)
		require.Equal(t, representation(t, res.body), representation(t, data.Bot))
		require.Equal(t, owner.id.String(), evs[0].Actor)
	})
}

// The trail is the owner's: anyone else gets 404, a public bot's viewers included.
func TestBotEventsAreTheOwnersOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, viewer := newUser(t), newUser(t)
	public := e.createBot(owner, map[string]any{"name": "Public", "is_public": true})
	private := e.createBot(owner, map[string]any{"name": "Private"})
	deleted := e.createBot(owner, map[string]any{"name": "Deleted"})
	require.Equal(t, http.StatusOK, e.delete(owner, botPath(deleted.Id)+"?confirm=true", nil).code)
	for _, c := range []struct {
		name  string
		as    user
		bot   uuid.UUID
		found bool
	}{
		{"OwnerReadsThem", owner, public.Id, true},
		{"PublicBotsViewersDoNot", viewer, public.Id, false},
		{"OtherUsersPrivateBotIsNotFound", viewer, private.Id, false},
		{"DeletedBotIsNotFoundForItsOwner", owner, deleted.Id, false},
		{"MissingBotIsNotFound", owner, uuid.New(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := e.authzFor(t)
			res := e.get(c.as, botPath(c.bot, "/events"))
			if !c.found {
				res.problem(t, http.StatusNotFound)
				return
			}
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			require.Equal(t, "no-store", res.header.Get("Cache-Control"))
		})
	}
}

// type keeps the events of one type; skip and limit page them newest first, and total
// counts every match.
func TestBotEventsFilterAndPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner := newUser(t)
	bot := e.createBot(owner, map[string]any{"name": "Paged"})
	for _, d := range []string{"one", "two", "three", "four", "five"} {
		require.Equal(t, http.StatusOK, e.put(owner, botPath(bot.Id), map[string]any{"description": d}, nil).code)
	}
	all := e.events(owner, bot.Id, "")
	require.EqualValues(t, 7, all.Total)
	require.Len(t, all.Items, 7)
	require.True(t, slices.IsSortedFunc(all.Items, func(a, b event) int { return int(b.ID - a.ID) }), "newest first")
	require.Equal(t, "bot.created", all.Items[6].Type)

	t.Run("TypeKeepsOneKind", func(t *testing.T) {
		e := e.authzFor(t)
		updated := e.events(owner, bot.Id, "?type=bot.updated")
		require.EqualValues(t, 5, updated.Total)
		require.Equal(t, all.Items[:5], updated.Items)
		created := e.events(owner, bot.Id, "?type=bot.created")
		require.EqualValues(t, 1, created.Total)
		require.Equal(t, all.Items[6:], created.Items)
		none := e.events(owner, bot.Id, "?type=alias.deleted")
		require.Zero(t, none.Total)
		require.Empty(t, none.Items)
	})
	t.Run("SkipAndLimitPage", func(t *testing.T) {
		e := e.authzFor(t)
		page := e.events(owner, bot.Id, "?skip=2&limit=3")
		require.EqualValues(t, 7, page.Total)
		require.Equal(t, all.Items[2:5], page.Items)
		typed := e.events(owner, bot.Id, "?type=bot.updated&skip=4&limit=3")
		require.EqualValues(t, 5, typed.Total)
		require.Equal(t, all.Items[4:5], typed.Items)
		past := e.events(owner, bot.Id, "?skip=7")
		require.EqualValues(t, 7, past.Total)
		require.Empty(t, past.Items)
	})
	t.Run("UnknownTypeIsRefused", func(t *testing.T) {
		e := e.authzFor(t)
		p := e.get(owner, botPath(bot.Id, "/events?type=bot.renamed")).problem(t, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"query:type"}, fieldsOf(p))
	})
}

// A write that is rolled back leaves no event: the events are written in its transaction.
func TestBotEventsOfARolledBackWriteAreNotKept(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := bots.WithRequestID(context.Background(), "rolled-back")
	owner := newUser(t)
	taken := e.createBot(owner, map[string]any{"name": "Taken"})

	tx, err := e.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	made, err := e.svc.CreateTx(ctx, tx, owner.id, bots.CreateParams{Name: "Never", Model: "gpt-4o-mini", Temperature: 0.5})
	require.NoError(t, err)
	copied, err := e.svc.DuplicateTx(ctx, tx, owner.id, taken.Id, bots.DuplicateParams{}, bots.Precondition{})
	require.NoError(t, err)
	var inside int
	require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM bot_events WHERE bot_id = ANY($1) AND request_id = 'rolled-back'",
		[]uuid.UUID{made.ID, copied.ID}).Scan(&inside))
	require.Equal(t, 4, inside, "the writes record their events in their transaction")
	require.NoError(t, tx.Rollback(ctx))

	var after int
	require.NoError(t, e.pool.QueryRow(ctx, "SELECT count(*) FROM bot_events WHERE request_id = 'rolled-back'").Scan(&after))
	require.Zero(t, after)
	require.Len(t, e.eventHistory(owner, taken.Id), 2, "the source of the copy is unchanged")
}

func TestStatusHistoryIsScopedToTheCaller(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, viewer := newUser(t), newUser(t)
	private := e.createBot(owner, map[string]any{"name": "Private"})
	public := e.createBot(owner, map[string]any{"name": "Public", "is_public": true})
	deleted := e.createBot(owner, map[string]any{"name": "Deleted", "is_public": true})
	e.activate(public.Id)
	require.Equal(t, http.StatusOK, e.delete(owner, botPath(deleted.Id), map[string]string{"If-Match": "*"}).code)

	for _, c := range []struct {
		name  string
		as    user
		bot   uuid.UUID
		query string
		total int64 // -1: not found
		// want is the page's events as transitions, oldest first.
		want []string
	}{
		{"OwnerSeesTheHistoryOfAPrivateBot", owner, private.Id, "", 1, []string{"none>training"}},
		{"OwnerSeesTheHistoryOfAPublicBot", owner, public.Id, "", 2, []string{"none>training", "training>active"}},
		{"ViewerSeesTheHistoryOfAPublicBot", viewer, public.Id, "", 2, []string{"none>training", "training>active"}},
		{"PagesAreNewestFirst", owner, public.Id, "?limit=1&skip=1", 2, []string{"none>training"}},
		{"APageBeyondTheEndIsEmptyButCounted", viewer, public.Id, "?skip=10", 2, []string{}},
		{"OtherUsersPrivateBotIsNotFound", viewer, private.Id, "", -1, nil},
		{"DeletedBotIsNotFoundForItsOwner", owner, deleted.Id, "", -1, nil},
		{"DeletedBotIsNotFoundForViewers", viewer, deleted.Id, "", -1, nil},
		{"MissingBotIsNotFound", owner, uuid.New(), "", -1, nil},
		{"MissingBotIsNotFoundForViewers", viewer, uuid.New(), "", -1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := e.get(c.as, botPath(c.bot, "/status-events"+c.query))
			if c.total < 0 {
				res.problem(t, http.StatusNotFound)
				return
			}
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			page := decoded[api.StatusEventList](t, res)
			require.Equal(t, c.total, page.Total)
			require.Equal(t, c.want, transitions(page.Items))
		})
	}
}

// A bot made private while a viewer's request reads its history is not found: the history and
// its count are read scoped to the caller, never by the bot's id alone after a visibility check.
func TestStatusHistoryOfABotMadePrivateDuringTheRequestIsNotFound(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	owner, viewer := newUser(t), newUser(t)
	bot := e.createBot(owner, map[string]any{"name": "Soon private", "is_public": true})

	// Hold the history, so that the request stops at its first read of it. The history is a
	// view of the events, which the write below records into: only the view is held (a
	// change of its options locks it alone, where LOCK TABLE would lock the events too).
	hold, err := e.pool.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = hold.Rollback(ctx) })
	_, err = hold.Exec(ctx, "ALTER VIEW bot_status_events SET (security_barrier = false)")
	require.NoError(t, err)

	answered := make(chan *response, 1)
	go func() { answered <- e.get(viewer, botPath(bot.Id, "/status-events")) }()
	waitUntil(t, "the request reads the history", func() bool {
		var waiting bool
		require.NoError(t, e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE relation = 'bot_status_events'::regclass AND NOT granted)`).Scan(&waiting))
		return waiting
	})
	_, err = e.pool.Exec(ctx, "UPDATE bots SET is_public = false WHERE id = $1", bot.Id)
	require.NoError(t, err)
	require.NoError(t, hold.Rollback(ctx))

	select {
	case res := <-answered:
		res.problem(t, http.StatusNotFound)
	case <-time.After(15 * time.Second):
		t.Fatal("the request did not finish")
	}
}
