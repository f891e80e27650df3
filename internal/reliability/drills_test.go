//go:build reliability

package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/peterldowns/pgtestdb"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/botsproc"
	"github.com/chatsphere/bots/internal/dbtest"
)

func openPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// report logs a drill's figures in one line that the closing note can quote.
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURES %s: %s", t.Name(), fmt.Sprintf(format, args...))
}

// restartPostgres restarts the machine's PostgreSQL and waits until srv is ready again; it
// returns how long the restart took and how long after it srv said it was ready.
func restartPostgres(t *testing.T, srv *botsproc.Process) (took, recovered time.Duration) {
	t.Helper()
	versions, err := os.ReadDir("/etc/postgresql")
	require.NoError(t, err)
	version := versions[len(versions)-1].Name()
	down := time.Now()
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart").CombinedOutput()
	require.NoError(t, err, string(out))
	back := time.Now()
	for time.Since(back) < 15*time.Second {
		res, err := http.Get(srv.URL() + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return back.Sub(down), time.Since(back)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.FailNow(t, "the service did not become ready again")
	return 0, 0
}

// needRoot skips a drill that restarts the machine's PostgreSQL when it cannot.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("restarting PostgreSQL needs root (pg_ctlcluster)")
	}
}

func TestPostgresRestartDuringWrites(t *testing.T) {
	needRoot(t)
	url := dbtest.URL(t)
	srv := startServer(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, wait := startLoad(ctx, t, srv, 8)

	time.Sleep(3 * time.Second)
	took, recovered := restartPostgres(t, srv)
	wait()

	pool := openPool(t, url)
	lost := missing(t, pool, st.acked)
	report(t, "%s; restart took %s; ready again %s after the database was back; acknowledged writes lost: %d",
		st, took.Round(time.Millisecond), recovered.Round(time.Millisecond), len(lost))
	require.Empty(t, lost)
	require.Zero(t, st.byStatus[http.StatusInternalServerError], "an outage is a 503, never a 500")
	require.Positive(t, st.byStatus[http.StatusCreated])
}

func TestTerminatedBackendsDuringWrites(t *testing.T) {
	url := dbtest.URL(t)
	srv := startServer(t, url)
	pool := openPool(t, url)
	var dbName string
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT current_database()").Scan(&dbName))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, wait := startLoad(ctx, t, srv, 8)
	killed := 0
	for ctx.Err() == nil {
		var n int
		err := pool.QueryRow(context.Background(), `
			SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> 'drill'`, dbName).Scan(&n)
		if err == nil {
			killed += n
		}
		time.Sleep(300 * time.Millisecond)
	}
	wait()
	lost := missing(t, pool, st.acked)
	report(t, "%s; backends terminated: %d; acknowledged writes lost: %d", st, killed, len(lost))
	require.Empty(t, lost)
	require.Positive(t, killed)
	require.Zero(t, st.byStatus[http.StatusInternalServerError])
	require.Zero(t, halfWritten(t, pool))
}

func TestKilledServerDuringWrites(t *testing.T) {
	url := dbtest.URL(t)
	srv := startServer(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	st, wait := startLoad(ctx, t, srv, 8)
	time.Sleep(2 * time.Second)
	require.NoError(t, srv.Kill())
	time.Sleep(500 * time.Millisecond)
	cancel()
	wait()

	pool := openPool(t, url)
	lost := missing(t, pool, st.acked)
	half := halfWritten(t, pool)
	var rows int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM bots").Scan(&rows))
	report(t, "%s; rows in the table: %d; acknowledged writes lost: %d; half-written bots: %d", st, rows, len(lost), half)
	require.Empty(t, lost)
	require.Zero(t, half)

	// A new server finishes what the dead one left in training.
	startServer(t, url, "TRAINING_RESCUE_AFTER=3s", "TRAINING_JOB_TIMEOUT=2s")
	deadline := time.Now().Add(60 * time.Second)
	for {
		var training int
		require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM bots WHERE status = 'training'").Scan(&training))
		if training == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "%d bots still training", training)
		time.Sleep(100 * time.Millisecond)
	}
}

func TestTwoReplicasShareOneDatabase(t *testing.T) {
	// An empty database: both replicas migrate it at the same time.
	url := pgtestdb.Custom(t, dbtest.Config(), pgtestdb.NoopMigrator{}).URL()
	var a, b *botsproc.Process
	var wg sync.WaitGroup
	wg.Go(func() { a = startServer(t, url) })
	wg.Go(func() { b = startServer(t, url) })
	wg.Wait()
	_, tok := token(t)
	client := &http.Client{Timeout: 15 * time.Second}
	send := func(base, method, path string, body any, header map[string]string) (int, http.Header, []byte) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, []byte(err.Error())
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(res.Body)
		return res.StatusCode, res.Header, buf.Bytes()
	}

	// Interleaved writes: the same names sent to both replicas at once; exactly one wins each.
	const names = 50
	codes := make([][2]int, names)
	var cw sync.WaitGroup
	for i := range names {
		for r, base := range []string{a.URL(), b.URL()} {
			cw.Go(func() {
				codes[i][r], _, _ = send(base, http.MethodPost, "/api/v1/bots", map[string]any{"name": fmt.Sprintf("Shared %d", i), "model": "gpt-4o"}, nil)
			})
		}
	}
	cw.Wait()
	for _, c := range codes {
		require.ElementsMatch(t, []int{http.StatusCreated, http.StatusConflict}, []int{c[0], c[1]})
	}

	// If-Match holds across replicas: one ETag, one PUT to each replica, one wins.
	code, header, body := send(a.URL(), http.MethodPost, "/api/v1/bots", map[string]any{"name": "Contested", "model": "gpt-4o"}, nil)
	require.Equal(t, http.StatusCreated, code, string(body))
	loc, tag := header.Get("Location"), header.Get("ETag")
	put := make([]int, 2)
	var pw sync.WaitGroup
	for r, base := range []string{a.URL(), b.URL()} {
		pw.Go(func() {
			put[r], _, _ = send(base, http.MethodPut, loc, map[string]any{"description": fmt.Sprintf("by replica %d", r)}, map[string]string{"If-Match": tag})
		})
	}
	pw.Wait()
	require.ElementsMatch(t, []int{http.StatusOK, http.StatusPreconditionFailed}, put)

	pool := openPool(t, url)
	var applied int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM schema_migrations").Scan(&applied))
	report(t, "names raced: %d (each: one 201, one 409); conditional PUTs: %v; migrations recorded once each: %d",
		names, put, applied)
}

func TestSIGTERMDuringLoad(t *testing.T) {
	url := dbtest.URL(t)
	srv := startServer(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, wait := startLoad(ctx, t, srv, 16)
	time.Sleep(2 * time.Second)
	err := srv.Stop() // SIGTERM
	stopped := time.Now()
	time.Sleep(500 * time.Millisecond)
	cancel()
	wait()

	pool := openPool(t, url)
	lost := missing(t, pool, st.acked)
	cut := 0
	for kind, n := range st.transport {
		if !strings.HasPrefix(kind, "connection refused") {
			cut += n
		}
	}
	report(t, "%s; exit: %v at %s; requests cut mid-flight: %d; acknowledged writes lost: %d",
		st, err, stopped.Format(time.TimeOnly), cut, len(lost))
	require.NoError(t, err, "a SIGTERM is a clean stop")
	require.Zero(t, cut, "no request that had started may be cut")
	require.Empty(t, lost)
}
