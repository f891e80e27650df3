package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/dbtest"
)

// config reads the runtime configuration of bot as u, with query (such as "?alias=x").
func (e *env) config(u user, bot api.BotResponse, query string) (api.BotConfig, *response) {
	e.t.Helper()
	res := e.get(u, botPath(bot.Id, "/config"+query))
	require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	c := decoded[api.BotConfig](e.t, res)
	return c, res
}

// pointAlias points alias of bot at version, as u.
func (e *env) pointAlias(u user, bot api.BotResponse, alias string, version int) {
	e.t.Helper()
	res := e.put(u, botPath(bot.Id, "/aliases/"+alias), map[string]any{"version": version}, nil)
	require.Contains(e.t, []int{http.StatusOK, http.StatusCreated}, res.code, string(res.body))
}

func TestBotConfig(t *testing.T) {
	t.Parallel()

	t.Run("ByLatestAliasAndNumber", func(t *testing.T) {
		t.Parallel()
		e, u, bot := setupBot(t, map[string]any{"name": "Support", "model": "gpt-4o", "temperature": 0.3, "system_prompt": "Be kind."})
		e.activate(bot.Id)
		res := e.put(u, botPath(bot.Id), map[string]any{"system_prompt": "Be brief."}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))

		// The latest active version, while the latest version trains.
		c, res := e.config(u, bot, "")
		require.Equal(t, bot.Id, c.BotId)
		require.Equal(t, int32(1), c.Version)
		require.True(t, c.Alias.IsNull())
		require.Equal(t, "gpt-4o", c.Model)
		require.Equal(t, 0.3, c.Temperature)
		require.Equal(t, "Be kind.", c.SystemPrompt)
		var prepared map[string]any
		require.NoError(t, json.Unmarshal(c.PreparedConfig, &prepared))
		require.Equal(t, e.preparedConfig(bot.Id, 1), prepared)
		require.Equal(t, `"1"`, res.header.Get("ETag"))
		require.Equal(t, "private, no-cache", res.header.Get("Cache-Control"))

		e.pointAlias(u, bot, "production", 1)
		byAlias, res := e.config(u, bot, "?alias=production")
		require.Equal(t, "production", byAlias.Alias.MustGet())
		require.Equal(t, int32(1), byAlias.Version)
		require.Equal(t, c.PreparedConfig, byAlias.PreparedConfig)
		require.Equal(t, "private, no-cache", res.header.Get("Cache-Control"))

		byNumber, res := e.config(u, bot, "?version=1")
		require.True(t, byNumber.Alias.IsNull())
		require.Equal(t, "private, max-age=31536000, immutable", res.header.Get("Cache-Control"), "a version never changes")

		notModified := e.do(request{method: http.MethodGet, path: botPath(bot.Id, "/config?alias=production"), as: &u,
			header: map[string]string{"If-None-Match": `"1"`}})
		require.Equal(t, http.StatusNotModified, notModified.code)
		require.Equal(t, `"1"`, notModified.header.Get("ETag"))
		require.Empty(t, notModified.body)
	})

	t.Run("WhatCannotBeRead", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		owner, viewer := newUser(t), newUser(t)
		bot := e.createBot(owner, map[string]any{"name": "Support"})
		p := e.get(owner, botPath(bot.Id, "/config")).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/version-not-ready", p.Type)
		require.Contains(t, p.Detail, "no active version yet")

		e.activate(bot.Id)
		res := e.put(owner, botPath(bot.Id), map[string]any{"model": "gpt-4o"}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		p = e.get(owner, botPath(bot.Id, "/config?version=2")).problem(t, http.StatusConflict)
		require.Equal(t, "/problems/version-not-ready", p.Type)
		require.Contains(t, p.Detail, "version 2 of the bot is not active (it is training)")

		e.get(owner, botPath(bot.Id, "/config?version=3")).problem(t, http.StatusNotFound)
		p = e.get(owner, botPath(bot.Id, "/config?alias=staging")).problem(t, http.StatusNotFound)
		require.Contains(t, p.Detail, `no alias named "staging"`)
		e.get(viewer, botPath(bot.Id, "/config")).problem(t, http.StatusNotFound)
		p = e.get(owner, botPath(bot.Id, "/config?alias=production&version=1")).problem(t, http.StatusUnprocessableEntity)
		require.Contains(t, p.Detail, "version")
		e.get(owner, botPath(bot.Id, "/config?alias=Production")).problem(t, http.StatusUnprocessableEntity)
		e.get(owner, botPath(bot.Id, "/config?version=0")).problem(t, http.StatusUnprocessableEntity)
	})

	t.Run("AnyoneMayReadAPublicBot", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		owner, viewer := newUser(t), newUser(t)
		bot := e.createBot(owner, map[string]any{"name": "Support", "is_public": true})
		e.activate(bot.Id)
		c, _ := e.config(viewer, bot, "")
		require.Equal(t, int32(1), c.Version)
	})

	// The replica that made a write answers the next read with it, cache or not.
	t.Run("EveryWriteIsReadAtOnce", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		owner, viewer := newUser(t), newUser(t)
		bot := e.twoActiveVersions(owner, map[string]any{"name": "Support", "temperature": 0.1, "is_public": true})
		e.pointAlias(owner, bot, "production", 1)
		// Reads fill the cache (once the feed listens, which the loop waits for).
		waitUntil(t, "reads are served from memory", func() bool {
			before, _ := e.svc.RuntimeCacheStats()
			e.config(owner, bot, "?alias=production")
			e.config(viewer, bot, "")
			after, _ := e.svc.RuntimeCacheStats()
			return after > before
		})
		metrics := e.do(request{method: http.MethodGet, path: "/metrics"})
		require.Regexp(t, `bots_config_cache_requests_total\{result="hit"\} [1-9]`, string(metrics.body))
		require.Contains(t, string(metrics.body), `bots_config_cache_requests_total{result="miss"}`)
		require.Contains(t, string(metrics.body), "bots_config_cache_in_use 1")
		require.Regexp(t, `bots_config_cache_bytes [1-9]`, string(metrics.body))

		e.pointAlias(owner, bot, "production", 2)
		c, _ := e.config(owner, bot, "?alias=production")
		require.Equal(t, int32(2), c.Version, "an alias move")

		res := e.revert(owner, bot, 1, nil)
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		c, _ = e.config(viewer, bot, "")
		require.Equal(t, int32(3), c.Version, "an instant rollback")
		require.Equal(t, 0.1, c.Temperature)

		require.Equal(t, http.StatusNoContent, e.delete(owner, botPath(bot.Id, "/aliases/production"), nil).code)
		e.get(owner, botPath(bot.Id, "/config?alias=production")).problem(t, http.StatusNotFound)

		res = e.put(owner, botPath(bot.Id), map[string]any{"is_public": false}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		e.get(viewer, botPath(bot.Id, "/config")).problem(t, http.StatusNotFound)

		require.Equal(t, http.StatusOK, e.delete(owner, botPath(bot.Id), map[string]string{"If-Match": "*"}).code)
		e.get(owner, botPath(bot.Id, "/config")).problem(t, http.StatusNotFound)
		require.Equal(t, http.StatusOK, e.post(owner, botPath(bot.Id, "/restore"), nil).code)
		c, _ = e.config(owner, bot, "")
		require.Equal(t, int32(3), c.Version, "a restore")
	})

	// Another replica hears of a change from the database and forgets what it held.
	t.Run("OtherReplicasCatchUp", func(t *testing.T) {
		t.Parallel()
		url := dbtest.URL(t)
		a, b := setupWith(t, envConfig{databaseURL: url}), setupWith(t, envConfig{databaseURL: url})
		u := newUser(t)
		bot := a.twoActiveVersions(u, map[string]any{"name": "Support", "temperature": 0.1})
		a.pointAlias(u, bot, "production", 1)
		waitUntil(t, "replica b serves the alias from memory", func() bool {
			before, _ := b.svc.RuntimeCacheStats()
			c, _ := b.config(u, bot, "?alias=production")
			after, _ := b.svc.RuntimeCacheStats()
			return c.Version == 1 && after > before
		})

		a.pointAlias(u, bot, "production", 2)
		waitUntil(t, "replica b sees the move", func() bool {
			c, _ := b.config(u, bot, "?alias=production")
			return c.Version == 2
		})
		require.Equal(t, http.StatusOK, a.delete(u, botPath(bot.Id), map[string]string{"If-Match": "*"}).code)
		waitUntil(t, "replica b sees the delete", func() bool {
			return b.get(u, botPath(bot.Id, "/config")).code == http.StatusNotFound
		})
	})
}
