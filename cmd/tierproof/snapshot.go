package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tierproof/tierproof/framework/live"
)

func newSnapshotCommand() *cobra.Command {
	var kubeconfig, kubeContext, out string
	var namespaces []string
	cmd := &cobra.Command{
		Use:   "snapshot --out DIR [--kubeconfig K] [--context C] [--namespace NS ...]",
		Short: "Export a live cluster's pods and policies, read-only, as files simulate, explain and lint read",
		Long: `snapshot reads a live cluster — namespaces, running pods (labels, named ports,
addresses, nodes, service accounts), nodes, and the policies that decide flows
(ClusterNetworkPolicies, Antrea NetworkPolicies, Tiers but Antrea's own,
ClusterGroups, Groups, Kubernetes NetworkPolicies, the network-policy-api's
ClusterNetworkPolicies) — and writes them to
DIR/topology.yaml and DIR/policies.yaml. It cannot change the cluster: its client
refuses every request but a read before it is sent.`,
		Example: `  tierproof snapshot --kubeconfig ~/.kube/config --out /tmp/prod-snapshot
  tierproof snapshot --context kind-tierproof --namespace yelb --namespace prod-app --out /tmp/yelb`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required: the new directory to write topology.yaml and policies.yaml into")
			}
			rules := clientcmd.NewDefaultClientConfigLoadingRules()
			rules.ExplicitPath = kubeconfig
			cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
			if err != nil {
				return fmt.Errorf("reading the kubeconfig: %w", err)
			}
			snap, err := live.Read(cmd.Context(), cfg, namespaces)
			if err != nil {
				return err
			}
			if err := snap.Write(out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "read %s (read-only): %d namespaces, %d running pods, %d nodes; %d policy objects\n",
				cfg.Host, len(snap.Topology.Namespaces), len(snap.Topology.Pods), len(snap.Topology.Nodes), len(snap.Policies))
			for _, note := range snap.Notes {
				fmt.Fprintln(w, note)
			}
			topo, policies := filepath.Join(out, live.TopologyFile), filepath.Join(out, live.PoliciesFile)
			fmt.Fprintf(w, "wrote %s and %s\nnext: tierproof simulate --topology %s --policies %s (add externals: to the topology for hosts outside the cluster)\n", topo, policies, topo, policies)
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "the kubeconfig (default: $KUBECONFIG, then ~/.kube/config, as kubectl)")
	cmd.Flags().StringVar(&kubeContext, "context", "", "the kubeconfig context (default: its current context)")
	cmd.Flags().StringArrayVar(&namespaces, "namespace", nil, "only the pods and namespaced policies of this namespace (repeatable; default: all)")
	cmd.Flags().StringVar(&out, "out", "", "a new (or empty) directory for topology.yaml and policies.yaml (required)")
	return cmd
}
