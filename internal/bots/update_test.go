package bots_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
	"github.com/chatsphere/bots/internal/training"
)

// Whatever BotUpdate decides sends a bot back to training, no edit leaves a bot in training
// without a queued job for its latest version, and no edit queues a job for a version that
// does not train: the service has no rule of its own about which edits train, so the two
// cannot drift apart. The table sends every kind of edit; it does not say which of them
// train, only that each outcome is a whole one.
func TestNoEditLeavesABotInTrainingWithoutAJob(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	jobs, err := training.NewClient(pool, training.CatalogTrainer{}, training.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	svc := bots.NewService(pool, jobs) // jobs are queued, not worked

	// The bot every edit starts from, in each status an edit can find it in.
	const name, model, prompt, desc, temp = "Start", "gpt-4o-mini", "Be kind.", "Helps.", 0.7
	str := func(s string) *string { return &s }
	num := func(f float64) *float64 { return &f }
	yes := func(b bool) *bool { return &b }
	edits := map[string]bots.UpdateParams{
		"Name":                    {Name: str("Renamed")},
		"SameName":                {Name: str(name)},
		"Description":             {SetDescription: true, Description: str("Helps more.")},
		"SameDescription":         {SetDescription: true, Description: str(desc)},
		"ClearedDescription":      {SetDescription: true},
		"IsPublic":                {IsPublic: yes(true)},
		"SameIsPublic":            {IsPublic: yes(false)},
		"Temperature":             {Temperature: num(1.3)},
		"SameTemperature":         {Temperature: num(temp)},
		"Model":                   {Model: str("gpt-4o")},
		"SameModel":               {Model: str(model)},
		"SystemPrompt":            {SystemPrompt: str("Be brief.")},
		"SameSystemPrompt":        {SystemPrompt: str(prompt)},
		"EmptySystemPrompt":       {SystemPrompt: str("")},
		"NameAndModel":            {Name: str("Renamed"), Model: str("gpt-4o")},
		"TemperatureAndPrompt":    {Temperature: num(0.2), SystemPrompt: str("Be brief.")},
		"ModelAndPromptUnchanged": {Model: str(model), SystemPrompt: str(prompt)},
		"SameModelNewPrompt":      {Model: str(model), SystemPrompt: str("Be brief.")},
		"Everything": {Name: str("Renamed"), SetDescription: true, Description: str("New."), Model: str("gpt-4o"),
			Temperature: num(0.1), SystemPrompt: str("Be brief."), IsPublic: yes(true)},
		"EverythingTheSame": {Name: str(name), SetDescription: true, Description: str(desc), Model: str(model),
			Temperature: num(temp), SystemPrompt: str(prompt), IsPublic: yes(false)},
	}

	// Both outcomes must occur, or the test would prove nothing.
	var mu sync.Mutex
	outcomes := map[bool]int{}
	t.Run("Edits", func(t *testing.T) {
		for _, start := range []bots.Status{bots.StatusActive, bots.StatusError, bots.StatusTraining} {
			for kind, edit := range edits {
				t.Run(string(start)+"/"+kind, func(t *testing.T) {
					t.Parallel()
					ctx := t.Context()
					owner := uuid.New() // names are unique per owner
					require.NoError(t, svc.EnsureUser(ctx, owner))
					bot, err := bots.InTx(ctx, pool, func(tx pgx.Tx) (bots.Bot, error) {
						return svc.CreateTx(ctx, tx, owner, bots.CreateParams{Name: name, Description: str(desc),
							Model: model, Temperature: temp, SystemPrompt: prompt})
					})
					require.NoError(t, err)
					switch start {
					case bots.StatusActive:
						ok, err := svc.FinishTraining(ctx, bot.ID, bot.ConfigVersion,
							bots.Outcome{Status: start, Prepared: []byte(`{"temperature": 0.7}`)})
						require.NoError(t, err)
						require.True(t, ok)
					case bots.StatusError:
						ok, err := svc.FinishTraining(ctx, bot.ID, bot.ConfigVersion,
							bots.Outcome{Status: start, Message: str("failed")})
						require.NoError(t, err)
						require.True(t, ok)
					}
					queued := trainingJobs(t, pool, bot.ID, bot.ConfigVersion)

					updated, err := svc.Update(ctx, owner, bot.ID, edit)
					require.NoError(t, err)
					stored, err := svc.Get(ctx, owner, bot.ID)
					require.NoError(t, err)
					require.Equal(t, updated.Status, stored.Status)
					require.Equal(t, updated.Version, stored.Version)
					training := updated.Status == bots.StatusTraining
					switch {
					case updated.ConfigVersion == bot.ConfigVersion:
						require.Equal(t, start, updated.Status, "an edit without a new version keeps the status")
						require.Equal(t, queued, trainingJobs(t, pool, bot.ID, updated.ConfigVersion),
							"an edit without a new version queues nothing")
					case training:
						require.Equal(t, 1, trainingJobs(t, pool, bot.ID, updated.ConfigVersion),
							"a new version in training has its job")
					default:
						require.Zero(t, trainingJobs(t, pool, bot.ID, updated.ConfigVersion),
							"a new version out of training has no job")
					}
					mu.Lock()
					outcomes[training]++
					mu.Unlock()
				})
			}
		}
	})
	require.Positive(t, outcomes[true], "some edit left a bot in training")
	require.Positive(t, outcomes[false], "some edit left a bot out of training")
}

// trainingJobs counts the training jobs queued for version number of bot.
func trainingJobs(t *testing.T, pool *pgxpool.Pool, bot uuid.UUID, number int32) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = 'train_bot' AND args->>'bot_id' = $1 AND (args->>'number')::int = $2`,
		bot.String(), number).Scan(&n))
	return n
}
