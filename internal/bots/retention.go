package bots

import (
	"context"
	"fmt"
	"time"

	"github.com/chatsphere/bots/gen/db"
)

// purgeBatch is how many bots one purge statement deletes.
const purgeBatch = 1000

// PurgeDeleted deletes for good the bots deleted longer ago than retention, and returns how
// many it deleted. It works in batches so that no statement holds many locks for long. The
// periodic purge job (training.PurgeArgs) runs it.
func (s *Service) PurgeDeleted(ctx context.Context, retention time.Duration) (int64, error) {
	var total int64
	for {
		n, err := s.q.BotPurgeDeleted(ctx, s.pool, db.BotPurgeDeletedParams{
			RetentionSeconds: retention.Seconds(), Batch: purgeBatch,
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("purge deleted bots: %w", err)
		}
		if n < purgeBatch {
			return total, nil
		}
	}
}
