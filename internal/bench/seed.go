package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatsphere/bots/internal/bots"
)

// fold is the folded form that the service stores with every name and description
// (bots.Fold); seed's parameter bots hides the package's name.
var fold = bots.Fold

// Words make descriptions and prompts read like real ones, and give q searches something
// to find.
var words = strings.Fields(`support sales returns orders billing travel booking recipes fitness
	coaching legal contracts onboarding hiring tutoring math physics history language spanish
	french code review python golang marketing copywriting research summaries customer friendly
	concise patient expert assistant helper agent guide planner`)

// A reconfigured bot has between minVersions and maxVersions versions, recorded a minute
// apart.
const (
	minVersions = 3
	maxVersions = 8
)

// versionedBots records every bot's versions 1 to config_version as a create and then
// updates that changed only the temperature, within every model's range, would have:
// numbered without gaps, the latest holding the bot's configuration, status and prepared
// configuration, the earlier ones active (such a change trains nothing) with the bot's
// prepared configuration at their own temperature (as BotUpdate makes it), each a step of 0.1
// (modulo 1.1) away from the next so that every update changed something. One statement
// writes them all, faster than an update per version.
const versionedBots = `INSERT INTO bot_versions (bot_id, number, model, temperature, system_prompt, status, prepared_config, created_at, created_by, source)
SELECT id, n, model, v.temperature, system_prompt,
       CASE WHEN n = config_version THEN status ELSE 'active' END,
       CASE WHEN n < config_version OR status = 'active' THEN ` + preparedConfig + ` END,
       created_at + (n - 1) * interval '1 minute', owner_id,
       CASE WHEN n = 1 THEN 'create' ELSE 'update' END
FROM bots, generate_series(1, config_version) AS n,
     LATERAL (SELECT CASE WHEN n = config_version THEN temperature
                          ELSE ((round(temperature * 10)::int + config_version - n) % 11)::float8 / 10 END AS temperature) AS v`

// preparedConfig is what training prepares for a version (v) of a bot, in its shape
// (training.Prepared).
const preparedConfig = `jsonb_build_object('model', model, 'provider', 'OpenAI', 'context_window', 128000,
	'temperature', v.temperature, 'system_prompt', system_prompt,
	'system_prompt_tokens', ceil(char_length(system_prompt) / 4.0) + 8,
	'max_conversation_tokens', 128000 - ceil(char_length(system_prompt) / 4.0) - 8)`

func phrase(rng *rand.Rand, maxChars int) string {
	var b strings.Builder
	for b.Len() < maxChars {
		w := words[rng.IntN(len(words))]
		if b.Len()+len(w)+1 > maxChars {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// datasetLayout names what seed writes; a dataset of another layout, written by an older
// benchmark, is seeded again. Layout 1: bots with one version each and no aliases; layout 2:
// the bots' rows also held a prepared configuration, written by an UPDATE of every active bot
// that left the table twice its size.
const datasetLayout = 3

// seed fills the database with users and bots by COPY, unless it already holds exactly this
// dataset: 1% of the users own 90% of the bots (thousands each), the rest a handful each.
// One active bot in ten has been reconfigured (see versionedBots).
func seed(ctx context.Context, pool *pgxpool.Pool, users, bots int, out io.Writer) error {
	for _, sql := range []string{
		`CREATE TABLE IF NOT EXISTS bench_dataset (users int, bots int)`,
		`ALTER TABLE bench_dataset ADD COLUMN IF NOT EXISTS layout int NOT NULL DEFAULT 1`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			return err
		}
	}
	var haveUsers, haveBots, haveLayout int
	err := pool.QueryRow(ctx, "SELECT users, bots, layout FROM bench_dataset").Scan(&haveUsers, &haveBots, &haveLayout)
	if err == nil && haveUsers == users && haveBots == bots && haveLayout == datasetLayout {
		// Earlier runs' creates and copies (all named "bench ...", which no seeded name is)
		// are removed, so that every run starts from the same data.
		tag, err := pool.Exec(ctx, "DELETE FROM bots WHERE name LIKE 'bench %'")
		if err != nil {
			return err
		}
		if _, err := pool.Exec(ctx, "DELETE FROM river_job"); err != nil {
			return err
		}
		fmt.Fprintf(out, "dataset: %d users, %d bots (reused; %d bots of earlier runs removed)\n", users, bots, tag.RowsAffected())
		return nil
	}
	start := time.Now()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	rng := rand.New(rand.NewPCG(42, 7))
	heavy := max(users/100, 1)
	heavyBots := bots * 9 / 10 / heavy
	lightBots := max((bots-heavyBots*heavy)/max(users-heavy, 1), 1)
	if users == heavy {
		heavyBots = bots / users
	}

	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, sql := range []string{
			"TRUNCATE bots, users, bot_events, idempotency_keys, bot_counts, bench_dataset CASCADE",
			"DELETE FROM river_job",
			"ALTER TABLE bots DISABLE TRIGGER USER",
			// The seeded history has no change events but its status history (below): one per
			// seeded version and alias move would write gigabytes the benchmark never reads.
			"ALTER TABLE bot_versions DISABLE TRIGGER bot_versions_event",
			"ALTER TABLE bot_alias_moves DISABLE TRIGGER bot_alias_moves_event",
		} {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return err
			}
		}
		ids := make([][]any, users)
		for i := range ids {
			ids[i] = []any{uuid.New()}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"id"}, pgx.CopyFromRows(ids)); err != nil {
			return err
		}
		models := []string{"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "claude-3-haiku", "llama-3.1-70b-instruct", "mistral-small"}
		epoch := time.Now().Add(-365 * 24 * time.Hour)
		user, made, total := 0, 0, 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			for {
				if user >= users || total >= bots {
					return nil, nil
				}
				quota := lightBots
				if user < heavy {
					quota = heavyBots
				}
				if made < quota {
					break
				}
				user, made = user+1, 0
			}
			made++
			total++
			created := epoch.Add(time.Duration(rng.Int64N(int64(364 * 24 * time.Hour))))
			status, versions, temperature := "active", 1, float64(rng.IntN(21))/10
			if rng.IntN(20) == 0 {
				status = "error"
			} else if rng.IntN(10) == 0 {
				versions = minVersions + rng.IntN(maxVersions-minVersions+1)
				temperature = float64(rng.IntN(11)) / 10 // within every model's range, as its versions
			}
			var deleted any
			if rng.IntN(50) == 0 {
				deleted = created.Add(time.Hour)
			}
			name := fmt.Sprintf("%s %s %d", strings.ToUpper(phrase(rng, 12)[:1]), phrase(rng, 40), made)
			description := phrase(rng, 20+rng.IntN(480))
			// Each update that recorded a version (a minute apart, see versionedBots) counted
			// as a change of the row.
			updated := created.Add(time.Duration(versions-1) * time.Minute)
			return []any{
				uuid.New(), ids[user][0], name, fold(name), description, fold(description),
				models[rng.IntN(len(models))], temperature,
				phrase(rng, rng.IntN(1000)), rng.IntN(10) == 0, status, created, updated, deleted,
				versions, versions,
			}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bots"},
			[]string{"id", "owner_id", "name", "name_fold", "description", "description_fold", "model", "temperature", "system_prompt", "is_public", "status", "created_at", "updated_at", "deleted_at", "config_version", "version"},
			src); err != nil {
			return err
		}
		for _, sql := range []string{
			"ALTER TABLE bots ENABLE TRIGGER USER",
			`INSERT INTO bot_counts (owner_id, shard, live) SELECT owner_id, 0, count(*) FROM bots WHERE deleted_at IS NULL GROUP BY owner_id`,
			// The status history (the view bot_status_events) as migration 0016 left history
			// recorded before the events: one bot.status_changed per change, the first from null.
			`INSERT INTO bot_events (bot_id, type, actor, created_at, data)
			 SELECT id, 'bot.status_changed', owner_id::text, created_at, '{"from": null, "to": "training", "message": null}' FROM bots`,
			`INSERT INTO bot_events (bot_id, type, actor, created_at, data)
			 SELECT id, 'bot.status_changed', 'system', created_at, jsonb_build_object('from', 'training', 'to', status, 'message', NULL) FROM bots`,
			versionedBots,
			// The reconfigured bots' alias, at the version before their latest, and its creation
			// in its history.
			`INSERT INTO bot_aliases (bot_id, name, version, created_at, updated_at)
			 SELECT id, '` + benchAlias + `', config_version - 1, updated_at, updated_at FROM bots WHERE config_version > 1`,
			`INSERT INTO bot_alias_moves (bot_id, name, to_version, changed_by, changed_at)
			 SELECT a.bot_id, a.name, a.version, b.owner_id, a.created_at FROM bot_aliases a JOIN bots b ON b.id = a.bot_id`,
			"ALTER TABLE bot_versions ENABLE TRIGGER bot_versions_event",
			"ALTER TABLE bot_alias_moves ENABLE TRIGGER bot_alias_moves_event",
		} {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "INSERT INTO bench_dataset (users, bots, layout) VALUES ($1, $2, $3)", users, bots, datasetLayout)
		if err == nil {
			fmt.Fprintf(out, "dataset: %d users, %d bots (%d users with %d each, the rest %d each), loaded in %s\n",
				users, total, heavy, heavyBots, lightBots, time.Since(start).Round(time.Second))
		}
		return err
	})
}
