//go:build reliability && ha

package reliability

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// pgBin is the folder of PostgreSQL 15's programs, from Debian's postgresql-15 package.
const pgBin = "/usr/lib/postgresql/15/bin"

// node is one PostgreSQL server of the drill's own, in a folder of its own on a free port.
type node struct {
	t    *testing.T
	name string
	dir  string
	port int
}

// asPostgres runs a PostgreSQL program as the postgres user: the server refuses to run as
// root.
func asPostgres(t *testing.T, program string, args ...string) {
	t.Helper()
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pgBin, program)}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s: %s", program, strings.Join(args, " "), out)
}

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// workDir is a folder for the drill's clusters and files, owned by postgres, removed when t
// ends.
func workDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bots-ha-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	pg, err := user.Lookup("postgres")
	require.NoError(t, err)
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	require.NoError(t, os.Chown(dir, uid, gid))
	return dir
}

// newCluster makes a primary and its synchronous hot standby standby1 in a work folder of
// their own, waits until the standby is synchronous and creates the service's database.
func newCluster(t *testing.T) (base string, primary, standby *node) {
	t.Helper()
	base = workDir(t)
	primary = newPrimary(t, base, "standby1")
	standby = newStandby(t, base, "standby1", primary)
	primary.waitSync()
	primary.exec("postgres", "CREATE DATABASE chatsphere")
	return base, primary, standby
}

// newPrimary makes and starts a primary that commits only once the standby named standby
// has the commit too (synchronous replication).
func newPrimary(t *testing.T, base, standby string) *node {
	t.Helper()
	n := &node{t: t, name: "primary", dir: filepath.Join(base, "primary"), port: freePort(t)}
	asPostgres(t, "initdb", "-D", n.dir, "-A", "trust", "-U", "postgres", "--no-sync")
	n.configure(
		"wal_level = replica",
		"max_wal_senders = 5",
		"wal_keep_size = '256MB'",
		"max_connections = 200",
		"synchronous_commit = on",
		fmt.Sprintf("synchronous_standby_names = '%s'", standby),
	)
	n.start()
	return n
}

// newStandby makes a hot standby of primary by base backup, named name for synchronous
// replication, and starts it. Its own settings name no synchronous standby, so that once
// promoted it commits alone.
func newStandby(t *testing.T, base, name string, primary *node) *node {
	t.Helper()
	n := &node{t: t, name: name, dir: filepath.Join(base, name), port: freePort(t)}
	asPostgres(t, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(primary.port), "-U", "postgres",
		"-D", n.dir, "-X", "stream", "--no-sync")
	n.configure(
		fmt.Sprintf("primary_conninfo = 'host=127.0.0.1 port=%d user=postgres application_name=%s'", primary.port, name),
		"synchronous_standby_names = ''",
		"hot_standby = on",
	)
	standbySignal := filepath.Join(n.dir, "standby.signal")
	require.NoError(t, os.WriteFile(standbySignal, nil, 0o600))
	n.chownAll(standbySignal)
	n.start()
	return n
}

// configure appends settings to the node's postgresql.conf (later lines win), with its port
// and a socket folder of its own.
func (n *node) configure(settings ...string) {
	n.t.Helper()
	conf := filepath.Join(n.dir, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(n.t, err)
	defer f.Close()
	all := append([]string{
		"listen_addresses = '127.0.0.1'",
		fmt.Sprintf("port = %d", n.port),
		fmt.Sprintf("unix_socket_directories = '%s'", n.dir),
		"fsync = on",
	}, settings...)
	_, err = f.WriteString("\n# bots failover drill\n" + strings.Join(all, "\n") + "\n")
	require.NoError(n.t, err)
}

func (n *node) chownAll(path string) {
	pg, err := user.Lookup("postgres")
	require.NoError(n.t, err)
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	require.NoError(n.t, os.Chown(path, uid, gid))
}

func (n *node) start() {
	n.t.Helper()
	asPostgres(n.t, "pg_ctl", "-D", n.dir, "-l", filepath.Join(n.dir, "server.log"), "-w", "start")
	n.t.Cleanup(func() {
		_ = exec.Command("runuser", "-u", "postgres", "--", filepath.Join(pgBin, "pg_ctl"),
			"-D", n.dir, "-m", "immediate", "stop").Run()
	})
}

// kill ends the node's postmaster with SIGKILL, as a crash of its machine would.
func (n *node) kill() {
	n.t.Helper()
	raw, err := os.ReadFile(filepath.Join(n.dir, "postmaster.pid"))
	require.NoError(n.t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
	require.NoError(n.t, err)
	require.NoError(n.t, syscall.Kill(pid, syscall.SIGKILL))
}

// promote makes a standby the primary and waits until it accepts writes.
func (n *node) promote() {
	n.t.Helper()
	asPostgres(n.t, "pg_ctl", "-D", n.dir, "-w", "promote")
}

// url is the node's connection string for database db.
func (n *node) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", n.port, db)
}

// exec runs sql on database db of the node.
func (n *node) exec(db, sql string) {
	n.t.Helper()
	conn, err := pgx.Connect(context.Background(), n.url(db))
	require.NoError(n.t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), sql)
	require.NoError(n.t, err)
}

// waitSync waits until the primary streams to a synchronous standby.
func (n *node) waitSync() {
	n.t.Helper()
	conn, err := pgx.Connect(context.Background(), n.url("postgres"))
	require.NoError(n.t, err)
	defer conn.Close(context.Background())
	require.Eventually(n.t, func() bool {
		var state string
		err := conn.QueryRow(context.Background(), "SELECT sync_state FROM pg_stat_replication LIMIT 1").Scan(&state)
		return err == nil && state == "sync"
	}, 30*time.Second, 100*time.Millisecond, "the standby never became synchronous")
}

// balancer is HAProxy in front of the API replicas, sending each request to one that answers
// /readyz with 200.
type balancer struct {
	URL string
}

// startBalancer runs HAProxy in the foreground on a free port until t ends.
func startBalancer(t *testing.T, base string, replicas []string) *balancer {
	t.Helper()
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Fatal("haproxy is not installed: `go tool task ha` installs it (apt-get install haproxy)")
	}
	port := freePort(t)
	var servers strings.Builder
	for i, addr := range replicas {
		fmt.Fprintf(&servers, "    server api%d %s check\n", i+1, addr)
	}
	cfg := fmt.Sprintf(`global
    maxconn 2000
defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout tunnel 5m
    retries 2
    option redispatch
frontend api
    bind 127.0.0.1:%d
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 250ms fall 2 rise 2
%s`, port, servers.String())
	file := filepath.Join(base, "haproxy.cfg")
	require.NoError(t, os.WriteFile(file, []byte(cfg), 0o600))
	cmd := exec.Command("haproxy", "-f", file, "-db")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	b := &balancer{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	require.Eventually(t, func() bool {
		res, err := http.Get(b.URL + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 15*time.Second, 100*time.Millisecond, "HAProxy never found a ready replica")
	return b
}
