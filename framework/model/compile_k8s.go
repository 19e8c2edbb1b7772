package model

import (
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tierproof/tierproof/framework/policy"
)

// k8sPolicy is a K8s NetworkPolicy resolved against the estate.
type k8sPolicy struct {
	selected bitset
	// isolation[d] is the pseudo-rule that drops what no rule allows, for each
	// direction the policy isolates; nil where it does not.
	isolation [2]*RuleInfo
	rules     [2][]*rule
}

func (c *compiler) compileK8s(l policy.Located[*networkingv1.NetworkPolicy]) *k8sPolicy {
	np := l.Object
	ref := PolicyRef{Kind: KindK8sNetworkPolicy, Namespace: np.Namespace, Name: np.Name}
	spec := field.NewPath("spec")
	var errs field.ErrorList

	kp := &k8sPolicy{}
	podSel, err := selector(&np.Spec.PodSelector, spec.Child("podSelector"))
	if err != nil {
		errs = append(errs, err)
	} else {
		kp.selected = c.estate.selectPods(podQuery{pods: podSel, namespace: np.Namespace})
	}

	isolates, typeErrs := c.isolatedDirections(np, spec)
	errs = append(errs, typeErrs...)
	for _, dir := range []Direction{Ingress, Egress} {
		if isolates[dir] {
			kp.isolation[dir] = &RuleInfo{Policy: ref, Source: l.Source, Direction: dir, Action: c.semantics.isolationAction(), Isolation: true}
		}
	}

	for i, r := range np.Spec.Ingress {
		path := spec.Child("ingress").Index(i)
		kr, rErrs := c.k8sRule(ref, l.Source, Ingress, i, r.From, r.Ports, path, path.Child("from"))
		errs = append(errs, rErrs...)
		kp.rules[Ingress] = append(kp.rules[Ingress], kr)
	}
	for i, r := range np.Spec.Egress {
		path := spec.Child("egress").Index(i)
		kr, rErrs := c.k8sRule(ref, l.Source, Egress, i, r.To, r.Ports, path, path.Child("to"))
		errs = append(errs, rErrs...)
		kp.rules[Egress] = append(kp.rules[Egress], kr)
	}
	c.fail(l.Source, ref.String(), errs)
	if len(errs) > 0 {
		return nil
	}
	// Rules of a direction the policy does not isolate allow what is allowed
	// anyway; by the spec they are ignored, so they explain nothing either.
	for _, dir := range []Direction{Ingress, Egress} {
		if !isolates[dir] {
			kp.rules[dir] = nil
		}
	}
	return kp
}

// isolatedDirections are the directions np isolates. The API server defaults
// policyTypes to Ingress, plus Egress when there are egress rules; Antrea
// also isolates every direction that has rules, even one policyTypes leaves
// out (Semantics.PolicyTypesAsListed).
func (c *compiler) isolatedDirections(np *networkingv1.NetworkPolicy, spec *field.Path) ([2]bool, field.ErrorList) {
	var isolates [2]bool
	var errs field.ErrorList
	if !c.semantics.PolicyTypesAsListed {
		isolates = [2]bool{Ingress: len(np.Spec.Ingress) > 0, Egress: len(np.Spec.Egress) > 0}
	}
	if len(np.Spec.PolicyTypes) == 0 {
		isolates[Ingress] = true
		isolates[Egress] = isolates[Egress] || len(np.Spec.Egress) > 0
	}
	for i, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			isolates[Ingress] = true
		case networkingv1.PolicyTypeEgress:
			isolates[Egress] = true
		default:
			errs = append(errs, field.NotSupported(spec.Child("policyTypes").Index(i), t, []string{"Ingress", "Egress"}))
		}
	}
	return isolates, errs
}

func (c *compiler) k8sRule(ref PolicyRef, src policy.Source, dir Direction, index int, peers []networkingv1.NetworkPolicyPeer,
	ports []networkingv1.NetworkPolicyPort, path, peersPath *field.Path) (*rule, field.ErrorList) {
	var errs field.ErrorList
	r := &rule{
		info: &RuleInfo{Policy: ref, Source: src, Direction: dir, Index: index, Action: ActionAllow},
		peer: peerMatcher{all: len(peers) == 0, pods: c.estate.newSet(), addresses: c.estate.newSet()},
		// No ports: every protocol and port, ICMP included.
		ports: portMatcher{all: len(ports) == 0},
	}
	scope := policyScope{ref: ref}
	for i, peer := range peers {
		p := peersPath.Index(i)
		switch {
		case peer.IPBlock != nil:
			if peer.PodSelector != nil || peer.NamespaceSelector != nil {
				errs = append(errs, field.Forbidden(p.Child("ipBlock"), "cannot be set with podSelector or namespaceSelector"))
				continue
			}
			cidr, except, err := parseIPBlock(peer.IPBlock.CIDR, peer.IPBlock.Except, p.Child("ipBlock"))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			r.peer.addresses.union(c.estate.selectIPs(cidr, except))
		case peer.PodSelector == nil && peer.NamespaceSelector == nil:
			errs = append(errs, field.Required(p, "set podSelector, namespaceSelector or ipBlock"))
		default:
			pods, pErrs := c.selectPods(peer.PodSelector, peer.NamespaceSelector, p, scope)
			errs = append(errs, pErrs...)
			r.peer.pods.union(pods)
		}
	}
	for i, port := range ports {
		if port.Port != nil && port.Port.Type == intstr.String {
			// The API server's own check (IANA_SVC_NAME): "6379" in quotes
			// is no port name, and would match nothing.
			for _, msg := range validation.IsValidPortName(port.Port.StrVal) {
				errs = append(errs, field.Invalid(path.Child("ports").Index(i).Child("port"), port.Port.StrVal, msg))
			}
		}
		pr, pErrs := compilePort(portSpec{protocol: port.Protocol, port: port.Port, endPort: port.EndPort}, path.Child("ports").Index(i))
		errs = append(errs, pErrs...)
		r.ports.ports = append(r.ports.ports, pr)
	}
	return r, errs
}
