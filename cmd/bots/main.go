// Command bots is ChatSphere's bot management service: `bots serve` runs the API, `bots
// migrate` applies the database migrations and `bots token` prints a bearer token; `bots list`,
// `bots apply` and the other client commands call a running service.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/chatsphere/bots/internal/app"
)

func main() {
	app.TuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bots:", err)
		os.Exit(app.ExitCode(err))
	}
}
