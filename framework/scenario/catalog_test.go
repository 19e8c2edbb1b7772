package scenario_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/scenario"
)

// writeCatalog writes feature files, and beside them topologies/, a copy
// of the conformance topology for topology-only cases.
func writeCatalog(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	topo, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "topologies", "conformance.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "topologies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "topologies", "conformance.yaml"), topo, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A case in two stages: the second re-applies the group under the same name
// (replacing it) and relabels a pod; the ipBlock is a template on the
// topology's addresses.
const twoStages = `feature: groups
topology: topologies/conformance.yaml
probes: [tcp/80]
cases:
  - name: update
    labels: [updates]
    stages:
      - name: first
        objects:
          - apiVersion: crd.antrea.io/v1beta1
            kind: ClusterGroup
            metadata: {name: blocked}
            spec: {podSelector: {matchLabels: {pod: a}}}
          - apiVersion: crd.antrea.io/v1beta1
            kind: ClusterNetworkPolicy
            metadata: {name: drop}
            spec:
              priority: 1
              appliedTo: [{namespaceSelector: {matchLabels: {ns: z}}}]
              ingress:
                - {action: Drop, from: [{group: blocked}]}
                - {action: Reject, from: [{ipBlock: {cidr: '{{ value "ext.ip" }}/32'}}]}
      - name: second
        relabel: [{namespace: x, pod: c, set: {pod: b}}, {namespace: "y", set: {team: blue}, remove: [ns]}]
        objects:
          - apiVersion: crd.antrea.io/v1beta1
            kind: ClusterGroup
            metadata: {name: blocked}
            spec: {podSelector: {matchLabels: {pod: b}}}
`

func TestCatalogStagesReplaceObjectsAndRelabel(t *testing.T) {
	c, err := scenario.LoadCatalog(writeCatalog(t, map[string]string{"groups.yaml": twoStages}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Cases[0]
	if s.Feature != "groups" || s.Labels[0] != "updates" || len(c.Features()) != 1 {
		t.Fatalf("case %s: feature %q, labels %v", s.Name, s.Feature, s.Labels)
	}
	base, err := fixtures.Topology("conformance")
	if err != nil {
		t.Fatal(err)
	}
	set, err := s.Policies(1, s.ValuesFor(base))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.ClusterGroups) != 1 || set.ClusterGroups[0].Object.Spec.PodSelector.MatchLabels["pod"] != "b" {
		t.Fatalf("stage 2 should replace the group, not add one: %d groups", len(set.ClusterGroups))
	}
	if cidr := set.ClusterNetworkPolicies[0].Object.Spec.Ingress[1].From[0].IPBlock.CIDR; cidr != "172.18.0.100/32" {
		t.Errorf("ext.ip rendered as %q", cidr)
	}
	topo, err := s.TopologyAt(1, base)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range topo.Pods {
		if p.EndpointName() == "x/c" && p.Labels["pod"] != "b" {
			t.Errorf("x/c labels %v", p.Labels)
		}
	}
	for _, n := range topo.Namespaces {
		if n.Name == "y" && (n.Labels["team"] != "blue" || n.Labels["ns"] != "") {
			t.Errorf("namespace y labels %v", n.Labels)
		}
	}
	for _, n := range base.Namespaces {
		if n.Name == "y" && n.Labels["ns"] != "y" {
			t.Errorf("TopologyAt changed the base topology: %v", n.Labels)
		}
	}
	// Stage 1 drops x/a; stage 2 (group now pod=b, x/c relabelled b) drops x/c.
	probe, _ := model.ParseProbe("tcp/80")
	for stage, want := range map[int]map[string]model.Verdict{
		0: {"x/a": model.Drop, "x/c": model.Allow, "ext": model.Reject},
		1: {"x/a": model.Allow, "x/c": model.Drop, "x/b": model.Drop},
	} {
		m, err := s.Model(context.Background(), stage, base)
		if err != nil {
			t.Fatal(err)
		}
		to, _ := m.Endpoint("z/a")
		for from, verdict := range want {
			fi, _ := m.Endpoint(from)
			if got := m.Evaluate(fi, to, probe).Verdict; got != verdict {
				t.Errorf("stage %d: %s → z/a %s, want %s", stage, from, got, verdict)
			}
		}
	}
}

func TestCatalogErrorsNameFileCaseAndField(t *testing.T) {
	for name, tc := range map[string]struct{ file, want string }{
		"unknown relabel target": {strings.Replace(twoStages, "{namespace: x, pod: c,", "{namespace: x, pod: nope,", 1),
			"stage second: relabel: no pod x/nope in the topology"},
		"bad label value": {strings.Replace(twoStages, "team: blue", "team: 'not ok'", 1),
			"cases[0].stages[1].relabel[1].set[team]"},
		"bad inline object": {strings.Replace(twoStages, "priority: 1\n", "priority: 1\n              colour: red\n", 1),
			`cases[0].stages[0].objects[1]`},
		"unknown value": {strings.Replace(twoStages, `value "ext.ip"`, `value "nowhere.ip"`, 1),
			`unknown template value "nowhere.ip"`},
		"bad ginkgo label": {strings.Replace(twoStages, "labels: [updates]", "labels: [Up&Down]", 1),
			"cases[0].labels[0]: invalid label"},
		"a case name that climbs out of the reports": {strings.Replace(twoStages, "name: update", "name: ../../x", 1),
			`cases[0].name: Invalid value: "../../x"`},
		"unknown topology": {strings.Replace(twoStages, "topology: topologies/conformance.yaml", "topology: atlantis.yaml", 1),
			"atlantis.yaml: no such file or directory"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := scenario.LoadCatalog(writeCatalog(t, map[string]string{"groups.yaml": tc.file}))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "groups.yaml") {
				t.Errorf("error %v, want it to name groups.yaml and %q", err, tc.want)
			}
		})
	}
	_, err := scenario.LoadCatalog(writeCatalog(t, map[string]string{"a.yaml": twoStages, "b.yaml": twoStages}))
	if err == nil || !strings.Contains(err.Error(), `case "update" is already defined in`) {
		t.Errorf("duplicate case: %v", err)
	}
}

// A catalog holding ClusterNetworkPolicies turns Antrea's gate on for its
// whole run; a Tier at 220 in any of its cases — another case than the CNPs'
// — is then refused up front, naming the file and the Tier.
func TestAClusterNetworkPolicyGateRun(t *testing.T) {
	c, err := scenario.LoadCatalog("../../scenarios/conformance")
	if err != nil {
		t.Fatal(err)
	}
	if held, err := scenario.HoldUpstreamCNPs(c.Cases); !held || err != nil {
		t.Errorf("the conformance catalog: %v, %v; want it to hold CNPs and no Tier at 220", held, err)
	}
	const cnpCase = `feature: cnp
topology: topologies/conformance.yaml
probes: [tcp/80]
cases:
  - name: a-cnp
    stages:
      - name: apply
        objects:
          - {apiVersion: policy.networking.k8s.io/v1alpha2, kind: ClusterNetworkPolicy, metadata: {name: deny},
             spec: {tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}]}]}}
  - name: a-tier
    stages:
      - name: apply
        objects:
          - {apiVersion: crd.antrea.io/v1beta1, kind: Tier, metadata: {name: at-220}, spec: {priority: 220}}
`
	c, err = scenario.LoadCatalog(writeCatalog(t, map[string]string{"cnp.yaml": cnpCase}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scenario.HoldUpstreamCNPs(c.Cases); err == nil || !strings.Contains(err.Error(), "Tier/at-220: spec.priority: Invalid value: 220: reserved by Antrea 2.7 for the ClusterNetworkPolicy Admin tier") ||
		!strings.Contains(err.Error(), "cnp.yaml") {
		t.Errorf("a Tier at 220 beside CNPs: %v", err)
	}
	if held, err := scenario.HoldUpstreamCNPs(c.Cases[1:]); held || err != nil {
		t.Errorf("the Tier alone: %v, %v", held, err)
	}
}
