package model_test

import (
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/model"
)

func TestSelectorsGroupsAndPorts(t *testing.T) {
	topo := loadTopology(t, "xyz")
	// x and y are team red, z is team blue; only x has an env label.
	topo.Namespaces[0].Labels["team"], topo.Namespaces[0].Labels["env"] = "red", "prod"
	topo.Namespaces[1].Labels["team"] = "red"
	topo.Namespaces[2].Labels["team"] = "blue"
	topo.Pods[1].ServiceAccount = "robot" // x/b

	cases := []struct {
		name      string
		manifests string
		flows     []flow
	}{
		{
			name: "NotIn and DoesNotExist match namespaces that lack the key; In and Exists need it",
			manifests: docs(
				acnp("notin", "  priority: 1\n"+toXA+"  ingress:\n"+
					"  - {action: Drop, from: [{namespaceSelector: {matchExpressions: [{key: env, operator: NotIn, values: [prod]}]}}]}\n"),
				acnp("exists", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: b}}, namespaceSelector: {matchLabels: {ns: z}}}]\n  ingress:\n"+
					"  - {action: Reject, from: [{namespaceSelector: {matchExpressions: [{key: env, operator: Exists}]}}]}\n"+
					"  - {action: Drop, from: [{namespaceSelector: {matchExpressions: [{key: env, operator: DoesNotExist}, {key: team, operator: In, values: [red]}]}}]}\n"),
			),
			flows: []flow{
				{from: "y/a", to: "x/a", probe: "tcp/80", verdict: drop}, // y has no env: NotIn matches
				{from: "x/b", to: "x/a", probe: "tcp/80", verdict: allow},
				{from: "x/a", to: "z/b", probe: "tcp/80", verdict: reject, ingress: "ClusterNetworkPolicy/exists ingress[0]"},
				{from: "y/a", to: "z/b", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/exists ingress[1]"},
				{from: "z/a", to: "z/b", probe: "tcp/80", verdict: allow},
			},
		},
		{
			name: "namespaces match Self and sameLabels are relative to the applied-to pod's namespace",
			manifests: docs(
				acnp("self", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: a}}}]\n  ingress:\n"+
					"  - {action: Allow, from: [{namespaces: {match: Self}, podSelector: {matchLabels: {pod: b}}}]}\n"+
					"  - {action: Allow, from: [{namespaces: {sameLabels: [team]}}]}\n"+
					"  - {action: Drop}\n"),
			),
			flows: []flow{
				{from: "x/b", to: "x/a", probe: "tcp/80", verdict: allow, ingress: "ClusterNetworkPolicy/self ingress[0]"},
				{from: "z/b", to: "z/a", probe: "tcp/80", verdict: allow, ingress: "ClusterNetworkPolicy/self ingress[0]"},
				{from: "y/b", to: "x/a", probe: "tcp/80", verdict: allow, ingress: "ClusterNetworkPolicy/self ingress[1]"},
				{from: "x/c", to: "x/a", probe: "tcp/80", verdict: allow, ingress: "ClusterNetworkPolicy/self ingress[1]"},
				{from: "z/c", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/self ingress[2]"},
				{from: "x/c", to: "z/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/self ingress[2]"},
				{from: "ext", to: "z/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/self ingress[2]"},
			},
		},
		{
			name: "ipBlock matches pods and externals by IP, minus except; namespaceSelector {} never matches externals",
			manifests: docs(
				acnp("cidr", "  priority: 1\n"+toXA+"  ingress:\n"+
					"  - {action: Drop, from: [{ipBlock: {cidr: 10.10.0.0/16, except: [10.10.1.0/24]}}]}\n"+
					"  - {action: Reject, from: [{namespaceSelector: {}}]}\n"+
					"  - {action: Drop, from: [{ipBlock: {cidr: 172.18.0.100/32}}]}\n"),
			),
			flows: []flow{
				{from: "y/a", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/cidr ingress[0]"},
				{from: "x/b", to: "x/a", probe: "tcp/80", verdict: reject, ingress: "ClusterNetworkPolicy/cidr ingress[1]"},
				{from: "ext", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/cidr ingress[2]"},
			},
		},
		{
			name: "ClusterGroups: selectors, ipBlocks, childGroups; a missing group matches nothing",
			manifests: docs(
				"apiVersion: crd.antrea.io/v1beta1\nkind: ClusterGroup\nmetadata: {name: c-pods}\nspec: {podSelector: {matchLabels: {pod: c}}}",
				"apiVersion: crd.antrea.io/v1beta1\nkind: ClusterGroup\nmetadata: {name: ext-hosts}\nspec: {ipBlocks: [{cidr: 172.18.0.0/24}]}",
				"apiVersion: crd.antrea.io/v1beta1\nkind: ClusterGroup\nmetadata: {name: parent}\nspec: {childGroups: [c-pods, ext-hosts]}",
				"apiVersion: crd.antrea.io/v1beta1\nkind: ClusterGroup\nmetadata: {name: z-ns}\nspec: {namespaceSelector: {matchLabels: {ns: z}}}",
				acnp("groups", "  priority: 1\n  appliedTo: [{group: z-ns}]\n  ingress:\n"+
					"  - {action: Allow, from: [{group: no-such-group}]}\n"+
					"  - {action: Reject, from: [{group: no-such-group}]}\n"+
					"  - {action: Drop, from: [{group: parent}]}\n"),
			),
			flows: []flow{
				{from: "x/c", to: "z/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/groups ingress[2]"},
				{from: "ext", to: "z/b", probe: "icmp", verdict: drop, ingress: "ClusterNetworkPolicy/groups ingress[2]"},
				{from: "x/b", to: "z/a", probe: "tcp/80", verdict: allow, ingress: "default"},
				{from: "ext", to: "x/a", probe: "tcp/80", verdict: allow},
			},
		},
		{
			name: "Groups of an ANP are namespaced: a podSelector alone stays in the Group's namespace",
			manifests: docs(
				"apiVersion: crd.antrea.io/v1beta1\nkind: Group\nmetadata: {name: bees, namespace: x}\nspec: {podSelector: {matchLabels: {pod: b}}}",
				anp("x", "deny-bees", "  priority: 1\n  appliedTo: [{podSelector: {}}]\n  ingress: [{action: Drop, from: [{group: bees}]}]\n"),
			),
			flows: []flow{
				{from: "x/b", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "NetworkPolicy/x/deny-bees ingress[0]"},
				{from: "y/b", to: "x/a", probe: "tcp/80", verdict: allow},
			},
		},
		{
			name: "ports: number, endPort range, protocol default TCP, named ports per destination, ICMP only via protocols",
			manifests: docs(
				acnp("ports", "  priority: 1\n  appliedTo: [{namespaceSelector: {}}]\n  ingress:\n"+
					"  - {action: Allow, ports: [{port: 80}]}\n"+
					"  - {action: Allow, ports: [{protocol: UDP, port: 1000, endPort: 2000}]}\n"+
					"  - {action: Allow, ports: [{protocol: TCP, port: serve-81}]}\n"+
					"  - {action: Allow, protocols: [{icmp: {icmpType: 8, icmpCode: 0}}]}\n"+
					"  - {action: Drop}\n"),
			),
			flows: []flow{
				{from: "x/a", to: "y/a", probe: "tcp/80", verdict: allow, ingress: "ClusterNetworkPolicy/ports ingress[0]"},
				{from: "x/a", to: "y/a", probe: "udp/80", verdict: drop, ingress: "ClusterNetworkPolicy/ports ingress[4]"},
				{from: "x/a", to: "y/a", probe: "udp/2000", verdict: allow, ingress: "ClusterNetworkPolicy/ports ingress[1]"},
				{from: "x/a", to: "y/a", probe: "udp/2001", verdict: drop},
				{from: "x/a", to: "y/c", probe: "tcp/81", verdict: allow, ingress: "ClusterNetworkPolicy/ports ingress[2]"},
				{from: "x/a", to: "y/b", probe: "tcp/81", verdict: drop, ingress: "ClusterNetworkPolicy/ports ingress[4]"},
				{from: "x/a", to: "y/b", probe: "icmp", verdict: allow, ingress: "ClusterNetworkPolicy/ports ingress[3]"},
				{from: "x/a", to: "y/b", probe: "sctp/80", verdict: drop},
			},
		},
		{
			name: "an egress named port resolves on the destination pod, so it never matches an external",
			manifests: docs(
				acnp("egress-named", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: a}}}]\n  egress:\n"+
					"  - {action: Allow, ports: [{protocol: UDP, port: serve-81-udp}]}\n  - {action: Drop}\n"),
			),
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "udp/81", verdict: allow, egress: "ClusterNetworkPolicy/egress-named egress[0]"},
				{from: "x/a", to: "y/c", probe: "udp/81", verdict: drop, egress: "ClusterNetworkPolicy/egress-named egress[1]"},
				{from: "x/a", to: "ext", probe: "udp/81", verdict: drop, egress: "ClusterNetworkPolicy/egress-named egress[1]"},
			},
		},
		{
			name: "source ports match the client's port when the probe pins it",
			manifests: docs(
				acnp("sport", "  priority: 1\n"+toXA+"  ingress:\n"+
					"  - {action: Allow, ports: [{port: 80, sourcePort: 40000, sourceEndPort: 40010}]}\n  - {action: Drop}\n"),
			),
			flows: []flow{
				{from: "y/a", to: "x/a", probe: "tcp/80,sourcePort=40005", verdict: allow, ingress: "ClusterNetworkPolicy/sport ingress[0]"},
				{from: "y/a", to: "x/a", probe: "tcp/80,sourcePort=40011", verdict: drop, ingress: "ClusterNetworkPolicy/sport ingress[1]"},
			},
		},
		{
			name: "K8s egress isolation; an empty to matches externals; serviceAccount peers",
			manifests: docs(
				knp("y", "egress-only-to-x", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Egress]\n"+
					"  egress: [{to: [{namespaceSelector: {matchLabels: {ns: x}}}]}, {ports: [{port: 443}]}]\n"),
				acnp("sa", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: c}}}]\n  ingress: [{action: Reject, from: [{serviceAccount: {name: robot, namespace: x}}]}]\n"),
			),
			flows: []flow{
				{from: "y/a", to: "x/c", probe: "udp/53", verdict: allow, egress: "K8sNetworkPolicy/y/egress-only-to-x egress[0]"},
				{from: "y/a", to: "z/a", probe: "tcp/80", verdict: drop, egress: "K8sNetworkPolicy/y/egress-only-to-x isolation"},
				{from: "y/a", to: "ext", probe: "tcp/443", verdict: allow, egress: "K8sNetworkPolicy/y/egress-only-to-x egress[1]"},
				{from: "x/a", to: "y/a", probe: "tcp/80", verdict: allow, ingress: "default"}, // egress-only policy: ingress not isolated
				{from: "x/b", to: "z/c", probe: "tcp/80", verdict: reject, ingress: "ClusterNetworkPolicy/sa ingress[0]"},
				{from: "y/b", to: "z/c", probe: "tcp/80", verdict: allow},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkFlows(t, mustCompile(t, topo, tc.manifests), tc.flows)
		})
	}
}

func TestSourcePortRulesNeedAPinnedProbe(t *testing.T) {
	m := mustCompile(t, loadTopology(t, "xyz"), acnp("sport", "  priority: 1\n"+toXA+"  ingress: [{action: Allow, ports: [{port: 80, sourcePort: 40000}]}]\n"))
	err := m.CheckProbe(model.Probe{Protocol: model.TCP, Port: 80})
	if err == nil || !strings.Contains(err.Error(), "ClusterNetworkPolicy/sport ingress[0]") || !strings.Contains(err.Error(), "sourcePort=N") {
		t.Fatalf("CheckProbe = %v, want an error naming the rule and the sourcePort option", err)
	}
	if err := m.CheckProbe(model.Probe{Protocol: model.TCP, Port: 80, SourcePort: 40000}); err != nil {
		t.Fatalf("pinned probe refused: %v", err)
	}
}

func TestFullTieIsFlagged(t *testing.T) {
	// Same tier, priority and rule index, conflicting actions: Antrea's order is undefined.
	m := mustCompile(t, loadTopology(t, "xyz"), docs(
		acnp("tie-allow", "  priority: 3\n"+toXA+"  ingress: [{action: Allow}]\n"),
		acnp("tie-drop", "  priority: 3\n"+toXA+"  ingress: [{action: Drop}]\n"),
	))
	r := evaluate(t, m, "y/a", "x/a", "tcp/80")
	if r.Ingress.Tie == nil {
		t.Fatalf("no tie reported; ingress decided by %s", who(r.Ingress))
	}
	if r.Ingress.Tie.Policy.Name == r.Ingress.Rule.Policy.Name {
		t.Fatalf("tie names the deciding policy itself")
	}
	if r := evaluate(t, m, "x/a", "y/a", "tcp/80"); r.Ingress.Tie != nil || r.Egress.Tie != nil {
		t.Fatalf("tie reported for a flow neither policy touches")
	}
}
