package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/diff"
	"github.com/tierproof/tierproof/framework/lint"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
)

// Diff's exit statuses.
const (
	diffChanged  = 1 // flows changed, with --fail-on-change
	diffBadInput = 2 // nothing compared: the input does not load
)

func newDiffCommand() *cobra.Command {
	var in modelInputs
	var before, after, probeSpecs []string
	var stageName, output string
	var failOnChange bool
	cmd := &cobra.Command{
		Use:   "diff (--topology T | --scenario DIR [--stage NAME]) --before P... --after P... [--probe tcp/80 ...] [--output text|markdown|json] [--fail-on-change]",
		Short: "Which flows a policy change opens or closes, and which rule decides them before and after",
		Long: `diff evaluates every flow of the topology under the policies before and after a
change and prints those whose verdict changes, grouped by namespace, probe and
deciding rule, with the lint findings the change introduces. --before and --after
take what --policies takes (files, directories, repeatable): a pull request's base
and head. With --scenario and neither, the change is a stage's: the stages before
--stage (default: the last) against the stages up to it.
Exit status: 0, or 1 with --fail-on-change when a flow changes; 2 on bad input.`,
		Example: `  # what the blog's block-all stage changes, as a pull-request comment
  tierproof diff --topology fixtures/topologies/antrea-blog.yaml --before scenarios/antrea-blog/01-isolate-environments --before scenarios/antrea-blog/02-allow-core-dns --after scenarios/antrea-blog/01-isolate-environments --after scenarios/antrea-blog/02-allow-core-dns --after scenarios/antrea-blog/03-block-all --probe tcp/22 --probe udp/53 -o markdown
  # the same, the stage of a scenario against the stages before it
  tierproof diff --scenario scenarios/antrea-blog --stage block-all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "markdown" && output != "json" {
				return &exitError{diffBadInput, fmt.Errorf("--output %q: want text, markdown or json", output)}
			}
			r, err := review(cmd, &in, before, after, probeSpecs, stageName)
			if err != nil {
				return &exitError{diffBadInput, err}
			}
			switch output {
			case "json":
				err = diff.WriteJSON(in.out(), r)
			case "markdown":
				err = diff.WriteMarkdown(in.out(), r)
			default:
				err = diff.WriteText(in.out(), r)
			}
			if err != nil {
				return err
			}
			if failOnChange && len(r.Changes) > 0 {
				return &exitError{diffChanged, fmt.Errorf("%d flow(s) change (--fail-on-change)", len(r.Changes))}
			}
			return nil
		},
	}
	in.cmd = cmd
	cmd.Flags().StringVar(&in.topology, "topology", "", "topology file: namespaces, pods, externals (or a --scenario's)")
	cmd.Flags().StringVar(&in.scenario, "scenario", "", "a scenario: its topology, probes and stages")
	cmd.Flags().StringVar(&stageName, "stage", "", "with --scenario: the stage whose topology (and, without --before/--after, whose change) to use (default: the last)")
	cmd.Flags().StringArrayVar(&before, "before", nil, "the policies before the change: files or directories of *.yaml (repeatable)")
	cmd.Flags().StringArrayVar(&after, "after", nil, "the policies after the change: files or directories of *.yaml (repeatable)")
	cmd.Flags().StringArrayVar(&probeSpecs, "probe", []string{"tcp/80"}, "probe: tcp/PORT, udp/PORT, sctp/PORT or icmp (repeatable; a scenario lists its own)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text, markdown (a pull-request comment) or json")
	cmd.Flags().BoolVar(&failOnChange, "fail-on-change", false, "exit 1 when any flow changes")
	cmd.Flags().BoolVar(&in.strict, "strict", false, "refuse policy files that also hold other kinds instead of passing over them")
	cmd.Flags().StringVar(&in.namespace, "namespace", "default", "the namespace of namespaced objects that name none (kubectl's current namespace)")
	cmd.Flags().Int64Var(&in.maxMiB, "max-input-mib", defaultMaxInputMiB, "refuse an input file larger than this many MiB")
	cmd.MarkFlagsMutuallyExclusive("topology", "scenario")
	return cmd
}

// review loads both sides on one topology, compares them flow by flow, and
// lints both.
func review(cmd *cobra.Command, in *modelInputs, before, after, probeSpecs []string, stageName string) (diff.Review, error) {
	if err := checkInputs(in.maxMiB, slices.Concat([]string{in.topology, in.scenario}, before, after)...); err != nil {
		return diff.Review{}, err
	}
	if (len(before) == 0) != (len(after) == 0) {
		return diff.Review{}, errors.New("--before and --after go together: the policies on each side of the change")
	}
	var topo *topology.Topology
	var probes []model.Probe
	var sets [2]*policy.Set
	switch {
	case in.scenario != "":
		s, err := scenario.Load(in.scenario)
		if err != nil {
			return diff.Review{}, err
		}
		if cmd.Flags().Changed("probe") {
			return diff.Review{}, errors.New("--probe: a scenario lists its own probes")
		}
		stage, err := findStage(s, stageName)
		if err != nil {
			return diff.Review{}, err
		}
		if topo, err = s.TopologyAt(stage, s.Topology); err != nil {
			return diff.Review{}, err
		}
		probes = s.Probes
		if len(before) == 0 {
			if stage == 0 {
				return diff.Review{}, fmt.Errorf("--stage %s is the scenario's first: no stage before it to compare with (give --before and --after)", s.Stages[0].Name)
			}
			values := s.ValuesFor(s.Topology)
			if sets[0], err = s.Policies(stage-1, values); err != nil {
				return diff.Review{}, err
			}
			if sets[1], err = s.Policies(stage, values); err != nil {
				return diff.Review{}, err
			}
		}
	case in.topology != "":
		var err error
		if topo, err = topology.Load(in.topology); err != nil {
			return diff.Review{}, err
		}
		if probes, err = parseProbes(probeSpecs); err != nil {
			return diff.Review{}, err
		}
		if len(before) == 0 {
			return diff.Review{}, errors.New("--before and --after are required with --topology")
		}
	default:
		return diff.Review{}, errors.New("--topology or --scenario is required: the endpoints whose flows to compare")
	}
	for i, paths := range [][]string{before, after} {
		if len(paths) == 0 {
			continue
		}
		side := *in
		side.policies = paths
		set, err := side.loadPolicies()
		if err != nil {
			return diff.Review{}, err
		}
		sets[i] = set
	}
	var models [2]*model.Model
	var findings [2][]lint.Finding
	for i, set := range sets {
		m, err := model.CompileContext(cmd.Context(), topo, set, model.Antrea)
		if err != nil {
			return diff.Review{}, fmt.Errorf("%s: %w", []string{"before", "after"}[i], err)
		}
		models[i] = m
		if findings[i], err = lint.Run(cmd.Context(), topo, set); err != nil {
			return diff.Review{}, err
		}
	}
	d, err := diff.Compute(cmd.Context(), models[0], models[1], probes, model.Antrea)
	if err != nil {
		return diff.Review{}, err
	}
	return diff.Review{Diff: d, Introduced: diff.Introduced(findings[0], findings[1])}, nil
}
