package httpapi_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/training"
)

// A bot read with If-None-Match is answered 304 when the client's copy is current, and with
// If-Match 412 when it is not (RFC 9110 §13.1).
func TestConditionalGet(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cases := []struct {
		name    string
		header  func(current, stale string) map[string]string
		want    int
		because string
	}{
		{"IfNoneMatchWithTheCurrentETagIsNotModified", func(cur, _ string) map[string]string { return map[string]string{"If-None-Match": cur} }, http.StatusNotModified, ""},
		{"IfNoneMatchComparesWeakly", func(cur, _ string) map[string]string { return map[string]string{"If-None-Match": "W/" + cur} }, http.StatusNotModified, ""},
		{"IfNoneMatchWithAListHoldingTheCurrentETagIsNotModified", func(cur, stale string) map[string]string {
			return map[string]string{"If-None-Match": stale + `, W/"999", ` + cur}
		}, http.StatusNotModified, ""},
		{"IfNoneMatchStarIsNotModified", func(string, string) map[string]string { return map[string]string{"If-None-Match": "*"} }, http.StatusNotModified, ""},
		{"IfNoneMatchWithAStaleETagAnswersTheBot", func(_, stale string) map[string]string { return map[string]string{"If-None-Match": stale} }, http.StatusOK, ""},
		{"IfMatchWithTheCurrentETagAnswersTheBot", func(cur, _ string) map[string]string { return map[string]string{"If-Match": cur} }, http.StatusOK, ""},
		{"IfMatchWithAStaleETagFails", func(_, stale string) map[string]string { return map[string]string{"If-Match": stale} }, http.StatusPreconditionFailed, "If-Match"},
		{"IfMatchComparesStrongly", func(cur, _ string) map[string]string { return map[string]string{"If-Match": "W/" + cur} }, http.StatusPreconditionFailed, "If-Match"},
		{"IfMatchIsEvaluatedBeforeIfNoneMatch", func(cur, stale string) map[string]string {
			return map[string]string{"If-Match": stale, "If-None-Match": cur}
		}, http.StatusPreconditionFailed, "If-Match"},
	}
	for _, c := range cases {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			e.run(t, c.name+"/"+method, func(t *testing.T, e *env, u user) {
				bot, stale, current := condChangedBot(e, u)

				res := e.do(request{method: method, path: botPath(bot), as: &u, header: c.header(current, stale)})
				require.Equal(t, c.want, res.code, string(res.body))
				require.Equal(t, current, res.header.Get("ETag"))
				switch c.want {
				case http.StatusNotModified:
					require.Empty(t, res.body)
					require.Equal(t, "no-store", res.header.Get("Cache-Control"))
				case http.StatusPreconditionFailed:
					if method == http.MethodGet {
						p := res.problem(t, http.StatusPreconditionFailed)
						require.Equal(t, "/problems/precondition-failed", p.Type)
						require.Contains(t, p.Detail, c.because)
					}
				}
			})
		}
	}

	t.Run("AnotherUsersPublicBotIsNotModifiedEither", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		owner, reader := newUser(t), newUser(t)
		id := authzBot(e, owner, true, false)
		current := e.get(reader, botPath(id)).header.Get("ETag")
		res := e.do(request{method: http.MethodGet, path: botPath(id), as: &reader, header: map[string]string{"If-None-Match": current}})
		require.Equal(t, http.StatusNotModified, res.code)
	})
	t.Run("APreconditionNeverRevealsABotTheCallerMayNotSee", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		owner, stranger := newUser(t), newUser(t)
		for _, id := range []uuid.UUID{authzBot(e, owner, false, false), authzBot(e, owner, true, true), uuid.New()} {
			for _, h := range []map[string]string{{"If-None-Match": "*"}, {"If-Match": `"999"`}, {"If-Match": `"1"`}, {"If-None-Match": `"2"`}} {
				res := e.do(request{method: http.MethodGet, path: botPath(id), as: &stranger, header: h})
				require.Equal(t, "/problems/not-found", res.problem(t, http.StatusNotFound).Type, "%v", h)
				require.Empty(t, res.header.Get("ETag"))
			}
		}
	})
}

// condChangedBot creates a bot and changes it once: the ETag before the change is stale.
func condChangedBot(e *env, u user) (id uuid.UUID, stale, current string) {
	e.t.Helper()
	bot, created := e.create(u, map[string]any{"name": "Support", "model": "gpt-4o-mini"})
	changed := e.put(u, botPath(bot.Id), map[string]any{"temperature": 0.9}, nil)
	require.Equal(e.t, http.StatusOK, changed.code, string(changed.body))
	stale, current = created.header.Get("ETag"), changed.header.Get("ETag")
	require.NotEmpty(e.t, stale)
	require.NotEqual(e.t, stale, current)
	return bot.Id, stale, current
}

// Writes honour If-None-Match as well as If-Match, and every 412 gives the bot's current
// ETag, so that a client can retry without reading the bot again.
func TestConditionalWrites(t *testing.T) {
	t.Parallel()
	e := setup(t)
	writes := map[string]func(e *env, u user, id uuid.UUID, h map[string]string) *response{
		"Put": func(e *env, u user, id uuid.UUID, h map[string]string) *response {
			return e.put(u, botPath(id), map[string]any{"name": "Renamed"}, h)
		},
		"Delete": func(e *env, u user, id uuid.UUID, h map[string]string) *response {
			return e.delete(u, botPath(id, "?confirm=true"), h)
		},
	}
	cases := []struct {
		name    string
		header  func(current, stale string) map[string]string
		want    int
		because string
	}{
		{"IfNoneMatchStarRefusesAnExistingBot", func(string, string) map[string]string { return map[string]string{"If-None-Match": "*"} }, http.StatusPreconditionFailed, "If-None-Match: *"},
		{"IfNoneMatchWithTheCurrentETagFails", func(cur, _ string) map[string]string { return map[string]string{"If-None-Match": cur} }, http.StatusPreconditionFailed, "If-None-Match"},
		{"IfNoneMatchComparesWeakly", func(cur, _ string) map[string]string { return map[string]string{"If-None-Match": `"999", W/` + cur} }, http.StatusPreconditionFailed, "If-None-Match"},
		{"IfNoneMatchWithAStaleETagWrites", func(_, stale string) map[string]string { return map[string]string{"If-None-Match": stale} }, http.StatusOK, ""},
		{"StaleIfMatchFailsWithTheCurrentETag", func(_, stale string) map[string]string { return map[string]string{"If-Match": stale} }, http.StatusPreconditionFailed, "If-Match"},
		{"BothMatchingWrites", func(cur, stale string) map[string]string {
			return map[string]string{"If-Match": cur, "If-None-Match": stale}
		}, http.StatusOK, ""},
		{"IfMatchStarAndIfNoneMatchStarFail", func(string, string) map[string]string {
			return map[string]string{"If-Match": "*", "If-None-Match": "*"}
		}, http.StatusPreconditionFailed, "If-None-Match: *"},
	}
	for name, write := range writes {
		for _, c := range cases {
			e.run(t, name+"/"+c.name, func(t *testing.T, e *env, u user) {
				bot, stale, current := condChangedBot(e, u)
				before := lifeLoad(t, e, bot)

				res := write(e, u, bot, c.header(current, stale))
				if c.want == http.StatusOK {
					require.Equal(t, http.StatusOK, res.code, string(res.body))
					require.Equal(t, before.version+1, lifeLoad(t, e, bot).version)
					return
				}
				p := res.problem(t, http.StatusPreconditionFailed)
				require.Equal(t, "/problems/precondition-failed", p.Type)
				require.Contains(t, p.Detail, c.because)
				require.Equal(t, current, res.header.Get("ETag"), "a 412 gives the current ETag")
				require.Equal(t, before, lifeLoad(t, e, bot), "a failed precondition changed the bot")
			})
		}
	}

	e.run(t, "TheETagOfA412IsEnoughToRetry", func(t *testing.T, e *env, u user) {
		bot, stale, _ := condChangedBot(e, u)
		failed := e.put(u, botPath(bot), map[string]any{"name": "Renamed"}, map[string]string{"If-Match": stale})
		require.Equal(t, http.StatusPreconditionFailed, failed.code)
		retried := e.put(u, botPath(bot), map[string]any{"name": "Renamed"}, map[string]string{"If-Match": failed.header.Get("ETag")})
		require.Equal(t, http.StatusOK, retried.code, string(retried.body))
	})
	t.Run("IfNoneMatchStarNeverRevealsABotTheCallerMayNotChange", func(t *testing.T) {
		t.Parallel()
		e := e.authzFor(t)
		owner, stranger := newUser(t), newUser(t)
		subjects := map[uuid.UUID]int{
			authzBot(e, owner, false, false): http.StatusNotFound,
			authzBot(e, owner, true, true):   http.StatusNotFound,
			uuid.New():                       http.StatusNotFound,
			authzBot(e, owner, true, false):  http.StatusForbidden,
		}
		for id, want := range subjects {
			for name, write := range writes {
				res := write(e, stranger, id, map[string]string{"If-None-Match": "*"})
				res.problem(t, want)
				require.Empty(t, res.header.Get("ETag"), name)
			}
		}
	})
}

// Several lines of If-Match or If-None-Match are one list (RFC 9110 §5.3), for the contract
// and the handlers alike.
func TestConditionalHeaderLinesAreOneList(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// Each request is sent as it is, by a user of its own to a bot of theirs, but for the
	// lines "current" and "stale", which stand for the bot's current ETag and one it had before.
	get := func(header string, lines ...string) request {
		return request{method: http.MethodGet, lines: http.Header{header: lines}}
	}
	put := func(header string, lines ...string) request {
		return request{method: http.MethodPut, body: map[string]any{"name": "Renamed"}, lines: http.Header{header: lines}}
	}
	del := func(header string, lines ...string) request {
		return request{method: http.MethodDelete, lines: http.Header{header: lines}}
	}
	for name, c := range map[string]struct {
		req  request
		want int
	}{
		"GetWithTheCurrentETagOnASecondIfNoneMatchLine": {get("If-None-Match", "stale", "current"), http.StatusNotModified},
		"GetWithStaleETagsOnTwoIfNoneMatchLines":        {get("If-None-Match", "stale", `"999"`), http.StatusOK},
		"GetWithStaleETagsOnTwoIfMatchLines":            {get("If-Match", "stale", `"999"`), http.StatusPreconditionFailed},
		"PutWithTheCurrentETagOnASecondIfMatchLine":     {put("If-Match", "stale", "current"), http.StatusOK},
		"PutWithStaleETagsOnTwoIfMatchLines":            {put("If-Match", "stale", `"999"`), http.StatusPreconditionFailed},
		"PutWithTheCurrentETagOnASecondIfNoneMatchLine": {put("If-None-Match", "stale", "current"), http.StatusPreconditionFailed},
		"DeleteWithTheCurrentETagOnASecondIfMatchLine":  {del("If-Match", `"999"`, "current"), http.StatusOK},
	} {
		e.run(t, name, func(t *testing.T, e *env, u user) {
			bot, stale, current := condChangedBot(e, u)
			req := c.req
			req.path, req.as, req.lines = botPath(bot), &u, http.Header{}
			for header, lines := range c.req.lines {
				for _, line := range lines {
					switch line {
					case "current":
						line = current
					case "stale":
						line = stale
					}
					req.lines.Add(header, line)
				}
			}
			res := e.do(req)
			require.Equal(t, c.want, res.code, string(res.body))
		})
	}
	e.run(t, "TheJoinedListIsValidatedWhole", func(t *testing.T, e *env, u user) {
		bot, _, current := condChangedBot(e, u)
		long := bytes.Repeat([]byte(`"1", `), 150) // 750 characters a line, 1,500 joined
		res := e.do(request{method: http.MethodGet, path: botPath(bot), as: &u, lines: http.Header{"If-None-Match": {string(long) + current, string(long)}}})
		p := res.problem(t, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"header:If-None-Match"}, fieldsOf(p))
	})
}

// Any change to a bot changes its ETag, a status change by training included, so a copy
// read while the bot was training is not current once it is active.
func TestConditionalTrainingChangesTheETag(t *testing.T) {
	t.Parallel()
	e := setupTraining(t, training.CatalogTrainer{}, testTraining)
	u := newUser(t)
	bot, created := e.create(u, map[string]any{"name": "Support", "model": "gpt-4o-mini"})
	e.waitForStatus(u, bot.Id, api.BotStatusActive)

	res := e.do(request{method: http.MethodGet, path: botPath(bot.Id), as: &u, header: map[string]string{"If-None-Match": created.header.Get("ETag")}})
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	require.NotEqual(t, created.header.Get("ETag"), res.header.Get("ETag"))
	res = e.do(request{method: http.MethodGet, path: botPath(bot.Id), as: &u, header: map[string]string{"If-None-Match": res.header.Get("ETag")}})
	require.Equal(t, http.StatusNotModified, res.code)
}

// Every read that answers If-None-Match reads it by one rule (RFC 9110 §13.1.2): "*", or a
// list of entity tags compared weakly, where a value that is no entity tag names nothing.
func TestConditionalIfNoneMatchIsReadAlikeOnEveryRead(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	// A bot whose version 1 is active and aliased, and whose version 2 trains: nothing changes
	// any of them while the reads run.
	bot := e.createBot(u, map[string]any{"name": "Support"})
	e.activate(bot.Id)
	res := e.put(u, botPath(bot.Id), map[string]any{"temperature": 0.9}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	e.pointAlias(u, bot, "production", 1)

	reads := map[string]string{
		"ABot":             botPath(bot.Id),
		"AnAlias":          botPath(bot.Id, "/aliases/production"),
		"AVersion":         botPath(bot.Id, "/versions/2"),
		"ADiff":            botPath(bot.Id, "/versions/2/diff"),
		"TheRuntimeConfig": botPath(bot.Id, "/config"),
	}
	// Each header is made from the current ETag of what is read.
	cases := map[string]struct {
		header func(current string) string
		want   int
	}{
		"TheCurrentETagIsNotModified":           {func(cur string) string { return cur }, http.StatusNotModified},
		"TheCurrentETagMarkedWeakIsNotModified": {func(cur string) string { return "W/" + cur }, http.StatusNotModified},
		"AListHoldingTheCurrentETagIsNotModified": {func(cur string) string {
			return `"other", W/"999",` + cur
		}, http.StatusNotModified},
		"AListWithEmptyAndMalformedElementsStillMatches": {func(cur string) string {
			return ` , other,,W/ "x" ,  ` + cur + `  `
		}, http.StatusNotModified},
		"AStarIsNotModified":               {func(string) string { return "*" }, http.StatusNotModified},
		"AStarInAListIsNotModified":        {func(string) string { return `"other", *` }, http.StatusNotModified},
		"AnotherETagAnswersInFull":         {func(string) string { return `"other"` }, http.StatusOK},
		"AnEmptyValueAnswersInFull":        {func(string) string { return "" }, http.StatusOK},
		"TheCurrentETagUnquotedIsNoETag":   {func(cur string) string { return cur[1 : len(cur)-1] }, http.StatusOK},
		"ALowercaseWeakPrefixIsNoETag":     {func(cur string) string { return "w/" + cur }, http.StatusOK},
		"ASpaceAfterTheWeakPrefixIsNoETag": {func(cur string) string { return "W/ " + cur }, http.StatusOK},
		"TwoWeakPrefixesAreNoETag":         {func(cur string) string { return "W/W/" + cur }, http.StatusOK},
		"TrailingCharactersAreNoETag":      {func(cur string) string { return cur + "x" }, http.StatusOK},
		"ALeadingZeroIsAnotherETag":        {func(cur string) string { return `"0` + cur[1:] }, http.StatusOK},
		// "*" stands alone (If-None-Match = "*" / #entity-tag): W/* is neither.
		"AWeakStarIsNoStar": {func(string) string { return "W/*" }, http.StatusOK},
	}
	for read, path := range reads {
		t.Run(read, func(t *testing.T) {
			t.Parallel()
			e := e.authzFor(t)
			full := e.get(u, path)
			require.Equal(t, http.StatusOK, full.code, string(full.body))
			current := full.header.Get("ETag")
			require.Regexp(t, `^"[^"]+"$`, current, "a strong ETag")
			for name, c := range cases {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					e := e.authzFor(t)
					sent := c.header(current)
					res := e.do(request{method: http.MethodGet, path: path, as: &u, lines: http.Header{"If-None-Match": {sent}}})
					require.Equal(t, c.want, res.code, "If-None-Match: %s", sent)
					require.Equal(t, current, res.header.Get("ETag"))
					if c.want == http.StatusNotModified {
						require.Empty(t, res.body)
					}
				})
			}
		})
	}
}
