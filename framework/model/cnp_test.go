package model_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/model"
)

// cnp is a ClusterNetworkPolicy of tier and priority with the given spec lines.
func cnp(name, tier string, priority int, rest string) string {
	return fmt.Sprintf("apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: %s}\nspec:\n  tier: %s\n  priority: %d\n%s", name, tier, priority, rest)
}

const (
	cnpSubjectY = "  subject: {namespaces: {matchLabels: {ns: \"y\"}}}\n"
	fromX       = "[{namespaces: {matchLabels: {ns: x}}}]"
)

// Where the two orders part: on Antrea an Admin Pass skips the Antrea tiers
// after 220 too (the agent's Pass jumps to the K8s NetworkPolicy table:
// conjunctionActionPassFlow, pkg/agent/openflow/pipeline.go:1886), and a
// Baseline Pass is refused; on the spec's order a Baseline Pass hands the
// flow to the default, Allow (ClusterNetworkPolicyRuleActionPass, "passes
// evaluation to the next tier"), and the K8s NetworkPolicy's policyTypes are
// the spec's.
func TestClusterNetworkPolicyOrders(t *testing.T) {
	topo := loadTopology(t, "xyz")
	adminPassThenBaseline := docs(
		cnp("admin-pass", "Admin", 1, cnpSubjectY+"  ingress: [{action: Pass, from: "+fromX+"}]\n"),
		cnp("baseline", "Baseline", 1, cnpSubjectY+"  ingress: [{action: Deny, from: [{namespaces: {}}]}]\n"))
	for _, semantics := range []model.Semantics{model.Antrea, model.Spec} {
		m, err := compileYAMLFor(t, topo, adminPassThenBaseline, semantics)
		if err != nil {
			t.Fatal(err)
		}
		checkFlows(t, m, []flow{
			{from: "x/a", to: "y/a", probe: "tcp/80", verdict: model.Drop, ingress: "CNP/baseline ingress[0]"},
			{from: "z/a", to: "y/a", probe: "tcp/80", verdict: model.Drop, ingress: "CNP/baseline ingress[0]"},
			{from: "ext", to: "y/a", probe: "tcp/80", verdict: model.Allow, ingress: "default"},
		})
		if r := evaluate(t, m, "x/a", "y/a", "tcp/80"); r.Ingress.PassedBy == nil || r.Ingress.PassedBy.Policy.String() != "CNP/admin-pass" {
			t.Errorf("%s: the Admin Pass is not recorded: %+v", semantics.Name, r.Ingress)
		}
	}

	baselinePass := cnp("baseline-pass", "Baseline", 1, cnpSubjectY+"  ingress:\n  - {action: Pass, from: "+fromX+"}\n  - {action: Deny, from: [{namespaces: {}}]}\n")
	if _, err := compileYAMLFor(t, topo, baselinePass, model.Antrea); err == nil || !strings.Contains(err.Error(), "CNP/baseline-pass: spec.ingress[0].action: Forbidden: a Baseline-tier Pass has no defined effect on Antrea 2.7") {
		t.Errorf("a Baseline Pass on Antrea: %v", err)
	}
	m, err := compileYAMLFor(t, topo, baselinePass, model.Spec)
	if err != nil {
		t.Fatal(err)
	}
	checkFlows(t, m, []flow{
		{from: "x/a", to: "y/a", probe: "tcp/80", verdict: model.Allow, ingress: "default"},
		{from: "z/a", to: "y/a", probe: "tcp/80", verdict: model.Drop, ingress: "CNP/baseline-pass ingress[1]"},
	})
	if r := evaluate(t, m, "x/a", "y/a", "tcp/80"); r.Ingress.PassedBy == nil || r.Ingress.PassedBy.ID() != "ingress[0]" {
		t.Errorf("the Baseline Pass is not recorded: %+v", r.Ingress)
	}

	// An ACNP in the Application tier: skipped by an Admin Pass on Antrea; the
	// spec's order holds no Antrea-native policies at all.
	withApplication := docs(
		cnp("admin-pass", "Admin", 1, cnpSubjectY+"  ingress: [{action: Pass, from: "+fromX+"}]\n"),
		acnp("app-drop", "  priority: 1\n  appliedTo: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]\n  ingress: [{action: Drop, from: [{namespaceSelector: {matchLabels: {ns: x}}}]}]\n"))
	m = mustCompile(t, topo, withApplication)
	checkFlows(t, m, []flow{{from: "x/b", to: "y/b", probe: "tcp/80", verdict: model.Allow, ingress: "default"}})
	if _, err := compileYAMLFor(t, topo, withApplication, model.Spec); err == nil || !strings.Contains(err.Error(), "ClusterNetworkPolicy/app-drop (test.yaml (document 1)): the network-policy-api spec order has no Antrea-native policies") {
		t.Errorf("an ACNP on the spec's order: %v", err)
	}
	// kube-router enforces neither.
	if _, err := compileYAMLFor(t, topo, baselinePass, model.KubeRouter); err == nil || !strings.Contains(err.Error(), "kube-router does not enforce ClusterNetworkPolicies") {
		t.Errorf("a CNP on kube-router: %v", err)
	}
}

// Two CNPs of one tier and priority whose rules of the same index match the
// same flow and act differently: the spec leaves the choice to the
// implementation, and Antrea gives both rules one OpenFlow priority
// (types.Priority.Equals, pkg/agent/types/networkpolicy.go:141), so the
// verdict rests on a tie. Rules of different index are ordered
// (types.Priority.Less, :132).
func TestClusterNetworkPolicyTies(t *testing.T) {
	topo := loadTopology(t, "xyz")
	m := mustCompile(t, topo, docs(
		cnp("accept", "Admin", 7, cnpSubjectY+"  ingress: [{action: Accept, from: "+fromX+"}]\n"),
		cnp("deny", "Admin", 7, cnpSubjectY+"  ingress: [{action: Deny, from: [{namespaces: {}}]}]\n")))
	if r := evaluate(t, m, "x/a", "y/a", "tcp/80"); !r.Tied() {
		t.Errorf("x/a → y/a: no tie reported: %s", describe(r))
	}
	if r := evaluate(t, m, "z/a", "y/a", "tcp/80"); r.Tied() || r.Verdict != model.Drop {
		t.Errorf("z/a → y/a: only the Deny matches: %s", describe(r))
	}
	m = mustCompile(t, topo, docs(
		cnp("first", "Admin", 7, cnpSubjectY+"  ingress:\n  - {action: Deny, from: [{namespaces: {matchLabels: {ns: z}}}]}\n  - {action: Accept, from: "+fromX+"}\n"),
		cnp("second", "Admin", 7, cnpSubjectY+"  ingress: [{action: Deny, from: "+fromX+"}]\n")))
	checkFlows(t, m, []flow{{from: "x/a", to: "y/a", probe: "tcp/80", verdict: model.Drop, ingress: "CNP/second ingress[0]"}})
}

// Protocols as toAntreaServicesForCNPProtocols
// (pkg/controller/networkpolicy/clusternetworkpolicy.go:204) translates them,
// and a named port resolved on the destination pod with that port's own
// protocol (resolveService, pkg/agent/controller/networkpolicy/pod_reconciler.go:1296).
func TestClusterNetworkPolicyProtocols(t *testing.T) {
	topo := loadTopology(t, "xyz")
	m := mustCompile(t, topo, docs(
		cnp("named", "Admin", 1, cnpSubjectY+"  ingress: [{action: Deny, from: "+fromX+", protocols: [{destinationNamedPort: serve-81-udp}]}]\n"),
		cnp("range", "Admin", 2, "  subject: {namespaces: {matchLabels: {ns: z}}}\n  ingress: [{action: Deny, from: "+fromX+", protocols: [{tcp: {destinationPort: {range: {start: 79, end: 80}}}}, {sctp: {}}]}]\n")))
	checkFlows(t, m, []flow{
		{from: "x/a", to: "y/a", probe: "udp/81", verdict: model.Drop, ingress: "CNP/named ingress[0]"},
		{from: "x/a", to: "y/a", probe: "tcp/81", verdict: model.Allow},
		{from: "x/a", to: "y/c", probe: "udp/81", verdict: model.Allow}, // y/c has no port of that name
		{from: "x/a", to: "y/a", probe: "icmp", verdict: model.Allow},   // protocols listed: ICMP is not among them
		{from: "x/a", to: "z/a", probe: "tcp/80", verdict: model.Drop},
		{from: "x/a", to: "z/a", probe: "tcp/81", verdict: model.Allow},
		{from: "x/a", to: "z/a", probe: "sctp/81", verdict: model.Drop},
		{from: "x/a", to: "z/a", probe: "icmp", verdict: model.Allow},
	})
	m = mustCompile(t, topo, cnp("all", "Admin", 1, cnpSubjectY+"  ingress: [{action: Deny, from: "+fromX+"}]\n"))
	checkFlows(t, m, []flow{{from: "x/a", to: "y/a", probe: "icmp", verdict: model.Drop}}) // no protocols: every one
}

// What the CRD's schema and CEL rules refuse (network-policy-api v0.3.0,
// config/crd/experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml)
// never reaches Antrea, and what the model does not evaluate yet is refused
// rather than read as matching nothing.
func TestClusterNetworkPolicyRefusals(t *testing.T) {
	topo := loadTopology(t, "xyz")
	in := func(rule string) string { return cnpSubjectY + "  ingress: [" + rule + "]\n" }
	out := func(rule string) string { return cnpSubjectY + "  egress: [" + rule + "]\n" }
	cases := map[string]struct{ manifests, want string }{
		"tier":            {cnp("p", "Platform", 1, in("{action: Deny, from: [{namespaces: {}}]}")), `CNP/p: spec.tier: Unsupported value: "Platform": supported values: "Admin", "Baseline"`},
		"priority":        {cnp("p", "Admin", 1001, in("{action: Deny, from: [{namespaces: {}}]}")), "spec.priority: Invalid value: 1001: must be from 0 to 1000"},
		"action":          {cnp("p", "Admin", 1, in("{action: Drop, from: [{namespaces: {}}]}")), `spec.ingress[0].action: Unsupported value: "Drop": supported values: "Accept", "Deny", "Pass"`},
		"no subject":      {cnp("p", "Admin", 1, "  subject: {}\n  ingress: [{action: Deny, from: [{namespaces: {}}]}]\n"), "spec.subject: Required value: set namespaces or pods"},
		"two subjects":    {cnp("p", "Admin", 1, "  subject: {namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}\n"), "spec.subject: Forbidden: set exactly one of namespaces and pods"},
		"no peers":        {cnp("p", "Admin", 1, in("{action: Deny, from: []}")), "spec.ingress[0].from: Required value: at least one peer"},
		"empty peer":      {cnp("p", "Admin", 1, in("{action: Deny, from: [{}]}")), "spec.ingress[0].from[0]: Invalid value: 0: set exactly one of namespaces and pods"},
		"two-field peer":  {cnp("p", "Admin", 1, out("{action: Deny, to: [{namespaces: {}, networks: [10.0.0.0/8]}]}")), "spec.egress[0].to[0]: Invalid value: 2: set exactly one of namespaces, pods, nodes, networks and domainNames"},
		"nodes":           {cnp("p", "Admin", 1, out("{action: Deny, to: [{nodes: {}}]}")), "spec.egress[0].to[0].nodes: Forbidden: tierproof's model does not evaluate nodes peers yet"},
		"domainNames":     {cnp("p", "Admin", 1, out("{action: Deny, to: [{domainNames: [example.com]}]}")), "spec.egress[0].to[0].domainNames: Forbidden: tierproof's model does not evaluate domainNames peers yet"},
		"network masked":  {cnp("p", "Admin", 1, out("{action: Deny, to: [{networks: [10.0.0.1/8]}]}")), `spec.egress[0].to[0].networks[0]: Invalid value: "10.0.0.1/8": Invalid CIDR format provided`},
		"named + network": {cnp("p", "Admin", 1, out("{action: Deny, to: [{networks: [10.0.0.0/8]}], protocols: [{destinationNamedPort: serve-80}]}")), "spec.egress[0].protocols[0].destinationNamedPort: Forbidden: networks/nodes/domainNames peer cannot be set with namedPorts"},
		"two protocols":   {cnp("p", "Admin", 1, in("{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {}, udp: {}}]}")), "spec.ingress[0].protocols[0]: Invalid value: 2: set exactly one of tcp, udp, sctp and destinationNamedPort"},
		"range order":     {cnp("p", "Admin", 1, in("{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {range: {start: 90, end: 80}}}}]}")), "spec.ingress[0].protocols[0].tcp.destinationPort.range: Invalid value: \"90-80\": Start port must be less than End port"},
		"port number":     {cnp("p", "Admin", 1, in("{action: Deny, from: [{namespaces: {}}], protocols: [{udp: {destinationPort: {number: 70000}}}]}")), "spec.ingress[0].protocols[0].udp.destinationPort.number: Invalid value: 70000"},
		"a Tier at 220": {docs("apiVersion: crd.antrea.io/v1beta1\nkind: Tier\nmetadata: {name: mine}\nspec: {priority: 220}", cnp("p", "Admin", 1, in("{action: Deny, from: [{namespaces: {}}]}"))),
			"Tier/mine: spec.priority: Invalid value: 220: is reserved for the ClusterNetworkPolicy Admin tier while ClusterNetworkPolicies are enforced"},
	}
	for name, c := range cases {
		if _, err := compileYAML(t, topo, c.manifests); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant it to contain %q", name, err, c.want)
		}
	}
	// A Tier at 220 alone is Antrea's to admit: the gate is off without CNPs.
	mustCompile(t, topo, "apiVersion: crd.antrea.io/v1beta1\nkind: Tier\nmetadata: {name: mine}\nspec: {priority: 220}")
}

// v1beta1 is v0.3.0's same schema under another version: read, held at v1alpha2.
func TestClusterNetworkPolicyV1beta1(t *testing.T) {
	topo := loadTopology(t, "xyz")
	doc := strings.Replace(cnp("p", "Baseline", 0, cnpSubjectY+"  ingress: [{action: Deny, from: "+fromX+"}]\n"), "v1alpha2", "v1beta1", 1)
	checkFlows(t, mustCompile(t, topo, doc), []flow{{from: "x/a", to: "y/a", probe: "tcp/80", verdict: model.Drop, ingress: "CNP/p ingress[0]"}})
}
