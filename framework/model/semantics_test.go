package model_test

import (
	"testing"

	"github.com/tierproof/tierproof/framework/model"
)

// Each case states Antrea's documented semantics on the x/y/z estate
// (x/a 10.10.1.1 … z/c 10.10.3.3, ext 172.18.0.100). The expectations are
// derived from Antrea's docs, not from the model's output.

const (
	allow  = model.Allow
	drop   = model.Drop
	reject = model.Reject
)

func acnp(name, body string) string {
	return "apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: " + name + "}\nspec:\n" + body
}

func anp(ns, name, body string) string {
	return "apiVersion: crd.antrea.io/v1beta1\nkind: NetworkPolicy\nmetadata: {name: \"" + name + "\", namespace: \"" + ns + "\"}\nspec:\n" + body
}

func knp(ns, name, body string) string {
	return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: \"" + name + "\", namespace: \"" + ns + "\"}\nspec:\n" + body
}

const toXA = "  appliedTo: [{podSelector: {matchLabels: {pod: a}}, namespaceSelector: {matchLabels: {ns: x}}}]\n"

func TestSemantics(t *testing.T) {
	topo := loadTopology(t, "xyz")
	cases := []struct {
		name      string
		manifests string
		flows     []flow
	}{
		{
			name:      "no policies: everything is allowed, externals included",
			manifests: "",
			flows: []flow{
				{from: "x/a", to: "y/b", probe: "tcp/80", verdict: allow, egress: "default", ingress: "default"},
				{from: "ext", to: "z/c", probe: "udp/53", verdict: allow, egress: "no-side", ingress: "default"},
				{from: "z/c", to: "ext", probe: "icmp", verdict: allow, ingress: "no-side"},
			},
		},
		{
			name: "a lower tier number wins whatever the policy priorities",
			manifests: docs(
				acnp("sec-drop", "  tier: securityops\n  priority: 100\n"+toXA+"  ingress: [{action: Drop, from: [{podSelector: {matchLabels: {pod: b}}}]}]\n"),
				acnp("app-allow", "  tier: application\n  priority: 1\n"+toXA+"  ingress: [{action: Allow, from: [{podSelector: {}}]}]\n"),
			),
			flows: []flow{
				{from: "x/b", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/sec-drop ingress[0]"},
				{from: "y/b", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/sec-drop ingress[0]"},
				{from: "x/c", to: "x/a", probe: "tcp/80", verdict: allow, ingress: "ClusterNetworkPolicy/app-allow ingress[0]"},
			},
		},
		{
			name: "within a tier the lower (float) priority wins; ACNP and ANP share the order",
			manifests: docs(
				acnp("p1-5", "  tier: platform\n  priority: 1.5\n"+toXA+"  ingress: [{action: Drop, from: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]}]\n"),
				acnp("p1-25", "  tier: platform\n  priority: 1.25\n"+toXA+"  ingress: [{action: Allow, from: [{podSelector: {matchLabels: {pod: a}}, namespaceSelector: {matchLabels: {ns: \"y\"}}}]}]\n"),
				anp("x", "anp-1", "  tier: platform\n  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: a}}}]\n  ingress: [{action: Reject, from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]\n"),
				acnp("p2", "  tier: platform\n  priority: 2\n"+toXA+"  ingress: [{action: Allow, from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]\n"),
			),
			flows: []flow{
				{from: "y/a", to: "x/a", probe: "tcp/80", verdict: allow, ingress: "ClusterNetworkPolicy/p1-25 ingress[0]"},
				{from: "y/b", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/p1-5 ingress[0]"},
				{from: "z/b", to: "x/a", probe: "tcp/80", verdict: reject, ingress: "NetworkPolicy/x/anp-1 ingress[0]"},
			},
		},
		{
			name: "rules run in order inside a policy, and interleave by index across policies of equal priority",
			manifests: docs(
				acnp("first", "  tier: application\n  priority: 10\n"+toXA+
					"  ingress:\n  - {action: Allow, from: [{podSelector: {matchLabels: {pod: b}}}]}\n  - {action: Drop, from: [{podSelector: {}}]}\n"),
				acnp("second", "  tier: application\n  priority: 10\n"+toXA+
					"  ingress:\n  - {action: Drop, from: [{podSelector: {matchLabels: {pod: c}}}]}\n  - {action: Allow, from: [{podSelector: {}}]}\n"),
			),
			flows: []flow{
				{from: "y/b", to: "x/a", probe: "tcp/80", verdict: allow, ingress: "ClusterNetworkPolicy/first ingress[0]"},
				// rule 0 of "second" comes before rule 1 of "first"
				{from: "y/c", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/second ingress[0]"},
				{from: "z/a", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/first ingress[1]"},
			},
		},
		{
			name: "custom tiers sit where their priority puts them; static names may be capitalised; no tier is application",
			manifests: docs(
				"apiVersion: crd.antrea.io/v1beta1\nkind: Tier\nmetadata: {name: mytier}\nspec: {priority: 120}",
				acnp("custom-drop", "  tier: mytier\n  priority: 50\n"+toXA+"  ingress: [{action: Drop, from: [{namespaceSelector: {}}]}]\n"),
				acnp("secops-allow", "  tier: SecurityOps\n  priority: 50\n"+toXA+"  ingress: [{action: Allow, from: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]}]\n"),
				acnp("netops-allow", "  tier: NetworkOps\n  priority: 1\n"+toXA+"  ingress: [{action: Allow, from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]\n"),
				acnp("untiered-allow", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: b}}, namespaceSelector: {matchLabels: {ns: x}}}]\n  ingress: [{action: Allow, from: [{namespaceSelector: {}}]}]\n"),
				acnp("platform-drop", "  tier: Platform\n  priority: 9999\n  appliedTo: [{podSelector: {matchLabels: {pod: b}}, namespaceSelector: {matchLabels: {ns: x}}}]\n  ingress: [{action: Drop, from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]\n"),
			),
			flows: []flow{
				{from: "y/a", to: "x/a", probe: "tcp/80", verdict: allow, ingress: "ClusterNetworkPolicy/secops-allow ingress[0]"},
				{from: "z/a", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/custom-drop ingress[0]"},
				{from: "z/a", to: "x/b", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/platform-drop ingress[0]"},
				{from: "y/a", to: "x/b", probe: "tcp/80", verdict: allow, ingress: "ClusterNetworkPolicy/untiered-allow ingress[0]"},
			},
		},
		{
			name: "K8s NetworkPolicies come after the application tier: an Antrea Allow beats K8s isolation",
			manifests: docs(
				knp("x", "deny-all", "  podSelector: {}\n  policyTypes: [Ingress]\n"),
				acnp("allow-xb-to-xa", "  priority: 1\n"+toXA+"  ingress: [{action: Allow, from: [{podSelector: {matchLabels: {pod: b}}, namespaceSelector: {matchLabels: {ns: x}}}]}]\n"),
			),
			flows: []flow{
				{from: "x/b", to: "x/a", probe: "tcp/80", verdict: allow, ingress: "ClusterNetworkPolicy/allow-xb-to-xa ingress[0]"},
				{from: "x/c", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "K8sNetworkPolicy/x/deny-all isolation"},
				{from: "ext", to: "x/b", probe: "icmp", verdict: drop, ingress: "K8sNetworkPolicy/x/deny-all isolation"},
				{from: "x/a", to: "y/a", probe: "tcp/80", verdict: allow, egress: "default", ingress: "default"},
			},
		},
		{
			name: "baseline can neither re-allow what K8s isolation drops nor drop what a K8s policy allows",
			manifests: docs(
				knp("x", "allow-ya", "  podSelector: {matchLabels: {pod: a}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: \"y\"}}, podSelector: {matchLabels: {pod: a}}}]}]\n"),
				acnp("baseline-isolate-x", "  tier: baseline\n  priority: 10\n  appliedTo: [{namespaceSelector: {matchLabels: {ns: x}}}]\n"+
					"  ingress:\n  - {action: Allow, from: [{namespaceSelector: {matchLabels: {ns: x}}}]}\n  - {action: Drop, from: [{namespaceSelector: {}}]}\n"),
			),
			flows: []flow{
				{from: "y/a", to: "x/a", probe: "tcp/80", verdict: allow, ingress: "K8sNetworkPolicy/x/allow-ya ingress[0]"},
				{from: "x/b", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "K8sNetworkPolicy/x/allow-ya isolation"},
				{from: "x/b", to: "x/c", probe: "tcp/80", verdict: allow, ingress: "ClusterNetworkPolicy/baseline-isolate-x ingress[0]"},
				{from: "y/a", to: "x/b", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/baseline-isolate-x ingress[1]"},
			},
		},
		{
			name: "Pass skips the remaining Antrea tiers and goes to K8s NetworkPolicies, then baseline",
			manifests: docs(
				acnp("pass-same-ns", "  tier: securityops\n  priority: 1\n  appliedTo: [{namespaceSelector: {}}]\n"+
					"  ingress:\n  - {action: Pass, from: [{namespaces: {match: Self}}]}\n  - {action: Drop, from: [{namespaceSelector: {}}]}\n"),
				acnp("app-drop", "  tier: application\n  priority: 1\n  appliedTo: [{namespaceSelector: {}}]\n  ingress: [{action: Drop, from: [{namespaceSelector: {}}]}]\n"),
				knp("x", "deny-all", "  podSelector: {}\n"),
				acnp("baseline-drop-z", "  tier: baseline\n  priority: 1\n  appliedTo: [{namespaceSelector: {matchLabels: {ns: z}}}]\n  ingress: [{action: Drop, from: [{podSelector: {matchLabels: {pod: b}}}]}]\n"),
			),
			flows: []flow{
				{from: "y/b", to: "y/a", probe: "tcp/80", verdict: allow, ingress: "default"},
				{from: "x/b", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "K8sNetworkPolicy/x/deny-all isolation"},
				{from: "z/b", to: "z/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/baseline-drop-z ingress[0]"},
				{from: "y/b", to: "z/a", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/pass-same-ns ingress[1]"},
			},
		},
		{
			name: "each side is decided on its own; a denial at the source is what the client sees",
			manifests: docs(
				acnp("egress-reject", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: c}}}]\n  egress: [{action: Reject, to: [{namespaceSelector: {matchLabels: {ns: x}}}]}]\n"),
				acnp("ingress-drop", "  priority: 2\n"+toXA+"  ingress: [{action: Drop, from: [{podSelector: {matchLabels: {pod: c}}}, {podSelector: {matchLabels: {pod: b}}}]}]\n"),
			),
			flows: []flow{
				{from: "y/c", to: "x/a", probe: "tcp/80", verdict: reject, egress: "ClusterNetworkPolicy/egress-reject egress[0]", ingress: "ClusterNetworkPolicy/ingress-drop ingress[0]"},
				{from: "y/b", to: "x/a", probe: "udp/80", verdict: drop, egress: "default", ingress: "ClusterNetworkPolicy/ingress-drop ingress[0]"},
				{from: "y/c", to: "y/a", probe: "icmp", verdict: allow},
			},
		},
		{
			name: "a pod reaching itself is always allowed",
			manifests: docs(
				acnp("drop-all", "  priority: 1\n  appliedTo: [{namespaceSelector: {}}]\n  ingress: [{action: Drop}]\n  egress: [{action: Drop}]\n"),
			),
			flows: []flow{
				{from: "x/a", to: "x/a", probe: "tcp/80", verdict: allow, egress: "self", ingress: "self"},
				{from: "x/a", to: "x/b", probe: "tcp/80", verdict: drop, egress: "ClusterNetworkPolicy/drop-all egress[0]"},
				{from: "x/a", to: "ext", probe: "icmp", verdict: drop, egress: "ClusterNetworkPolicy/drop-all egress[0]"},
			},
		},
		{
			name: "appliedTo: ACNP podSelector spans namespaces, rule-level appliedTo applies one rule only",
			manifests: docs(
				acnp("all-a", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: a}}}]\n  ingress: [{action: Drop, from: [{ipBlock: {cidr: 172.18.0.0/16}}]}]\n"),
				acnp("per-rule", "  priority: 2\n  ingress:\n"+
					"  - {action: Drop, appliedTo: [{namespaceSelector: {matchLabels: {ns: z}}}], from: [{namespaceSelector: {matchLabels: {ns: x}}}]}\n"+
					"  - {action: Reject, appliedTo: [{podSelector: {matchLabels: {pod: b}}, namespaceSelector: {matchLabels: {ns: \"y\"}}}], from: [{namespaceSelector: {matchLabels: {ns: x}}}]}\n"),
			),
			flows: []flow{
				{from: "ext", to: "y/a", probe: "tcp/80", verdict: drop},
				{from: "ext", to: "z/a", probe: "tcp/80", verdict: drop},
				{from: "ext", to: "y/b", probe: "tcp/80", verdict: allow},
				{from: "x/b", to: "z/c", probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/per-rule ingress[0]"},
				{from: "x/b", to: "y/b", probe: "tcp/80", verdict: reject, ingress: "ClusterNetworkPolicy/per-rule ingress[1]"},
				{from: "x/b", to: "y/c", probe: "tcp/80", verdict: allow},
			},
		},
		{
			name: "peers: ANP podSelector stays in its namespace, ACNP podSelector spans all; AND within a peer, OR across peers",
			manifests: docs(
				anp("x", "anp-b", "  priority: 1\n  appliedTo: [{podSelector: {matchLabels: {pod: a}}}]\n  ingress: [{action: Drop, from: [{podSelector: {matchLabels: {pod: b}}}]}]\n"),
				acnp("acnp-c", "  priority: 2\n  appliedTo: [{podSelector: {matchLabels: {pod: a}}, namespaceSelector: {matchLabels: {ns: \"y\"}}}]\n"+
					"  ingress: [{action: Drop, from: [{podSelector: {matchLabels: {pod: c}}}, {podSelector: {matchLabels: {pod: b}}, namespaceSelector: {matchLabels: {ns: z}}}]}]\n"),
			),
			flows: []flow{
				{from: "x/b", to: "x/a", probe: "tcp/80", verdict: drop},
				{from: "y/b", to: "x/a", probe: "tcp/80", verdict: allow},
				{from: "x/c", to: "y/a", probe: "tcp/80", verdict: drop},
				{from: "z/c", to: "y/a", probe: "tcp/80", verdict: drop},
				{from: "z/b", to: "y/a", probe: "tcp/80", verdict: drop},
				{from: "x/b", to: "y/a", probe: "tcp/80", verdict: allow},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkFlows(t, mustCompile(t, topo, tc.manifests), tc.flows)
		})
	}
}
