package v1beta1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// PolicySpec is an ACNP's or ANP's rules in one shape, the shape of Antrea's
// own Go types (where ClusterNetworkPolicy and NetworkPolicy share
// NetworkPolicySpec, Rule, NetworkPolicyPeer and AppliedTo): what the model
// and lint read, whichever kind they read it from. Each field of a place keeps
// its index, so a field path names the same entry in both shapes.
// +kubebuilder:object:generate=false
type PolicySpec struct {
	AppliedTo []AppliedTo
	Ingress   []Rule
	Egress    []Rule
}

// Rule is an ingress or egress rule; an ingress rule has no To or
// ToServices, an egress rule no From.
// +kubebuilder:object:generate=false
type Rule struct {
	RuleFields
	From       []NetworkPolicyPeer
	To         []NetworkPolicyPeer
	ToServices []PeerService
	AppliedTo  []AppliedTo
}

// NetworkPolicyPeer is any peer; the fields its place lacks stay empty.
// +kubebuilder:object:generate=false
type NetworkPolicyPeer struct {
	PeerSelectors
	Namespaces             *PeerNamespaces
	ExternalEntitySelector *metav1.LabelSelector
	FQDN                   string
	ServiceAccount         *NamespacedName
	Scope                  PeerScope
}

// AppliedTo is any appliedTo entry; the fields its place lacks stay empty.
// +kubebuilder:object:generate=false
type AppliedTo struct {
	PodSelector            *metav1.LabelSelector
	NamespaceSelector      *metav1.LabelSelector
	ExternalEntitySelector *metav1.LabelSelector
	Group                  string
	ServiceAccount         *NamespacedName
	Service                *NamespacedName
	NodeSelector           *metav1.LabelSelector
}

// PolicySpec is s in the one shape.
func (s *ClusterNetworkPolicySpec) PolicySpec() PolicySpec {
	return PolicySpec{
		AppliedTo: convert(s.AppliedTo, (*ClusterAppliedTo).appliedTo),
		Ingress: convert(s.Ingress, func(r *ClusterIngressRule) Rule {
			return Rule{RuleFields: r.RuleFields, From: convert(r.From, (*ClusterIngressPeer).peer),
				AppliedTo: convert(r.AppliedTo, (*ClusterIngressAppliedTo).appliedTo)}
		}),
		Egress: convert(s.Egress, func(r *ClusterEgressRule) Rule {
			return Rule{RuleFields: r.RuleFields, To: convert(r.To, (*ClusterEgressPeer).peer),
				ToServices: convert(r.ToServices, func(s *ClusterPeerService) PeerService { return PeerService(*s) }),
				AppliedTo:  convert(r.AppliedTo, (*ClusterEgressAppliedTo).appliedTo)}
		}),
	}
}

// PolicySpec is s in the one shape.
func (s *NetworkPolicySpec) PolicySpec() PolicySpec {
	return PolicySpec{
		AppliedTo: convert(s.AppliedTo, (*NamespacedAppliedTo).appliedTo),
		Ingress: convert(s.Ingress, func(r *IngressRule) Rule {
			return Rule{RuleFields: r.RuleFields, From: convert(r.From, (*IngressPeer).peer),
				AppliedTo: convert(r.AppliedTo, (*RuleAppliedTo).appliedTo)}
		}),
		Egress: convert(s.Egress, func(r *EgressRule) Rule {
			return Rule{RuleFields: r.RuleFields, To: convert(r.To, (*EgressPeer).peer),
				ToServices: r.ToServices, AppliedTo: convert(r.AppliedTo, (*RuleAppliedTo).appliedTo)}
		}),
	}
}

// convert maps f over in; nil stays nil, since an absent list and an empty
// one can mean different things (an absent from matches every source).
func convert[T, U any](in []T, f func(*T) U) []U {
	if in == nil {
		return nil
	}
	out := make([]U, len(in))
	for i := range in {
		out[i] = f(&in[i])
	}
	return out
}

func (p *ClusterIngressPeer) peer() NetworkPolicyPeer {
	return NetworkPolicyPeer{PeerSelectors: p.PeerSelectors, Namespaces: p.Namespaces, ServiceAccount: p.ServiceAccount, Scope: p.Scope}
}

func (p *ClusterEgressPeer) peer() NetworkPolicyPeer {
	return NetworkPolicyPeer{PeerSelectors: p.PeerSelectors, Namespaces: p.Namespaces, ServiceAccount: p.ServiceAccount, FQDN: p.FQDN}
}

func (p *IngressPeer) peer() NetworkPolicyPeer {
	return NetworkPolicyPeer{PeerSelectors: p.PeerSelectors, ExternalEntitySelector: p.ExternalEntitySelector, Scope: p.Scope}
}

func (p *EgressPeer) peer() NetworkPolicyPeer {
	return NetworkPolicyPeer{PeerSelectors: p.PeerSelectors, ExternalEntitySelector: p.ExternalEntitySelector, FQDN: p.FQDN}
}

func (a *RuleAppliedTo) appliedTo() AppliedTo {
	return AppliedTo{PodSelector: a.PodSelector, Group: a.Group}
}

func (a *NamespacedAppliedTo) appliedTo() AppliedTo {
	u := a.RuleAppliedTo.appliedTo()
	u.ExternalEntitySelector = a.ExternalEntitySelector
	return u
}

func (a *ClusterEgressAppliedTo) appliedTo() AppliedTo {
	u := a.RuleAppliedTo.appliedTo()
	u.NamespaceSelector, u.ServiceAccount = a.NamespaceSelector, a.ServiceAccount
	return u
}

func (a *ClusterIngressAppliedTo) appliedTo() AppliedTo {
	u := a.ClusterEgressAppliedTo.appliedTo()
	u.Service = a.Service
	return u
}

func (a *ClusterAppliedTo) appliedTo() AppliedTo {
	u := a.ClusterIngressAppliedTo.appliedTo()
	u.NodeSelector = a.NodeSelector
	return u
}
