package model

// Semantics are the points where data planes enforce the same Kubernetes
// NetworkPolicy differently; the data plane under test chooses them, and the
// README lists them. Antrea-native policies have one meaning: Antrea's.
type Semantics struct {
	// Name says whose semantics these are, in reports.
	Name string
	// PolicyTypesAsListed: a K8s NetworkPolicy isolates exactly the directions
	// its policyTypes list, as the NetworkPolicy spec says (policyTypes left
	// out default to Ingress, plus Egress when it has egress rules). Antrea
	// instead isolates every direction the policy has rules for, whatever
	// policyTypes says: its controller turns each listed rule into an internal
	// rule (pkg/controller/networkpolicy/networkpolicy_controller.go,
	// processNetworkPolicy), so egress rules under policyTypes [Ingress]
	// isolate egress on Antrea and are ignored elsewhere.
	PolicyTypesAsListed bool
	// K8sDenial is what happens to a flow that K8s NetworkPolicies isolate and
	// none allows: Antrea drops it silently; kube-router's firewall answers it
	// with iptables REJECT (ICMP port unreachable).
	K8sDenial Verdict
	// AntreaNative says whether Antrea-native policies (Tiers, ClusterGroups,
	// Groups, ACNPs, ANPs) are enforced at all.
	AntreaNative bool
	// CNP is where the network-policy-api's ClusterNetworkPolicy tiers sit,
	// if the data plane enforces them at all.
	CNP CNPOrder
}

// CNPOrder places the ClusterNetworkPolicy tiers in a side's evaluation.
type CNPOrder uint8

// The orders.
const (
	// CNPNotEnforced: the data plane ignores ClusterNetworkPolicies, so the
	// model refuses them rather than read them as no policy.
	CNPNotEnforced CNPOrder = iota
	// CNPAmongAntreaTiers is Antrea 2.7's order: the Admin tier is an Antrea
	// tier of priority 220, between Platform (200) and Application (250);
	// the Baseline tier follows Antrea's baseline tier (253) at 254
	// (cnpAdminTierPriority and cnpBaselineTierPriority,
	// pkg/controller/networkpolicy/clusternetworkpolicy.go:40,43). An Admin
	// Pass therefore skips the Antrea tiers after 220 too, and a Baseline
	// Pass has no defined effect (see compileCNP).
	CNPAmongAntreaTiers
	// CNPSpecOrder is the API's own: Admin, then NetworkPolicy, then
	// Baseline; a Pass hands the flow to the next of these, and a Baseline
	// Pass to the default, Allow (ClusterNetworkPolicySpec.Tier and
	// ClusterNetworkPolicyRuleActionPass, apis/v1alpha2 of
	// sigs.k8s.io/network-policy-api v0.3.0).
	CNPSpecOrder
)

// Antrea is Antrea's semantics, the model's default.
var Antrea = Semantics{Name: "Antrea", K8sDenial: Drop, AntreaNative: true, CNP: CNPAmongAntreaTiers}

// KubeRouter is kube-router's network-policy controller's: the spec's
// policyTypes, and rejected denials (its pod firewall chains end in REJECT:
// pkg/controllers/netpol/pod.go, v2.1.0).
var KubeRouter = Semantics{Name: "kube-router", PolicyTypesAsListed: true, K8sDenial: Reject}

// Spec is the network-policy-api's and the NetworkPolicy spec's own order,
// for data planes that implement only the specs: no Antrea-native policies,
// ClusterNetworkPolicy tiers around Kubernetes NetworkPolicies, and denials
// dropped (the spec's Deny "drops the selected traffic").
var Spec = Semantics{Name: "network-policy-api spec", PolicyTypesAsListed: true, K8sDenial: Drop, CNP: CNPSpecOrder}

// SemanticsByName are the semantics a command may choose, by flag value.
var SemanticsByName = map[string]Semantics{"antrea": Antrea, "kube-router": KubeRouter, "spec": Spec}

// isolationAction is the action of a K8s NetworkPolicy's isolation.
func (s Semantics) isolationAction() Action {
	if s.K8sDenial == Reject {
		return ActionReject
	}
	return ActionDrop
}
