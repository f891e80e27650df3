package botsproc_test

import (
	"bytes"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/botsproc"
	"github.com/chatsphere/bots/internal/dbtest"
)

const secret = "botsproc-test-secret-0123456789abcdefgh"

func TestMain(m *testing.M) {
	defer botsproc.RemoveBinary()
	m.Run()
}

// lockedBuffer is a bytes.Buffer that the process's output goroutine and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	t.Parallel()
	url := dbtest.URL(t)
	env := []string{"DATABASE_URL=" + url, "LISTEN_ADDR=127.0.0.1:0", "JWT_SECRET=" + secret}

	t.Run("ServeIsReadyWhenItListensAndStopsCleanlyOnSIGTERM", func(t *testing.T) {
		t.Parallel()
		var log lockedBuffer
		p, err := botsproc.Start(botsproc.Config{
			Args: []string{"serve"}, Env: append(env, "DEBUG_ADDR=127.0.0.1:0"), Log: &log,
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Kill() })
		require.NotEmpty(t, p.ProfilerAddr)
		res, err := http.Get(p.URL() + "/healthz")
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		res, err = http.Get("http://" + p.ProfilerAddr + "/debug/pprof/")
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)

		require.NoError(t, p.Stop())
		require.Contains(t, log.String(), `"msg":"listening"`)
		require.Contains(t, log.String(), `"msg":"stopped"`, "Stop returned before the log was read to its end")
		require.NoError(t, p.Kill(), "killing a process that has exited does nothing")
	})

	t.Run("AWorkerIsReadyWhenItWorks", func(t *testing.T) {
		t.Parallel()
		p, err := botsproc.Start(botsproc.Config{Args: []string{"worker"}, Env: env})
		require.NoError(t, err)
		require.Empty(t, p.Addr)
		require.NoError(t, p.Kill())
		require.Error(t, p.Wait(), "a killed process did not exit cleanly")
	})

	t.Run("AProcessThatStopsBeforeItIsReadyIsAnErrorQuotingItsStandardError", func(t *testing.T) {
		t.Parallel()
		_, err := botsproc.Start(botsproc.Config{Args: []string{"serve"}, Env: append(env, "JWT_SECRET=short")})
		require.ErrorContains(t, err, "bots serve stopped before it was ready")
		require.ErrorContains(t, err, "JWT_SECRET")
	})
}
