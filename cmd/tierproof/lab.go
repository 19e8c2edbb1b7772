package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/fixtures"
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
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// A run that cannot probe must not start: it would report green.
			if retries < 0 {
				return fmt.Errorf("--retries %d: want 0 or more", retries)
			}
			if timeout <= 0 {
				return fmt.Errorf("--timeout %v: want a positive duration", timeout)
			}
			s, err := scenario.Load(dir)
			if err != nil {
				return err
			}
			topo, err := fixtures.Topology(s.Topology)
			if err != nil {
				return err
			}
			lab, err := walkthrough.NewLabPlane(cmd.Context(), topo, s.Probes, agentBinary)
			if err != nil {
				return err
			}
			defer lab.Close()
			logf := func(format string, args ...any) { fmt.Fprintf(cmd.ErrOrStderr(), "tierproof: "+format+"\n", args...) }
			runner := walkthrough.Runner{Plane: lab, Engine: probe.Config{Timeout: timeout, Retries: retries}, Logf: logf}
			run, runErr := runner.Run(cmd.Context(), s, topo, s.ValuesFor(topo))
			err = errors.Join(runErr, writeReports(reports, run, logf))
			logf("%s", report.Summary(run, reports))
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "scenario", "", "the scenario directory (required)")
	cmd.Flags().StringVar(&agentBinary, "agent-binary", "bin/tierproof-agent", "the static agent binary (make agent)")
	cmd.Flags().StringVar(&reports, "reports", "reports", "where the reports are written")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Second, "per-probe timeout")
	cmd.Flags().IntVar(&retries, "retries", 1, "re-probes of cells that differ from the model or fail")
	_ = cmd.MarkFlagRequired("scenario")
	return cmd
}

// writeReports writes every report of the run into dir and says where.
func writeReports(dir string, run report.Run, logf func(string, ...any)) error {
	written, err := report.WriteFiles(dir, run)
	for _, path := range written {
		logf("wrote %s", path)
	}
	return err
}
