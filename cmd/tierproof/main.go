// Command tierproof is the harness's command line: simulate and explain give
// the expected model's answer offline, without a cluster.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Ctrl-C cancels the run's context; cleanup still runs on its own deadline.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "tierproof:", err)
		os.Exit(1)
	}
}
