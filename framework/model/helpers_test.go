package model_test

import (
	"strings"
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/topology"
)

func loadTopology(t testing.TB, name string) *topology.Topology {
	t.Helper()
	topo, err := fixtures.Topology(name)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func compileYAML(t testing.TB, topo *topology.Topology, manifests string) (*model.Model, error) {
	t.Helper()
	return compileYAMLFor(t, topo, manifests, model.Antrea)
}

func compileYAMLFor(t testing.TB, topo *topology.Topology, manifests string, semantics model.Semantics) (*model.Model, error) {
	t.Helper()
	objects, err := policy.Decode("test.yaml", []byte(manifests))
	if err != nil {
		return nil, err
	}
	set, err := policy.NewSet(objects)
	if err != nil {
		return nil, err
	}
	return model.CompileFor(topo, set, semantics)
}

func mustCompile(t testing.TB, topo *topology.Topology, manifests string) *model.Model {
	t.Helper()
	m, err := compileYAML(t, topo, manifests)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return m
}

// flow is a flow and what Antrea's documented semantics say must happen to it.
// egress and ingress, when set, name who decides that side: "<policy> <rule>"
// such as "ClusterNetworkPolicy/p ingress[0]", or a stage such as "default".
type flow struct {
	from, to, probe string
	verdict         model.Verdict
	egress, ingress string
}

func who(d model.Decision) string {
	if d.Rule == nil {
		return d.Phase.String()
	}
	return d.Rule.Policy.String() + " " + d.Rule.ID()
}

func evaluate(t testing.TB, m *model.Model, from, to, probe string) model.Result {
	t.Helper()
	p, err := model.ParseProbe(probe)
	if err != nil {
		t.Fatal(err)
	}
	fi, ok := m.Endpoint(from)
	if !ok {
		t.Fatalf("no endpoint %s", from)
	}
	ti, ok := m.Endpoint(to)
	if !ok {
		t.Fatalf("no endpoint %s", to)
	}
	return m.Evaluate(fi, ti, p)
}

func checkFlows(t *testing.T, m *model.Model, flows []flow) {
	t.Helper()
	for _, f := range flows {
		r := evaluate(t, m, f.from, f.to, f.probe)
		name := f.from + " → " + f.to + " " + f.probe
		if r.Verdict != f.verdict {
			t.Errorf("%s: verdict %s, want %s (egress: %s; ingress: %s)", name, r.Verdict, f.verdict, who(r.Egress), who(r.Ingress))
		}
		if f.egress != "" && who(r.Egress) != f.egress {
			t.Errorf("%s: egress decided by %q, want %q", name, who(r.Egress), f.egress)
		}
		if f.ingress != "" && who(r.Ingress) != f.ingress {
			t.Errorf("%s: ingress decided by %q, want %q", name, who(r.Ingress), f.ingress)
		}
	}
}

// docs joins YAML documents.
func docs(d ...string) string { return strings.Join(d, "\n---\n") }
