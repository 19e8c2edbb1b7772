package model

import (
	"fmt"
	"strings"
)

// UnexposedPort is a rule's ports entry that no pod at the receiving end of
// the rule declares: the cookbook's trap of a Service's port in place of the
// container's, or a port name the pods do not have.
type UnexposedPort struct {
	Rule  *RuleInfo
	Index int    // the rule's ports entry
	Port  string // "TCP/6379", "TCP/8000-8080" or a name
	Named bool
}

// UnexposedPorts lists the ports entries of rules that no destination pod of
// the rule declares — the pods an ingress rule applies to, the pods an
// egress rule's peers select. A number counts only where some of those pods
// declare ports at all (a topology without container ports says nothing of
// them); a name matches only a container port of that name, so a name no
// destination pod has makes the entry match nothing.
func (m *Model) UnexposedPorts() []UnexposedPort {
	// The endpoints each rule applies to, read off the sides: a K8s
	// NetworkPolicy's rules apply where the policy selects.
	applied := map[*rule][]int{}
	for i := range m.sides[Ingress] {
		s := &m.sides[Ingress][i]
		for _, chain := range [][]*rule{s.tiered, s.k8sRules, s.baseline} {
			for _, r := range chain {
				applied[r] = append(applied[r], i)
			}
		}
	}
	var out []UnexposedPort
	for _, r := range m.compiled {
		if r.info.Isolation || len(r.ports.ports) == 0 {
			continue
		}
		var dests []int
		switch {
		case r.info.Direction == Ingress:
			dests = applied[r]
		case r.peer.all:
			continue // any destination: nothing to hold the ports against
		default:
			peers := m.estate.newSet()
			peers.union(r.peer.pods)
			if r.peer.self != nil {
				peers.union(r.peer.self)
			}
			peers.each(func(i int) { dests = append(dests, i) })
		}
		for i, pr := range r.ports.ports {
			if pr.anyPort {
				continue
			}
			if u, ok := m.exposure(r.info, i, pr, dests); !ok {
				out = append(out, u)
			}
		}
	}
	return out
}

// exposure says whether some destination pod declares the entry's port.
func (m *Model) exposure(info *RuleInfo, index int, pr portRange, dests []int) (UnexposedPort, bool) {
	u := UnexposedPort{Rule: info, Index: index, Named: pr.named != ""}
	if u.Named {
		u.Port = pr.named
	} else if u.Port = fmt.Sprintf("%s/%d", pr.protocol, pr.from); pr.to != pr.from {
		u.Port += fmt.Sprintf("-%d", pr.to)
	}
	declares := false
	for _, d := range dests {
		pod := m.estate.endpoints[d].pod
		if pod == nil {
			continue
		}
		for _, cp := range pod.Ports {
			declares = true
			if !strings.EqualFold(string(cp.Protocol), pr.protocol.String()) && !(cp.Protocol == "" && pr.protocol == TCP) {
				continue
			}
			if u.Named && cp.Name == pr.named || !u.Named && cp.Port >= pr.from && cp.Port <= pr.to {
				return u, true
			}
		}
	}
	return u, !u.Named && !declares
}
