package httpapi_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/bots"
)

// diff reads the patch from version against (the previous version when 0) to version number
// as u.
func (e *env) diff(u user, bot api.BotResponse, number, against int) (api.VersionPatch, *response) {
	e.t.Helper()
	path := botPath(bot.Id, fmt.Sprintf("/versions/%d/diff", number))
	if against != 0 {
		path += fmt.Sprintf("?against=%d", against)
	}
	res := e.get(u, path)
	require.Equal(e.t, http.StatusOK, res.code, string(res.body))
	require.Equal(e.t, "application/json-patch+json", res.header.Get("Content-Type"))
	p := decoded[api.VersionPatch](e.t, res)
	return p, res
}

// configuration is a version's configuration as the diff sees it.
func configuration(t *testing.T, v api.BotVersion) []byte {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"model": v.Model, "temperature": v.Temperature, "system_prompt": v.SystemPrompt})
	require.NoError(t, err)
	return raw
}

func TestBotVersionDiff(t *testing.T) {
	t.Parallel()

	// edited gives a subtest its own server and a user with a bot of three versions: 1 → 2
	// changes the temperature, 2 → 3 the model and the prompt.
	edited := func(t *testing.T, public bool) (*env, user, api.BotResponse) {
		t.Helper()
		e, u, bot := setupBot(t, map[string]any{"name": "Support", "model": "gpt-4o", "temperature": 0.3, "system_prompt": "Be kind.", "is_public": public})
		for _, edit := range []map[string]any{{"temperature": 0.9}, {"model": "claude-3-haiku", "system_prompt": "Be brief."}} {
			res := e.put(u, botPath(bot.Id), edit, nil)
			require.Equal(t, http.StatusOK, res.code, string(res.body))
		}
		return e, u, bot
	}
	replace := func(path api.VersionPatchOperationPath, value any) api.VersionPatchOperation {
		return api.VersionPatchOperation{Op: api.Replace, Path: path, Value: value}
	}
	// replaceAll is the patch between two versions that differ in every field.
	replaceAll := func(model string, temperature float64, prompt string) api.VersionPatch {
		return api.VersionPatch{
			replace(api.VersionPatchOperationPathModel, model),
			replace(api.VersionPatchOperationPathTemperature, temperature),
			replace(api.VersionPatchOperationPathSystemPrompt, prompt),
		}
	}

	t.Run("TheDefaultIsThePreviousVersion", func(t *testing.T) {
		t.Parallel()
		e, u, bot := edited(t, false)
		p, res := e.diff(u, bot, 2, 0)
		require.Equal(t, api.VersionPatch{replace(api.VersionPatchOperationPathTemperature, 0.9)}, p)
		require.Equal(t, `"1-2"`, res.header.Get("ETag"))
		p, _ = e.diff(u, bot, 3, 0)
		require.Equal(t, api.VersionPatch{
			replace(api.VersionPatchOperationPathModel, "claude-3-haiku"),
			replace(api.VersionPatchOperationPathSystemPrompt, "Be brief."),
		}, p)
	})

	t.Run("AgainstMayBeOlderOrNewer", func(t *testing.T) {
		t.Parallel()
		e, u, bot := edited(t, false)
		p, res := e.diff(u, bot, 3, 1)
		require.Equal(t, replaceAll("claude-3-haiku", 0.9, "Be brief."), p, "one operation per field that differs, in the representation's order")
		require.Equal(t, `"1-3"`, res.header.Get("ETag"))
		p, res = e.diff(u, bot, 1, 3)
		require.Equal(t, replaceAll("gpt-4o", 0.3, "Be kind."), p, "a patch back to an older version")
		require.Equal(t, `"3-1"`, res.header.Get("ETag"))
	})

	t.Run("EqualConfigurationsGiveAnEmptyPatch", func(t *testing.T) {
		t.Parallel()
		e, u, bot := edited(t, false)
		res := e.put(u, botPath(bot.Id), map[string]any{"model": "gpt-4o", "temperature": 0.3, "system_prompt": "Be kind."}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		_, res = e.diff(u, bot, 4, 1)
		require.JSONEq(t, `[]`, string(res.body))
		_, res = e.diff(u, bot, 2, 2)
		require.JSONEq(t, `[]`, string(res.body), "a version against itself")
	})

	t.Run("VersionOneWithoutAgainstNamesAgainst", func(t *testing.T) {
		t.Parallel()
		e, u, bot := edited(t, false)
		p := e.get(u, botPath(bot.Id, "/versions/1/diff")).problem(t, http.StatusUnprocessableEntity)
		require.NotNil(t, p.Errors)
		require.Len(t, *p.Errors, 1)
		require.Equal(t, "against", (*p.Errors)[0].Field)
		require.Equal(t, api.Query, (*p.Errors)[0].Location)
		require.Contains(t, p.Detail, `"against"`)
	})

	t.Run("AgainstMustBePositive", func(t *testing.T) {
		t.Parallel()
		e, u, bot := edited(t, false)
		for _, against := range []string{"0", "-1"} {
			p := e.get(u, botPath(bot.Id, "/versions/2/diff?against="+against)).problem(t, http.StatusUnprocessableEntity)
			require.Contains(t, p.Detail, `"against"`)
		}
	})

	t.Run("AMissingVersionIsNotFound", func(t *testing.T) {
		t.Parallel()
		e, u, bot := edited(t, false)
		e.getNotFound(u, botPath(bot.Id, "/versions/4/diff"), botPath(bot.Id, "/versions/2/diff?against=4"),
			botPath(bot.Id, "/versions/4/diff?against=2"))
	})

	t.Run("APatchIsWrittenWithoutHTMLEscapes", func(t *testing.T) {
		t.Parallel()
		e, u, bot := edited(t, false)
		res := e.put(u, botPath(bot.Id), map[string]any{"system_prompt": "Answer in <b>bold</b> & brief."}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		_, res = e.diff(u, bot, 4, 0)
		require.Contains(t, string(res.body), `"Answer in <b>bold</b> & brief."`)
	})

	t.Run("AnyoneMayDiffAPublicBotsVersions", func(t *testing.T) {
		t.Parallel()
		e, _, bot := edited(t, true)
		viewer := newUser(t)
		p, _ := e.diff(viewer, bot, 2, 0)
		require.Equal(t, api.VersionPatch{replace(api.VersionPatchOperationPathTemperature, 0.9)}, p)
	})

	t.Run("OtherUsersPrivateBotsAreNotFound", func(t *testing.T) {
		t.Parallel()
		e, _, bot := edited(t, false)
		e.getNotFound(newUser(t), botPath(bot.Id, "/versions/2/diff"), botPath(bot.Id, "/versions/3/diff?against=1"),
			botPath(bot.Id, "/versions/1/diff"))
	})

	t.Run("ADeletedBotsVersionsAreNotFound", func(t *testing.T) {
		t.Parallel()
		e, u, bot := edited(t, false)
		res := e.delete(u, botPath(bot.Id), map[string]string{"If-Match": "*"})
		require.Equal(t, http.StatusOK, res.code, string(res.body))
		e.get(u, botPath(bot.Id, "/versions/2/diff")).problem(t, http.StatusNotFound)
	})

	t.Run("AgainstMustBeANumber", func(t *testing.T) {
		t.Parallel()
		e, u, bot := edited(t, false)
		p := e.get(u, botPath(bot.Id, "/versions/2/diff?against=one")).problem(t, http.StatusUnprocessableEntity)
		require.Contains(t, p.Detail, `"against"`)
	})

	t.Run("ADiffIsCachedForeverAndAnswersIfNoneMatchWith304", func(t *testing.T) {
		t.Parallel()
		e, u, bot := edited(t, false)
		_, res := e.diff(u, bot, 3, 1)
		tag := res.header.Get("ETag")
		require.Equal(t, "private, max-age=31536000, immutable", res.header.Get("Cache-Control"), "the versions are still training, but their configurations never change")
		for _, sent := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
			res := e.do(request{method: http.MethodGet, path: botPath(bot.Id, "/versions/3/diff?against=1"), as: &u, header: map[string]string{"If-None-Match": sent}})
			require.Equal(t, http.StatusNotModified, res.code, sent)
			require.Empty(t, res.body)
			require.Equal(t, tag, res.header.Get("ETag"))
			require.Equal(t, "private, max-age=31536000, immutable", res.header.Get("Cache-Control"))
		}
		res = e.do(request{method: http.MethodGet, path: botPath(bot.Id, "/versions/3/diff?against=2"), as: &u, header: map[string]string{"If-None-Match": tag}})
		require.Equal(t, http.StatusOK, res.code, "another pair has another ETag")
		require.NotEqual(t, tag, res.header.Get("ETag"))
	})

	t.Run("ApplyingThePatchGivesTheTargetConfiguration", func(t *testing.T) {
		t.Parallel()
		e, u := setupUser(t)
		seed := rand.Uint64()
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, seed))
		var models []string
		for _, m := range bots.Models() {
			if !m.Retired {
				models = append(models, m.ID)
			}
		}
		prompts := []string{"", "Be kind.", "Say \"hi\"\nthen stop.", "Réponds en français ☕", "a/b~c ~0 ~1", "Be kind. "}
		random := func() map[string]any {
			return map[string]any{
				"model":         models[rng.IntN(len(models))],
				"temperature":   float64(rng.IntN(21)) / 10,
				"system_prompt": prompts[rng.IntN(len(prompts))],
			}
		}
		bot := e.createBot(u, map[string]any{"name": "Random", "model": "gpt-4o", "temperature": 0.7})
		const count = 8
		for n := 1; n < count; {
			res := e.put(u, botPath(bot.Id), random(), nil)
			require.Equal(t, http.StatusOK, res.code, string(res.body))
			got := decoded[api.BotResponse](t, res)
			n = int(got.ConfigVersion)
		}
		configs := map[int][]byte{}
		for _, v := range e.versions(u, bot).Items {
			configs[int(v.Number)] = configuration(t, v)
		}
		require.Len(t, configs, count)

		for range 40 {
			m, n := 1+rng.IntN(count), 1+rng.IntN(count)
			_, res := e.diff(u, bot, n, m)
			p, err := jsonpatch.DecodePatch(res.body)
			require.NoError(t, err)
			got, err := p.Apply(configs[m])
			require.NoError(t, err, "patch %s on version %d", res.body, m)
			require.JSONEq(t, string(configs[n]), string(got), "version %d patched with %s should be version %d", m, res.body, n)
		}
	})
}
