package config_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/config"
	"github.com/chatsphere/bots/internal/webhook"
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

// TestTheContractStatesTheWebhookNumbers holds the numbers openapi.yaml's webhooks section
// promises to the values the service runs with: an attempt's timeout, and the defaults of
// WEBHOOK_RETRY_FOR and WEBHOOK_DISABLE_AFTER; and the settings table's longest backoff to
// the worker's.
func TestTheContractStatesTheWebhookNumbers(t *testing.T) {
	t.Parallel()
	spec, err := api.GetSwagger()
	require.NoError(t, err)
	tag := spec.Tags.Get("webhooks")
	require.NotNil(t, tag, "openapi.yaml has a webhooks tag")
	text := strings.Join(strings.Fields(tag.Description), " ")

	cfg := mustLoad(t, nil, false).Webhooks
	for _, promise := range []string{
		"on any `2xx` within " + spoken(webhook.RequestTimeout),
		"retried with exponential backoff for " + spoken(cfg.RetryFor),
		"every attempt has failed for " + spoken(cfg.DisableAfter) + " is disabled",
	} {
		require.Contains(t, text, promise)
	}

	for _, s := range config.Settings {
		if s.Name == "WEBHOOK_RETRY_BACKOFF" {
			require.Contains(t, s.Meaning, "(at most "+strings.TrimSuffix(strings.TrimSuffix(webhook.MaxBackoff.String(), "0s"), "0m")+")")
		}
	}
}

// spoken writes a duration as the contract's prose does: whole days above one day, else whole
// hours ("24 hours"), else seconds.
func spoken(d time.Duration) string {
	n, unit := int64(d/time.Second), "second"
	switch {
	case d > 24*time.Hour && d%(24*time.Hour) == 0:
		n, unit = int64(d/(24*time.Hour)), "day"
	case d%time.Hour == 0:
		n, unit = int64(d/time.Hour), "hour"
	}
	if n != 1 {
		unit += "s"
	}
	return strconv.FormatInt(n, 10) + " " + unit
}
