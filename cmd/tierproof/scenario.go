package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
)

func findStage(s *scenario.Scenario, name string) (int, error) {
	if name == "" {
		return len(s.Stages) - 1, nil
	}
	var names []string
	for i, st := range s.Stages {
		if st.Name == name {
			return i, nil
		}
		names = append(names, st.Name)
	}
	return 0, fmt.Errorf("--stage %q: scenario %s has no such stage (stages: %s)", name, s.Name, strings.Join(names, ", "))
}

type stageOut struct {
	Name       string                     `json:"name"`
	Flows      []matrix.Record            `json:"flows"`
	Assertions []scenario.AssertionResult `json:"assertions"`
}

type scenarioOut struct {
	Scenario string     `json:"scenario"`
	Feature  string     `json:"feature,omitempty"`
	Stages   []stageOut `json:"stages"`
}

// simulateScenarios prints every stage's expected matrix and checks the
// stage's assertions against the model; an assertion that does not hold makes
// the scenario inconsistent with Antrea's semantics, and the command fails.
// JSON is one object for a scenario, an array for a catalog.
func simulateScenarios(cmd *cobra.Command, in *modelInputs, scenarios []*scenario.Scenario, output string) error {
	var outs []scenarioOut
	var failing []string
	failed := 0
	for _, s := range scenarios {
		o, n, err := simulateScenario(cmd, in, s, output)
		if err != nil {
			return err
		}
		outs, failed = append(outs, o), failed+n
		if n > 0 {
			failing = append(failing, s.Name)
		}
	}
	if output == "json" {
		enc := json.NewEncoder(in.out())
		enc.SetIndent("", "  ")
		var doc any = outs
		if in.catalog == "" {
			doc = outs[0]
		}
		if err := enc.Encode(doc); err != nil {
			return err
		}
	}
	switch {
	case failed == 0:
		return nil
	case len(scenarios) == 1:
		return fmt.Errorf("%d assertions of scenario %s do not hold in the model", failed, scenarios[0].Name)
	}
	return fmt.Errorf("%d assertions of %d cases do not hold in the model: %s", failed, len(failing), strings.Join(failing, ", "))
}

// simulateScenario simulates one scenario: its JSON form, and how many
// assertions do not hold.
func simulateScenario(cmd *cobra.Command, in *modelInputs, s *scenario.Scenario, output string) (scenarioOut, int, error) {
	o := scenarioOut{Scenario: s.Name, Feature: s.Feature}
	failed := 0
	out := in.out()
	if output == "text" && s.Feature != "" {
		fmt.Fprintf(out, "#### case %s (feature %s)\n\n", s.Name, s.Feature)
	}
	for i, st := range s.Stages {
		m, err := in.compile(s, i)
		if err != nil {
			return o, 0, err
		}
		x, err := matrix.ExpectedContext(cmd.Context(), m, s.Probes)
		if err != nil {
			return o, 0, err
		}
		results, err := st.Check(m)
		if err != nil {
			return o, 0, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		for _, r := range results {
			if !r.Holds {
				failed++
			}
		}
		if output == "json" {
			o.Stages = append(o.Stages, stageOut{Name: st.Name, Flows: x.Records(), Assertions: results})
			continue
		}
		fmt.Fprintf(out, "== stage %d/%d %s: %s\n\n", i, len(s.Stages)-1, st.Name, st.Description)
		if err := report.WriteExpectedTables(out, x); err != nil {
			return o, 0, err
		}
		for _, r := range results {
			mark := "holds"
			if !r.Holds {
				mark = "DOES NOT HOLD: the model says " + r.Model.String()
			}
			fmt.Fprintf(out, "assertion %s → %s %s %s: %s\n", r.From, r.To, r.Probe, r.Verdict, mark)
		}
		fmt.Fprintln(out)
	}
	return o, failed, nil
}
