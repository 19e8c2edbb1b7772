package matrix_test

import (
	"testing"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
)

// A Denied observation (a tool that cannot tell a Drop from a Reject, as
// BusyBox's ping) matches a cell the model denies and meets an assertion
// of Drop, but is a mismatch where the model allows.
func TestDeniedMatchesEitherDenialOnly(t *testing.T) {
	topo, err := topology.Parse([]byte("namespaces: [{name: x}]\npods:\n  - {namespace: x, name: a, ip: 10.0.0.1, labels: {app: a}}\n  - {namespace: x, name: b, ip: 10.0.0.2, labels: {app: b}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	objects, err := policy.Decode("deny.yaml", []byte(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-alone, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Ingress]
`))
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
	icmp := model.Probe{Protocol: model.ICMP}
	x, err := matrix.Expected(m, []model.Probe{icmp})
	if err != nil {
		t.Fatal(err)
	}
	denied := []probe.Attempt{{Verdict: probe.Denied}}
	if err := x.Observe([]probe.Observation{
		{Flow: probe.Flow{From: "x/a", To: "x/b", Probe: icmp}, Attempts: denied}, // isolated: denied
		{Flow: probe.Flow{From: "x/b", To: "x/a", Probe: icmp}, Attempts: denied}, // allowed
	}); err != nil {
		t.Fatal(err)
	}
	mismatches := x.Mismatches()
	if len(mismatches) != 1 || mismatches[0].From != "x/b" {
		t.Errorf("mismatches %+v, want b → a alone", mismatches)
	}
	for _, denial := range []model.Verdict{model.Drop, model.Reject} {
		unmet, covered := x.Unmet(scenario.Assertion{From: "x/a", To: "x/b", Probe: icmp, Verdict: model.Drop}, denial)
		if !covered || len(unmet) != 0 {
			t.Errorf("K8s denial %s: assertion of Drop unmet %v (covered %v)", denial, unmet, covered)
		}
	}
}
