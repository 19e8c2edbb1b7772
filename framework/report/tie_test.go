package report_test

import (
	"strings"
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/report"
)

// Two ACNPs of one tier and priority whose rule 0 disagree on x → y:
// Antrea's order between them is undefined, so every table marks those cells.
func TestTiedCellsAreMarkedInEveryTable(t *testing.T) {
	policyYAML := func(name, action string) string {
		return "apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: " + name + "}\nspec:\n  priority: 5\n" +
			"  appliedTo: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]\n  ingress: [{action: " + action + ", from: [{namespaceSelector: {matchLabels: {ns: x}}}]}]\n"
	}
	x := expectedMatrix(t, policyYAML("allow-x", "Allow")+"---\n"+policyYAML("drop-x", "Drop"))
	var tables strings.Builder
	if err := report.WriteExpectedTables(&tables, x); err != nil {
		t.Fatal(err)
	}
	// 3 sources in x × 3 destinations in y.
	if got := strings.Count(tables.String(), ".?"); got != 9 || !strings.Contains(tables.String(), "? tie: 9 cell(s)") {
		t.Errorf("the expected table marks %d tied cells, want 9:\n%s", got, tables.String())
	}
	var html strings.Builder
	if err := report.WriteHTML(&html, report.Run{Scenario: "tie", DataPlane: "none", Stages: []report.Stage{{Name: "apply", Matrix: x}}}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(html.String(), " tied\""); got != 9 {
		t.Errorf("the HTML report marks %d tied cells, want 9", got)
	}
	// Nothing was probed: every cell says so (its panel reads "not probed").
	if got := strings.Count(html.String(), " unprobed"); got != 100 {
		t.Errorf("%d of the 100 cells are marked unprobed", got)
	}
}

// expectedMatrix is the model's tcp/80 matrix of manifests on the xyz estate.
func expectedMatrix(t *testing.T, manifests string) *matrix.Matrix {
	t.Helper()
	topo, err := fixtures.Topology("xyz")
	if err != nil {
		t.Fatal(err)
	}
	objects, err := policy.Decode("test.yaml", []byte(manifests))
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.NewSet(objects)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Compile(topo, set)
	if err != nil {
		t.Fatal(err)
	}
	x, err := matrix.Expected(m, []model.Probe{{Protocol: model.TCP, Port: 80}})
	if err != nil {
		t.Fatal(err)
	}
	return x
}
