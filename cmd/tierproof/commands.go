package main

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "tierproof",
		Short: "Conformance and end-to-end harness for Antrea network policies",
		Long: "tierproof computes what Antrea must do with every flow (the expected model) and\n" +
			"checks a cluster against it. simulate, explain and lint need no cluster.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.AddCommand(newSimulateCommand(), newExplainCommand(), newLintCommand(), newAgentImageCommand(), newNodeImageCommand(), newLabCommand(), newInitCommand(), newSnapshotCommand(), newDiffCommand(), newGenerateCommand(), newAuditCommand(), newToolsImagesCommand())
	return root
}

// modelInputs are the flags every model command shares: a topology and either
// policy manifests or a scenario.
type modelInputs struct {
	topology  string
	policies  []string
	scenario  string
	catalog   string
	caseName  string
	strict    bool           // other kinds in --policies are errors
	maxMiB    int64          // the cap on each input file
	namespace string         // for namespaced objects that name none
	semantics string         // whose reading --policies are evaluated under
	cmd       *cobra.Command // notes go to its stderr
}

func (in *modelInputs) register(cmd *cobra.Command) {
	in.cmd = cmd
	cmd.Flags().StringVar(&in.topology, "topology", "", "topology file: namespaces, pods, externals (required with --policies; a scenario brings its own)")
	cmd.Flags().StringArrayVar(&in.policies, "policies", nil, "policy manifests: a multi-document YAML file or a directory of *.yaml; repeat to stack stages in order (none: no policies)")
	cmd.Flags().StringVar(&in.scenario, "scenario", "", "a scenario directory (scenario.yaml and its stages), instead of --policies")
	cmd.Flags().StringVar(&in.catalog, "catalog", "", "a conformance catalog directory (scenarios/conformance), instead of --policies")
	cmd.Flags().StringVar(&in.caseName, "case", "", "with --catalog: one case, by name")
	cmd.Flags().BoolVar(&in.strict, "strict", false, "refuse --policies files that also hold other kinds (ConfigMaps, Deployments, …) instead of passing over them")
	cmd.Flags().StringVar(&in.namespace, "namespace", "default", "the namespace of namespaced --policies objects that name none (kubectl's current namespace)")
	cmd.Flags().Int64Var(&in.maxMiB, "max-input-mib", defaultMaxInputMiB, "refuse an input file larger than this many MiB")
	cmd.Flags().StringVar(&in.semantics, "semantics", "antrea", "with --policies, whose reading to evaluate: antrea (Antrea 2.7: ClusterNetworkPolicy tiers among Antrea's), spec (the network-policy-api's order, Admin > NetworkPolicy > Baseline; no Antrea-native policies) or kube-router (Kubernetes NetworkPolicies only)")
	cmd.MarkFlagsMutuallyExclusive("policies", "scenario", "catalog")
	cmd.MarkFlagsMutuallyExclusive("semantics", "scenario")
	cmd.MarkFlagsMutuallyExclusive("semantics", "catalog")
}

// semanticsFlag reads --semantics.
func (in *modelInputs) semanticsFlag() (model.Semantics, error) {
	s, ok := model.SemanticsByName[in.semantics]
	if !ok {
		return model.Semantics{}, fmt.Errorf("--semantics %q: want antrea, spec or kube-router", in.semantics)
	}
	return s, nil
}

// check refuses inputs that are not regular files or are over the cap,
// before any is read.
func (in *modelInputs) check() error {
	if in.maxMiB <= 0 {
		return fmt.Errorf("--max-input-mib %d: want a positive number", in.maxMiB)
	}
	return checkInputs(in.maxMiB, append([]string{in.topology, in.scenario, in.catalog}, in.policies...)...)
}

// out is the command's standard output, which an interrupt stops.
func (in *modelInputs) out() io.Writer {
	return interruptible{in.cmd.Context(), in.cmd.OutOrStdout()}
}

// loadPolicies reads --policies; objects of other kinds are passed over with
// a note on stderr, or refused with --strict; namespaced objects without a
// namespace take --namespace, as kubectl's current namespace, with a note.
func (in *modelInputs) loadPolicies() (*policy.Set, error) {
	objects, skipped, err := policy.Read(in.cmd.Context(), !in.strict, in.policies...)
	if err != nil {
		return nil, err
	}
	if len(skipped) > 0 {
		fmt.Fprintf(in.cmd.ErrOrStderr(), "tierproof: passed over %d object(s) of other kinds (--strict refuses them): %s\n", len(skipped), strings.Join(skipped, ", "))
	}
	if defaulted := policy.DefaultNamespace(objects, in.namespace); len(defaulted) > 0 {
		fmt.Fprintf(in.cmd.ErrOrStderr(), "tierproof: %d object(s) name no namespace and are read in %s (--namespace), as kubectl would: %s\n", len(defaulted), in.namespace, strings.Join(defaulted, ", "))
	}
	return policy.NewSet(objects)
}

// loadTopology reads --topology, or the scenario's fixture topology.
func (in *modelInputs) loadTopology(s *scenario.Scenario) (*topology.Topology, error) {
	switch {
	case in.topology != "":
		return topology.Load(in.topology)
	case s != nil:
		return s.Topology, nil
	}
	return nil, errors.New("--topology is required (or give a --scenario)")
}

// loadScenarios reads --scenario, or --catalog's cases (one with --case).
func (in *modelInputs) loadScenarios() ([]*scenario.Scenario, error) {
	if in.caseName != "" && in.catalog == "" {
		return nil, errors.New("--case needs --catalog")
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	switch {
	case in.scenario != "":
		s, err := scenario.Load(in.scenario)
		if err != nil {
			return nil, err
		}
		for _, line := range s.Derived {
			fmt.Fprintln(in.cmd.ErrOrStderr(), "tierproof: "+line)
		}
		return []*scenario.Scenario{s}, nil
	case in.catalog != "":
		c, err := scenario.LoadCatalog(in.catalog)
		if err != nil {
			return nil, err
		}
		if in.caseName == "" {
			return c.Cases, nil
		}
		var names []string
		for _, s := range c.Cases {
			if s.Name == in.caseName {
				return []*scenario.Scenario{s}, nil
			}
			names = append(names, s.Name)
		}
		return nil, fmt.Errorf("--case %q: catalog %s has no such case (%d cases; tierproof simulate --catalog %s lists them)", in.caseName, in.catalog, len(names), in.catalog)
	}
	return nil, nil
}

// compile builds the model of --policies, or of a scenario's stage.
func (in *modelInputs) compile(s *scenario.Scenario, stage int) (*model.Model, error) {
	topo, err := in.loadTopology(s)
	if err != nil {
		return nil, err
	}
	if s != nil {
		return s.Model(in.cmd.Context(), stage, topo)
	}
	semantics, err := in.semanticsFlag()
	if err != nil {
		return nil, err
	}
	set, err := in.loadPolicies()
	if err != nil {
		return nil, err
	}
	m, err := model.CompileContext(in.cmd.Context(), topo, set, semantics)
	if err != nil && strings.Contains(err.Error(), "{{ value ") {
		// Scenario stages are templates: their values come from the scenario.
		return nil, fmt.Errorf("%w\n(the manifests are a scenario stage's template: run simulate --scenario DIR [--stage NAME], which fills in {{ value … }})", err)
	}
	if len(in.policies) > 0 && len(set.Objects()) == 0 {
		// Valid ("no policy" is a real question), but said, in case it was a mistake.
		fmt.Fprintf(in.cmd.ErrOrStderr(), "tierproof: %s hold(s) no policies: every flow is allowed\n", strings.Join(in.policies, ", "))
	}
	return m, err
}

// version is the module's version, or the commit it was built from.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v += " (" + s.Value + ")"
		}
	}
	return v
}

// parseProbes reads --probe values; a probe given twice is probed once.
func parseProbes(specs []string) ([]model.Probe, error) {
	var probes []model.Probe
	for _, s := range specs {
		p, err := model.ParseProbe(s)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(probes, p) {
			probes = append(probes, p)
		}
	}
	return probes, nil
}

func newSimulateCommand() *cobra.Command {
	var in modelInputs
	var probeSpecs []string
	var output string
	cmd := &cobra.Command{
		Use:   "simulate (--topology T [--policies P] [--probe tcp/80 ...] | --scenario DIR | --catalog DIR [--case NAME]) [--output text|json]",
		Short: "Print the expected verdict of every ordered pair of endpoints, per probe",
		Example: `  # one stage of the blog on its estate, two probes
  tierproof simulate --topology fixtures/topologies/antrea-blog.yaml --policies scenarios/antrea-blog/01-isolate-environments --probe tcp/80 --probe udp/53
  # every stage of a scenario, with its templates filled in
  tierproof simulate --scenario scenarios/antrea-blog
  # a scenario of your own estate: its pods and probes derived from your manifests
  tierproof simulate --scenario examples/shop
  # one case of the conformance catalog, its assertions checked, as JSON
  tierproof simulate --catalog scenarios/conformance --case drop-is-silent -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			scenarios, err := in.loadScenarios()
			if err != nil {
				return err
			}
			if len(scenarios) > 0 {
				if cmd.Flags().Changed("probe") {
					return errors.New("--probe: a scenario lists its own probes")
				}
				return simulateScenarios(cmd, &in, scenarios, output)
			}
			probes, err := parseProbes(probeSpecs)
			if err != nil {
				return err
			}
			m, err := in.compile(nil, 0)
			if err != nil {
				return err
			}
			x, err := matrix.ExpectedContext(cmd.Context(), m, probes)
			if err != nil {
				return err
			}
			if output == "json" {
				return report.WriteJSON(in.out(), x)
			}
			return report.WriteExpectedTables(in.out(), x)
		},
	}
	in.register(cmd)
	cmd.Flags().StringArrayVar(&probeSpecs, "probe", []string{"tcp/80"}, "probe: tcp/PORT, udp/PORT, sctp/PORT or icmp (repeatable)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text (truth tables) or json")
	return cmd
}

func newExplainCommand() *cobra.Command {
	var in modelInputs
	var from, to, probeSpec, stageName string
	cmd := &cobra.Command{
		Use:   "explain (--topology T [--policies P] | --scenario DIR [--stage NAME] | --catalog DIR --case NAME [--stage NAME]) --from NS/POD --to NS/POD|EXTERNAL [--probe tcp/80]",
		Short: "Show how each side of one flow is evaluated, tier by tier",
		Example: `  # why the blog's test pod cannot reach a prod pod once block-all is applied
  tierproof explain --scenario scenarios/antrea-blog --stage block-all --from test-app/ubuntu-16-04 --to prod-app/ubuntu-16-04 --probe tcp/22
  # one flow of a conformance case
  tierproof explain --catalog scenarios/conformance --case drop-is-silent --from x/a --to y/b --probe udp/80`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			probe, err := model.ParseProbe(probeSpec)
			if err != nil {
				return err
			}
			scenarios, err := in.loadScenarios()
			if err != nil {
				return err
			}
			if len(scenarios) > 1 {
				return errors.New("--catalog: explain one case; name it with --case")
			}
			var s *scenario.Scenario
			stage := 0
			if len(scenarios) == 1 {
				s = scenarios[0]
				if stage, err = findStage(s, stageName); err != nil {
					return err
				}
			} else if stageName != "" {
				return errors.New("--stage needs --scenario or --catalog")
			}
			m, err := in.compile(s, stage)
			if err != nil {
				return err
			}
			if err := m.CheckProbe(probe); err != nil {
				return err
			}
			fromIdx, ok := m.Endpoint(from)
			if !ok {
				return fmt.Errorf("--from %q: no such endpoint in the topology (pods are namespace/name, externals by name)", from)
			}
			toIdx, ok := m.Endpoint(to)
			if !ok {
				return fmt.Errorf("--to %q: no such endpoint in the topology (pods are namespace/name, externals by name)", to)
			}
			e := m.Explain(fromIdx, toIdx, probe)
			return e.WriteText(in.out())
		},
	}
	in.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "source endpoint (required)")
	cmd.Flags().StringVar(&to, "to", "", "destination endpoint (required)")
	cmd.Flags().StringVar(&probeSpec, "probe", "tcp/80", "probe: tcp/PORT, udp/PORT, sctp/PORT or icmp")
	cmd.Flags().StringVar(&stageName, "stage", "", "with --scenario: the stage to explain, with every stage before it applied (default: the last)")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
