package cli_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/internal/cli"
)

func TestImportOpenAI(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	const valid, rejected = "testdata/openai-assistants.json", "testdata/openai-assistants-rejected.json"

	t.Run("EachAssistantBecomesABot", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		out := u.ok("import", "openai", valid)
		require.Contains(t, out, `create     asst_abc123  -> "Coding Tutor" on gpt-4o, temperature 1; its 1 tools are left out: bots have none`)
		require.Contains(t, out, `create     asst_abc456  -> "asst_abc456" on gpt-4o-mini, temperature 1; it has no name: named after its id; `+
			`its 1 tools are left out: bots have none; its top_p 0.9 is left out; its metadata is left out`)
		require.Contains(t, out, "Imported 3 assistants.")

		bots := u.bots()
		require.Len(t, bots, 3)
		tutor := bots["Coding Tutor"]
		require.Equal(t, "gpt-4o", tutor.Model)
		require.Equal(t, "You are a helpful assistant designed to make me better at coding!", tutor.SystemPrompt)
		require.Equal(t, 1.0, tutor.Temperature)
		require.Nil(t, tutor.Description)
		hr := bots["asst_abc456"]
		require.Equal(t, "gpt-4o-mini", hr.Model, "a dated snapshot maps to its model")
		require.Equal(t, "Answers HR questions", *hr.Description)
		require.Equal(t, 1.0, hr.Temperature, "a null temperature is OpenAI's default, 1")
		require.Equal(t, 0.2, bots["Translator"].Temperature)
	})

	t.Run("DryRunCreatesNothing", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		out := u.ok("import", "openai", valid, "--dry-run")
		require.Contains(t, out, "Dry run: 3 bots would be created.")
		require.Empty(t, u.bots())
	})

	t.Run("AnyRejectedAssistantStopsTheImportBeforeItCreatesAnything", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		for _, dry := range []bool{true, false} {
			args := []string{"import", "openai", rejected}
			if dry {
				args = append(args, "--dry-run")
			}
			r := u.run(args...)
			require.Equal(t, 1, r.code, r.seen())
			require.Contains(t, r.stdout, `create     asst_fine001  -> "Fine" on gpt-4o`)
			for _, want := range []string{
				`rejected   asst_model02  model "gpt-4-turbo" has no equivalent in this service (see the README's table)`,
				`rejected   asst_long003  instructions are 1050 characters; a system prompt takes at most 1000`,
				`rejected   asst_temp004  temperature 2.5 is outside 0 to 2`,
				`rejected   asst_retd005  model "gpt-3.5-turbo" maps to "gpt-3.5-turbo", which the service has retired: it would not train`,
				`rejected   asst_name006  name is 101 characters; at most 100 fit`,
			} {
				require.Contains(t, r.stdout, want+"\n")
			}
			require.Contains(t, r.err.Error(), "5 of 6 assistants cannot be imported (see above); nothing created")
			require.Empty(t, u.bots())
		}
	})

	t.Run("ANameTakenByABotOfTheCallerIsRejected", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		u.create("--name", "translator", "--model", "gpt-4o")
		r := u.run("import", "openai", valid)
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.stdout, `rejected   asst_abc789  name "Translator" is taken`)
		require.Len(t, u.bots(), 1)
	})

	t.Run("ANameTheServiceComparesAsTakenIsRejected", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		u.create("--name", "Straße", "--model", "gpt-4o")
		r := u.run("import", "openai", writeFile(t, "assistants.json", `{"object":"list","data":[
			{"id":"asst_1","name":"Fine","model":"gpt-4o"},
			{"id":"asst_2","name":"STRASSE","model":"gpt-4o"},
			{"id":"asst_3","name":"FINE","model":"gpt-4o"}]}`))
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.stdout, `rejected   asst_2  name "STRASSE" is taken by your bot "Straße" (names are compared ignoring case)`+"\n")
		require.Contains(t, r.stdout, `rejected   asst_3  name "FINE" is taken by assistant asst_1's "Fine" (names are compared ignoring case)`+"\n")
		require.Contains(t, r.err.Error(), "2 of 3 assistants cannot be imported (see above); nothing created")
		require.Equal(t, []string{"Straße"}, keys(u.bots()))
	})

	t.Run("ANameIsCheckedAsTheServiceStoresIt", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		// 100 "é" typed as "e" and a combining accent: 200 code points, 100 once composed.
		composed := strings.Repeat("\u00e9", 100)
		r := u.run("import", "openai", writeFile(t, "assistants.json", `{"object":"list","data":[
			{"id":"asst_1","name":" `+strings.Repeat("e\u0301", 100)+` ","model":"gpt-4o"},
			{"id":"asst_2","name":"Over\u202eride","model":"gpt-4o"}]}`))
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.stdout, `create     asst_1  -> "`+composed+`" on gpt-4o`)
		require.Contains(t, r.stdout, `rejected   asst_2  name must not contain bidirectional embedding, override or isolate characters`)
		require.Empty(t, u.bots())
	})

	t.Run("ACreateThatFailsMidwayDeletesWhatTheImportCreated", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		// The third assistant's name is taken after the checks, before the creates.
		takeName := func(e cli.Env) cli.Env {
			return cli.WithBeforeWrites(e, func() {
				_, err := u.sdk().Create(ctx(t), client.CreateParams{Name: "Translator", Model: "gpt-4o"})
				require.NoError(t, err)
			})
		}
		r := u.runWith(takeName, "import", "openai", valid)
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.stderr, "asst_abc789: 409 Conflict")
		require.Regexp(t, `(?m)^deleted    Coding Tutor  \(`, r.stdout)
		require.Regexp(t, `(?m)^deleted    asst_abc456  \(`, r.stdout)
		require.Contains(t, r.err.Error(), "import failed; the 2 bots it had created are deleted")
		require.Equal(t, []string{"Translator"}, keys(u.bots()), "nothing half-imported is left")

		// At a terminal the person is asked first, and may keep them.
		u2 := newUser(t, url)
		takeName2 := func(e cli.Env) cli.Env {
			e = terminal("n\n")(e)
			return cli.WithBeforeWrites(e, func() {
				_, err := u2.sdk().Create(ctx(t), client.CreateParams{Name: "Translator", Model: "gpt-4o"})
				require.NoError(t, err)
			})
		}
		r = u2.runWith(takeName2, "import", "openai", valid)
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.stderr, "Delete the 2 bots this import created? [y/N]")
		require.Contains(t, r.err.Error(), "import failed and its 2 bots were kept")
		require.Len(t, u2.bots(), 3)
	})

	t.Run("ATextIsRefusedExactlyWhenTheServiceRefusesIt", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		texts := map[string]string{
			"fdd0": "\ufdd0", "fdef": "\ufdef", "fffe": "\ufffe", "ffff": "\uffff",
			"1fffe": "\U0001fffe", "1ffff": "\U0001ffff", "10ffff": "\U0010ffff",
			"fdcf": "\ufdcf", "fdf0": "\ufdf0", "fffd": "\ufffd", "e000": "\ue000", "plain": "plain",
		}
		var assistants []map[string]any
		for id, text := range texts {
			for _, field := range []string{"name", "description", "instructions"} {
				a := map[string]any{"id": "asst_" + field + "_" + id, "name": field + " " + id, "model": "gpt-4o"}
				a[field] = "a" + text + "b"
				assistants = append(assistants, a)
			}
		}
		file, err := json.Marshal(map[string]any{"object": "list", "data": assistants})
		require.NoError(t, err)
		r := u.run("import", "openai", writeFile(t, "assistants.json", string(file)), "--dry-run")

		for _, a := range assistants {
			id := a["id"].(string)
			p := client.CreateParams{Name: a["name"].(string), Model: "gpt-4o"}
			if d, ok := a["description"].(string); ok {
				p.Description = &d
			}
			if i, ok := a["instructions"].(string); ok {
				p.SystemPrompt = &i
			}
			_, err := u.sdk().Create(ctx(t), p)
			var prob *client.Problem
			require.True(t, err == nil || errors.As(err, &prob) && prob.Status == http.StatusBadRequest, "%s: %v", id, err)
			cliRefuses := strings.Contains(r.stdout, "rejected   "+id+"  ")
			require.Equal(t, err != nil, cliRefuses, "%s: the service refuses it: %v; the import says:\n%s", id, err, r.stdout)
			if cliRefuses {
				require.Regexp(t, `(?m)^rejected   `+id+`  \w+ contains the Unicode noncharacter U\+[0-9A-F]{4,6}, which the service refuses`, r.stdout)
			}
		}
		require.Contains(t, r.seen(), "21 of 36 assistants cannot be imported", "the table has refused and accepted texts")
	})

	t.Run("ATextTheServiceRefusesAsIJSONIsRejectedNotReplaced", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		file := writeFile(t, "assistants.json", `{"object":"list","data":[
			{"id":"asst_high01","name":"High","description":"a\ud800b","model":"gpt-4o"},
			{"id":"asst_low002","name":"Low\udc00","instructions":"\ud83d\ude00\ud800","model":"gpt-4o"},
			{"id":"asst_utf003","name":"Bytes","description":"a`+"\xff"+`b","model":"gpt-4o"},
			{"id":"asst_pair04","name":"Pair","description":"\\ud800 \ud83d\ude00 \ufffd","model":"gpt-4o"}]}`)
		r := u.run("import", "openai", file)
		require.Equal(t, 1, r.code, r.seen())
		for _, want := range []string{
			`rejected   asst_high01  description has a \u escape of a lone UTF-16 surrogate, which the service refuses (I-JSON, RFC 7493)`,
			`rejected   asst_low002  name has a \u escape of a lone UTF-16 surrogate, which the service refuses (I-JSON, RFC 7493); instructions has a \u escape`,
			`rejected   asst_utf003  description is not valid UTF-8, which the service refuses (I-JSON, RFC 7493)`,
			`create     asst_pair04  -> "Pair" on gpt-4o`,
		} {
			require.Contains(t, r.stdout, want)
		}
		require.Contains(t, r.err.Error(), "3 of 4 assistants cannot be imported (see above); nothing created")
		require.Empty(t, u.bots())
	})

	t.Run("AFileThatIsNotAListOfAssistantsIsRefused", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		r := u.run("import", "openai", writeFile(t, "a.json", `{"object":"assistant","id":"asst_1"}`))
		require.Equal(t, 1, r.code)
		require.True(t, strings.Contains(r.err.Error(), `its object is "assistant"`), r.seen())
	})
}
