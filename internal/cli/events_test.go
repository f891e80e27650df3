package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestEventsCommand(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	u := newUser(t, url)
	u.createBots("Audited")
	u.ok("watch", "Audited")
	u.ok("edit", "Audited", "--description", "Answers billing questions")

	var events []map[string]any
	require.NoError(t, json.Unmarshal([]byte(u.ok("events", "Audited", "-o", "json")), &events))
	var types []string
	for _, e := range events {
		types = append(types, e["type"].(string))
	}
	require.Equal(t, []string{"bot.updated", "bot.status_changed", "version.created", "bot.created"}, types, "newest first")
	require.Equal(t, "system", events[1]["actor"], "training is the system's")
	require.Equal(t, map[string]any{"patch": []any{map[string]any{
		"op": "replace", "path": "/description", "value": "Answers billing questions"}}}, events[0]["data"])
	var fromYAML []map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(u.ok("events", "Audited", "-o", "yaml")), &fromYAML))
	require.Equal(t, events[0]["data"], fromYAML[0]["data"], "-o yaml prints the data as a value, not as bytes")

	table := u.ok("events", "Audited", "--type", "bot.updated")
	require.Regexp(t, `(?m)^ID +TYPE +ACTOR +TIME +DATA\n\d+ +bot\.updated +[0-9a-f-]{36} +\S+ +\{"patch"`, table)
	require.NotContains(t, table, "bot.created", "the filter keeps one type")

	refused := u.run("events", "Audited", "--type", "bot.renamed")
	require.Equal(t, 1, refused.code, refused.seen())
	require.Contains(t, refused.seen(), "422")
}

// -o json and -o yaml print a field the API sends as null as null, not leave it out.
func TestNullFieldsPrintAsNull(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	u := newUser(t, url)
	u.createBots("Nulls")
	watched := u.ok("watch", "Nulls", "-o", "json")

	// field reads one printed object's field, which must be there.
	field := func(t *testing.T, format, out, name string) any {
		t.Helper()
		var obj map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(out), &obj), out) // JSON is YAML
		v, ok := obj[name]
		require.True(t, ok, "-o %s prints %s:\n%s", format, name, out)
		return v
	}
	for _, format := range []string{"json", "yaml"} {
		require.Nil(t, field(t, format, u.ok("get", "Nulls", "-o", format), "status_message"))

		var versions, events []map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(u.ok("versions", "Nulls", "-o", format)), &versions))
		require.Contains(t, versions[0], "status_message")
		require.Nil(t, versions[0]["status_message"])
		require.Contains(t, versions[0], "reverted_from")
		require.Nil(t, versions[0]["reverted_from"])

		require.NoError(t, yaml.Unmarshal([]byte(u.ok("events", "Nulls", "--type", "bot.status_changed", "-o", format)), &events))
		require.Equal(t, "system", events[0]["actor"])
		require.Contains(t, events[0], "request_id")
		require.Nil(t, events[0]["request_id"], "the system's change has no request")
	}
	lines := strings.Split(strings.TrimSpace(watched), "\n")
	last := lines[len(lines)-1] // training -> active
	require.Nil(t, field(t, "json", last, "message"))
	require.Equal(t, "training", field(t, "json", last, "from_status"))
}
