package cli_test

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/chatsphere/bots/client"
)

func TestBotCommands(t *testing.T) {
	t.Parallel()
	url := startServer(t)

	t.Run("CreateThenGetPrintsTheSameBotAsJSONAndYAML", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		bot := u.create("--name", "Support", "--model", "gpt-4o-mini", "--temperature", "0.3", "--description", "Billing", "--system-prompt", "Be brief.")
		require.Equal(t, "Support", bot["name"])
		require.Equal(t, 0.3, bot["temperature"])
		id := bot["id"].(string)
		u.ok("watch", id)

		var fromJSON, fromYAML map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("get", id, "-o", "json")), &fromJSON))
		require.NoError(t, yaml.Unmarshal([]byte(u.ok("get", "-o", "yaml", id)), &fromYAML))
		// YAML reads timestamps as times; JSON as strings. Compare the rest field by field.
		for k, v := range fromJSON {
			if k == "created_at" || k == "updated_at" {
				continue
			}
			require.EqualValues(t, v, fromYAML[k], "field %s", k)
		}
		require.Equal(t, "Billing", fromJSON["description"])
		require.Equal(t, "Be brief.", fromJSON["system_prompt"])
		require.Equal(t, "active", fromJSON["status"])
		require.NotEmpty(t, fromJSON["etag"])

		table := u.ok("get", "Support")
		require.Regexp(t, `(?m)^name: +Support$`, table, "a bot is found by its exact name too")
	})

	t.Run("ListFiltersAndAlignsItsTable", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		u.create("--name", "Alpha", "--model", "gpt-4o-mini")
		u.create("--name", "Beta bot", "--model", "gpt-4o", "--public")
		u.create("--name", "Gamma", "--model", "gpt-4o")

		lines := strings.Split(strings.TrimSpace(u.ok("list", "--sort", "name")), "\n")
		require.Len(t, lines, 4)
		require.Regexp(t, `^ID +NAME +MODEL +TEMP +STATUS +VERSION +PUBLIC +UPDATED$`, lines[0])
		col := strings.Index(lines[0], "MODEL")
		for i, want := range []string{"gpt-4o-mini", "gpt-4o", "gpt-4o"} {
			require.Equal(t, want, strings.Fields(lines[i+1][col:])[0], "columns are aligned: %q", lines[i+1])
		}
		require.Contains(t, lines[2], "Beta bot")

		var bots []map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("list", "--model", "gpt-4o", "--public=false", "-o", "json")), &bots))
		require.Len(t, bots, 1)
		require.Equal(t, "Gamma", bots[0]["name"])
		require.NoError(t, json.Unmarshal([]byte(u.ok("list", "--q", "bet", "-o", "json")), &bots))
		require.Len(t, bots, 1)
		require.Equal(t, "Beta bot", bots[0]["name"])
		require.NoError(t, json.Unmarshal([]byte(u.ok("list", "--limit", "2", "-o", "json")), &bots))
		require.Len(t, bots, 2)
		require.NoError(t, yaml.Unmarshal([]byte(u.ok("list", "-o", "yaml", "--public")), &bots))
		require.Len(t, bots, 1)
	})

	t.Run("EditChangesOnlyTheFieldsGiven", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		id := u.create("--name", "Editable", "--model", "gpt-4o-mini", "--description", "Old")["id"].(string)
		out := u.ok("edit", id, "--temperature", "1.2", "--public", "--name", "Edited", "-o", "json")
		var bot map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &bot))
		require.Equal(t, "Edited", bot["name"])
		require.Equal(t, 1.2, bot["temperature"])
		require.Equal(t, true, bot["is_public"])
		require.Equal(t, "Old", bot["description"], "a field not given keeps its value")
		require.Equal(t, "gpt-4o-mini", bot["model"])

		u.ok("edit", "Edited", "--description", "")
		got, err := u.sdk().Get(ctx(t), uuid.MustParse(id))
		require.NoError(t, err)
		require.Nil(t, got.Description, `--description "" removes it`)

		r := u.run("edit", id)
		require.Equal(t, 2, r.code, "an edit without a field is a usage error:\n%s", r.seen())
		require.Contains(t, r.err.Error(), "at least one field")
	})

	t.Run("DeleteWithoutYesAndWithoutATerminalIsAUsageError", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		id := u.create("--name", "Kept", "--model", "gpt-4o-mini")["id"].(string)
		r := u.run("delete", id)
		require.Equal(t, 2, r.code, r.seen())
		require.Contains(t, r.err.Error(), "--yes")
		_, err := u.sdk().Get(ctx(t), uuid.MustParse(id))
		require.NoError(t, err, "the bot is still there")
	})

	t.Run("DeleteAsksAtATerminal", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		id := u.create("--name", "Asked", "--model", "gpt-4o-mini")["id"].(string)

		r := u.runWith(terminal("n\n"), "delete", id)
		require.Equal(t, 1, r.code, "a refusal is not done:\n%s", r.seen())
		require.Contains(t, r.stderr, `Delete bot "Asked" (`+id+`)? [y/N]`)
		_, err := u.sdk().Get(ctx(t), uuid.MustParse(id))
		require.NoError(t, err, "the bot is still there")

		r = u.runWith(terminal("y\n"), "delete", "Asked")
		require.Equal(t, 0, r.code, r.seen())
		_, err = u.sdk().Get(ctx(t), uuid.MustParse(id))
		requireStatus(t, err, 404)
	})

	t.Run("DeleteWithYesThenRestore", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		id := u.create("--name", "Phoenix", "--model", "gpt-4o-mini")["id"].(string)
		require.Contains(t, u.ok("delete", id, "--yes"), "deleted "+id)
		require.Empty(t, u.bots())
		require.Regexp(t, `(?m)^name: +Phoenix$`, u.ok("restore", id))
		require.Contains(t, u.bots(), "Phoenix")

		r := u.run("restore", id)
		require.Equal(t, 1, r.code, "restoring a bot that is not deleted is the service's refusal:\n%s", r.seen())
	})

	t.Run("RestoreTakesOnlyAnIdNeverAName", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		deleted := u.create("--name", "Phoenix", "--model", "gpt-4o-mini")["id"].(string)
		u.ok("delete", deleted, "--yes")
		live := u.create("--name", "Phoenix", "--model", "gpt-4o")["id"].(string)

		r := u.run("restore", "Phoenix")
		require.Equal(t, 2, r.code, r.seen())
		require.Contains(t, r.err.Error(), `restore: "Phoenix" is not a bot id: a deleted bot is restored by its id, which bots delete printed`)
		bots := u.bots()
		require.Len(t, bots, 1)
		require.Equal(t, live, bots["Phoenix"].ID.String())

		r = u.run("restore", strings.ReplaceAll(deleted, "-", ""))
		require.Equal(t, 2, r.code, "an id is written in its canonical form:\n%s", r.seen())
	})

	t.Run("DuplicateTrainAndWatch", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		id := u.create("--name", "Source", "--model", "gpt-4o-mini")["id"].(string)
		require.Regexp(t, `(?m)^name: +Copy$`, u.ok("duplicate", id, "--name", "Copy", "--public"))
		require.True(t, u.bots()["Copy"].IsPublic)

		u.ok("watch", id)
		require.Regexp(t, `(?m)^status: +training$`, u.ok("train", "Source"))
		out := u.ok("watch", id)
		require.Regexp(t, `(?m) -> active$`, out, "watch prints the status changes until the bot is active")
	})

	t.Run("WatchExitsOneWhenTheBotEndsInError", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		// Claude 3 Haiku supports temperatures up to 1: training refuses 1.5.
		id := u.create("--name", "Doomed", "--model", "claude-3-haiku", "--temperature", "1.5")["id"].(string)
		r := u.run("watch", id, "-o", "json")
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.err.Error(), "is in error")
		var last map[string]any
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &last), "-o json prints one object per line")
		require.Equal(t, "error", last["to_status"])
	})

	t.Run("AnAPIErrorPrintsTheProblem", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		r := u.run("create", "--name", "Bad", "--model", "gpt-9", "--temperature", "3")
		require.Equal(t, 1, r.code, r.seen())
		var p *client.Problem
		require.ErrorAs(t, r.err, &p)
		seen := r.seen()
		require.Contains(t, seen, "422 Unprocessable Entity: the request has 2 invalid fields")
		require.Contains(t, seen, "body model: is not a known model")
		require.Contains(t, seen, "body temperature: must be at most 2")
		require.Contains(t, seen, "request id: "+p.RequestID)
		require.NotEmpty(t, p.RequestID)

		r = u.run("get", uuid.NewString())
		require.Equal(t, 1, r.code)
		require.Contains(t, r.seen(), "404 Not Found")
	})

	t.Run("DeleteWithYesSaysAProblemAsEveryCommandDoes", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		missing := uuid.NewString()
		for _, args := range [][]string{{"get", missing}, {"delete", missing, "--yes"}} {
			r := u.run(args...)
			require.Equal(t, 1, r.code, r.seen())
			require.Regexp(t, `^404 Not Found: .*\n  request id: [0-9a-f-]{36}$`, r.err.Error(), "bots %v", args)
		}

		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		require.NoError(t, l.Close())
		nowhere := *u
		nowhere.url = "http://" + l.Addr().String()
		// A read keeps trying while the service is away, and says so once; a delete is sent
		// once, since a replay could not tell whether the first one deleted the bot.
		for _, c := range []struct {
			args    []string
			notices int
		}{{[]string{"get", missing}, 1}, {[]string{"delete", missing, "--yes"}, 0}} {
			r := nowhere.runWith(shortRetries, c.args...)
			require.Equal(t, 1, r.code, r.seen())
			require.Contains(t, r.err.Error(), "cannot reach the service (", "bots %v", c.args)
			notice := "bots: cannot reach the service at " + nowhere.url + "; trying again for up to 30s (Ctrl-C stops)\n"
			require.Equal(t, c.notices, strings.Count(r.stderr, notice), "bots %v: %s", c.args, r.stderr)
		}
	})

	t.Run("ModelsListsTheCatalog", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		require.Regexp(t, `(?m)^claude-3-haiku +Claude 3 Haiku +Anthropic +200000 +1 +no$`, u.ok("models"))
		var models []map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("models", "-o", "json")), &models))
		require.Contains(t, models, map[string]any{"id": "gpt-3.5-turbo", "display_name": "GPT-3.5 Turbo", "provider": "OpenAI",
			"context_window": 16385.0, "max_temperature": 2.0, "retired": true})
	})

	t.Run("EachCommandExitsOneWhenTheServiceRefuses", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		id := u.create("--name", "Only", "--model", "gpt-4o-mini")["id"].(string)
		missing := uuid.NewString()
		for _, c := range []struct {
			args []string
			says string
		}{
			{[]string{"list", "--status", "asleep"}, "422 Unprocessable Entity"},
			{[]string{"get", "Nobody"}, `no bot of yours is named "Nobody"`},
			{[]string{"edit", missing, "--name", "X"}, "404 Not Found"},
			{[]string{"delete", missing, "--yes"}, "404 Not Found"},
			{[]string{"restore", missing}, "404 Not Found"},
			{[]string{"duplicate", missing}, "404 Not Found"},
			{[]string{"train", missing}, "404 Not Found"},
			{[]string{"watch", missing}, "404 Not Found"},
			{[]string{"versions", missing}, "404 Not Found"},
			{[]string{"diff", id, "9"}, "404 Not Found"},
			{[]string{"revert", id, "9"}, "404 Not Found"},
			{[]string{"alias", "rm", id, "production"}, "404 Not Found"},
			{[]string{"alias", "set", id, "Not An Alias", "1"}, "422 Unprocessable Entity"},
		} {
			r := u.run(c.args...)
			require.Equal(t, 1, r.code, "bots %s:\n%s", strings.Join(c.args, " "), r.seen())
			require.Contains(t, r.err.Error(), c.says, "bots %s", strings.Join(c.args, " "))
		}

		stranger := newUser(t, url)
		stranger.token = "not-a-token"
		for _, cmd := range []string{"list", "models", "export"} {
			r := stranger.run(cmd)
			require.Equal(t, 1, r.code, r.seen())
			require.Contains(t, r.err.Error(), "401 Unauthorized")
		}
	})

	t.Run("CommandLineMistakesExitTwo", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		for _, args := range [][]string{
			{"list", "--no-such-flag"},
			{"get"},
			{"get", "a", "b"},
			{"create", "--name", "No model"},
			{"list", "-o", "xml"},
			{"export", "-o", "table"},
			{"apply"},
			{"import", "csv", "file.csv"},
			{"restore", "Phoenix"},
			{"create", "--name", "A", "--model", "gpt-4o", "--temperature", "NaN"},
			{"create", "--name", "A", "--model", "gpt-4o", "--temperature", "-Inf"},
			{"edit", "A", "--temperature", "+inf"},
		} {
			r := u.run(args...)
			require.Equal(t, 2, r.code, "bots %s:\n%s", strings.Join(args, " "), r.seen())
			require.Contains(t, r.err.Error(), "usage: bots "+args[0])
		}
		noToken := newUser(t, url)
		noToken.token = ""
		r := noToken.run("list")
		require.Equal(t, 2, r.code)
		require.Contains(t, r.err.Error(), "BOTS_TOKEN")
	})
}

func requireStatus(t *testing.T, err error, status int) {
	t.Helper()
	var p *client.Problem
	require.ErrorAs(t, err, &p)
	require.Equal(t, status, p.Status)
}

// A table shows text from the API, another user's public bot included: its control and format
// characters show escaped, so that none can rewrite the terminal; -o json stays exact.
func TestTablesEscapeControlCharacters(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	owner, reader := newUser(t, url), newUser(t, url)
	const desc = "harmless\u001b[2K\r\u001b[1Aid: SPOOFED\u001b]0;title\u0007 \u202egnp.exe\u2066x\u2069"
	bot := owner.create("--name", "Spoof\u200bX", "--model", "gpt-4o-mini", "--public",
		"--description", desc, "--system-prompt", "line\none\ttab\u0085\u2028")
	id := bot["id"].(string)

	for _, out := range []string{reader.ok("get", id), owner.ok("list")} {
		require.NotRegexp(t, "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b\u202a-\u202e\u2066-\u2069\u2028]", out)
		require.Contains(t, out, `Spoof\u200bX`)
	}
	got := reader.ok("get", id)
	require.Contains(t, got, `  harmless\x1b[2K⏎\x1b[1Aid: SPOOFED\x1b]0;title\a \u202egnp.exe\u2066x\u2069`)
	require.Contains(t, got, `  line⏎one tab\u0085\u2028`)
	require.Regexp(t, `(?m)^id: +`+id+`$`, got)

	var exact map[string]any
	require.NoError(t, json.Unmarshal([]byte(reader.ok("get", id, "-o", "json")), &exact))
	require.Equal(t, desc, exact["description"], "-o json prints the API's text as it is")
}

// A bot is named on the command line as the service compares names: in the form it stores them.
func TestABotIsNamedAsTheServiceStoresNames(t *testing.T) {
	t.Parallel()
	url := startServer(t)

	t.Run("ANameTypedInAnotherFormOrWithSpacesIsTheBot", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		id := u.create("--name", "Caf\u00e9", "--model", "gpt-4o-mini")["id"].(string)
		for _, arg := range []string{"Cafe\u0301", "  Caf\u00e9 ", "\tCafe\u0301\n"} {
			require.Regexp(t, `(?m)^id: +`+id+`$`, u.ok("get", arg), "%q", arg)
		}
	})

	t.Run("ANameThatMatchesOnlyIgnoringCaseIsNamedNotTaken", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		id := u.create("--name", "Stra\u00dfe", "--model", "gpt-4o-mini")["id"].(string)
		r := u.run("delete", "STRASSE", "--yes")
		require.Equal(t, 1, r.code, r.seen())
		require.Equal(t, `no bot of yours is named exactly "STRASSE"; ignoring case it matches "Straße" (`+id+`); give its exact name or id`, r.err.Error())
		require.Len(t, u.bots(), 1)

		r = u.run("get", "Nobody")
		require.Equal(t, 1, r.code, r.seen())
		require.Equal(t, `no bot of yours is named "Nobody"; give its id or exact name (bots list)`, r.err.Error())
	})

	t.Run("ANameThatUUIDParseWouldReadIsAName", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		for _, name := range []string{"deadbeefdeadbeefdeadbeefdeadbeef", "{deadbeef-dead-beef-dead-beefdeadbeef}", "urn:uuid:deadbeef-dead-beef-dead-beefdeadbeef"} {
			id := u.create("--name", name, "--model", "gpt-4o-mini")["id"].(string)
			require.Regexp(t, `(?m)^id: +`+id+`$`, u.ok("get", name), "%q", name)
		}
	})

	t.Run("AnIdInUpperCaseIsAName", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		other := u.create("--name", "Other", "--model", "gpt-4o-mini")["id"].(string)
		upper := strings.ToUpper(other)
		named := u.create("--name", upper, "--model", "gpt-4o-mini")["id"].(string)
		u.ok("edit", upper, "--description", "edited")
		bots := u.bots()
		require.Equal(t, named, bots[upper].ID.String())
		require.Equal(t, "edited", *bots[upper].Description, "the bot of that name is edited")
		require.Nil(t, bots["Other"].Description, "the bot whose id it spells is not")
	})
}
