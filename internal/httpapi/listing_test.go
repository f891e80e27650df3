package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// listPage fetches one page of the caller's list with the given query.
func (e *env) listPage(u user, q url.Values) api.BotList {
	e.t.Helper()
	res := e.get(u, "/api/v1/bots?"+q.Encode())
	require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	var page api.BotList
	res.decode(e.t, &page)
	return page
}

// walk collects every page of a list in order.
func (e *env) walk(u user, q url.Values, limit int) []api.BotResponse {
	e.t.Helper()
	var all []api.BotResponse
	for skip := 0; ; skip += limit {
		q.Set("skip", fmt.Sprint(skip))
		q.Set("limit", fmt.Sprint(limit))
		page := e.listPage(u, q)
		require.LessOrEqual(e.t, len(page.Items), limit)
		all = append(all, page.Items...)
		if skip+limit >= int(page.Total) {
			require.Equal(e.t, int(page.Total), len(all))
			return all
		}
		require.Len(e.t, page.Items, limit, "a page before the last is full")
	}
}

func TestListPagesCoverEveryBotOnce(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	e.createBot(newUser(t), map[string]any{"name": "Someone else's", "is_public": true})
	want := map[uuid.UUID]bool{}
	for i := range 25 {
		// Mixed case, so that the name order is not the byte order.
		name := fmt.Sprintf("%c bot %02d", "aBcDeFgHiJ"[i%10], i)
		want[e.createBot(u, map[string]any{"name": name}).Id] = true
	}
	// Ties: many bots share their timestamps, so only the id orders them.
	_, err := e.pool.Exec(context.Background(), `UPDATE bots SET created_at = '2026-01-01T00:00:00Z', updated_at = '2026-01-01T00:00:00Z'
		WHERE owner_id = $1 AND id IN (SELECT id FROM bots WHERE owner_id = $1 ORDER BY id LIMIT 15)`, u.id)
	require.NoError(t, err)

	less := map[string]func(a, b api.BotResponse) bool{
		"created_at":  func(a, b api.BotResponse) bool { return tieBreak(a.CreatedAt.Compare(b.CreatedAt), a.Id, b.Id) < 0 },
		"-created_at": func(a, b api.BotResponse) bool { return tieBreak(a.CreatedAt.Compare(b.CreatedAt), a.Id, b.Id) > 0 },
		"updated_at":  func(a, b api.BotResponse) bool { return tieBreak(a.UpdatedAt.Compare(b.UpdatedAt), a.Id, b.Id) < 0 },
		"-updated_at": func(a, b api.BotResponse) bool { return tieBreak(a.UpdatedAt.Compare(b.UpdatedAt), a.Id, b.Id) > 0 },
		"name":        func(a, b api.BotResponse) bool { return strings.ToLower(a.Name) < strings.ToLower(b.Name) },
		"-name":       func(a, b api.BotResponse) bool { return strings.ToLower(a.Name) > strings.ToLower(b.Name) },
	}
	for sort, before := range less {
		for _, limit := range []int{1, 3, 7, 100} {
			t.Run(fmt.Sprintf("%s/limit%d", sort, limit), func(t *testing.T) {
				t.Parallel()
				all := e.walk(u, url.Values{"sort": {sort}}, limit)
				seen := map[uuid.UUID]bool{}
				for i, b := range all {
					require.False(t, seen[b.Id], "bot %s repeated", b.Id)
					seen[b.Id] = true
					if i > 0 {
						require.True(t, before(all[i-1], b), "%s: %q comes after %q", sort, all[i-1].Name, b.Name)
					}
				}
				require.Equal(t, want, seen)
			})
		}
	}
}

// tieBreak orders by cmp, then by id as the database orders UUIDs (bytewise).
func tieBreak(cmp int, a, b uuid.UUID) int {
	if cmp != 0 {
		return cmp
	}
	return strings.Compare(a.String(), b.String())
}

func TestListDefaultsAndShape(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	var ids []uuid.UUID
	for i := range 22 {
		ids = append(ids, e.createBot(u, map[string]any{"name": fmt.Sprintf("Bot %d", i)}).Id)
	}
	page := e.listPage(u, url.Values{})
	require.Equal(t, int32(0), page.Skip)
	require.Equal(t, int32(20), page.Limit)
	require.Equal(t, int64(22), page.Total)
	require.Len(t, page.Items, 20)
	require.Equal(t, ids[21], page.Items[0].Id, "newest first by default")

	beyond := e.listPage(u, url.Values{"skip": {"50"}})
	require.Empty(t, beyond.Items)
	require.Equal(t, int64(22), beyond.Total)
	require.NotNil(t, beyond.Items, "items is an empty array, not null")
}

func TestListFiltersAndSearch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	mk := func(name, model string, public bool, description string) api.BotResponse {
		body := map[string]any{"name": name, "model": model, "is_public": public}
		if description != "" {
			body["description"] = description
		}
		return e.createBot(u, body)
	}
	mk("Support bot", "gpt-4o", false, "")
	sales := mk("Sales", "claude-3-haiku", true, "Helps with SUPPORT tickets too")
	mk("100% sure", "gpt-4o", false, "")
	mk("100 percent", "gpt-4o", false, "")
	under := mk("a_b", "claude-3-haiku", false, "")
	mk("axb", "gpt-4o", false, "")
	mk(`back\slash`, "gpt-4o", false, "")
	e.activate(sales.Id)
	e.activate(under.Id)

	other := newUser(t)
	e.createBot(other, map[string]any{"name": "Support elsewhere", "is_public": true})
	gone := mk("Support gone", "gpt-4o", false, "")
	require.Equal(t, http.StatusOK, e.delete(u, botPath(gone.Id), map[string]string{"If-Match": "*"}).code)

	names := func(q url.Values) []string {
		page := e.listPage(u, q)
		out := make([]string, len(page.Items))
		for i, b := range page.Items {
			out[i] = b.Name
		}
		require.Equal(t, int64(len(out)), page.Total)
		slices.Sort(out)
		return out
	}
	cases := map[string]struct {
		q    url.Values
		want []string
	}{
		"SearchIgnoresCase":          {url.Values{"q": {"SUPP"}}, []string{"Sales", "Support bot"}},
		"SearchLooksInDescriptions":  {url.Values{"q": {"tickets"}}, []string{"Sales"}},
		"PercentIsLiteral":           {url.Values{"q": {"%"}}, []string{"100% sure"}},
		"UnderscoreIsLiteral":        {url.Values{"q": {"_"}}, []string{"a_b"}},
		"UnderscoreInTheMiddle":      {url.Values{"q": {"a_b"}}, []string{"a_b"}},
		"BackslashIsLiteral":         {url.Values{"q": {`\`}}, []string{`back\slash`}},
		"ByStatus":                   {url.Values{"status": {"active"}}, []string{"Sales", "a_b"}},
		"ByModel":                    {url.Values{"model": {"claude-3-haiku"}}, []string{"Sales", "a_b"}},
		"PublicOnly":                 {url.Values{"is_public": {"true"}}, []string{"Sales"}},
		"PrivateOnly":                {url.Values{"is_public": {"false"}, "q": {"100"}}, []string{"100 percent", "100% sure"}},
		"FiltersCombine":             {url.Values{"status": {"active"}, "model": {"claude-3-haiku"}, "q": {"sal"}}, []string{"Sales"}},
		"NothingMatches":             {url.Values{"q": {"zzz"}}, []string{}},
		"OthersAndDeletedAreNotMine": {url.Values{"q": {"support"}, "is_public": {"true"}}, []string{"Sales"}},
	}
	// The group returns once its parallel cases are done, before the restore below.
	t.Run("Cases", func(t *testing.T) {
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				require.Equal(t, c.want, names(c.q))
			})
		}
	})

	t.Run("ARestoredBotIsListedAgain", func(t *testing.T) {
		require.Equal(t, http.StatusOK, e.post(u, botPath(gone.Id, "/restore"), nil).code)
		require.Contains(t, names(url.Values{"q": {"gone"}}), "Support gone")
	})
}

// sendRaw sends a request from any goroutine; the answer is checked after the fact.
func sendRaw(e *env, u user, method, path, body string) (int, error) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+u.token)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec.Code, responseError(req, &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()})
}

func TestConcurrentCreatesWithOneNameLetExactlyOneWin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for name, spellings := range map[string][]string{
		"SameName":        {"Race"},
		"NamesByCaseOnly": {"Race", "RACE", "race", "rAcE", "RaCe"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			const n = 30
			codes := make([]int, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					body := fmt.Sprintf(`{"name":%q,"model":"gpt-4o"}`, spellings[i%len(spellings)])
					codes[i], errs[i] = sendRaw(e, u, http.MethodPost, "/api/v1/bots", body)
				})
			}
			wg.Wait()
			created := 0
			for i, code := range codes {
				require.NoError(t, errs[i])
				require.Contains(t, []int{http.StatusCreated, http.StatusConflict}, code)
				if code == http.StatusCreated {
					created++
				}
			}
			require.Equal(t, 1, created)
			require.Equal(t, 1, e.countRows(u))
		})
	}
	t.Run("ConcurrentRenamesToOneName", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		var ids []uuid.UUID
		for i := range 10 {
			ids = append(ids, e.createBot(u, map[string]any{"name": fmt.Sprintf("Bot %d", i)}).Id)
		}
		codes := make([]int, len(ids))
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() { codes[i], errs[i] = sendRaw(e, u, http.MethodPut, botPath(id), `{"name":"Winner"}`) })
		}
		wg.Wait()
		ok := 0
		for i, code := range codes {
			require.NoError(t, errs[i])
			require.Contains(t, []int{http.StatusOK, http.StatusConflict}, code)
			if code == http.StatusOK {
				ok++
			}
		}
		require.Equal(t, 1, ok)
	})
}
