package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/botsproc"
	"github.com/chatsphere/bots/internal/dbtest"
)

// readmeBase is the server address the README's walkthrough uses; the test points it at its
// own server.
const readmeBase = "http://127.0.0.1:8080"

var (
	// walkthroughBlock is a shell block the README marks as runnable.
	walkthroughBlock = regexp.MustCompile("(?m)^<!-- walkthrough -->\n```sh\n((?s:.*?))^```$")
	readmeSecret     = regexp.MustCompile(`(?m)^export JWT_SECRET=(\S+)`)
	taskfileSecret   = regexp.MustCompile(`(?m)^\s*DEV_SECRET:\s*(\S+)\s*$`)
	// curlCall is a curl command and its options, up to its first argument that is not one.
	curlCall = regexp.MustCompile(`\bcurl((?:\s+-[A-Za-z]+)*)`)
)

// TestReadmeWalkthrough pastes the README's walkthrough into bash twice in a row, as a
// newcomer would, against a real `bots serve` built from this tree. Every block runs with
// `set -euo pipefail` and every curl with -f, so an unexpected status (a 412 from a stale
// ETag, a 409 from a name taken by the first run, a 404) fails the test.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "grep", "sed", "cut", "tr"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "the walkthrough needs %s", tool)
	}

	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	var blocks []string
	for _, m := range walkthroughBlock.FindAllStringSubmatch(string(readme), -1) {
		blocks = append(blocks, m[1])
	}
	require.GreaterOrEqual(t, len(blocks), 8, "the README marks too few walkthrough blocks")
	script := strings.Join(blocks, "\n")

	for _, call := range curlCall.FindAllStringSubmatch(script, -1) {
		require.Regexp(t, `-[A-Za-z]*f`, call[1], "every curl of the walkthrough fails on an error status (-f): %q", call[0])
	}
	require.Equal(t, 1, strings.Count(script, readmeBase), "the walkthrough names its server's address once, in its set-up")

	// The walkthrough signs its tokens with the development secret `go tool task run` serves with.
	secret := readmeSecret.FindStringSubmatch(script)
	require.NotNil(t, secret, "the walkthrough does not export JWT_SECRET")
	taskfile, err := os.ReadFile("../../Taskfile.yml")
	require.NoError(t, err)
	devSecret := taskfileSecret.FindSubmatch(taskfile)
	require.NotNil(t, devSecret, "Taskfile.yml has no DEV_SECRET")
	require.Equal(t, string(devSecret[1]), secret[1], "the README's secret is not the one `go tool task run` serves with")

	dir := t.TempDir()
	bin, err := botsproc.Binary()
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.Symlink(bin, filepath.Join(dir, "bin", "bots")))
	srv := startBinary(t, map[string]string{
		"DATABASE_URL": dbtest.URL(t), "LISTEN_ADDR": "127.0.0.1:0", "JWT_SECRET": secret[1],
	})
	script = strings.Replace(script, readmeBase, srv.URL(), 1)

	ctx, cancel := context.WithTimeout(t.Context(), 4*appWaitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\n"+script+"\n"+script)
	cmd.Dir = dir // where bin/bots is, as in the repository's folder
	cmd.Env = withoutEnv(os.Environ(), "JWT_SECRET", "BASE", "API", "T", "H", "J", "R", "ID", "ETAG")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the walkthrough failed; it printed:\n%s", out)
}

// withoutEnv returns env without the named variables, so that the walkthrough sets up
// everything itself.
func withoutEnv(env []string, names ...string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			out = append(out, kv)
		}
	}
	return out
}
