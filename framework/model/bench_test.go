package model_test

import (
	"fmt"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	antreav1beta1 "github.com/tierproof/tierproof/framework/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/topology"
)

// largeEstate is 1 000 pods in 100 namespaces and 500 policies: ACNPs spread
// over the static tiers (baseline included), ANPs and K8s NetworkPolicies.
func largeEstate(b *testing.B) (*topology.Topology, *policy.Set) {
	b.Helper()
	t := &topology.Topology{}
	for ns := 0; ns < 100; ns++ {
		name := fmt.Sprintf("ns-%d", ns)
		t.Namespaces = append(t.Namespaces, topology.Namespace{Name: name,
			Labels: map[string]string{"team": fmt.Sprintf("t%d", ns%10), "env": fmt.Sprintf("e%d", ns%3)}})
		for p := 0; p < 10; p++ {
			t.Pods = append(t.Pods, topology.Pod{Namespace: name, Name: fmt.Sprintf("pod-%d", p),
				Labels: map[string]string{"app": fmt.Sprintf("a%d", p%5), "role": fmt.Sprintf("r%d", p%2)},
				IP:     fmt.Sprintf("10.%d.%d.%d", 10+ns/50, ns%50, p+1),
				Ports:  []topology.ContainerPort{{Name: "http", Port: 80}}})
		}
	}
	tiers := []string{"securityops", "networkops", "platform", "application", "baseline"}
	actions := []antreav1beta1.RuleAction{antreav1beta1.RuleActionAllow, antreav1beta1.RuleActionDrop, antreav1beta1.RuleActionReject, antreav1beta1.RuleActionPass}
	sel := func(k, v string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}
	}
	port := func(p int) []antreav1beta1.NetworkPolicyPort {
		v := intstr.FromInt32(int32(p))
		return []antreav1beta1.NetworkPolicyPort{{Port: &v}}
	}
	set := &policy.Set{}
	for i := 0; i < 300; i++ {
		tier := tiers[i%len(tiers)]
		action := actions[i%len(actions)]
		if tier == "baseline" && action == antreav1beta1.RuleActionPass {
			action = antreav1beta1.RuleActionDrop
		}
		p := &antreav1beta1.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("acnp-%d", i)},
			Spec: antreav1beta1.ClusterNetworkPolicySpec{Tier: tier, Priority: float64(1 + i%50),
				AppliedTo: []antreav1beta1.AppliedTo{{NamespaceSelector: sel("team", fmt.Sprintf("t%d", i%10)), PodSelector: sel("role", fmt.Sprintf("r%d", i%2))}},
				Ingress: []antreav1beta1.Rule{
					{Action: &action, From: []antreav1beta1.NetworkPolicyPeer{{NamespaceSelector: sel("env", fmt.Sprintf("e%d", i%3))}}, Ports: port(80 + i%3)},
					{Action: &action, From: []antreav1beta1.NetworkPolicyPeer{{PodSelector: sel("app", fmt.Sprintf("a%d", i%5))}}},
				},
				Egress: []antreav1beta1.Rule{
					{Action: &action, To: []antreav1beta1.NetworkPolicyPeer{{IPBlock: &antreav1beta1.IPBlock{CIDR: fmt.Sprintf("10.10.%d.0/24", i%50)}}}},
				}}}
		set.ClusterNetworkPolicies = append(set.ClusterNetworkPolicies, policy.Located[*antreav1beta1.ClusterNetworkPolicy]{Object: p})
	}
	for i := 0; i < 100; i++ {
		action := actions[i%3]
		p := &antreav1beta1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("anp-%d", i), Namespace: fmt.Sprintf("ns-%d", i)},
			Spec: antreav1beta1.NetworkPolicySpec{Tier: tiers[i%4], Priority: float64(1 + i%20),
				AppliedTo: []antreav1beta1.AppliedTo{{PodSelector: sel("app", fmt.Sprintf("a%d", i%5))}},
				Ingress:   []antreav1beta1.Rule{{Action: &action, From: []antreav1beta1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}}}}
		set.NetworkPolicies = append(set.NetworkPolicies, policy.Located[*antreav1beta1.NetworkPolicy]{Object: p})
	}
	for i := 0; i < 100; i++ {
		http := intstr.FromString("http")
		p := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("knp-%d", i), Namespace: fmt.Sprintf("ns-%d", (i*7)%100)},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: *sel("role", fmt.Sprintf("r%d", i%2)),
				Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("team", fmt.Sprintf("t%d", i%10))}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: &http}}}}}}
		set.K8sNetworkPolicies = append(set.K8sNetworkPolicies, policy.Located[*networkingv1.NetworkPolicy]{Object: p})
	}
	return t, set
}

// BenchmarkEvaluate reports verdicts per second on one core for one probe
// over every ordered pair of the large estate. Target: ≥ 10⁶ verdicts/s.
func BenchmarkEvaluate(b *testing.B) {
	t, set := largeEstate(b)
	m, err := model.Compile(t, set)
	if err != nil {
		b.Fatal(err)
	}
	n := len(m.Endpoints())
	probe := model.Probe{Protocol: model.TCP, Port: 80}
	var denied int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		from, to := (i/n)%n, i%n
		if m.Evaluate(from, to, probe).Verdict != model.Allow {
			denied++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
	if denied == 0 && b.N > n*n {
		b.Fatal("the estate's policies denied nothing: the benchmark would not exercise the rule chains")
	}
}

// BenchmarkCompile is the one-off cost of resolving every selector.
func BenchmarkCompile(b *testing.B) {
	t, set := largeEstate(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := model.Compile(t, set); err != nil {
			b.Fatal(err)
		}
	}
}
