package cli_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVersionCommands(t *testing.T) {
	t.Parallel()
	url := startServer(t)

	t.Run("VersionsDiffRevertAndAliases", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		u.create("--name", "Support", "--model", "gpt-4o-mini", "--temperature", "0.3")
		u.ok("watch", "Support")
		u.ok("edit", "Support", "--temperature", "0.7") // active at once: version 2

		var versions []map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("versions", "Support", "-o", "json")), &versions))
		require.Len(t, versions, 2)
		require.EqualValues(t, 2, versions[0]["number"], "newest first")
		require.Equal(t, "update", versions[0]["source"])
		require.Regexp(t, `(?m)^2 +active +gpt-4o-mini +0\.7 +update `, u.ok("versions", "Support"))

		require.Equal(t, "replace  /temperature  0.7\n", u.ok("diff", "Support", "2"))
		require.JSONEq(t, `[{"op":"replace","path":"/temperature","value":0.3}]`, u.ok("diff", "Support", "1", "--against", "2", "-o", "json"))
		require.Equal(t, "no difference\n", u.ok("diff", "Support", "2", "--against", "2"))

		var reverted []map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("revert", "Support", "1", "-o", "json")), &reverted))
		require.EqualValues(t, 3, reverted[0]["number"])
		require.EqualValues(t, 1, reverted[0]["reverted_from"])
		require.Equal(t, "active", reverted[0]["status"], "a revert to an active version is active at once")

		require.Regexp(t, `(?m)^production +3 +`, u.ok("alias", "set", "Support", "production", "3"))
		require.Regexp(t, `(?m)^canary +2 +`, u.ok("alias", "set", "Support", "canary", "2"))
		var aliases []map[string]any
		require.NoError(t, json.Unmarshal([]byte(u.ok("alias", "list", "Support", "-o", "json")), &aliases))
		require.Len(t, aliases, 2)
		require.Equal(t, "canary", aliases[0]["name"])
		require.Equal(t, "removed alias canary\n", u.ok("alias", "rm", "Support", "canary"))
		require.NoError(t, json.Unmarshal([]byte(u.ok("alias", "list", "Support", "-o", "json")), &aliases))
		require.Len(t, aliases, 1)

		// Claude 3 Haiku supports temperatures up to 1: version 4 trains into error.
		u.ok("edit", "Support", "--model", "claude-3-haiku", "--temperature", "1.5")
		require.Equal(t, 1, u.run("watch", "Support").code)
		r := u.run("alias", "set", "Support", "production", "4")
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.seen(), "409 Conflict")

		for _, args := range [][]string{{"diff", "Support", "x"}, {"alias", "set", "Support", "production"}, {"alias", "move", "Support"}, {"revert", "Support", "0"},
			{"diff", "Support", "2", "--against", "0"}, {"diff", "Support", "2", "--against", "4294967298"}} {
			require.Equal(t, 2, u.run(args...).code, "%v is a usage error", args)
		}
	})

	t.Run("TheDiffOfVersionOneNeedsAgainst", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		u.create("--name", "Support", "--model", "gpt-4o-mini", "--temperature", "0.3")
		u.ok("watch", "Support")
		u.ok("edit", "Support", "--temperature", "0.7")
		r := u.run("diff", "Support", "1")
		require.Equal(t, 2, r.code, r.seen())
		require.Contains(t, r.err.Error(), "diff: version 1 has no previous version to compare with; give --against m")
		require.NotContains(t, r.seen(), "query parameter", "the person typed no query parameter")
		require.Equal(t, "replace  /temperature  0.3\n", u.ok("diff", "Support", "1", "--against", "2"))
	})

	t.Run("ApplySetsAliasesAndSaysWhenAVersionIsNotActive", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, url)
		file := writeFile(t, "bots.yaml", "bots:\n- name: Support\n  model: gpt-4o-mini\n  aliases: {production: 1}\n")
		out := u.ok("apply", "-f", file)
		require.Contains(t, out, "create     Support  alias production: new -> 1\n")
		require.Contains(t, out, "aliased    Support  production -> 1\n", "apply waits for the new bot's training to alias it")
		require.Contains(t, u.ok("export"), "  aliases:\n      production: 1\n")
		require.Contains(t, u.ok("apply", "-f", file), "unchanged  Support\n")

		u.ok("edit", "Support", "--model", "claude-3-haiku", "--temperature", "1.5") // version 2 trains into error
		u.run("watch", "Support")
		file = writeFile(t, "bots.yaml", "bots:\n- name: Support\n  model: claude-3-haiku\n  temperature: 1.5\n  aliases: {production: 2}\n")
		r := u.run("apply", "-f", file)
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.stdout, "update     Support  alias production: 1 -> 2\n")
		require.Contains(t, r.stderr, "Support: alias production: version 2 is not active (yet)")

		file = writeFile(t, "bots.yaml", "bots:\n- name: Support\n  model: claude-3-haiku\n  temperature: 1.5\n  aliases: {production: 9}\n")
		r = u.run("apply", "-f", file)
		require.Equal(t, 1, r.code, r.seen())
		require.Contains(t, r.stderr, "Support: alias production: the bot has no version 9")
	})
}
