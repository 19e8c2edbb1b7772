package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tierproof/tierproof/framework/audit"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/report"
)

func newAuditCommand() *cobra.Command {
	var kubeconfig, kubeContext, prober, agentImage, semantics, reports string
	var namespaces, probeSpecs []string
	var maxFlows, maxExecs int
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "audit [--kubeconfig K] [--context C] [--namespace NS ...] [--probe P ...] [--max-flows N] [--prober tools|agent --agent-image REF] [--semantics antrea|kube-router|spec] [--reports DIR] [--dry-run]",
		Short: "Check a live cluster against its own policies, read-only, probing with the pods' own ping, curl and nc",
		Long: `audit reads a live cluster (as snapshot does), computes with the model what its
policies say of every flow between its pods, probes those flows from inside the
source pods with the tools their images already have (ping, curl, wget, nc, bash), and
reports where the cluster does otherwise. It changes nothing: its client refuses
every request but a read and a pod's exec (and, with --prober agent, adding an
ephemeral container) before it is sent. A flow no tool in
the source pod can judge (UDP, SCTP, a pod without a shell) is listed as not
probed, with why — never counted as a pass.`,
		Example: `  tierproof audit --context prod --namespace shop --namespace payments --reports /tmp/audit
  tierproof audit --kubeconfig kind.kubeconfig --semantics kube-router --max-flows 2000
  tierproof audit --dry-run   # the snapshot, the model and each source's tools; no probe sent`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, ok := model.SemanticsByName[semantics]
			if !ok {
				return fmt.Errorf("--semantics %q: want antrea, kube-router or spec (the enforcer the cluster runs)", semantics)
			}
			switch {
			case prober != "tools" && prober != "agent":
				return fmt.Errorf("--prober %q: want tools (the pods' own ping, curl, wget, nc and bash) or agent (tierproof's agent as an ephemeral container)", prober)
			case prober == "agent" && agentImage == "":
				return errors.New("--prober agent needs --agent-image: the agent's image, from a registry the cluster's nodes pull from (make agent-image builds it)")
			case prober == "tools" && agentImage != "":
				return errors.New("--agent-image is for --prober agent")
			}
			if maxFlows < 0 || maxExecs < 0 {
				return errors.New("--max-flows and --max-concurrent-execs take 0 (no limit / the default) or more")
			}
			probes, err := parseProbes(probeSpecs)
			if err != nil {
				return err
			}
			if reports != "" {
				if err := report.PrepareDir(reports); err != nil {
					return fmt.Errorf("--reports %s: %w", reports, err)
				}
			}
			rules := clientcmd.NewDefaultClientConfigLoadingRules()
			rules.ExplicitPath = kubeconfig
			loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
			raw, err := loader.RawConfig()
			if err != nil {
				return fmt.Errorf("reading the kubeconfig: %w", err)
			}
			cfg, err := loader.ClientConfig()
			if err != nil {
				return fmt.Errorf("reading the kubeconfig: %w", err)
			}
			w := cmd.OutOrStdout()
			permitted := "a read and a pod's exec"
			if prober == "agent" {
				permitted = "a read, a pod's exec and adding an ephemeral container"
			}
			fmt.Fprintf(w, "auditing %s (context %s) on %s semantics, read-only: the client refuses every request but %s\n",
				cfg.Host, cmp.Or(kubeContext, raw.CurrentContext), s.Name, permitted)
			if prober == "agent" && !dryRun {
				fmt.Fprintf(w, "WARNING: --prober agent adds tierproof's agent (%s) to every source pod as an ephemeral container; Kubernetes cannot remove one: it stays in each pod's spec until the pod is replaced\n", agentImage)
			}
			r, err := audit.Run(cmd.Context(), audit.Options{Config: cfg, Namespaces: namespaces, Probes: probes, Semantics: s,
				MaxFlows: maxFlows, MaxConcurrentExecs: maxExecs, Probe: !dryRun, AgentImage: agentImage,
				Logf: func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }})
			if err != nil {
				return err
			}
			writeAudit(w, r)
			if reports != "" {
				with := "its pods' own tools"
				if prober == "agent" {
					with = "tierproof's agent in ephemeral containers"
				}
				run := report.Run{Scenario: "audit", DataPlane: fmt.Sprintf("the cluster at %s, probed with %s (model: %s semantics)", cfg.Host, with, s.Name),
					Stages: []report.Stage{{Name: "audit", Matrix: r.Matrix, Probing: r.Took}}}
				files, err := report.WriteFiles(reports, "audit", run)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "reports: %s\n", strings.Join(files, ", "))
			}
			switch {
			case dryRun:
				return nil
			case len(r.Probed) == 0:
				return errors.New("nothing was probed: no flow could be judged by the tools in the source pods (see the reasons above); the audit says nothing of this cluster")
			case len(r.Mismatches()) > 0:
				return fmt.Errorf("%d flow(s) where the cluster does not do what its policies say", len(r.Mismatches()))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "the kubeconfig (default: $KUBECONFIG, then ~/.kube/config, as kubectl)")
	cmd.Flags().StringVar(&kubeContext, "context", "", "the kubeconfig context (default: its current context)")
	cmd.Flags().StringArrayVar(&namespaces, "namespace", nil, "only the pods and namespaced policies of this namespace (repeatable; default: all)")
	cmd.Flags().StringArrayVar(&probeSpecs, "probe", nil, "probe: icmp or tcp/PORT (repeatable; default: icmp and every TCP port a pod declares)")
	cmd.Flags().IntVar(&maxFlows, "max-flows", 0, "probe at most this many flows, a sample that keeps a flow of every rule that decides one (0: all)")
	cmd.Flags().IntVar(&maxExecs, "max-concurrent-execs", 8, "execs in flight at once")
	cmd.Flags().StringVar(&prober, "prober", "tools", "tools: the pods' own ping, curl, wget, nc and bash; agent: tierproof's agent added to each source pod as an ephemeral container (opt-in: it stays in the pod's spec)")
	cmd.Flags().StringVar(&agentImage, "agent-image", "", "--prober agent: the agent's image, from a registry the cluster pulls from")
	cmd.Flags().StringVar(&semantics, "semantics", "antrea", "the enforcer's reading of the policies: antrea, kube-router or spec")
	cmd.Flags().StringVar(&reports, "reports", "", "write JUnit, results.json, truth tables and HTML into this directory")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "read and model only: no exec, no probe")
	return cmd
}

// writeAudit prints the figures, the mismatches as the policies' word
// against the cluster's, and why flows were not probed, grouped.
func writeAudit(w io.Writer, r *audit.Result) {
	fmt.Fprintf(w, "%d flows between pods that serve the port; %d chosen to probe; %d probed in %d execs; %d not probed; %d mismatch(es); %s\n",
		r.Flows, r.Sampled, len(r.Probed), r.Execs, len(r.NotProbed), len(r.Mismatches()), r.Took.Round(1e6))
	for _, c := range r.Mismatches() {
		fmt.Fprintf(w, "  %s → %s %s: your policies say %s, the cluster did %s (egress: %s; ingress: %s)\n",
			c.From, c.To, c.Probe, c.Expected.Verdict, c.Observed(), c.Expected.Egress.Describe(), c.Expected.Ingress.Describe())
	}
	why := map[string]int{}
	for _, n := range r.NotProbed {
		why[n.Why]++
	}
	reasons := make([]string, 0, len(why))
	for reason := range why {
		reasons = append(reasons, reason)
	}
	sort.Slice(reasons, func(i, j int) bool {
		return why[reasons[i]] > why[reasons[j]] || (why[reasons[i]] == why[reasons[j]] && reasons[i] < reasons[j])
	})
	for _, reason := range reasons {
		fmt.Fprintf(w, "  not probed: %d flow(s): %s\n", why[reason], reason)
	}
}
