package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/dataplane"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/walkthrough"
)

func newLabCommand() *cobra.Command {
	var dir, agentBinary, reports string
	var timeout time.Duration
	var retries int
	cmd := &cobra.Command{
		Use:   "lab --scenario DIR",
		Short: "Play a scenario in the network-namespace lab (a data-plane test double, not Antrea; needs root) and write reports",
		Example: `  sudo bin/tierproof lab --scenario scenarios/antrea-blog
  sudo bin/tierproof lab --scenario scenarios/k8s-networkpolicy-blog --reports /tmp/lab-reports --retries 2 --timeout 2s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// A run that cannot probe must not start: it would report green.
			if retries < 0 {
				return fmt.Errorf("--retries %d: want 0 or more", retries)
			}
			if timeout <= 0 {
				return fmt.Errorf("--timeout %v: want a positive duration", timeout)
			}
			exe, _ := os.Executable()
			agentBinary, err := findAgent(agentBinary, exe)
			if err != nil {
				return err
			}
			s, err := scenario.Load(dir)
			if err != nil {
				return err
			}
			logf := func(format string, args ...any) { fmt.Fprintf(cmd.ErrOrStderr(), "tierproof: "+format+"\n", args...) }
			for _, line := range s.Derived {
				logf("%s", line)
			}
			topo := s.Topology
			// One run per reports directory: an earlier run's files go once
			// everything has loaded, and a directory tierproof did not write
			// is refused before the lab is built.
			if err := report.PrepareDir(reports); err != nil {
				return err
			}
			lab, err := dataplane.Open(cmd.Context(), dataplane.Options{Plane: dataplane.Lab, AgentBinary: agentBinary, Logf: logf, Topology: topo, Probes: s.Probes})
			if err != nil {
				return err
			}
			defer lab.Close(context.WithoutCancel(cmd.Context()), false)
			runner := walkthrough.Runner{Plane: lab.Plane, Engine: probe.Config{Timeout: timeout, Retries: retries}, Logf: logf}
			run, runErr := runner.Run(cmd.Context(), s, topo, s.ValuesFor(topo))
			err = errors.Join(runErr, writeReports(reports, run, logf))
			logf("%s", report.Summary(run, reports))
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "scenario", "", "the scenario directory (required)")
	cmd.Flags().StringVar(&agentBinary, "agent-binary", "", "the static agent binary (make agent; default: tierproof-agent beside tierproof, then bin/tierproof-agent)")
	cmd.Flags().StringVar(&reports, "reports", filepath.Join("reports", "lab"), "where the reports are written (cleared of an earlier run's first; a directory tierproof did not write is refused)")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Second, "per-probe timeout")
	cmd.Flags().IntVar(&retries, "retries", 1, "re-probes of cells that differ from the model or fail")
	_ = cmd.MarkFlagRequired("scenario")
	return cmd
}

// findAgent is the agent binary: the one given, else tierproof-agent beside
// the tierproof executable exe (make build puts them side by side), else
// bin/tierproof-agent under the working directory.
func findAgent(given, exe string) (string, error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Errorf("--agent-binary: %w (build it with make agent)", err)
		}
		return given, nil
	}
	var tried []string
	for _, candidate := range []string{filepath.Join(filepath.Dir(exe), "tierproof-agent"), filepath.Join("bin", "tierproof-agent")} {
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
		tried = append(tried, candidate)
	}
	return "", fmt.Errorf("no agent binary at %s: build it with make agent, or give --agent-binary PATH", strings.Join(tried, " or "))
}

// writeReports writes every report of the run into dir and says where.
func writeReports(dir string, run report.Run, logf func(string, ...any)) error {
	written, err := report.WriteFiles(dir, ".", run)
	for _, path := range written {
		logf("wrote %s", path)
	}
	return err
}
