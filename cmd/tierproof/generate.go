package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/estate"
	"github.com/tierproof/tierproof/framework/scenario"
)

func newGenerateCommand() *cobra.Command {
	var shape estate.Shape
	cmd := &cobra.Command{
		Use:   "generate DIR [--namespaces 10] [--workloads 5] [--replicas 3]",
		Short: "Write a synthetic scenario to measure a run at scale: Deployments with replicas, and NetworkPolicies that decide a mix of verdicts",
		Example: `  tierproof generate /tmp/scale --namespaces 10 --workloads 5 --replicas 3
  tierproof generate /tmp/small --namespaces 2 --workloads 2 --replicas 1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := shape.Check(); err != nil {
				return err
			}
			manifests, policies := estate.Generate(shape)
			src, err := os.MkdirTemp("", "tierproof-generate-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(src)
			for name, text := range map[string]string{"estate/generated.yaml": manifests, "networkpolicies.yaml": policies} {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o644); err != nil {
					return err
				}
			}
			s, err := scenario.Create(cmd.Context(), args[0], scenario.Start{Estate: filepath.Join(src, "estate"),
				Policies: []string{filepath.Join(src, "networkpolicies.yaml")},
				Origin:   fmt.Sprintf("tierproof generate --namespaces %d --workloads %d --replicas %d", shape.Namespaces, shape.Workloads, shape.Replicas)})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "wrote scenario %s in %s: %d pods in %d namespaces\n", s.Name, args[0], shape.Pods(), shape.Namespaces)
			for _, line := range s.Derived {
				fmt.Fprintln(out, line)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&shape.Namespaces, "namespaces", 10, "namespaces")
	cmd.Flags().IntVar(&shape.Workloads, "workloads", 5, "Deployments per namespace")
	cmd.Flags().IntVar(&shape.Replicas, "replicas", 3, "pods per Deployment")
	return cmd
}
