package cli_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/internal/cli"
)

// writeFile writes a file of the test and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// etags reads each bot's ETag, by name.
func (u *user) etags() map[string]string {
	u.t.Helper()
	out := map[string]string{}
	for name, b := range u.bots() {
		got, err := u.sdk().Get(ctx(u.t), b.ID)
		require.NoError(u.t, err)
		out[name] = got.ETag
	}
	return out
}

// settle waits until every bot of the user is out of training, so that no ETag moves.
func (u *user) settle() {
	u.t.Helper()
	for _, b := range u.bots() {
		u.run("watch", b.ID.String())
	}
}

const threeBots = `bots:
  - name: Support
    description: Answers billing questions
    model: gpt-4o-mini
    temperature: 0.3
    system_prompt: Be brief.
  - name: Sales
    model: gpt-4o
    temperature: 0.9
    is_public: true
  - name: FAQ
    model: gpt-4o-mini
`

func TestApply(t *testing.T) {
	t.Parallel()
	url := startServer(t)

	t.Run("PlanSaysWhatChangesAndDryRunWritesNothing", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		u.create("--name", "Support", "--model", "gpt-4o-mini", "--temperature", "0.7", "--description", "Answers billing questions", "--system-prompt", "Be brief.")
		u.create("--name", "FAQ", "--model", "gpt-4o-mini")
		u.create("--name", "Legacy", "--model", "gpt-4o")
		u.settle()
		before := u.etags()

		out := u.ok("apply", "-f", writeFile(t, "bots.yaml", threeBots), "--dry-run", "--prune")
		require.Equal(t, `update     Support  temperature: 0.7 -> 0.3
create     Sales
unchanged  FAQ
delete     Legacy  (`+u.bots()["Legacy"].ID.String()+`)
Plan: 1 to create, 1 to update, 1 unchanged, 1 to delete.
`, out)
		require.Equal(t, before, u.etags(), "a dry run changes nothing")
	})

	t.Run("ApplyingTwiceChangesNothingTheSecondTime", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		u.create("--name", "Support", "--model", "gpt-4o", "--description", "Old")
		file := writeFile(t, "bots.json", `{"bots":[{"name":"Support","model":"gpt-4o-mini","description":"New","temperature":0.3},
			{"name":"Sales","model":"gpt-4o","is_public":true}]}`)
		out := u.ok("apply", "-f", file)
		require.Contains(t, out, `update     Support  description: "Old" -> "New"; model: "gpt-4o" -> "gpt-4o-mini"; temperature: 0.7 -> 0.3`)
		require.Contains(t, out, "updated    Support\n")
		require.Regexp(t, `(?m)^created    Sales  \(`, out)
		bots := u.bots()
		require.Equal(t, "gpt-4o-mini", bots["Support"].Model)
		require.Equal(t, "New", *bots["Support"].Description)
		require.True(t, bots["Sales"].IsPublic)

		u.settle()
		before := u.etags()
		out = u.ok("apply", "-f", file)
		require.Equal(t, "unchanged  Support\nunchanged  Sales\nPlan: 0 to create, 0 to update, 2 unchanged, 0 to delete.\n", out)
		require.Equal(t, before, u.etags(), "the second apply wrote nothing")
	})

	t.Run("ExportThenApplyToAnotherUserReproducesTheBots", func(t *testing.T) {
		t.Parallel()
		a, b := newUser(t, url), newUser(t, url)
		a.create("--name", "Support", "--model", "gpt-4o-mini", "--temperature", "0.25", "--description", "Billing: \"quotes\"\nand lines")
		a.create("--name", "Sales", "--model", "claude-3-haiku", "--system-prompt", "Sell.\nKindly.", "--public")
		for _, format := range []string{"yaml", "json"} {
			exported := a.ok("export", "-o", format)
			b.ok("apply", "-f", writeFile(t, "bots."+format, exported))
			require.Equal(t, exported, b.ok("export", "-o", format))
		}
		require.Equal(t, a.ok("export"), b.ok("export"), "YAML is the default")
		require.Contains(t, a.ok("export"), "- name: Sales\n    model: claude-3-haiku\n")
	})

	t.Run("AConcurrentChangeStopsThatBotOnly", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		u.createBots("Support", "Sales")
		file := writeFile(t, "bots.yaml", "bots:\n- {name: Support, model: gpt-4o}\n- {name: Sales, model: gpt-4o}\n")
		support := u.bots()["Support"]
		sneak := func(e cli.Env) cli.Env {
			return cli.WithBeforeWrites(e, func() {
				_, err := u.sdk().Update(ctx(t), support.ID, func(b *client.Bot) error { b.Description = ptr("edited meanwhile"); return nil })
				require.NoError(t, err)
			})
		}
		r := u.runWith(sneak, "apply", "-f", file)
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.stderr, "Support: stopped: the bot changed since the plan read it (description); nothing written to it; run apply again")
		require.Contains(t, r.err.Error(), "1 of 2 bots failed")
		bots := u.bots()
		require.Equal(t, "gpt-4o-mini", bots["Support"].Model, "the bot changed meanwhile is left as it is")
		require.Equal(t, "edited meanwhile", *bots["Support"].Description)
		require.Equal(t, "gpt-4o", bots["Sales"].Model, "the other bot is applied")

		require.Contains(t, u.ok("apply", "-f", file), "update     Support  model", "the next apply plans it again")
	})

	t.Run("PruneDeletesTheBotsNotInTheFile", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		u.createBots("Keep", "Drop")
		file := writeFile(t, "bots.yaml", "bots:\n- {name: Keep, model: gpt-4o-mini}\n")

		r := u.run("apply", "-f", file, "--prune")
		require.Equal(t, 2, r.code, "pruning in a script needs --yes:\n%s", r.seen())
		require.Len(t, u.bots(), 2)

		r = u.runWith(terminal("n\n"), "apply", "-f", file, "--prune")
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.stderr, "Delete the 1 bots marked delete? [y/N]")
		require.Len(t, u.bots(), 2)

		require.Contains(t, u.ok("apply", "-f", file, "--prune", "--yes"), "deleted    Drop  (")
		require.Equal(t, []string{"Keep"}, keys(u.bots()))
		require.Len(t, u.bots(), 1)
		require.Contains(t, u.ok("apply", "-f", file), "unchanged  Keep", "without --prune nothing is deleted")
	})

	t.Run("PruneKeepsABotEditedSinceThePlan", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		u.createBots("Keep", "Drop", "Old")
		file := writeFile(t, "bots.yaml", "bots:\n- {name: Keep, model: gpt-4o-mini}\n")
		drop := u.bots()["Drop"]
		sneak := func(e cli.Env) cli.Env {
			return cli.WithBeforeWrites(e, func() {
				_, err := u.sdk().Update(ctx(t), drop.ID, func(b *client.Bot) error { b.Name = "Renamed"; return nil })
				require.NoError(t, err)
			})
		}
		r := u.runWith(sneak, "apply", "-f", file, "--prune", "--yes")
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.stdout, "delete     Drop  (")
		require.Contains(t, r.stderr, "Drop: stopped: the bot changed since the plan read it (name); nothing written to it; run apply again")
		require.Contains(t, r.stdout, "deleted    Old  (", "the other bot is deleted")
		bots := u.bots()
		require.Equal(t, []string{"Keep", "Renamed"}, slices.Sorted(maps.Keys(bots)))
		require.Equal(t, drop.ID, bots["Renamed"].ID, "the bot edited meanwhile is not deleted")
	})

	t.Run("AFileWithMistakesIsRefusedBeforeAnything", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		for content, want := range map[string]string{
			"bots:\n- {name: A, model: gpt-4o, temprature: 1}\n":                          "field temprature not found",
			"bots:\n- {name: A, model: gpt-4o}\n- {name: A, model: gpt-4o}\n":             `"A" is in the file twice`,
			"bots:\n- {name: Support, model: gpt-4o}\n- {name: SUPPORT, model: gpt-4o}\n": `bot 2: "SUPPORT" is the same name as bot 1's "Support" to the service (names are compared ignoring case)`,
			"bots:\n- {name: A}\n": "model is required",
			"bots:\n- {name: A, model: gpt-4o, temperature: .nan}\n":                                                     `bot 1 ("A"): temperature NaN is not a finite number`,
			"bots:\n- {name: A, model: gpt-4o, temperature: -.Inf}\n":                                                    `bot 1 ("A"): temperature -Inf is not a finite number`,
			"bots:\n- {name: A, model: gpt-4o, aliases: {prod: 0}}\n":                                                    `bot 1 ("A"): alias "prod": version 0: versions are numbered from 1`,
			"bots:\n- {name: A, model: gpt-4o, aliases: {canary: -3}}\n":                                                 `bot 1 ("A"): alias "canary": version -3: versions are numbered from 1`,
			"bots:\n- {name: A, model: gpt-4o, aliases: {Bad_Name: 1}}\n":                                                `bot 1 ("A"): alias "Bad_Name": an alias name must be 1 to 40 lowercase letters, digits or hyphens, starting with a letter`,
			`{"bots": [{"name": "A", "model": "gpt-4o", "aliases": {"a23456789012345678901234567890123456789012": 1}}]}`: `alias "a23456789012345678901234567890123456789012": an alias name must be`,
		} {
			r := u.run("apply", "-f", writeFile(t, "bots.yaml", content))
			require.Equal(t, 1, r.code, r.seen())
			require.Contains(t, r.err.Error(), want)
		}
		require.Empty(t, u.bots())
	})

	t.Run("AFileThatDoesNotSayBotsIsRefusedNotReadAsNoBots", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		u.createBots("Keep")
		const noBots = "the file must list its bots under `bots:`; to delete every bot with --prune, write `bots: []`"
		for content, want := range map[string]string{
			"":                          noBots,
			"# nothing here\n":          noBots,
			"null\n":                    noBots,
			"bots:\n":                   noBots,
			"bots: ~\n":                 noBots,
			"{}":                        noBots,
			`{"bots": null}`:            noBots,
			"bots: []\nbots: []\n":      `mapping key "bots" already defined`,
			"bots: []\n---\nbots: []\n": "there is more than one YAML document",
			`{"bots": [{"name": "Keep", "model": "gpt-4o-mini"}], "bots": []}`: `the member "bots" is twice in one object`,
			`{"bots": [], "Bots": []}`: `the member "Bots" is twice in one object (as "bots" and "Bots")`,
			`{"bots": [{"name": "Keep", "model": "gpt-4o-mini", "aliases": {}, "model": "gpt-4o"}]}`: `the member "model" is twice`,
			`{"bots": [{"name": "A", "model": "gpt-4o", "aliases": {"a": 1, "a": 2}}]}`:              `the member "a" is twice`,
			`{"bots": []} garbage`:     "there is more after the JSON value",
			`{"bots": []}{"bots": []}`: "there is more after the JSON value",
		} {
			r := u.run("apply", "-f", writeFile(t, "bots.file", content), "--prune", "--yes")
			require.Equal(t, 1, r.code, "%q:\n%s", content, r.seen())
			require.Contains(t, r.err.Error(), want, "%q", content)
		}
		require.Equal(t, []string{"Keep"}, keys(u.bots()), "nothing is deleted")

		sameNamesApart := `{"bots": [{"name": "Keep", "model": "gpt-4o-mini", "aliases": {"name": 1}}, {"name": "B", "model": "gpt-4o"}]}`
		require.Contains(t, u.ok("apply", "-f", writeFile(t, "bots.json", sameNamesApart), "--dry-run"), "create     B",
			"one name in different objects is no duplicate")
		require.Contains(t, u.ok("apply", "-f", writeFile(t, "bots.json", `{"bots": []}`), "--prune", "--dry-run"), "delete     Keep")
		require.Contains(t, u.ok("apply", "-f", writeFile(t, "bots.yaml", "bots: []\n"), "--prune", "--yes"), "deleted    Keep")
		require.Empty(t, u.bots(), "bots: [] says no bots")
	})

	t.Run("AFileBotIsTheBotWhoseNameTheServiceComparesAsTheSame", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		u.createBots("Support", "Straße")
		u.settle()
		before := u.bots()
		file := writeFile(t, "bots.yaml", "bots:\n- {name: support, model: gpt-4o-mini}\n- {name: STRASSE, model: gpt-4o-mini}\n")

		out := u.ok("apply", "-f", file, "--dry-run", "--prune")
		require.Equal(t, `update     support  name: "Support" -> "support"
update     STRASSE  name: "Straße" -> "STRASSE"
Plan: 0 to create, 2 to update, 0 unchanged, 0 to delete.
`, out)

		out = u.ok("apply", "-f", file, "--prune", "--yes")
		require.Contains(t, out, "updated    support\n")
		require.Contains(t, out, "updated    STRASSE\n")
		after := u.bots()
		require.Len(t, after, 2, "nothing created, nothing deleted")
		require.Equal(t, before["Support"].ID, after["support"].ID, "the bot is renamed as the file spells it")
		require.Equal(t, before["Straße"].ID, after["STRASSE"].ID)
		require.Contains(t, u.ok("apply", "-f", file, "--prune"), "Plan: 0 to create, 0 to update, 2 unchanged, 0 to delete.")
	})

	t.Run("AServiceRefusalFailsThatBotOnly", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		r := u.run("apply", "-f", writeFile(t, "bots.yaml", "bots:\n- {name: A, model: gpt-9}\n- {name: B, model: gpt-4o}\n"))
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.stderr, "A: 422 Unprocessable Entity")
		require.Contains(t, r.stderr, "body model: is not a known model")
		require.Equal(t, []string{"B"}, keys(u.bots()))
	})

	t.Run("TheFileMayComeOnStdin", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		stdin := func(e cli.Env) cli.Env {
			e.Stdin = strings.NewReader("bots:\n- {name: Piped, model: gpt-4o}\n")
			return e
		}
		r := u.runWith(stdin, "apply", "-f", "-")
		require.Equal(t, 0, r.code, r.seen())
		require.Equal(t, []string{"Piped"}, keys(u.bots()))
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func ptr[T any](v T) *T { return &v }
