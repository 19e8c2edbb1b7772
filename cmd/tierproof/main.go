// Command tierproof is the harness's command line: simulate and explain give
// the expected model's answer offline, without a cluster; lint finds policy
// mistakes on a topology.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Ctrl-C cancels the run's context; cleanup still runs on its own deadline.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A closed pipe (tierproof lab | head) must not kill the process before
	// it cleans up: writes then fail with EPIPE instead.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "tierproof:", err)
		code := 1
		if exit := (*exitError)(nil); errors.As(err, &exit) {
			code = exit.code
		}
		os.Exit(code)
	}
}
