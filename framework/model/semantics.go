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
}

// Antrea is Antrea's semantics, the model's default.
var Antrea = Semantics{Name: "Antrea", K8sDenial: Drop, AntreaNative: true}

// KubeRouter is kube-router's network-policy controller's: the spec's
// policyTypes, and rejected denials (its pod firewall chains end in REJECT:
// pkg/controllers/netpol/pod.go, v2.1.0).
var KubeRouter = Semantics{Name: "kube-router", PolicyTypesAsListed: true, K8sDenial: Reject}

// isolationAction is the action of a K8s NetworkPolicy's isolation.
func (s Semantics) isolationAction() Action {
	if s.K8sDenial == Reject {
		return ActionReject
	}
	return ActionDrop
}
