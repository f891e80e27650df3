// Command bench measures the bot service under load against the ceiling of its database:
// see `go tool task bench` and internal/bench.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/chatsphere/bots/internal/bench"
	"github.com/chatsphere/bots/internal/botsproc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := bench.Run(ctx, os.Args[1:], os.Stdout)
	// The servers it started are gone: the binary they ran can go too.
	botsproc.RemoveBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
