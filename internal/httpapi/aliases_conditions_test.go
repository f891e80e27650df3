package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// movedAlias creates the alias at path at version 1 and moves it to version 2, returning its
// ETag before the move and its current one.
func (e *env) movedAlias(u user, path string) (stale, current string) {
	e.t.Helper()
	res := e.put(u, path, map[string]any{"version": 1}, nil)
	require.Equal(e.t, http.StatusCreated, res.code, string(res.body))
	stale = res.header.Get("ETag")
	res = e.put(u, path, map[string]any{"version": 2}, nil)
	require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	return stale, res.header.Get("ETag")
}

// TestAliasPreconditionsComeFirst checks that an alias write evaluates If-Match and
// If-None-Match before its body's version (RFC 9110 §13.2.1), and only on a bot the caller
// may change.
func TestAliasPreconditionsComeFirst(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
	path := aliasPath(bot, "production")
	stale, current := e.movedAlias(u, path)
	res := e.put(u, botPath(bot.Id), map[string]any{"model": "gpt-4o"}, nil)
	require.Equal(t, http.StatusOK, res.code, string(res.body))
	v, _ := e.version(u, bot, 3)
	require.Equal(t, api.BotStatusTraining, v.Status)

	const training, missing = 3, 77
	for _, c := range []struct {
		name    string
		alias   string
		header  map[string]string
		version int
		etag    string // the 412's ETag
	}{
		{"StaleIfMatchAndAVersionInTraining", "production", map[string]string{"If-Match": stale}, training, current},
		{"StaleIfMatchAndAMissingVersion", "production", map[string]string{"If-Match": stale}, missing, current},
		{"IfNoneMatchOnAnAliasThatExistsAndAVersionInTraining", "production", map[string]string{"If-None-Match": "*"}, training, current},
		{"IfNoneMatchOnAnAliasThatExistsAndAMissingVersion", "production", map[string]string{"If-None-Match": "*"}, missing, current},
		{"IfMatchOnAMissingAliasAndAVersionInTraining", "staging", map[string]string{"If-Match": "*"}, training, ""},
		{"IfMatchOnAMissingAliasAndAMissingVersion", "staging", map[string]string{"If-Match": current}, missing, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := e.put(u, aliasPath(bot, c.alias), map[string]any{"version": c.version}, c.header)
			p := res.problem(t, http.StatusPreconditionFailed)
			require.Equal(t, "/problems/precondition-failed", p.Type)
			require.Equal(t, c.etag, res.header.Get("ETag"))
		})
	}

	t.Run("TheVersionIsCheckedWhenThePreconditionsHold", func(t *testing.T) {
		for _, header := range []map[string]string{nil, {"If-Match": current}} {
			p := e.put(u, path, map[string]any{"version": training}, header).problem(t, http.StatusConflict)
			require.Equal(t, "/problems/version-not-ready", p.Type)
			require.Equal(t, "version 3 of the bot is not active (it is training); only an active version can be aliased", p.Detail)
			e.put(u, path, map[string]any{"version": missing}, header).problem(t, http.StatusNotFound)
		}
		p := e.put(u, aliasPath(bot, "staging"), map[string]any{"version": training}, map[string]string{"If-None-Match": "*"}).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/version-not-ready", p.Type)
	})

	t.Run("ABotTheCallerMayNotSeeIsNotFoundWhateverTheConditions", func(t *testing.T) {
		stranger := newUser(t)
		for _, header := range []map[string]string{{"If-Match": stale}, {"If-None-Match": "*"}} {
			res := e.put(stranger, path, map[string]any{"version": training}, header)
			res.problem(t, http.StatusNotFound)
			require.Empty(t, res.header.Get("ETag"))
		}
	})
}

// TestAliasDeletePreconditionFailedSpeaksOfIfMatch checks that the 412 of an alias delete
// names only the header a delete takes.
func TestAliasDeletePreconditionFailedSpeaksOfIfMatch(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	bot := e.twoActiveVersions(u, map[string]any{"name": "Support"})
	path := aliasPath(bot, "production")
	stale, _ := e.movedAlias(u, path)

	res := e.delete(u, path, map[string]string{"If-Match": stale})
	p := res.problem(t, http.StatusPreconditionFailed)
	require.Contains(t, p.Detail, "If-Match")
	require.NotContains(t, p.Detail, "If-None-Match")
}
