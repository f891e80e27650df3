//go:build reliability

package reliability

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/botsproc"
	"github.com/chatsphere/bots/internal/dbtest"
)

// TestWebhookReceiverDownThroughRestartAndKill: while a webhook's receiver is down, bots are
// created under load, PostgreSQL restarts and the server is killed with SIGKILL (a new one
// takes over). Once the receiver is back, it must get every event of the user's bots (so
// every event of every acknowledged write), each with a valid signature.
func TestWebhookReceiverDownThroughRestartAndKill(t *testing.T) {
	needRoot(t)
	url := dbtest.URL(t)
	env := []string{"WEBHOOK_ALLOW_HTTP=true", "WEBHOOK_ALLOW_PRIVATE=true", "WEBHOOK_RETRY_BACKOFF=200ms",
		"TRAINING_JOB_TIMEOUT=5s", "TRAINING_RESCUE_AFTER=25s"}
	var current atomic.Pointer[botsproc.Process]
	current.Store(startServer(t, url, env...))
	user, tok := token(t)

	// The receiver's address is taken, then let go: nothing listens there until it comes back.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	secret := registerWebhook(t, current.Load().URL(), tok, "http://"+addr+"/hook")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := newStats()
	var load sync.WaitGroup
	load.Go(func() { createLoad(ctx, func() string { return current.Load().URL() }, tok, 4, 20000, st) })
	receiverDown := time.Now()

	time.Sleep(2 * time.Second)
	took, recovered := restartPostgres(t, current.Load())
	time.Sleep(2 * time.Second)
	require.NoError(t, current.Load().Kill())
	current.Store(startServer(t, url, env...))
	time.Sleep(2 * time.Second)
	cancel()
	load.Wait()

	rec := &signedReceiver{secret: secret, got: map[string]int{}, first: map[string]time.Time{}}
	back, err := net.Listen("tcp", addr)
	require.NoError(t, err, "the receiver's address was taken meanwhile")
	hook := &http.Server{Handler: rec, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hook.Serve(back) }()
	t.Cleanup(func() { _ = hook.Close() })
	receiverUp := time.Now()

	pool := openPool(t, url)
	lost := missing(t, pool, st.acked)
	require.Empty(t, lost, "acknowledged creates are in the database")
	var want []string
	deadline := time.Now().Add(3 * time.Minute)
	for {
		// Every event of the user's bots, trainings included; and no delivery left to send.
		var pending int
		require.NoError(t, pool.QueryRow(context.Background(), `
			SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'`).Scan(&pending))
		rows, err := pool.Query(context.Background(), `
			SELECT 'evt_' || e.id FROM bot_events e JOIN bots b ON b.id = e.bot_id WHERE b.owner_id = $1`, user)
		require.NoError(t, err)
		want = want[:0]
		for rows.Next() {
			var id string
			require.NoError(t, rows.Scan(&id))
			want = append(want, id)
		}
		require.NoError(t, rows.Err())
		if missed := rec.missing(want); len(missed) == 0 && pending == 0 {
			break
		} else if time.Now().After(deadline) {
			require.Failf(t, "events never delivered", "%d of %d events not received, %d deliveries pending; for example %v",
				len(missed), len(want), pending, missed[:min(5, len(missed))])
		}
		time.Sleep(200 * time.Millisecond)
	}
	allIn := time.Since(receiverUp)

	var failed int
	require.NoError(t, pool.QueryRow(context.Background(), `
		SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'`).Scan(&failed))
	received, extra, bad := rec.counts()
	half, most := rec.arrivals(receiverUp)
	report(t, "%s; PostgreSQL restart took %s, ready again after %s; receiver down %s; events %d, "+
		"received %d (%d more than once), bad signatures %d, deliveries not delivered %d; after the receiver came back, "+
		"half in %s, 99%% in %s, all in %s (deliveries the killed server was sending wait for TRAINING_RESCUE_AFTER); acknowledged writes lost: %d",
		st, took.Round(time.Millisecond), recovered.Round(time.Millisecond), receiverUp.Sub(receiverDown).Round(time.Millisecond),
		len(want), received, extra, bad, failed, half.Round(time.Millisecond), most.Round(time.Millisecond), allIn.Round(time.Millisecond), len(lost))
	require.Positive(t, st.byStatus[http.StatusCreated])
	require.Zero(t, bad, "every delivery carries a valid signature")
	require.Zero(t, failed, "every delivery ended delivered")
	require.GreaterOrEqual(t, len(want), 2*len(st.acked), "each acknowledged create has its created and status events")
}

// registerWebhook registers a webhook for every event type of the caller at hook and returns
// its secret.
func registerWebhook(t *testing.T, base, tok, hook string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"url": hook, "events": []string{"*"}})
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/webhooks", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	require.Equal(t, http.StatusCreated, res.StatusCode, string(raw))
	var created struct{ Secret string }
	require.NoError(t, json.Unmarshal(raw, &created))
	return created.Secret
}

// signedReceiver is a webhook receiver that checks each delivery's signature as Standard
// Webhooks specifies (written out here, not the server's code) and counts deliveries by
// webhook-id.
type signedReceiver struct {
	secret string
	mu     sync.Mutex
	got    map[string]int
	first  map[string]time.Time // when each message first came
	bad    int
}

func (r *signedReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id, ts := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.secret, "whsec_"))
	valid := false
	if err == nil {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		for _, sig := range strings.Fields(req.Header.Get("webhook-signature")) {
			valid = valid || hmac.Equal([]byte(sig), []byte(want))
		}
	}
	var event struct{ ID int64 }
	valid = valid && json.Unmarshal(body, &event) == nil && id == fmt.Sprintf("evt_%d", event.ID)
	r.mu.Lock()
	if valid {
		if r.got[id] == 0 {
			r.first[id] = time.Now()
		}
		r.got[id]++
	} else {
		r.bad++
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// missing returns the ids of want not received yet.
func (r *signedReceiver) missing(want []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, id := range want {
		if r.got[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// arrivals returns how long after since half and 99% of the messages had first come.
func (r *signedReceiver) arrivals(since time.Time) (p50, p99 time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []time.Duration
	for _, at := range r.first {
		all = append(all, at.Sub(since))
	}
	if len(all) == 0 {
		return 0, 0
	}
	slices.Sort(all)
	return all[len(all)/2], all[len(all)*99/100]
}

// counts returns how many distinct messages came, how many deliveries repeated one, and how
// many carried a bad signature.
func (r *signedReceiver) counts() (received, extra, bad int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.got {
		received++
		extra += n - 1
	}
	return received, extra, r.bad
}
