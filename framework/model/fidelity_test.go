package model_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/topology"
)

// Cases where Antrea's agent and controller do something subtler than its
// docs say; each states the code it follows. The estate is xyz: y/a and y/b
// name TCP port 80 "serve-80", y/c names TCP 81 "serve-81".

func clusterGroup(name, body string) string {
	return "apiVersion: crd.antrea.io/v1beta1\nkind: ClusterGroup\nmetadata: {name: " + name + "}\nspec:\n" + body
}

// An egress rule resolves a named port only on the destinations it holds as
// pods: pod_reconciler.go computeOFRulesForAdd resolves services per member
// of rule.ToAddresses (groupMembersByServices), while the ipBlock addresses
// share one flow whose services are filterUnresolvablePort(rule.Services) —
// named ports dropped, and a rule of only named ports left with no port
// ("falls back to allowing no port, instead of all ports"). Ingress resolves
// on the rule's target members, the destination, however the source matched.
func TestEgressNamedPortsResolveOnPodPeersOnly(t *testing.T) {
	topo := loadTopology(t, "xyz")
	fromXA := "  priority: 1\n" + toXA
	cases := []struct {
		name      string
		manifests string
		flows     []flow
	}{
		{
			name: "ACNP: an ipBlock destination gets no named port, so the Drop never matches",
			manifests: acnp("ipblock-named", fromXA+
				"  egress: [{action: Drop, to: [{ipBlock: {cidr: 10.10.2.0/24}}], ports: [{port: serve-80}]}]\n"),
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "tcp/80", verdict: allow, egress: "default"},
				{from: "x/a", to: "y/a", probe: "tcp/80", verdict: allow, egress: "default"},
			},
		},
		{
			name: "ACNP: the same pods by selector resolve the name",
			manifests: acnp("selector-named", fromXA+
				"  egress: [{action: Drop, to: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}], ports: [{port: serve-80}]}]\n"),
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "tcp/80", verdict: drop, egress: "ClusterNetworkPolicy/selector-named egress[0]"},
				{from: "x/a", to: "y/c", probe: "tcp/80", verdict: allow, egress: "default"},
			},
		},
		{
			name: "ACNP: a pod matched both by selector and by ipBlock is a pod member: the name resolves",
			manifests: acnp("both-named", fromXA+
				"  egress: [{action: Drop, to: [{ipBlock: {cidr: 10.10.2.0/24}}, {podSelector: {matchLabels: {pod: b}}}], ports: [{port: serve-80}]}]\n"),
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "tcp/80", verdict: drop, egress: "ClusterNetworkPolicy/both-named egress[0]"},
				{from: "x/a", to: "y/a", probe: "tcp/80", verdict: allow, egress: "default"},
			},
		},
		{
			name: "ACNP: numeric ports of the rule still match the ipBlock destination",
			manifests: acnp("mixed-ports", fromXA+
				"  egress: [{action: Reject, to: [{ipBlock: {cidr: 10.10.2.0/24}}], ports: [{port: serve-80}, {port: 81, protocol: UDP}]}]\n"),
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "tcp/80", verdict: allow, egress: "default"},
				{from: "x/a", to: "y/b", probe: "udp/81", verdict: reject, egress: "ClusterNetworkPolicy/mixed-ports egress[0]"},
			},
		},
		{
			name: "ACNP: a ClusterGroup of ipBlocks is an address peer too",
			manifests: docs(
				clusterGroup("y-cidr", "  ipBlocks: [{cidr: 10.10.2.0/24}]\n"),
				acnp("group-named", fromXA+"  egress: [{action: Drop, to: [{group: y-cidr}], ports: [{port: serve-80}]}]\n"),
			),
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "tcp/80", verdict: allow, egress: "default"},
			},
		},
		{
			name: "ACNP: a ClusterGroup of pods resolves the name",
			manifests: docs(
				clusterGroup("y-pods", "  namespaceSelector: {matchLabels: {ns: \"y\"}}\n"),
				acnp("group-named", fromXA+"  egress: [{action: Drop, to: [{group: y-pods}], ports: [{port: serve-80}]}]\n"),
			),
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "tcp/80", verdict: drop, egress: "ClusterNetworkPolicy/group-named egress[0]"},
			},
		},
		{
			name: "ACNP: no `to` at all holds every pod as a pod (matchAllPeerEgress adds an all-pods address group)",
			manifests: acnp("anywhere-named", fromXA+
				"  egress: [{action: Drop, ports: [{port: serve-80}]}]\n"),
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "tcp/80", verdict: drop, egress: "ClusterNetworkPolicy/anywhere-named egress[0]"},
				{from: "x/a", to: "y/c", probe: "tcp/80", verdict: allow, egress: "default"},
			},
		},
		{
			name: "ANP: the same holds for Antrea NetworkPolicies",
			manifests: anp("x", "ipblock-named", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: a}}}]\n"+
				"  egress: [{action: Drop, to: [{ipBlock: {cidr: 10.10.2.0/24}}], ports: [{port: serve-80}]}]\n"),
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "tcp/80", verdict: allow, egress: "default"},
			},
		},
		{
			name: "K8s: an egress rule of only named ports to an ipBlock allows no port, so isolation drops",
			manifests: knp("x", "egress-ipblock-named", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n"+
				"  egress: [{to: [{ipBlock: {cidr: 10.10.2.0/24}}], ports: [{port: serve-80}]}]\n"),
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "tcp/80", verdict: drop, egress: "K8sNetworkPolicy/x/egress-ipblock-named isolation"},
			},
		},
		{
			name: "K8s: by namespaceSelector the name resolves and the rule allows",
			manifests: knp("x", "egress-selector-named", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n"+
				"  egress: [{to: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}], ports: [{port: serve-80}]}]\n"),
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "tcp/80", verdict: allow, egress: "K8sNetworkPolicy/x/egress-selector-named egress[0]"},
			},
		},
		{
			name: "ingress: a source matched by ipBlock still resolves the name on the target",
			manifests: acnp("ingress-ipblock-named", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: b}}, namespaceSelector: {matchLabels: {ns: \"y\"}}}]\n"+
				"  ingress: [{action: Drop, from: [{ipBlock: {cidr: 10.10.1.0/24}}], ports: [{port: serve-80}]}]\n"),
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/ingress-ipblock-named ingress[0]"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkFlows(t, mustCompile(t, topo, tc.manifests), tc.flows)
		})
	}
}

// A probe that does not pin its client port gets one from its client's
// ephemeral range: Linux's net.ipv4.ip_local_port_range, 32768–60999 by
// default (Documentation/networking/ip-sysctl.rst). Antrea matches a rule's
// sourcePort..sourceEndPort against the packet's source port
// (docs/antrea-network-policy.md, "sourcePort and sourceEndPort"), so a range
// that covers the client's whole ephemeral range always matches, one disjoint
// from it never does, and only a partial overlap depends on the kernel's pick.
func TestUnpinnedProbesUnderSourcePortRules(t *testing.T) {
	topo := loadTopology(t, "xyz")
	for i := range topo.Pods {
		if topo.Pods[i].EndpointName() == "x/b" {
			topo.Pods[i].EphemeralPorts = &topology.PortRange{From: 40000, To: 45000}
		}
	}
	ingressFromAll := func(name, ports string) string {
		return acnp(name, "  priority: 1\n"+toXA+"  ingress: [{action: Drop, ports: ["+ports+"]}]\n")
	}
	cases := []struct {
		name      string
		manifests string
		flows     []flow
	}{
		{
			name:      "a source range covering the default ephemeral range always matches",
			manifests: ingressFromAll("covers", "{protocol: TCP, port: 80, sourcePort: 32768, sourceEndPort: 60999}"),
			flows: []flow{
				{from: "y/a", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/covers ingress[0]"},
				{from: "ext", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/covers ingress[0]"},
				{from: "y/a", to: "x/a", probe: "tcp/80,sourcePort=1000", verdict: allow, ingress: "default"},
			},
		},
		{
			name:      "a source range below the ephemeral range never matches",
			manifests: ingressFromAll("disjoint", "{protocol: TCP, port: 80, sourcePort: 1000, sourceEndPort: 2000}"),
			flows: []flow{
				{from: "y/a", to: "x/a", probe: "tcp/80", verdict: allow, ingress: "default"},
				{from: "y/a", to: "x/a", probe: "tcp/80,sourcePort=1500", verdict: drop, ingress: "ClusterNetworkPolicy/disjoint ingress[0]"},
			},
		},
		{
			name: "a pod's own ephemeral range from the topology decides for its egress",
			manifests: acnp("x-b-out", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: b}}, namespaceSelector: {matchLabels: {ns: x}}}]\n"+
				"  egress: [{action: Reject, ports: [{protocol: TCP, port: 80, sourcePort: 40000, sourceEndPort: 50000}]}]\n"),
			flows: []flow{
				{from: "x/b", to: "y/a", probe: "tcp/80", verdict: reject, egress: "ClusterNetworkPolicy/x-b-out egress[0]"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkFlows(t, mustCompile(t, topo, tc.manifests), tc.flows)
		})
	}

	t.Run("a partial overlap depends on the kernel's pick: refused, pinning suggested", func(t *testing.T) {
		m := mustCompile(t, topo, ingressFromAll("partial", "{protocol: TCP, port: 80, sourcePort: 40000, sourceEndPort: 50000}"))
		err := m.CheckProbe(model.Probe{Protocol: model.TCP, Port: 80})
		if err == nil || !strings.Contains(err.Error(), "ClusterNetworkPolicy/partial ingress[0]") ||
			!strings.Contains(err.Error(), "32768-60999") || !strings.Contains(err.Error(), "tcp/80,sourcePort=N") {
			t.Fatalf("CheckProbe(tcp/80) = %v, want a refusal naming the rule, the ephemeral range and the pinning option", err)
		}
		if err := m.CheckProbe(model.Probe{Protocol: model.UDP, Port: 80}); err != nil {
			t.Errorf("a TCP-only source-port rule refuses a UDP probe: %v", err)
		}
		if err := m.CheckProbe(model.Probe{Protocol: model.TCP, Port: 80, SourcePort: 45000}); err != nil {
			t.Errorf("a pinned probe is refused: %v", err)
		}
	})
	t.Run("a partial overlap only for clients the rule cannot have is no refusal", func(t *testing.T) {
		// Egress from x/b only, whose range 40000-45000 lies inside the rule's.
		m := mustCompile(t, topo, acnp("x-b-only", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: b}}, namespaceSelector: {matchLabels: {ns: x}}}]\n"+
			"  egress: [{action: Drop, ports: [{protocol: TCP, port: 80, sourcePort: 40000, sourceEndPort: 50000}]}]\n"))
		if err := m.CheckProbe(model.Probe{Protocol: model.TCP, Port: 80}); err != nil {
			t.Errorf("CheckProbe = %v, want none: x/b is the rule's only client", err)
		}
	})
}

// What Antrea's webhooks refuse, the model refuses with the same reason, so
// that simulate never predicts a policy the cluster will not admit. Each case
// names the check of pkg/controller/networkpolicy/validate.go (or mutate.go).
func TestTheModelRefusesWhatAntreasWebhooksRefuse(t *testing.T) {
	topo := loadTopology(t, "xyz")
	tiers := func(n int) string {
		var d []string
		for i := 0; i < n; i++ {
			d = append(d, "apiVersion: crd.antrea.io/v1beta1\nkind: Tier\nmetadata: {name: t"+strconv.Itoa(i)+"}\nspec: {priority: "+strconv.Itoa(10+i)+"}")
		}
		return docs(d...)
	}
	cases := map[string]struct{ manifests, want string }{
		// mutate.go generateRuleNames names an unnamed rule "<direction>-<action>-<hash of the rule>";
		// validateRuleName then finds the two names equal.
		"two identical unnamed rules": {acnp("twins", "  priority: 1\n"+toXA+
			"  ingress:\n  - {action: Drop, from: [{podSelector: {}}]}\n  - {action: Drop, from: [{podSelector: {}}]}\n"),
			"spec.ingress[1].name: Duplicate value: unset, and the rule is identical to spec.ingress[0]"},
		// validateRuleName keeps one set of names across ingress and egress.
		"a name used in both directions": {acnp("same-name", "  priority: 1\n"+toXA+
			"  ingress: [{name: r, action: Drop}]\n  egress: [{name: r, action: Drop}]\n"),
			"spec.egress[0].name: Duplicate value: \"r\": also at spec.ingress[0]"},
		// validatePeers: numFieldsSetInStruct(peer) > 1 with a group, scope included.
		"a group peer with a scope": {acnp("group-scope", "  priority: 1\n"+toXA+
			"  ingress: [{action: Drop, from: [{group: g, scope: Cluster}]}]\n"),
			"group cannot be set with other peers in rules"},
		// validatePeers: sameLabels keys must be qualified names.
		"a sameLabels key that is no label key": {acnp("bad-key", "  priority: 1\n"+toXA+
			"  ingress: [{action: Drop, from: [{namespaces: {sameLabels: [\"bad key!\"]}}]}]\n"),
			"spec.ingress[0].from[0].namespaces.sameLabels[0]: Invalid value: \"bad key!\""},
		// tierValidator.createValidate: maximum number of Tiers supported: 20 (the 6 static ones count).
		"a 21st Tier": {tiers(15), "Tier/t14: metadata.name: Too many: 21: must have at most 20 items"},
		// validateChildClusterGroup: a child with childGroups of its own is refused.
		"groups nested two levels": {docs(
			clusterGroup("leaf", "  podSelector: {}\n"),
			clusterGroup("middle", "  childGroups: [leaf]\n"),
			clusterGroup("top", "  childGroups: [middle]\n")),
			"ClusterGroup/top: spec.childGroups[0]: Forbidden: middle has childGroups itself"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := compileYAML(t, topo, tc.manifests)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	t.Run("14 custom Tiers, 20 in all, are admitted", func(t *testing.T) {
		if _, err := compileYAML(t, topo, tiers(14)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("identical unnamed rules in different directions get different names", func(t *testing.T) {
		if _, err := compileYAML(t, topo, acnp("mirror", "  priority: 1\n"+toXA+
			"  ingress: [{action: Drop}]\n  egress: [{action: Drop}]\n")); err != nil {
			t.Fatal(err)
		}
	})
}

// A ClusterGroup as appliedTo with a `namespaces` peer: Antrea's docs say the
// per-namespace rule applies to the appliedTo's pods, but its controller
// (pkg/controller/networkpolicy/antreaclusternetworkpolicy.go, the
// per-namespace createAppliedToGroup calls) builds the per-namespace applied-to
// group from the appliedTo's pod selector only and ignores the group. The
// webhook admits it; the model refuses it and says what to write instead.
func TestAGroupAppliedToWithANamespacesPeerIsRefused(t *testing.T) {
	topo := loadTopology(t, "xyz")
	group := clusterGroup("a-pods", "  podSelector: {matchLabels: {pod: a}}\n")
	cases := map[string]string{
		"policy appliedTo, Self":     acnp("p", "  priority: 1\n  appliedTo: [{group: a-pods}]\n  ingress: [{action: Allow, from: [{namespaces: {match: Self}}]}]\n"),
		"rule appliedTo, sameLabels": acnp("p", "  priority: 1\n  egress: [{action: Drop, appliedTo: [{group: a-pods}], to: [{namespaces: {sameLabels: [ns]}}]}]\n"),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := compileYAML(t, topo, docs(group, p))
			if err == nil || !strings.Contains(err.Error(), "namespaces: Forbidden: a group as appliedTo together with a `namespaces`") ||
				!strings.Contains(err.Error(), "Write the group's podSelector/namespaceSelector in appliedTo instead") {
				t.Fatalf("error = %v, want a refusal that says why and what to write", err)
			}
		})
	}
	t.Run("the same rule with the group's selector as appliedTo compiles", func(t *testing.T) {
		m := mustCompile(t, topo, acnp("p", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: a}}}]\n  ingress: [{action: Drop, from: [{namespaces: {match: Self}}]}]\n"))
		checkFlows(t, m, []flow{
			{from: "x/b", to: "x/a", probe: "tcp/80", verdict: drop},
			{from: "y/b", to: "x/a", probe: "tcp/80", verdict: allow},
		})
	})
}

// explain prints the walk in evaluation order — Antrea tiers, K8s
// NetworkPolicies, baseline (README "How the model decides"; Antrea's docs:
// K8s NetworkPolicies are enforced after every tier but baseline) — and a
// Pass names the later Antrea rules it kept from the flow ("Pass": the flow
// skips the remaining Antrea-native tiers).
func TestExplainWalksInOrderAndNamesWhatAPassSkipped(t *testing.T) {
	m := mustCompile(t, loadTopology(t, "xyz"), docs(
		acnp("hand-to-k8s", "  tier: securityops\n  priority: 1\n  appliedTo: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]\n  ingress: [{action: Pass}]\n"),
		acnp("too-late", "  priority: 1\n  appliedTo: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]\n  ingress: [{action: Drop, from: [{namespaceSelector: {matchLabels: {ns: x}}}]}]\n"),
		acnp("base", "  tier: baseline\n  priority: 1\n  appliedTo: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]\n  ingress: [{action: Reject}]\n"),
	))
	from, _ := m.Endpoint("x/a")
	to, _ := m.Endpoint("y/a")
	e := m.Explain(from, to, model.Probe{Protocol: model.TCP, Port: 80})
	var b strings.Builder
	if err := e.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	order := []string{"ClusterNetworkPolicy/hand-to-k8s  priority 1 ingress[0]  Pass  MATCH",
		"Pass → the rest of the Antrea tiers is skipped; it would have matched ClusterNetworkPolicy/too-late ingress[0] (application, Drop)",
		"K8s NetworkPolicies: none select y/a for ingress",
		"ClusterNetworkPolicy/base  priority 1 ingress[0]  Reject  MATCH",
		"⇒ Reject"}
	at := 0
	for _, want := range order {
		i := strings.Index(out[at:], want)
		if i < 0 {
			t.Fatalf("explain does not show %q after position %d:\n%s", want, at, out)
		}
		at += i + len(want)
	}
	if len(e.Ingress.PassSkipped) != 1 || e.Ingress.PassSkipped[0].Policy.Name != "too-late" {
		t.Errorf("PassSkipped = %v", e.Ingress.PassSkipped)
	}
}
