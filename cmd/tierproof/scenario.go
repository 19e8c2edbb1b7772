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

// simulateScenario prints every stage's expected matrix and checks the
// stage's assertions against the model; an assertion that does not hold makes
// the scenario inconsistent with Antrea's semantics, and the command fails.
func simulateScenario(cmd *cobra.Command, in *modelInputs, s *scenario.Scenario, output string) error {
	type stageOut struct {
		Name       string            `json:"name"`
		Flows      []matrix.Record   `json:"flows"`
		Assertions []scenario.AssertionResult `json:"assertions"`
	}
	var stages []stageOut
	failed := 0
	out := cmd.OutOrStdout()
	for i, st := range s.Stages {
		m, err := in.compile(s, i)
		if err != nil {
			return err
		}
		x, err := matrix.Expected(m, s.Probes)
		if err != nil {
			return err
		}
		results, err := st.Check(m)
		if err != nil {
			return err
		}
		for _, r := range results {
			if !r.Holds {
				failed++
			}
		}
		if output == "json" {
			stages = append(stages, stageOut{Name: st.Name, Flows: x.Records(), Assertions: results})
			continue
		}
		fmt.Fprintf(out, "== stage %d/%d %s: %s\n\n", i, len(s.Stages)-1, st.Name, st.Description)
		if err := report.WriteExpectedTables(out, x); err != nil {
			return err
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
	if output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Scenario string     `json:"scenario"`
			Stages   []stageOut `json:"stages"`
		}{s.Name, stages}); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d assertions of scenario %s do not hold in the model", failed, s.Name)
	}
	return nil
}
