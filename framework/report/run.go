package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/tierproof/tierproof/framework/matrix"
)

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

// Stage is one played stage: its name, its probed matrix and, for some
// mismatched flows, what the data plane's own tracing saw (by case name).
type Stage struct {
	Name   string
	Matrix *matrix.Matrix
	Traces map[string]string
	// Probing is how long the stage's probing took, rounds included.
	Probing time.Duration
}

// Run is a played scenario. DataPlane says what answered the probes — "Antrea
// v2.7.0 on kind", or "lab data plane (network namespaces, not Antrea)" — and
// every report repeats it.
type Run struct {
	Scenario  string
	DataPlane string
	Stages    []Stage
	// NotPlayed are the scenario's stages that have no verdict, and why:
	// after a failed stage, filtered out, or failed before probing.
	NotPlayed []NotPlayed
}

// NotPlayed is a stage without a verdict.
type NotPlayed struct {
	Stage string `json:"stage"`
	Why   string `json:"why"`
}

// CaseName names a flow's test case: stage/from→to/probe.
func CaseName(stage string, c matrix.Cell) string {
	return stage + "/" + c.From + "→" + c.To + "/" + c.Probe.String()
}

// Explanation is the model's reason for a cell, both sides.
func Explanation(c matrix.Cell) string {
	return fmt.Sprintf("model: %s (egress: %s; ingress: %s)", c.Expected.Verdict, c.Expected.Egress.Describe(), c.Expected.Ingress.Describe())
}

func attemptsText(c matrix.Cell) string {
	var parts []string
	for i, a := range c.Attempts {
		s := fmt.Sprintf("#%d %s", i+1, a.Verdict)
		if a.Detail != "" {
			s += " (" + a.Detail + ")"
		}
		parts = append(parts, s)
	}
	return fmt.Sprintf("%d attempt(s): %s", len(c.Attempts), strings.Join(parts, ", "))
}

// WriteFiles writes every report of a run into rel, a directory under the
// reports directory root: junit.xml, results.json, truth-tables.txt and
// report.html. It returns the paths written.
func WriteFiles(root, rel string, run Run) ([]string, error) {
	dir, err := Subdir(root, rel)
	if err != nil {
		return nil, err
	}
	var written []string
	for _, f := range []struct {
		name  string
		write func(io.Writer, Run) error
	}{
		{"junit.xml", WriteJUnit},
		{"results.json", WriteResultsJSON},
		{"truth-tables.txt", WriteObservedTables},
		{"report.html", WriteHTML},
	} {
		path := filepath.Join(dir, f.name)
		file, err := CreateFile(path)
		if err != nil {
			return written, err
		}
		err = f.write(file, run)
		if closeErr := file.Close(); err == nil {
			err = closeErr
		}
		if err != nil {
			return written, fmt.Errorf("writing %s: %w", path, err)
		}
		written = append(written, path)
	}
	return written, nil
}

// Summary is a run in one line: stages played and not, flows probed,
// mismatches, and where the reports are.
func Summary(run Run, dir string) string {
	t := tallyRun(run)
	return fmt.Sprintf("%s on %s: %d stage(s) played, %d not played; %d flows probed, %d mismatch(es); reports in %s",
		run.Scenario, run.DataPlane, len(run.Stages), len(run.NotPlayed), t.probed, t.mismatches, dir)
}

// tally counts a stage's (or a run's) probed flows, mismatches and cells that
// matched only on retry.
type tally struct{ probed, mismatches, retried int }

func tallyStage(st Stage) tally {
	var t tally
	for _, c := range st.Matrix.Cells() {
		if len(c.Attempts) == 0 {
			continue
		}
		t.probed++
		switch {
		case !c.Matches():
			t.mismatches++
		case c.MatchedOnRetry():
			t.retried++
		}
	}
	return t
}

func tallyRun(run Run) tally {
	var t tally
	for _, st := range run.Stages {
		s := tallyStage(st)
		t.probed, t.mismatches, t.retried = t.probed+s.probed, t.mismatches+s.mismatches, t.retried+s.retried
	}
	return t
}
