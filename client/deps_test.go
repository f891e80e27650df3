package client_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The SDK, and the generated client under it, are for programs that only call the API: they
// must not bring the server with it (Echo, kin-openapi, the JSON-schema validator, pgx) nor
// anything of the service's own.
func TestTheSDKDoesNotLinkTheServer(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "github.com/chatsphere/bots/client").CombinedOutput()
	require.NoError(t, err, string(out))
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/chatsphere/bots/gen/client")
	for _, d := range deps {
		for _, server := range []string{"github.com/labstack/echo", "github.com/getkin/kin-openapi",
			"github.com/santhosh-tekuri/jsonschema", "github.com/chatsphere/bots/internal",
			"github.com/chatsphere/bots/gen/api", "github.com/chatsphere/bots/gen/db", "github.com/jackc/pgx"} {
			require.False(t, strings.HasPrefix(d, server), "the SDK depends on %s", d)
		}
	}
}
