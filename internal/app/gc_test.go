package app_test

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/app"
)

// gcSettings reads the garbage collector's target and soft memory limit.
func gcSettings() (percent int, limit int64) {
	percent = debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

// TestTuneGC changes settings of the whole test process, so it does not run in parallel
// with itself; no other test depends on them.
func TestTuneGC(t *testing.T) {
	percent, limit := gcSettings()
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
	reset := func() {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
	}

	t.Run("DefaultsWhenTheEnvironmentSetsNothing", func(t *testing.T) {
		reset()
		app.TuneGC(appEnv(nil))
		p, l := gcSettings()
		require.Equal(t, 400, p)
		require.EqualValues(t, app.DefaultMemoryLimit, l)
		require.EqualValues(t, 80<<20, l)
	})

	t.Run("GOMEMLIMITFromTheEnvironmentIsKept", func(t *testing.T) {
		reset()
		debug.SetMemoryLimit(1 << 30) // as the runtime set it from GOMEMLIMIT=1GiB
		app.TuneGC(appEnv(map[string]string{"GOMEMLIMIT": "1GiB"}))
		p, l := gcSettings()
		require.Equal(t, 400, p)
		require.EqualValues(t, 1<<30, l)
	})

	t.Run("GOGCFromTheEnvironmentIsKept", func(t *testing.T) {
		reset()
		debug.SetGCPercent(150) // as the runtime set it from GOGC=150
		app.TuneGC(appEnv(map[string]string{"GOGC": "150"}))
		p, l := gcSettings()
		require.Equal(t, 150, p)
		require.EqualValues(t, app.DefaultMemoryLimit, l)
	})
}
