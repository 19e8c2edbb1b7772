package yamlcheck_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tierproof/tierproof/framework/topology"
	"github.com/tierproof/tierproof/framework/yamlcheck"
)

// Every problem at once, each with its line and path: a typo in a field, a
// list where a mapping belongs, a mapping where a string belongs.
func TestFieldsReportsEveryProblemWithLineAndPath(t *testing.T) {
	data := `namespaces:
  - {name: x, labels: {ns: x}}
pods:
  - namespace: x
    nmae: a
    ip: 10.0.0.1
  - namespace: x
    name: b
    labels: [pod, b]
    ip: {v4: 10.0.0.2}
`
	err := yamlcheck.Fields([]byte(data), topology.Topology{})
	if err == nil {
		t.Fatal("no problem found")
	}
	for _, want := range []string{
		"line 5: pods[0].nmae: unknown field (known: ",
		"line 9: pods[1].labels: want a mapping, got a list",
		"line 10: pods[1].ip: want a string, got a mapping",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("lacks %q:\n%v", want, err)
		}
	}
	if strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("want exactly 3 problems:\n%v", err)
	}
	if err := yamlcheck.Fields([]byte("namespaces: [{name: x}]\npods: []\n"), topology.Topology{}); err != nil {
		t.Errorf("a clean topology: %v", err)
	}
}

func TestTopologyParseGivesTheLine(t *testing.T) {
	_, err := topology.Parse([]byte("namespaces: [{name: x}]\npods:\n  - {namespace: x, name: a, ip: 10.0.0.1, lables: {a: b}}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3: pods[0].lables: unknown field") {
		t.Errorf("%v", err)
	}
}

// Types that decode themselves from JSON (IntOrString reads 80 and "http")
// are left to their decoder: no false "want a mapping" for them.
func TestFieldsLeavesSelfDecodingTypesAlone(t *testing.T) {
	type port struct {
		Port *intstr.IntOrString `json:"port"`
	}
	type rule struct {
		Ports []port `json:"ports"`
	}
	err := yamlcheck.At(10).Fields([]byte("ports:\n- port: 80\n- port: http\n- prot: 1\n"), rule{})
	if err == nil || err.Error() != "line 13: ports[2].prot: unknown field (known: port)" {
		t.Errorf("Fields = %v, want only the unknown field, on the file's line 13", err)
	}
}
