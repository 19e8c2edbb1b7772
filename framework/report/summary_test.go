package report_test

import (
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/report"
)

// truth-tables.txt opens with the run's counts, and each stage's header
// carries its own: the first thing a reader needs, before any matrix.
func TestTruthTablesOpenWithASummary(t *testing.T) {
	x := expectedMatrix(t, "") // no policies: everything is allowed
	var obs []probe.Observation
	for _, f := range x.Flows(func(string) string { return "" }) {
		attempts := []probe.Attempt{{Verdict: probe.Allow}}
		switch {
		case f.From == "x/a" && f.To == "y/b":
			attempts = []probe.Attempt{{Verdict: probe.Drop}, {Verdict: probe.Drop}} // a mismatch
		case f.From == "z/c" && f.To == "ext":
			attempts = []probe.Attempt{{Verdict: probe.Error}, {Verdict: probe.Allow}} // matched on retry
		case f.From == "ext":
			continue // not probed
		}
		obs = append(obs, probe.Observation{Flow: f, Attempts: attempts})
	}
	if err := x.Observe(obs); err != nil {
		t.Fatal(err)
	}
	run := report.Run{Scenario: "s", DataPlane: "lab", Stages: []report.Stage{{Name: "apply", Matrix: x}},
		NotPlayed: []report.NotPlayed{{Stage: "later", Why: "an earlier stage (apply) failed"}}}
	var b strings.Builder
	if err := report.WriteObservedTables(&b, run); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	// 10 endpoints: 100 cells, the 10 from ext not probed.
	if want := "summary: 1 stage(s) played, 1 not played; 90 flows probed, 1 mismatch(es), 1 matched only on retry"; lines[1] != want {
		t.Errorf("second line %q, want %q", lines[1], want)
	}
	if !strings.Contains(b.String(), "== stage apply: 1 mismatch(es); 90 flows probed, 1 matched only on retry\n") {
		t.Errorf("no stage counts:\n%s", b.String())
	}
}
