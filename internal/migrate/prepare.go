package migrate

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/training"
)

// prepareVersions fills the temporary table prepared_versions, which migration 0012 reads,
// with the prepared configuration of every active version that has none to take from its
// bot: before 0012 only the bot kept one, for its latest version. Each is prepared as a
// training would prepare it; a version whose configuration no longer prepares (its model was
// retired since) goes to error with the training's message.
func prepareVersions(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `LOCK TABLE bots, bot_versions IN SHARE MODE`); err != nil {
		return fmt.Errorf("lock versions: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE prepared_versions (
		bot_id          uuid NOT NULL,
		number          integer NOT NULL,
		status          text NOT NULL,
		status_message  text,
		prepared_config jsonb,
		PRIMARY KEY (bot_id, number)
	) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("create prepared_versions: %w", err)
	}
	rows, err := tx.Query(ctx, `
		SELECT v.bot_id, v.number, v.model, v.temperature, v.system_prompt
		FROM bot_versions v JOIN bots b ON b.id = v.bot_id
		WHERE v.status = 'active' AND NOT (v.number = b.config_version AND b.prepared_config IS NOT NULL)`)
	if err != nil {
		return fmt.Errorf("read active versions: %w", err)
	}
	var (
		id       uuid.UUID
		number   int32
		bot      bots.Configuration
		prepared [][]any
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &number, &bot.Model, &bot.Temperature, &bot.SystemPrompt}, func() error {
		p, err := training.CatalogTrainer{}.Prepare(ctx, bot)
		if training.IsConfigError(err) {
			prepared = append(prepared, []any{id, number, "error", err.Error(), nil})
			return nil
		}
		if err != nil {
			return err
		}
		raw, err := json.Marshal(p)
		if err != nil {
			return err
		}
		prepared = append(prepared, []any{id, number, "active", nil, raw})
		return nil
	})
	if err != nil {
		return fmt.Errorf("prepare active versions: %w", err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"prepared_versions"},
		[]string{"bot_id", "number", "status", "status_message", "prepared_config"}, pgx.CopyFromRows(prepared))
	if err != nil {
		return fmt.Errorf("write prepared versions: %w", err)
	}
	return nil
}
