package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// Every bound of a new bot counts Unicode code points, types are strict, null is accepted
// only for description, and a refused create leaves no bot behind.
func TestCreateBodyBounds(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cases := valBoundCases()
	for i, c := range cases {
		if c.raw != "" {
			// Raw bodies in the shared table set one field; a create needs the required ones.
			cases[i].raw = strings.Replace(c.raw, "{", `{"name":"Support assistant","model":"gpt-4o-mini",`, 1)
		}
	}
	cases = append(cases,
		valCase{name: "NullDescriptionIsAccepted", set: map[string]any{"description": nil},
			check: func(t *testing.T, b valRepresented) { require.Equal(t, "null", string(b.raw["description"])) }},
		valCase{name: "AbsentDescriptionIsAccepted",
			check: func(t *testing.T, b valRepresented) { require.True(t, b.Description.IsNull()) }},
		valCase{name: "MissingNameIsNamed", drop: "name", want: valInvalid, field: "name"},
		valCase{name: "MissingModelIsNamed", drop: "model", want: valInvalid, field: "model"},
		valCase{name: "TemperatureWithManyDigitsTooLargeForAnyFloatIsRefused",
			raw: `{"name":"x","model":"gpt-4o-mini","temperature":1` + strings.Repeat("0", 400) + `}`, want: valRefused},
		valCase{name: "NegativeTemperatureTooLargeForAnyFloatIsRefused",
			raw: `{"name":"x","model":"gpt-4o-mini","temperature":-1e400}`, want: valRefused},
		valCase{name: "IsPublicAsAHugeNumberIsRefused",
			raw: `{"name":"x","model":"gpt-4o-mini","is_public":1e400}`, want: valRefused},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			res := e.post(u, "/api/v1/bots", valCreateBody(c))
			if c.want != valAccepted {
				valExpect(t, res, c)
				require.Zero(t, valBotsOf(t, e, u.id), "a refused create wrote a bot")
				return
			}
			require.Equal(t, http.StatusCreated, res.code, string(res.body))
			created := valRepresentation(t, res)
			if c.check != nil {
				c.check(t, created)
			}
			got := e.get(u, botPath(created.Id))
			require.Equal(t, http.StatusOK, got.code, string(got.body))
			if c.check != nil {
				c.check(t, valRepresentation(t, got))
			}
		})
	}
}

// A bot created with only the required fields gets the documented defaults.
func TestCreateFillsInDefaults(t *testing.T) {
	t.Parallel()
	e, u := setupUser(t)
	res := e.post(u, "/api/v1/bots", map[string]any{"name": "Minimal", "model": valValidModel})
	require.Equal(t, http.StatusCreated, res.code, string(res.body))
	created := valRepresentation(t, res)
	require.Equal(t, "/api/v1/bots/"+created.Id.String(), res.header.Get("Location"))
	require.NotEmpty(t, res.header.Get("ETag"))
	got := e.get(u, botPath(created.Id))
	require.Equal(t, http.StatusOK, got.code, string(got.body))
	for source, b := range map[string]valRepresented{"Created": created, "Fetched": valRepresentation(t, got)} {
		t.Run(source+"BotHasTheDefaults", func(t *testing.T) {
			t.Parallel()
			require.Equal(t, "Minimal", b.Name)
			require.Equal(t, valValidModel, b.Model)
			require.Equal(t, u.id, b.OwnerId)
			require.Equal(t, "0.7", string(b.raw["temperature"]))
			require.Equal(t, "", b.SystemPrompt)
			require.False(t, b.IsPublic)
			require.Equal(t, "null", string(b.raw["description"]))
			require.Equal(t, api.BotStatus("training"), b.Status)
			require.Equal(t, "null", string(b.raw["status_message"]))
		})
	}
}

// valReadOnly are fields a client must not set, with plausible values, and one unknown field.
var valReadOnly = map[string]any{
	"id":             "3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a",
	"owner_id":       "9b2e4f7c-1d3a-4e5b-8c6d-7e8f9a0b1c2d",
	"status":         "active",
	"status_message": "trained",
	"created_at":     "2024-01-01T00:00:00Z",
	"updated_at":     "2024-01-01T00:00:00Z",
	"version":        7,
	"deleted_at":     "2024-01-01T00:00:00Z",
	"foo":            "bar",
}

// Read-only and unknown fields are refused by name on every body, and nothing is written.
func TestReadOnlyAndUnknownFieldsAreRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for field, value := range valReadOnly {
		t.Run("CreateWith"+camel(field)+"IsRefused", func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			res := e.post(u, "/api/v1/bots", map[string]any{"name": "Support", "model": valValidModel, field: value})
			valNamesOnly(t, res, "body", field)
			require.Zero(t, valBotsOf(t, e, u.id))
		})
		t.Run("UpdateWith"+camel(field)+"IsRefused", func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			bot := e.createBot(u, map[string]any{"name": "Support", "description": "before"})
			before := e.get(u, botPath(bot.Id))
			res := e.put(u, botPath(bot.Id), map[string]any{"description": "after", field: value}, nil)
			valNamesOnly(t, res, "body", field)
			after := e.get(u, botPath(bot.Id))
			require.Equal(t, before.header.Get("ETag"), after.header.Get("ETag"), "a refused update changed the bot")
			require.Equal(t, "before", valRepresentation(t, after).Description.MustGet())
		})
		t.Run("DuplicateWith"+camel(field)+"IsRefused", func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			bot := e.createBot(u, map[string]any{"name": "Support"})
			res := e.post(u, botPath(bot.Id, "/duplicate"), map[string]any{field: value})
			valNamesOnly(t, res, "body", field)
			require.Equal(t, 1, valBotsOf(t, e, u.id), "a refused duplicate wrote a bot")
		})
	}
}
