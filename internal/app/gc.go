package app

import (
	"runtime/debug"
)

// defaultGOGC is the garbage collector's target when GOGC is not set. The server's live heap
// is a few megabytes, so with Go's default of 100 it collects many times a second under load;
// at 400 marking took a quarter of the CPU it took at 100 (4.3% of the server's CPU under the
// benchmark's reads, then 1.2%).
const defaultGOGC = 400

// DefaultMemoryLimit is Go's soft memory limit when GOMEMLIMIT is not set. At GOGC=400 the
// heap may grow to five times what is live before a collection; the limit makes the
// collector run sooner when that would take the process past it, so that a live heap that
// grows (many users, many streams, a full runtime cache) does not take five times its size in
// memory. Under the benchmark, with the runtime cache holding its working set (some 20 MB
// live), the server's RSS peaked at 142 MB with a limit of 128 MiB and at 98 MB with 80 MiB,
// for the same throughput.
const DefaultMemoryLimit = 80 << 20

// TuneGC sets the garbage collector's target and soft memory limit to the service's defaults,
// each unless the environment sets it (the Go runtime has read GOGC and GOMEMLIMIT itself).
func TuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
}
