package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/lint"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/scenario"
)

// exitError ends the command with a status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Lint's exit statuses.
const (
	lintFindings = 1 // findings at or above --fail-on
	lintBadInput = 2 // nothing linted: the input does not load
)

func newLintCommand() *cobra.Command {
	var in modelInputs
	var stageName, failOn, output string
	cmd := &cobra.Command{
		Use:   "lint (--topology T --policies P... | --scenario DIR [--stage NAME] | --catalog DIR --case NAME [--stage NAME]) [--fail-on warning] [--output text|json]",
		Short: "Find policies that apply but do not do what they seem to: exit 0 clean, 1 findings at or above --fail-on, 2 bad input",
		Example: `  tierproof lint --topology fixtures/topologies/antrea-blog.yaml --policies scenarios/antrea-blog/03-block-all
  tierproof lint --scenario scenarios/antrea-blog -o json
  tierproof lint --catalog scenarios/conformance --case drop-is-silent --fail-on error`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return &exitError{lintBadInput, fmt.Errorf("--output %q: want text or json", output)}
			}
			threshold, none := lint.Severity(0), failOn == "none"
			if !none {
				var err error
				if threshold, err = lint.ParseSeverity(failOn); err != nil {
					return &exitError{lintBadInput, fmt.Errorf("--fail-on: %w (or none)", err)}
				}
			}
			findings, err := runLint(&in, stageName)
			if err != nil {
				return &exitError{lintBadInput, err}
			}
			if output == "json" {
				err = lint.WriteJSON(in.out(), findings)
			} else {
				err = lint.WriteText(in.out(), findings)
			}
			if err != nil {
				return err
			}
			if worst, any := lint.Worst(findings); any && !none && worst >= threshold {
				return &exitError{lintFindings, fmt.Errorf("findings at or above %s", threshold)}
			}
			return nil
		},
	}
	in.register(cmd)
	cmd.Flags().StringVar(&stageName, "stage", "", "with --scenario or --catalog: lint what is applied once this stage is (default: the last)")
	cmd.Flags().StringVar(&failOn, "fail-on", "warning", "exit 1 when a finding has this severity or a higher one: info, warning, error, or none")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

// runLint lints --policies on --topology, or a scenario's stage on its
// topology (--topology overrides the fixture: lint against a cluster's snapshot).
func runLint(in *modelInputs, stageName string) ([]lint.Finding, error) {
	scenarios, err := in.loadScenarios()
	if err != nil {
		return nil, err
	}
	if len(scenarios) > 1 {
		return nil, errors.New("--catalog: lint one case; name it with --case")
	}
	var s *scenario.Scenario
	if len(scenarios) == 1 {
		s = scenarios[0]
	} else if stageName != "" {
		return nil, errors.New("--stage needs --scenario or --catalog")
	}
	topo, err := in.loadTopology(s)
	if err != nil {
		return nil, err
	}
	var set *policy.Set
	if s != nil {
		stage, err := findStage(s, stageName)
		if err != nil {
			return nil, err
		}
		if topo, err = s.TopologyAt(stage, topo); err != nil {
			return nil, err
		}
		set, err = s.Policies(stage, s.ValuesFor(topo))
		if err != nil {
			return nil, err
		}
	} else if set, err = in.loadPolicies(); err != nil {
		return nil, err
	}
	semantics, err := in.semanticsFlag()
	if err != nil {
		return nil, err
	}
	return lint.RunFor(in.cmd.Context(), topo, set, semantics)
}
