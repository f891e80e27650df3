package client

import (
	"testing"
	"time"
)

// However many attempts a caller allows, the wait between them stays positive and capped;
// a plain shift would overflow from the 38th attempt on.
func TestBackoffStaysWithinItsBounds(t *testing.T) {
	t.Parallel()
	for attempt := 1; attempt <= 100; attempt++ {
		d := backoff(attempt)
		if d <= 0 || d > 5*time.Second {
			t.Fatalf("attempt %d waits %s", attempt, d)
		}
	}
}
