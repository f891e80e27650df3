package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// Who may do what to which bot: the owner does everything, another user only reads and copies
// a public bot, and a bot nobody may see (another user's private bot, a deleted bot, an id
// that does not exist) is a 404 for every verb, with the one exception of its owner restoring
// a deleted bot.
func TestAuthzMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, s := range authzSubjects() {
		for _, ep := range authzEndpoints() {
			want, ok := s.expect[ep.gerund]
			require.True(t, ok, "no expectation for %s on %s", ep.gerund, s.name)
			t.Run(ep.gerund+s.name+authzOutcome(want), func(t *testing.T) {
				t.Parallel()
				e := e.authzFor(t)
				caller, stranger := newUser(t), newUser(t)
				id := s.make(e, caller, stranger)
				before := authzRows(e, caller, stranger)

				res := ep.call(e, caller, id)
				if want < 300 {
					require.Equal(t, want, res.code, string(res.body))
					if !ep.copies {
						require.Equal(t, id, decoded[struct{ ID uuid.UUID }](t, res).ID, "the answer is about another bot")
					}
					ep.succeeded(t, e, caller, id, res)
					return
				}
				p := res.problem(t, want)
				require.Equal(t, authzProblemType[want], p.Type)
				require.Equal(t, before, authzRows(e, caller, stranger), "a refused request changed a bot")
			})
		}
	}
}

// A 404 for a bot that exists but may not be seen must be indistinguishable from the 404 for
// an id that never existed: same body (apart from the request's own path and id) and same
// headers, for every verb.
func TestAuthzNotFoundIsTheSameForHiddenAndMissingBots(t *testing.T) {
	t.Parallel()
	e := setup(t)
	hidden := []authzSubject{
		authzOthersPrivateBot, authzOwnDeletedBot, authzOthersDeletedPrivateBot,
		authzOthersDeletedPublicBot,
	}
	for _, ep := range authzEndpoints() {
		t.Run(ep.gerund+"AnInvisibleBotLooksExactlyLikeAMissingOne", func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			caller, stranger := newUser(t), newUser(t)
			missing := authzNotFoundShape(t, ep.call(e, caller, uuid.New()))
			compared := 0
			for _, s := range hidden {
				if s.expect[ep.gerund] != http.StatusNotFound {
					continue // restoring one's own deleted bot succeeds
				}
				id := s.make(e, caller, stranger)
				got := authzNotFoundShape(t, ep.call(e, caller, id))
				require.Equal(t, missing, got, "the 404 for %s differs from the one for a missing id", s.name)
				compared++
			}
			require.GreaterOrEqual(t, compared, 3)
		})
	}
}

// If-Match is evaluated only on a bot the caller may change: on a bot the caller cannot see,
// a matching or a stale tag alike must answer 404, or a 412 would confirm that the bot exists
// (and a match would even reveal its version).
func TestAuthzPreconditionsNeverRevealABot(t *testing.T) {
	t.Parallel()
	e := setup(t)
	subjects := []authzSubject{
		authzOthersPrivateBot, authzOwnDeletedBot, authzOthersDeletedPrivateBot,
		authzOthersDeletedPublicBot, authzMissingBot,
		// A bot the caller sees but may not change: 403 whatever the tag says.
		authzOthersPublicBot,
	}
	tags := []struct {
		name string
		tag  func(version int64) string
	}{
		{"ItsCurrentETag", func(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }},
		{"TheFirstETag", func(int64) string { return `"1"` }},
		{"AStaleETag", func(int64) string { return `"999"` }},
		{"AnyETag", func(int64) string { return `*` }},
		{"AWeakETag", func(int64) string { return `W/"1"` }},
		{"SeveralETags", func(v int64) string { return `"999", "` + strconv.FormatInt(v, 10) + `"` }},
	}
	methods := []struct {
		gerund string
		call   func(e *env, caller user, id uuid.UUID, ifMatch string) *response
	}{
		{"Updating", func(e *env, caller user, id uuid.UUID, ifMatch string) *response {
			return e.put(caller, botPath(id), map[string]any{"description": "Taken over"}, map[string]string{"If-Match": ifMatch})
		}},
		{"Deleting", func(e *env, caller user, id uuid.UUID, ifMatch string) *response {
			return e.delete(caller, botPath(id), map[string]string{"If-Match": ifMatch})
		}},
	}
	for _, m := range methods {
		for _, s := range subjects {
			for _, tg := range tags {
				want := http.StatusNotFound
				if s.name == authzOthersPublicBot.name {
					want = http.StatusForbidden
				}
				t.Run(m.gerund+s.name+"With"+tg.name+authzOutcome(want), func(t *testing.T) {
					t.Parallel()
					e := e.authzFor(t)
					caller, stranger := newUser(t), newUser(t)
					id := s.make(e, caller, stranger)
					version := int64(1)
					if row, ok := authzLoad(e, id); ok {
						version = row.Version
					}
					before := authzRows(e, caller, stranger)

					p := m.call(e, caller, id, tg.tag(version)).problem(t, want)
					require.Equal(t, authzProblemType[want], p.Type)
					require.Equal(t, before, authzRows(e, caller, stranger), "a refused write changed a bot")
				})
			}
		}
	}
}

// Every write another user may attempt leaves the owner's bot exactly as it was: same
// fields, same version (so same ETag), same status, still (un)deleted.
func TestAuthzWritesByOthersChangeNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, s := range []struct {
		name            string
		public, deleted bool
	}{
		{"PrivateBot", false, false},
		{"PublicBot", true, false},
		{"DeletedPrivateBot", false, true},
		{"DeletedPublicBot", true, true},
	} {
		t.Run("AnotherUserCannotChangeAnOwners"+s.name, func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			owner, other := newUser(t), newUser(t)
			id := authzBot(e, owner, s.public, s.deleted)
			row := authzLoaded(t, e, id)
			etag := `"` + strconv.FormatInt(row.Version, 10) + `"`
			var seen api.BotResponse
			if !s.deleted {
				res := e.get(owner, botPath(id))
				require.Equal(t, http.StatusOK, res.code, string(res.body))
				require.Equal(t, etag, res.header.Get("ETag"))
				res.decode(t, &seen)
			}
			before := authzRows(e, owner, other)

			attempts := []*response{
				e.put(other, botPath(id), map[string]any{"name": "Hijacked", "is_public": !s.public}, nil),
				e.put(other, botPath(id), map[string]any{"system_prompt": "Obey me."}, map[string]string{"If-Match": etag}),
				e.put(other, botPath(id), map[string]any{"description": nil}, map[string]string{"If-Match": "*"}),
				e.delete(other, botPath(id, "?confirm=true"), nil),
				e.delete(other, botPath(id), map[string]string{"If-Match": etag}),
				e.delete(other, botPath(id), map[string]string{"If-Match": "*"}),
				e.post(other, botPath(id, "/restore"), nil),
				e.post(other, botPath(id, "/train"), nil),
			}
			for i, res := range attempts {
				require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, res.code,
					"attempt %d answered %d %s", i, res.code, res.body)
			}

			require.Equal(t, before, authzRows(e, owner, other), "another user's writes changed the bot")
			after := authzLoaded(t, e, id)
			require.Equal(t, row, after)
			require.Equal(t, "active", after.Status)
			require.Equal(t, s.deleted, after.Deleted)
			if s.deleted {
				e.get(owner, botPath(id)).problem(t, http.StatusNotFound)
				return
			}
			res := e.get(owner, botPath(id))
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			require.Equal(t, etag, res.header.Get("ETag"))
			now := decoded[api.BotResponse](t, res)
			require.Equal(t, seen, now)
		})
	}
}

// authzSubject is a bot in one relation to the caller, with what each endpoint answers.
type authzSubject struct {
	name string
	// The bot is the caller's own or another user's, public or private, deleted or live;
	// a missing one is an id no bot has.
	own, public, deleted, missing bool
	expect                        map[string]int // status by endpoint gerund
}

// make creates the bot for caller (stranger stands for any other user) and returns its id.
func (s authzSubject) make(e *env, caller, stranger user) uuid.UUID {
	if s.missing {
		return uuid.New()
	}
	owner := stranger
	if s.own {
		owner = caller
	}
	return authzBot(e, owner, s.public, s.deleted)
}

var (
	authzOwnPrivateBot = authzSubject{name: "OwnPrivateBot", own: true, expect: map[string]int{
		"Getting": 200, "Updating": 200, "Deleting": 200, "Restoring": 409, "Duplicating": 201, "Training": 202,
	}}
	authzOthersPrivateBot = authzSubject{name: "AnotherUsersPrivateBot", expect: authzAll(404)}
	authzOthersPublicBot  = authzSubject{name: "AnotherUsersPublicBot", public: true, expect: map[string]int{
		"Getting": 200, "Updating": 403, "Deleting": 403, "Restoring": 403, "Duplicating": 201, "Training": 403,
	}}
	authzOwnDeletedBot = authzSubject{name: "OwnDeletedBot", own: true, deleted: true, expect: map[string]int{
		"Getting": 404, "Updating": 404, "Deleting": 404, "Restoring": 200, "Duplicating": 404, "Training": 404,
	}}
	authzOthersDeletedPrivateBot = authzSubject{name: "AnotherUsersDeletedPrivateBot", deleted: true, expect: authzAll(404)}
	authzOthersDeletedPublicBot  = authzSubject{name: "AnotherUsersDeletedPublicBot", public: true, deleted: true, expect: authzAll(404)}
	authzMissingBot              = authzSubject{name: "AMissingBot", missing: true, expect: authzAll(404)}
)

func authzSubjects() []authzSubject {
	return []authzSubject{
		authzOwnPrivateBot, authzOthersPrivateBot, authzOthersPublicBot, authzOwnDeletedBot,
		authzOthersDeletedPrivateBot, authzOthersDeletedPublicBot, authzMissingBot,
	}
}

func authzAll(status int) map[string]int {
	out := map[string]int{}
	for _, ep := range authzEndpoints() {
		out[ep.gerund] = status
	}
	return out
}

// authzEndpoint is one operation on a bot, and what its success must look like.
type authzEndpoint struct {
	gerund string
	// method, suffix and body make the request: suffix follows the bot's path.
	method, suffix string
	body           any
	// copies is true of an operation whose success answers another bot than the one called;
	// every other success answers the bot called.
	copies    bool
	succeeded func(t *testing.T, e *env, caller user, id uuid.UUID, res *response)
}

// request is the operation on bot id, sent without a token.
func (ep authzEndpoint) request(id uuid.UUID) request {
	return request{method: ep.method, path: botPath(id, ep.suffix), body: ep.body}
}

// call sends the operation on bot id as caller.
func (ep authzEndpoint) call(e *env, caller user, id uuid.UUID) *response {
	e.t.Helper()
	r := ep.request(id)
	r.as = &caller
	return e.do(r)
}

func authzEndpoints() []authzEndpoint {
	return []authzEndpoint{
		{
			gerund: "Getting",
			method: http.MethodGet,
			succeeded: func(t *testing.T, e *env, _ user, id uuid.UUID, res *response) {
				row := authzLoaded(t, e, id)
				require.Equal(t, `"`+strconv.FormatInt(row.Version, 10)+`"`, res.header.Get("ETag"))
			},
		},
		{
			gerund: "Updating",
			method: http.MethodPut,
			body:   map[string]any{"description": "Changed by its owner ✓"},
			succeeded: func(t *testing.T, e *env, _ user, id uuid.UUID, res *response) {
				row := authzLoaded(t, e, id)
				require.Equal(t, "Changed by its owner ✓", *row.Description)
				require.Equal(t, int64(2), row.Version)
			},
		},
		{
			gerund: "Deleting",
			method: http.MethodDelete,
			suffix: "?confirm=true",
			succeeded: func(t *testing.T, e *env, _ user, id uuid.UUID, res *response) {
				del := decoded[api.BotDeleted](t, res)
				require.True(t, bool(del.Deleted))
				row := authzLoaded(t, e, id)
				require.True(t, row.Deleted)
			},
		},
		{
			gerund: "Restoring",
			method: http.MethodPost,
			suffix: "/restore",
			succeeded: func(t *testing.T, e *env, caller user, id uuid.UUID, res *response) {
				require.Equal(t, caller.id, decoded[api.BotResponse](t, res).OwnerId)
				row := authzLoaded(t, e, id)
				require.False(t, row.Deleted)
				require.Equal(t, http.StatusOK, e.get(caller, botPath(id)).code)
			},
		},
		{
			gerund: "Duplicating",
			method: http.MethodPost,
			suffix: "/duplicate",
			copies: true,
			succeeded: func(t *testing.T, e *env, caller user, id uuid.UUID, res *response) {
				bot := decoded[api.BotResponse](t, res)
				src := authzLoaded(t, e, id)
				require.NotEqual(t, id, bot.Id)
				require.Equal(t, caller.id, bot.OwnerId, "the copy belongs to the caller")
				require.False(t, bot.IsPublic, "the copy is private")
				require.Equal(t, api.BotStatus("training"), bot.Status)
				require.Equal(t, src.Name+" (copy)", bot.Name)
				require.Equal(t, botPath(bot.Id), res.header.Get("Location"))
				cp := authzLoaded(t, e, bot.Id)
				require.Equal(t, caller.id, cp.OwnerID)
				require.Equal(t, "active", src.Status, "duplicating changed the source")
				require.Equal(t, int64(1), src.Version, "duplicating changed the source")
			},
		},
		{
			gerund: "Training",
			method: http.MethodPost,
			suffix: "/train",
			succeeded: func(t *testing.T, e *env, _ user, id uuid.UUID, res *response) {
				bot := decoded[api.BotResponse](t, res)
				require.Equal(t, api.BotStatus("training"), bot.Status)
				row := authzLoaded(t, e, id)
				require.Equal(t, "training", row.Status)
			},
		},
	}
}

var authzProblemType = map[int]string{
	http.StatusForbidden: "/problems/forbidden",
	http.StatusNotFound:  "/problems/not-found",
	http.StatusConflict:  "/problems/conflict",
}

func authzOutcome(status int) string {
	switch status {
	case http.StatusForbidden:
		return "IsForbidden"
	case http.StatusNotFound:
		return "IsNotFound"
	case http.StatusConflict:
		return "IsAConflict"
	}
	return "Succeeds"
}

// authzNotFoundShape is what a 404 tells the client, without what names the request itself
// (its path in instance, its id in request_id and X-Request-Id).
func authzNotFoundShape(t *testing.T, res *response) string {
	t.Helper()
	p := res.problem(t, http.StatusNotFound)
	require.Equal(t, "/problems/not-found", p.Type)
	var body map[string]any
	res.decode(t, &body)
	delete(body, "instance")
	delete(body, "request_id")
	header := res.header.Clone()
	header.Del("X-Request-Id")
	out, err := json.Marshal(map[string]any{"body": body, "header": header})
	require.NoError(t, err)
	return string(out)
}
