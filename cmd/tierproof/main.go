// Command tierproof is the harness's command line: simulate and explain give
// the expected model's answer offline, without a cluster.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "tierproof:", err)
		os.Exit(1)
	}
}
