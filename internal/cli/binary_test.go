package cli_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/botsproc"
)

// The binary's exit status is what scripts rely on: 0 done, 1 failed, 2 a command line that
// cannot run. This runs the real binary, so that main's use of it is checked too.
func TestTheBinaryExitsWithTheCommandsStatus(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	bin, err := botsproc.Binary()
	require.NoError(t, err)
	u := newUser(t, url)

	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"list"}, 0, "ID"},
		{[]string{"get", uuid.NewString()}, 1, "bots: 404 Not Found"},
		{[]string{"delete", uuid.NewString()}, 2, "give --yes"},
		{[]string{"list", "--frobnicate"}, 2, "usage: bots list"},
		{[]string{"launch"}, 2, `unknown command "launch"`},
		{[]string{"token", "--ttl"}, 2, "usage: bots token"},
	} {
		cmd := exec.Command(bin, c.args...)
		// Stdin is not a terminal here (it is /dev/null), whatever runs the tests.
		cmd.Env = append(os.Environ(), "BOTS_API_URL="+url, "BOTS_TOKEN="+u.token)
		out, err := cmd.CombinedOutput()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		require.Equal(t, c.code, code, "bots %s:\n%s", strings.Join(c.args, " "), out)
		require.Contains(t, string(out), c.says)
	}
}
