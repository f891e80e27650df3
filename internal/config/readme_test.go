package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/config"
)

// TestReadmeConfigurationTableIsTheSettings compares the README's configuration table, row by
// row, with config.Settings, which `bots help` prints.
func TestReadmeConfigurationTableIsTheSettings(t *testing.T) {
	t.Parallel()

	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, section, found := strings.Cut(string(readme), "\n## Configuration\n")
	require.True(t, found, "the README has no Configuration section")
	const header = "| variable | default | meaning |\n|---|---|---|\n"
	_, table, found := strings.Cut(section, "\n"+header)
	require.True(t, found, "the Configuration section has no table headed %q", header)

	var got [][3]string
	for line := range strings.Lines(table) {
		line = strings.TrimRight(line, "\n")
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "| "), " |"), " | ")
		require.Len(t, cells, 3, "a row of the table has three cells: %q", line)
		got = append(got, [3]string(cells))
	}

	var want [][3]string
	for _, s := range config.Settings {
		shown := s.Unset
		if s.Default != "" {
			shown = "`" + s.Default + "`"
		}
		want = append(want, [3]string{"`" + s.Name + "`", shown, s.Meaning})
	}
	require.Equal(t, want, got)
}
