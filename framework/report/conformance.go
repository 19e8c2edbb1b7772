package report

import (
	"encoding/json"
	"fmt"
	"io"
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
