package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/scenario"
)

func newInitCommand() *cobra.Command {
	var start scenario.Start
	var externals, pools []string
	cmd := &cobra.Command{
		Use:   "init DIR --estate MANIFESTS --policies POLICIES... [--external NAME=tcp/443,...] [--clients NAME=N]",
		Short: "Write a scenario from your own manifests: the estate, a no-policy stage, then a stage per policy file",
		Example: `  tierproof init /tmp/my-shop --estate examples/shop/estate --policies examples/shop/01-app-rules
  tierproof init /tmp/my-shop --estate examples/shop/estate --policies examples/shop/01-app-rules --policies examples/shop/02-isolate-payments --clients customers=2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if start.Estate == "" {
				return fmt.Errorf("--estate is required: the directory (or file) of your workloads' manifests")
			}
			for _, spec := range externals {
				name, ports, _ := strings.Cut(spec, "=")
				x := scenario.External{Name: name}
				for _, p := range strings.Split(ports, ",") {
					probe, err := model.ParseProbe(p)
					if err != nil || ports == "" {
						return fmt.Errorf("--external %q: want NAME=tcp/PORT[,udp/PORT...]", spec)
					}
					x.Ports = append(x.Ports, probe)
				}
				start.Externals = append(start.Externals, x)
			}
			for _, spec := range pools {
				name, n, _ := strings.Cut(spec, "=")
				count, err := strconv.Atoi(n)
				if err != nil {
					return fmt.Errorf("--clients %q: want NAME=N (N client hosts outside the cluster)", spec)
				}
				start.Externals = append(start.Externals, scenario.External{Name: name, Clients: count})
			}
			s, err := scenario.Create(cmd.Context(), args[0], start)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "wrote scenario %s in %s\n", s.Name, args[0])
			for _, line := range s.Derived {
				fmt.Fprintln(out, line)
			}
			for i, st := range s.Stages {
				fmt.Fprintf(out, "stage %d %s: %s\n", i, st.Name, st.Description)
			}
			fmt.Fprintf(out, "next: tierproof simulate --scenario %s, then add assertions to %s/scenario.yaml\n", args[0], args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&start.Estate, "estate", "", "your workloads: a directory of manifests (Namespaces, Deployments, StatefulSets, DaemonSets, ReplicaSets, Pods, Services) or one file")
	cmd.Flags().StringArrayVar(&start.Policies, "policies", nil, "policy manifests: a file or a directory of *.yaml; each file becomes a stage (repeat to add more, in order)")
	cmd.Flags().StringArrayVar(&externals, "external", nil, "a host outside the cluster and the ports it serves, NAME=tcp/443,udp/53 (repeatable)")
	cmd.Flags().StringArrayVar(&pools, "clients", nil, "a pool of client hosts outside the cluster, NAME=N: NAME-client-1 … in NAME-pool.cidr")
	return cmd
}
