package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/golden"
	"github.com/tierproof/tierproof/framework/report"
)

func TestConformanceSummaryByFeature(t *testing.T) {
	c := report.Conformance{DataPlane: "lab", Cases: []report.CaseResult{
		{Feature: "tiers", Case: "a", State: report.CasePassed},
		{Feature: "tiers", Case: "b", State: report.CaseFailed, Reason: "stage apply: 2 flows differ"},
		{Feature: "ports", Case: "c", State: report.CaseSkipped},
		{Feature: "tiers", Case: "d", State: report.CasePassed},
	}}
	var text bytes.Buffer
	if err := report.WriteConformanceText(&text, c); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(text.String(), "\n")
	want := map[string][]string{"tiers": {"2", "1", "0"}, "ports": {"0", "0", "1"}, "total": {"2", "1", "1"}}
	seen := 0
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 4 && want[f[0]] != nil {
			seen++
			if strings.Join(f[1:], " ") != strings.Join(want[f[0]], " ") {
				t.Errorf("row %q, want %v", l, want[f[0]])
			}
		}
	}
	if seen != 3 || !strings.Contains(text.String(), "FAILED tiers/b: stage apply: 2 flows differ") {
		t.Errorf("summary:\n%s", text.String())
	}
	var js bytes.Buffer
	if err := report.WriteConformanceJSON(&js, c); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Features []report.FeatureTally `json:"features"`
		Cases    []report.CaseResult   `json:"cases"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || len(doc.Cases) != 4 || doc.Features[0] != (report.FeatureTally{Feature: "tiers", Passed: 2, Failed: 1}) {
		t.Errorf("json %v: %s", err, js.String())
	}
}

// The conformance summary's text and JSON are pinned byte for byte.
func TestConformanceSummaryIsGolden(t *testing.T) {
	summary := report.Conformance{DataPlane: "kube-router v2.1.0 on kind", Cases: []report.CaseResult{
		{Feature: "k8s-networkpolicy", Case: "deny-all-ingress", State: report.CasePassed},
		{Feature: "k8s-networkpolicy", Case: "egress-named-port-to-an-ipblock", State: report.CaseFailed, Reason: "stage deny: 2 flows differ from the model"},
		{Feature: "tiers", Case: "baseline-after-k8s", State: report.CaseSkipped, Reason: "kube-router enforces Kubernetes NetworkPolicies only"},
		{Feature: "tiers", Case: "emergency-first", State: report.CasePassed},
	}}
	var text, js bytes.Buffer
	if err := report.WriteConformanceText(&text, summary); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteConformanceJSON(&js, summary); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/conformance-summary.txt", text.Bytes())
	golden.Check(t, "testdata/conformance-summary.json", js.Bytes())
}
