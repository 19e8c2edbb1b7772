package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFiles writes every report of a run into dir: junit.xml, results.json,
// truth-tables.txt and report.html. It returns the paths written.
func WriteFiles(dir string, run Run) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
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
		file, err := os.Create(path)
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
