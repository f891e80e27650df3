package bench

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/chatsphere/bots/internal/bots"
)

// benchAlias is the alias the seed gives every reconfigured bot and the alias scenario moves.
const benchAlias = "production"

// versionedBot is a bot of the dataset with several versions and an alias.
type versionedBot struct {
	ID, Owner uuid.UUID
	// Active are the numbers of its versions that were active when the sample was taken, in
	// order: an active version never changes again, so an alias can always point at them.
	Active []int32
}

// versionSample is what the versions and alias scenarios pick from: reconfigured bots of many
// users, and what each worker knows of the aliases of the bots it moves (see ownedOf).
type versionSample struct {
	bots []versionedBot
	// etags are the aliases' etags, for If-Match, -1 after a failure; at are the versions
	// they point at, 0 when unknown.
	etags []int64
	at    []int32
}

// loadVersioned samples live reconfigured bots with their alias.
func loadVersioned(ctx context.Context, pool *pgxpool.Pool) (versionSample, error) {
	type row struct {
		ID, Owner uuid.UUID
		Active    []int32
		Etag      int64
		At        int32
	}
	rows, err := pool.Query(ctx, `
		SELECT b.id, b.owner_id,
		       ARRAY(SELECT v.number FROM bot_versions v WHERE v.bot_id = b.id AND v.status = 'active' ORDER BY v.number),
		       a.etag, a.version
		FROM bots b JOIN bot_aliases a ON a.bot_id = b.id AND a.name = $1
		WHERE b.deleted_at IS NULL
		ORDER BY random() LIMIT 20000`, benchAlias)
	if err != nil {
		return versionSample{}, err
	}
	sampled, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return versionSample{}, err
	}
	var s versionSample
	for _, r := range sampled {
		if len(r.Active) < 2 { // nothing to compare or move between
			continue
		}
		s.bots = append(s.bots, versionedBot{ID: r.ID, Owner: r.Owner, Active: r.Active})
		s.etags, s.at = append(s.etags, r.Etag), append(s.at, r.At)
	}
	return s, nil
}

// twoVersions picks two different versions of b.
func twoVersions(w *worker, b versionedBot) (int32, int32) {
	i := w.rng.IntN(len(b.Active))
	j := (i + 1 + w.rng.IntN(len(b.Active)-1)) % len(b.Active)
	return b.Active[i], b.Active[j]
}

// aliasTarget picks an active version of bot i other than the one its alias points at, so
// that every put is a move.
func (s *versionSample) aliasTarget(w *worker, i int) int32 {
	for {
		v := s.bots[i].Active[w.rng.IntN(len(s.bots[i].Active))]
		if v != s.at[i] {
			return v
		}
	}
}

func versionsURL(b versionedBot) string { return "/api/v1/bots/" + b.ID.String() + "/versions" }

func aliasURL(b versionedBot) string {
	return "/api/v1/bots/" + b.ID.String() + "/aliases/" + benchAlias
}

func parseTag(tag string) int64 {
	n, _ := strconv.ParseInt(strings.Trim(tag, `"`), 10, 64)
	return n
}

// httpVersions reads, in turn at random, the first page of a bot's versions or the diff
// between two of its versions.
func httpVersions(ctx context.Context, h *httpConn, data *sample, w *worker) error {
	b := data.versioned.bots[w.rng.IntN(len(data.versioned.bots))]
	url := versionsURL(b) + "?limit=20"
	if w.rng.IntN(2) == 1 {
		n, m := twoVersions(w, b)
		url = fmt.Sprintf("%s/%d/diff?against=%d", versionsURL(b), n, m)
	}
	_, err := h.call(ctx, http.MethodGet, url, data.token(b.Owner), nil, nil, http.StatusOK)
	return err
}

// httpAlias moves the alias of one of the worker's bots to another active version, with
// If-Match holding the ETag of the previous move, as a client that read the alias would.
func httpAlias(ctx context.Context, h *httpConn, data *sample, w *worker) error {
	s := &data.versioned
	i := ownedOf(len(s.bots), w)
	b := s.bots[i]
	if s.etags[i] < 0 { // learn the current ETag after a failure
		tag, err := h.call(ctx, http.MethodGet, aliasURL(b), data.token(b.Owner), nil, nil, http.StatusOK)
		if err != nil {
			return err
		}
		s.etags[i], s.at[i] = parseTag(tag), 0
	}
	to := s.aliasTarget(w, i)
	tag, err := h.call(ctx, http.MethodPut, aliasURL(b), data.token(b.Owner), map[string]any{"version": to},
		map[string]string{"If-Match": `"` + strconv.FormatInt(s.etags[i], 10) + `"`}, http.StatusOK)
	if err != nil {
		s.etags[i] = -1
		return err
	}
	s.etags[i], s.at[i] = parseTag(tag), to
	return nil
}

// configWorkingSet is how many bots the config scenario reads: the bots in conversation on
// one replica at a time, which the runtime cache's default budget holds.
const configWorkingSet = 10_000

// configBots are the bots the config scenario reads.
func (s *versionSample) configBots() []versionedBot {
	return s.bots[:min(len(s.bots), configWorkingSet)]
}

func configURL(b versionedBot) string {
	return "/api/v1/bots/" + b.ID.String() + "/config?alias=" + benchAlias
}

// httpConfig is the chat runtime's read at the start of a conversation turn: the
// configuration a bot's alias serves.
func httpConfig(ctx context.Context, h *httpConn, data *sample, w *worker) error {
	set := data.versioned.configBots()
	b := set[w.rng.IntN(len(set))]
	_, err := h.call(ctx, http.MethodGet, configURL(b), data.token(b.Owner), nil, nil, http.StatusOK)
	return err
}

// primeConfig reads every bot of the config scenario once, over conns, as a running chat
// runtime would have: the scenario measures a replica whose cache has seen its working set.
func primeConfig(ctx context.Context, conns []*httpConn, data *sample) error {
	set := data.versioned.configBots()
	var g errgroup.Group
	for i, h := range conns {
		g.Go(func() error {
			for j := i; j < len(set); j += len(conns) {
				if _, err := h.call(ctx, http.MethodGet, configURL(set[j]), data.token(set[j].Owner), nil, nil, http.StatusOK); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// config is httpConfig through a bot service that has no notification feed, so that its
// runtime cache stays bypassed: the ceiling is the database's work for an uncached read.
func (c *ceiling) config(ctx context.Context, data *sample, w *worker) error {
	set := data.versioned.configBots()
	b := set[w.rng.IntN(len(set))]
	alias := benchAlias
	_, err := c.svc.RuntimeConfig(ctx, b.Owner, b.ID, bots.RuntimeSelector{Alias: &alias})
	return err
}

// versions is httpVersions through the bot service.
func (c *ceiling) versions(ctx context.Context, data *sample, w *worker) error {
	b := data.versioned.bots[w.rng.IntN(len(data.versioned.bots))]
	if w.rng.IntN(2) == 1 {
		n, m := twoVersions(w, b)
		_, err := c.svc.VersionDiff(ctx, b.Owner, b.ID, n, &m)
		return err
	}
	_, err := c.svc.Versions(ctx, b.Owner, b.ID, 0, 20)
	return err
}

// alias is httpAlias through the bot service.
func (c *ceiling) alias(ctx context.Context, data *sample, w *worker) error {
	s := &data.versioned
	i := ownedOf(len(s.bots), w)
	b := s.bots[i]
	if s.etags[i] < 0 {
		a, err := c.svc.Alias(ctx, b.Owner, b.ID, benchAlias)
		if err != nil {
			return err
		}
		s.etags[i], s.at[i] = a.Etag, a.Version
	}
	to := s.aliasTarget(w, i)
	a, _, err := c.svc.PutAlias(ctx, b.Owner, b.ID, benchAlias, to, bots.AliasCondition{MustExist: true, Etags: []int64{s.etags[i]}})
	if err != nil {
		s.etags[i] = -1
		return err
	}
	s.etags[i], s.at[i] = a.Etag, a.Version
	return nil
}

// checkVersioned tells whether the sample has enough reconfigured bots for the scenarios.
func checkVersioned(s versionSample, scenarios []string, concurrency int) error {
	for _, name := range scenarios {
		switch {
		case (name == "versions" || name == "config") && len(s.bots) == 0:
			return fmt.Errorf("the dataset has no reconfigured bots for the %s scenario; use more bots", name)
		case name == "alias" && len(s.bots) < concurrency:
			return fmt.Errorf("-concurrency %d is more than the %d reconfigured bots sampled: each worker moves the aliases of bots of its own; use more bots", concurrency, len(s.bots))
		}
	}
	return nil
}
