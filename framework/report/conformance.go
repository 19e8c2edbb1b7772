package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// CaseState is how a conformance case ended.
type CaseState string

// The states of a case: every stage matched the model and its assertions, a
// stage did not, or the case was not played (filtered out, or the suite stopped).
const (
	CasePassed  CaseState = "passed"
	CaseFailed  CaseState = "failed"
	CaseSkipped CaseState = "skipped"
)

// CaseResult is one catalog case's outcome.
type CaseResult struct {
	Feature string    `json:"feature"`
	Case    string    `json:"case"`
	State   CaseState `json:"state"`
	Reason  string    `json:"reason,omitempty"`
}

// Conformance is a catalog run: every case's outcome, on one data plane.
type Conformance struct {
	DataPlane string       `json:"dataPlane"`
	Cases     []CaseResult `json:"cases"`
}

// FeatureTally counts a feature's cases by state.
type FeatureTally struct {
	Feature string `json:"feature"`
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	Skipped int    `json:"skipped"`
}

// Features tallies the cases per feature, features in first-seen order.
func (c Conformance) Features() []FeatureTally {
	var tallies []FeatureTally
	index := map[string]int{}
	for _, r := range c.Cases {
		i, ok := index[r.Feature]
		if !ok {
			i = len(tallies)
			index[r.Feature] = i
			tallies = append(tallies, FeatureTally{Feature: r.Feature})
		}
		switch r.State {
		case CasePassed:
			tallies[i].Passed++
		case CaseFailed:
			tallies[i].Failed++
		default:
			tallies[i].Skipped++
		}
	}
	return tallies
}

// WriteConformanceText writes the summary table by feature, like a
// conformance profile report, then the failed cases and why.
func WriteConformanceText(w io.Writer, c Conformance) error {
	fmt.Fprintf(w, "conformance on %s\n\n", c.DataPlane)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tPASSED\tFAILED\tSKIPPED")
	var total FeatureTally
	for _, t := range c.Features() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", t.Feature, t.Passed, t.Failed, t.Skipped)
		total.Passed, total.Failed, total.Skipped = total.Passed+t.Passed, total.Failed+t.Failed, total.Skipped+t.Skipped
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\n", total.Passed, total.Failed, total.Skipped)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range c.Cases {
		if r.State == CaseFailed {
			fmt.Fprintf(w, "\nFAILED %s/%s: %s\n", r.Feature, r.Case, r.Reason)
		}
	}
	return nil
}

// WriteConformanceJSON writes the run and its tallies as JSON.
func WriteConformanceJSON(w io.Writer, c Conformance) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Conformance
		Features []FeatureTally `json:"features"`
	}{c, c.Features()})
}

// DescribeMismatches lists up to max differing cells of a stage with the
// model's reasons, one per line, for a failure message.
func DescribeMismatches(stage Stage, max int) string {
	if stage.Matrix == nil {
		return ""
	}
	var b strings.Builder
	cells := stage.Matrix.Mismatches()
	for i, c := range cells {
		if i == max {
			fmt.Fprintf(&b, "\n  … and %d more", len(cells)-max)
			break
		}
		fmt.Fprintf(&b, "\n  %s: expected %s, observed %s; %s", CaseName(stage.Name, c), c.Expected.Verdict, c.Observed(), Explanation(c))
	}
	return b.String()
}
