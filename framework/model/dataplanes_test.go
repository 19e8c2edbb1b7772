package model_test

import (
	"testing"

	"github.com/tierproof/tierproof/framework/model"
)

// TestDataPlaneSemantics checks the two readings of one K8s NetworkPolicy.
//   - The spec (k8s.io/api networking/v1 types.go, NetworkPolicySpec.PolicyTypes):
//     a policy isolates the directions policyTypes lists; left out, it is
//     Ingress, plus Egress when the policy has egress rules.
//   - Antrea (pkg/controller/networkpolicy/networkpolicy_controller.go,
//     processNetworkPolicy): every ingress and egress rule becomes an internal
//     rule, and a direction with rules is isolated whatever policyTypes says;
//     K8s isolation drops.
//   - kube-router v2.1.0 (pkg/controllers/netpol/pod.go: the pod firewall chain
//     ends in "-j REJECT"): denials are rejected.
func TestDataPlaneSemantics(t *testing.T) {
	topo := loadTopology(t, "xyz")
	// Egress rules under policyTypes [Ingress]: x/a may only talk to y.
	ingressTyped := knp("x", "typed-ingress", "  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Ingress]\n"+
		"  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]\n"+
		"  egress: [{to: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]}]\n")
	// No policyTypes and egress rules: both directions isolated everywhere.
	untyped := knp("x", "untyped", "  podSelector: {matchLabels: {pod: b}}\n"+
		"  egress: [{to: [{namespaceSelector: {matchLabels: {ns: z}}}]}]\n")
	drop, reject, allow := model.Drop, model.Reject, model.Allow
	cases := []struct {
		semantics model.Semantics
		flows     []flow
	}{
		{model.Antrea, []flow{
			{from: "x/a", to: "z/a", probe: "tcp/80", verdict: drop, egress: "K8sNetworkPolicy/x/typed-ingress isolation"},
			{from: "x/a", to: "y/a", probe: "tcp/80", verdict: allow, egress: "K8sNetworkPolicy/x/typed-ingress egress[0]"},
			{from: "x/c", to: "x/a", probe: "tcp/80", verdict: drop, ingress: "K8sNetworkPolicy/x/typed-ingress isolation"},
			{from: "x/b", to: "y/a", probe: "tcp/80", verdict: drop, egress: "K8sNetworkPolicy/x/untyped isolation"},
			{from: "y/a", to: "x/b", probe: "tcp/80", verdict: drop, ingress: "K8sNetworkPolicy/x/untyped isolation"},
		}},
		{model.KubeRouter, []flow{
			{from: "x/a", to: "z/a", probe: "tcp/80", verdict: allow, egress: "default"},
			{from: "x/a", to: "y/a", probe: "tcp/80", verdict: allow, egress: "default"},
			{from: "x/c", to: "x/a", probe: "tcp/80", verdict: reject, ingress: "K8sNetworkPolicy/x/typed-ingress isolation"},
			{from: "x/b", to: "x/a", probe: "tcp/80", verdict: reject, egress: "K8sNetworkPolicy/x/untyped isolation", ingress: "K8sNetworkPolicy/x/typed-ingress ingress[0]"},
			{from: "x/b", to: "y/a", probe: "tcp/80", verdict: reject, egress: "K8sNetworkPolicy/x/untyped isolation"},
			{from: "x/b", to: "z/a", probe: "udp/80", verdict: allow, egress: "K8sNetworkPolicy/x/untyped egress[0]"},
			{from: "y/a", to: "x/b", probe: "icmp", verdict: reject, ingress: "K8sNetworkPolicy/x/untyped isolation"},
		}},
	}
	for _, c := range cases {
		t.Run(c.semantics.Name, func(t *testing.T) {
			m, err := compileYAMLFor(t, topo, docs(ingressTyped, untyped), c.semantics)
			if err != nil {
				t.Fatal(err)
			}
			checkFlows(t, m, c.flows)
		})
	}
}
