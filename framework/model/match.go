package model

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tierproof/tierproof/framework/topology"
)

// peerMatcher decides whether the far end of a flow is one of a rule's peers.
// Most peers are a fixed set of endpoints; `namespaces: {match: Self}` and
// `sameLabels` peers depend on the namespace of the pod the rule is applied to.
type peerMatcher struct {
	all        bool   // no peers listed: every source or destination
	pods       bitset // pods matched as pods (selectors, groups of pods) whatever the applied-to pod
	addresses  bitset // endpoints matched by address only (ipBlocks): no named port resolves on them
	self       bitset // pods matched only when in the applied-to pod's namespace; nil if none
	sameLabels []sameLabelsPeer
}

// sameLabelsPeer matches pods whose namespace has the same values as the
// applied-to pod's namespace for every listed key.
type sameLabelsPeer struct {
	pods bitset
	// group[ns] identifies the namespace's tuple of values; -1 when the
	// namespace lacks a key (it then gets no peers from this entry).
	group []int
	// byGroup[g] are the peers in namespaces of group g.
	byGroup []bitset
}

// match says whether other is a peer and, if so, whether the rule holds it as
// a pod (its group members, whose named ports Antrea resolves) or only by its
// address. No peers at all means every pod as a pod: Antrea's controller adds
// an all-pods address group beside 0.0.0.0/0 (matchAllPeerEgress in
// pkg/controller/networkpolicy/networkpolicy_controller.go).
func (m *peerMatcher) match(e *estate, applied, other int) (matched, asPod bool) {
	if m.all || m.pods.has(other) {
		return true, true
	}
	appliedNS, otherNS := e.endpoints[applied].namespace, e.endpoints[other].namespace
	if m.self != nil && m.self.has(other) && otherNS == appliedNS {
		return true, true
	}
	for _, sl := range m.sameLabels {
		if sl.pods.has(other) && sl.group[appliedNS] >= 0 && otherNS >= 0 && sl.group[otherNS] == sl.group[appliedNS] {
			return true, true
		}
	}
	return m.addresses.has(other), false
}

// outcome is how r relates to a flow whose applied-to endpoint is applied,
// far end other and destination dst.
//
// Named ports resolve on pods only. At ingress that is the destination, the
// rule's target, which Antrea resolves against its target members
// (groupMembersByServices(rule.Services, rule.TargetMembers) in
// pkg/agent/controller/networkpolicy/pod_reconciler.go). At egress Antrea
// resolves them against the rule's `to` members (groupMembersByServices(
// rule.Services, rule.ToAddresses)) and gives ipBlock destinations
// filterUnresolvablePort(rule.Services): the named ports are dropped, and
// only-named ports leave no port at all rather than every port. So a
// destination the rule holds only by address never matches a named port.
func (r *rule) outcome(e *estate, applied, other, dst int, p Probe) Outcome {
	matched, asPod := r.peer.match(e, applied, other)
	if !matched {
		return PeerMismatch
	}
	src := applied
	if r.info.Direction == Ingress {
		src = other
	}
	if !r.ports.matches(e, src, dst, p, asPod || r.info.Direction == Ingress) {
		return PortMismatch
	}
	return Matched
}

func (r *rule) matches(e *estate, applied, other, dst int, p Probe) bool {
	return r.outcome(e, applied, other, dst, p) == Matched
}

// portMatcher decides whether a probe is among a rule's ports and protocols.
type portMatcher struct {
	all   bool // neither ports nor protocols listed: every protocol and port
	ports []portRange
	icmp  []icmpMatch
}

// portRange is one ports entry. A named port is resolved on the flow's
// destination pod (see rule.outcome for when it resolves at all); a
// destination without that name does not match.
type portRange struct {
	protocol             Protocol
	anyPort              bool
	from, to             int32
	named                string
	sourceFrom, sourceTo int32 // 0: any source port
}

// icmpMatch matches ICMP by type and code; -1 matches any value.
type icmpMatch struct{ icmpType, icmpCode int32 }

// matches says whether p, from src to dst, is among the ports; namedResolve
// says whether named ports resolve on dst for this flow.
func (m *portMatcher) matches(e *estate, src, dst int, p Probe, namedResolve bool) bool {
	if m.all {
		return true
	}
	if p.Protocol == ICMP {
		for _, im := range m.icmp {
			if (im.icmpType < 0 || im.icmpType == icmpEchoType) && (im.icmpCode < 0 || im.icmpCode == icmpEchoCode) {
				return true
			}
		}
		return false
	}
	for i := range m.ports {
		pr := &m.ports[i]
		if pr.protocol != p.Protocol {
			continue
		}
		switch {
		case pr.named != "":
			if !namedResolve {
				continue
			}
			port, ok := e.endpoints[dst].namedPorts[namedPort{pr.protocol, pr.named}]
			if !ok || port != p.Port {
				continue
			}
		case !pr.anyPort && (p.Port < pr.from || p.Port > pr.to):
			continue
		}
		if pr.sourceFrom != 0 && !pr.matchesClient(e.endpoints[src].ephemeral, p.SourcePort) {
			continue
		}
		return true
	}
	return false
}

// matchesClient says whether a client port is in the entry's source range:
// the pinned one, or else any its ephemeral range gives it. A range that
// covers the whole ephemeral range always matches and one disjoint from it
// never does; a partial overlap depends on the port the kernel picks, which
// Model.CheckProbe refuses to guess.
func (pr *portRange) matchesClient(ephemeral topology.PortRange, pinned int32) bool {
	if pinned != 0 {
		return pinned >= pr.sourceFrom && pinned <= pr.sourceTo
	}
	return pr.sourceFrom <= ephemeral.From && ephemeral.To <= pr.sourceTo
}

// overlapsPartly says whether the client's port decides: the entry's source
// range covers some but not all of the ephemeral range.
func (pr *portRange) overlapsPartly(ephemeral topology.PortRange) bool {
	disjoint := pr.sourceTo < ephemeral.From || pr.sourceFrom > ephemeral.To
	return !disjoint && !pr.matchesClient(ephemeral, 0)
}

func (m *portMatcher) matchesSourcePorts() bool {
	for _, pr := range m.ports {
		if pr.sourceFrom != 0 {
			return true
		}
	}
	return false
}

// portSpec is a ports entry of either policy API: Kubernetes' has no source ports.
type portSpec struct {
	protocol      *corev1.Protocol
	port          *intstr.IntOrString
	endPort       *int32
	sourcePort    *int32
	sourceEndPort *int32
}

func compilePort(spec portSpec, path *field.Path) (portRange, field.ErrorList) {
	var errs field.ErrorList
	pr := portRange{protocol: TCP, anyPort: true}
	if spec.protocol != nil {
		switch *spec.protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
			pr.protocol = ProtocolOf(*spec.protocol)
		default:
			errs = append(errs, field.NotSupported(path.Child("protocol"), *spec.protocol, []string{"TCP", "UDP", "SCTP"}))
		}
	}
	switch {
	case spec.port == nil:
		if spec.endPort != nil {
			errs = append(errs, field.Invalid(path.Child("endPort"), *spec.endPort, "needs a numeric port"))
		}
	case spec.port.Type == intstr.String:
		pr.anyPort, pr.named = false, spec.port.StrVal
		if spec.endPort != nil {
			errs = append(errs, field.Invalid(path.Child("endPort"), *spec.endPort, "cannot be combined with a named port"))
		}
	default:
		pr.anyPort, pr.from, pr.to = false, spec.port.IntVal, spec.port.IntVal
		if pr.from < 1 || pr.from > 65535 {
			errs = append(errs, field.Invalid(path.Child("port"), pr.from, "must be from 1 to 65535"))
		}
		if spec.endPort != nil {
			pr.to = *spec.endPort
			if pr.to < pr.from || pr.to > 65535 {
				errs = append(errs, field.Invalid(path.Child("endPort"), pr.to, fmt.Sprintf("must be from port (%d) to 65535", pr.from)))
			}
		}
	}
	if spec.sourcePort != nil {
		pr.sourceFrom, pr.sourceTo = *spec.sourcePort, *spec.sourcePort
		if pr.sourceFrom < 1 || pr.sourceFrom > 65535 {
			errs = append(errs, field.Invalid(path.Child("sourcePort"), pr.sourceFrom, "must be from 1 to 65535"))
		}
		if spec.sourceEndPort != nil {
			pr.sourceTo = *spec.sourceEndPort
			if pr.sourceTo < pr.sourceFrom || pr.sourceTo > 65535 {
				errs = append(errs, field.Invalid(path.Child("sourceEndPort"), pr.sourceTo, "must be from sourcePort to 65535"))
			}
		}
	} else if spec.sourceEndPort != nil {
		errs = append(errs, field.Invalid(path.Child("sourceEndPort"), *spec.sourceEndPort, "needs sourcePort"))
	}
	return pr, errs
}
