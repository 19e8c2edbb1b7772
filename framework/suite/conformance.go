package suite

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/tierproof/tierproof/framework/dataplane"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/walkthrough"
)

// Case is one catalog case being played on the catalog's data plane.
type Case struct {
	play *walkthrough.Play
	// unplayable says why the plane cannot enforce the case at all.
	unplayable error
}

// StartCase begins case s on p: every case starts from the estate as booted
// (the suite resets p after each).
func (e *Env) StartCase(p *dataplane.Opened, s *scenario.Scenario) *Case {
	runner := e.Runner(p)
	values := Values(s, p)
	return &Case{play: runner.Start(s, p.Topology, values), unplayable: runner.CheckScenario(s, values)}
}

// Stage plays stage i of the case. skip, when not empty, says why the stage
// gives no verdict here — the plane cannot enforce the case, or can probe
// none of its flows — which is not a pass; err is a failure, with its first
// mismatches described.
func (c *Case) Stage(ctx context.Context, i int) (skip string, err error) {
	if c.unplayable != nil {
		return c.unplayable.Error(), nil
	}
	stage, err := c.play.Stage(ctx, i)
	switch {
	case errors.Is(err, walkthrough.ErrNothingProbed):
		return err.Error() + " (the offline check holds its assertions against the model)", nil
	case err != nil:
		return "", errors.New(err.Error() + report.DescribeMismatches(stage, 10))
	}
	return "", nil
}

// Report is the case's report: the stages played, and why the others were not.
func (c *Case) Report(unplayedWhy string) report.Run { return c.play.Report(unplayedWhy) }

// ConformanceSummary is the catalog run by feature, from the specs' states:
// a case passed when each of its stages did, failed when one failed, and was
// skipped otherwise (filtered out, not playable here, or the suite stopped).
func ConformanceSummary(catalog *scenario.Catalog, r types.Report, dataPlane string) report.Conformance {
	states := map[string][]types.SpecReport{}
	for _, spec := range r.SpecReports {
		if len(spec.ContainerHierarchyTexts) == 2 {
			name := spec.ContainerHierarchyTexts[1]
			states[name] = append(states[name], spec)
		}
	}
	summary := report.Conformance{DataPlane: dataPlane}
	for _, s := range catalog.Cases {
		summary.Cases = append(summary.Cases, caseResult(s, states[s.Name]))
	}
	return summary
}

func caseResult(s *scenario.Scenario, specs []types.SpecReport) report.CaseResult {
	result := report.CaseResult{Feature: s.Feature, Case: s.Name, State: report.CaseSkipped}
	passed := 0
	for _, spec := range specs {
		switch {
		case spec.State.Is(types.SpecStateFailureStates):
			result.State, result.Reason = report.CaseFailed, spec.FailureMessage()
			return result
		case spec.State == types.SpecStatePassed:
			passed++
		case spec.State == types.SpecStateSkipped && result.Reason == "":
			result.Reason = spec.FailureMessage()
		}
	}
	if passed == len(s.Stages) {
		result.State = report.CasePassed
	}
	return result
}

// WriteConformance writes the summary as text and JSON into dir (none: the
// text only) and returns the text to print.
func WriteConformance(dir string, summary report.Conformance) (string, error) {
	var text strings.Builder
	if err := report.WriteConformanceText(&text, summary); err != nil {
		return "", err
	}
	if dir == "" {
		return text.String(), nil
	}
	for name, write := range map[string]func(io.Writer) error{
		"conformance-summary.txt":  func(w io.Writer) error { _, err := io.WriteString(w, text.String()); return err },
		"conformance-summary.json": func(w io.Writer) error { return report.WriteConformanceJSON(w, summary) },
	} {
		f, err := report.CreateFile(filepath.Join(dir, name))
		if err != nil {
			return "", err
		}
		if err := errors.Join(write(f), f.Close()); err != nil {
			return "", err
		}
	}
	return text.String(), nil
}
