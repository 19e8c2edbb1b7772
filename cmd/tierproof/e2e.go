package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/walkthrough"
)

func newE2ECommand() *cobra.Command {
	o := cluster.BootOptions{}
	var keep, scenarioDir string
	var timeout time.Duration
	var retries int
	cmd := &cobra.Command{
		Use:   "e2e",
		Short: "Boot kind + Antrea + the estate, play a scenario's stages, and write reports",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keep != "on-failure" && keep != "always" && keep != "never" {
				return fmt.Errorf("--keep-cluster %q: want on-failure, always or never", keep)
			}
			if o.CacheDir == "" {
				dir, err := os.UserCacheDir()
				if err != nil {
					return err
				}
				o.CacheDir = filepath.Join(dir, "tierproof")
			}
			o.Logf = func(format string, args ...any) {
				fmt.Fprintf(cmd.ErrOrStderr(), "tierproof: "+format+"\n", args...)
			}
			s, err := scenario.Load(scenarioDir)
			if err != nil {
				return err
			}
			estate, err := cluster.Boot(cmd.Context(), o)
			if err == nil {
				err = play(cmd, estate, s, o, timeout, retries)
			}
			return errors.Join(err, finish(cmd, estate, keep, err != nil))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ClusterName, "cluster-name", "tierproof", "kind cluster name (created, or reused if it exists with 3 nodes)")
	f.StringVar(&o.NodeImage, "node-image", cluster.NodeImage, "kind node image (sets the Kubernetes version); pin it with its digest")
	f.StringVar(&keep, "keep-cluster", "on-failure", "keep what the run created: on-failure, always or never")
	f.StringVar(&o.AntreaVersion, "antrea-version", cluster.DefaultAntreaVersion, "Antrea release to install")
	f.StringVar(&o.AntreaSHA256, "antrea-manifest-sha256", "", "sha256 of the release's antrea.yml, for a version fixtures/antrea/checksums.txt does not list")
	f.StringVar(&o.Kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "use this existing cluster instead of creating one (refused unless it is a kind cluster)")
	f.BoolVar(&o.AllowExistingCluster, "allow-existing-cluster", false, "use --kubeconfig's cluster even if it is not a kind cluster: it gets drop-all policies")
	f.StringVar(&o.WorkDir, "reports", "reports", "where the kubeconfig, image archive and topology are written")
	f.StringVar(&o.AgentBinary, "agent-binary", "bin/tierproof-agent", "the static agent binary (make agent)")
	f.StringVar(&o.CacheDir, "cache-dir", "", "where downloaded Antrea manifests are cached (default: the user cache dir)")
	f.StringVar(&scenarioDir, "scenario", "scenarios/antrea-blog", "the scenario to play")
	f.DurationVar(&timeout, "timeout", time.Second, "per-probe timeout")
	f.IntVar(&retries, "retries", 2, "re-probes of cells that differ from the model or fail")
	return cmd
}

// play runs the scenario's stages on the booted estate and writes the reports.
func play(cmd *cobra.Command, estate *cluster.Estate, s *scenario.Scenario, o cluster.BootOptions, timeout time.Duration, retries int) error {
	plane, err := estate.Plane(o.AntreaVersion, o.ClusterName)
	if err != nil {
		return err
	}
	runner := walkthrough.Runner{Plane: plane, Engine: probe.Config{Timeout: timeout, Retries: retries}, Logf: o.Logf}
	run, runErr := runner.Run(cmd.Context(), s, estate.Topology, estate.Values)
	return errors.Join(runErr, writeReports(o.WorkDir, run, o.Logf))
}

// finish applies the keep policy to what the run made.
func finish(cmd *cobra.Command, e *cluster.Estate, keep string, failed bool) error {
	if e == nil {
		return nil
	}
	return e.Finish(cmd.Context(), keep == "always" || (keep == "on-failure" && failed))
}
