package model_test

import (
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
