package model

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tierproof/tierproof/framework/topology"
)

// endpoint is a pod or an external host, by index in the estate.
type endpoint struct {
	name       string
	ip         netip.Addr
	pod        *topology.Pod // nil for an external host
	namespace  int           // index into estate.namespaces; -1 for an external host
	labels     labels.Set
	namedPorts map[namedPort]int32
	ephemeral  topology.PortRange // where the endpoint's clients take their ports from
}

type namedPort struct {
	protocol Protocol
	name     string
}

// estate indexes a topology's endpoints and namespaces for matching.
type estate struct {
	endpoints       []endpoint
	byName          map[string]int
	namespaces      []topology.Namespace
	namespaceLabels []labels.Set
	namespaceIndex  map[string]int
}

func newEstate(t *topology.Topology) *estate {
	e := &estate{byName: map[string]int{}, namespaceIndex: map[string]int{}}
	for i, ns := range t.Namespaces {
		e.namespaces = append(e.namespaces, ns)
		e.namespaceLabels = append(e.namespaceLabels, labels.Set(ns.EffectiveLabels()))
		e.namespaceIndex[ns.Name] = i
	}
	for i := range t.Pods {
		pod := &t.Pods[i]
		ep := endpoint{
			name:       pod.EndpointName(),
			ip:         netip.MustParseAddr(pod.IP), // topology.Validate checked it
			pod:        pod,
			namespace:  e.namespaceIndex[pod.Namespace],
			labels:     labels.Set(pod.Labels),
			namedPorts: map[namedPort]int32{},
			ephemeral:  topology.Ephemeral(pod.EphemeralPorts),
		}
		for _, port := range pod.Ports {
			if port.Name != "" {
				ep.namedPorts[namedPort{ProtocolOf(port.Protocol), port.Name}] = port.Port
			}
		}
		e.add(ep)
	}
	for _, ext := range t.Externals {
		e.add(endpoint{name: ext.Name, ip: netip.MustParseAddr(ext.IP), namespace: -1, ephemeral: topology.Ephemeral(ext.EphemeralPorts)})
	}
	return e
}

func (e *estate) add(ep endpoint) {
	e.byName[ep.name] = len(e.endpoints)
	e.endpoints = append(e.endpoints, ep)
}

func (e *estate) newSet() bitset { return newBitset(len(e.endpoints)) }

// groupOf is the group (see sameLabelsPeer) of endpoint i's namespace, or -1.
func (e *estate) groupOf(group []int, i int) int {
	if ns := e.endpoints[i].namespace; ns >= 0 {
		return group[ns]
	}
	return -1
}

// namespaceMembers is, per namespace, the set of its pods.
func (e *estate) namespaceMembers() []bitset {
	out := make([]bitset, len(e.namespaces))
	for i := range out {
		out[i] = e.newSet()
	}
	for i, ep := range e.endpoints {
		if ep.namespace >= 0 {
			out[ep.namespace].add(i)
		}
	}
	return out
}

// ProtocolOf maps a Kubernetes protocol to the model's, TCP when unset.
func ProtocolOf(p corev1.Protocol) Protocol {
	switch p {
	case corev1.ProtocolUDP:
		return UDP
	case corev1.ProtocolSCTP:
		return SCTP
	}
	return TCP
}

// podQuery selects pods: by pod labels (nil: any), by namespace labels (nil:
// any) and optionally only in one namespace.
type podQuery struct {
	pods       labels.Selector
	namespaces labels.Selector
	namespace  string // "" for every namespace
}

func (e *estate) selectPods(q podQuery) bitset {
	set := e.newSet()
	for i, ep := range e.endpoints {
		if ep.pod == nil {
			continue
		}
		if q.namespace != "" && ep.pod.Namespace != q.namespace {
			continue
		}
		if q.namespaces != nil && !q.namespaces.Matches(e.namespaceLabels[ep.namespace]) {
			continue
		}
		if q.pods != nil && !q.pods.Matches(ep.labels) {
			continue
		}
		set.add(i)
	}
	return set
}

func (e *estate) selectServiceAccount(namespace, name string) bitset {
	set := e.newSet()
	for i, ep := range e.endpoints {
		if ep.pod != nil && ep.pod.Namespace == namespace && ep.pod.ServiceAccountName() == name {
			set.add(i)
		}
	}
	return set
}

// selectIPs selects every endpoint, pod or external, whose IP is in cidr and in
// none of except: an ipBlock matches by address alone.
func (e *estate) selectIPs(cidr netip.Prefix, except []netip.Prefix) bitset {
	set := e.newSet()
	for i, ep := range e.endpoints {
		if !cidr.Contains(ep.ip) {
			continue
		}
		excluded := false
		for _, x := range except {
			if x.Contains(ep.ip) {
				excluded = true
				break
			}
		}
		if !excluded {
			set.add(i)
		}
	}
	return set
}

// selector converts a label selector. A nil selector means "no constraint" to
// the callers, who check for nil before calling.
func selector(sel *metav1.LabelSelector, path *field.Path) (labels.Selector, *field.Error) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, field.Invalid(path, sel, err.Error())
	}
	return s, nil
}

// optionalSelector is selector for fields where nil means "no constraint".
func optionalSelector(sel *metav1.LabelSelector, path *field.Path) (labels.Selector, *field.Error) {
	if sel == nil {
		return nil, nil
	}
	return selector(sel, path)
}

// ipBlock parses a CIDR and its exceptions, each of which must lie strictly
// inside the CIDR (Antrea's admission refuses anything else).
func parseIPBlock(cidr string, except []string, path *field.Path) (netip.Prefix, []netip.Prefix, *field.Error) {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Prefix{}, nil, field.Invalid(path.Child("cidr"), cidr, "must be a CIDR such as 10.0.0.0/24")
	}
	prefix = prefix.Masked()
	var excepts []netip.Prefix
	for i, x := range except {
		p, err := netip.ParsePrefix(x)
		if err != nil {
			return netip.Prefix{}, nil, field.Invalid(path.Child("except").Index(i), x, "must be a CIDR")
		}
		p = p.Masked()
		if p.Bits() <= prefix.Bits() || !prefix.Contains(p.Addr()) {
			return netip.Prefix{}, nil, field.Invalid(path.Child("except").Index(i), x, "must be strictly inside "+cidr)
		}
		excepts = append(excepts, p)
	}
	return prefix, excepts, nil
}
