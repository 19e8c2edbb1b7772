package model

import (
	"slices"
	"sort"
)

// This file serves policy analysis (tierproof lint): which rules match a
// flow beyond the one that decides it, which policies apply to endpoints, and
// a probe set that tells every rule's ports apart.

// SideMatches is one side of a flow: how it was decided, and every rule of
// the side's chain that matches the flow, in chain order, whether or not the
// walk reached it. K8s isolation is listed whenever it applies to the side.
type SideMatches struct {
	Decision Decision
	Matching []*RuleInfo
}

// Matches evaluates one side of a flow from → to (not a pod to itself) and
// lists every rule on that side that matches it.
func (m *Model) Matches(dir Direction, from, to int, p Probe) SideMatches {
	applied, other := from, to
	if dir == Ingress {
		applied, other = to, from
	}
	sm := SideMatches{Decision: m.decide(dir, applied, other, to, p, nil)}
	if m.estate.endpoints[applied].pod == nil {
		return sm
	}
	s := &m.sides[dir][applied]
	for _, chain := range [][]*rule{s.tiered, s.k8sRules} {
		for _, r := range chain {
			if r.matches(m.estate, applied, other, to, p) {
				sm.Matching = append(sm.Matching, r.info)
			}
		}
	}
	sm.Matching = append(sm.Matching, s.k8sIsolation...)
	for _, r := range s.baseline {
		if r.matches(m.estate, applied, other, to, p) {
			sm.Matching = append(sm.Matching, r.info)
		}
	}
	return sm
}

// Rules lists every compiled rule, K8s isolation included, in policy order;
// also the rules that apply to no endpoint.
func (m *Model) Rules() []*RuleInfo { return m.rules }

// AppliedTo counts, per policy, the endpoints its rules apply to (as the
// endpoint whose side they decide). A policy missing from the map applies to
// nothing in the topology.
func (m *Model) AppliedTo() map[PolicyRef]int {
	counts := map[PolicyRef]int{}
	for dir := range m.sides {
		for i := range m.sides[dir] {
			seen := map[PolicyRef]bool{}
			s := &m.sides[dir][i]
			for _, chain := range [][]*rule{s.tiered, s.k8sRules, s.baseline} {
				for _, r := range chain {
					seen[r.info.Policy] = true
				}
			}
			for _, iso := range s.k8sIsolation {
				seen[iso.Policy] = true
			}
			for ref := range seen {
				counts[ref]++
			}
		}
	}
	return counts
}

// AnalysisProbes is a probe set on which every rule's ports are told apart:
// ICMP, each protocol's port ranges at both ends, every named port of the
// topology, and one port no rule names. When rules match client ports, every
// port probe is tried with each range's first source port and with one
// outside them all.
func (m *Model) AnalysisProbes() []Probe {
	ports := map[Protocol]map[int32]bool{TCP: {}, UDP: {}, SCTP: {}}
	var sourcePorts []int32
	for _, r := range m.compiled {
		for _, pr := range r.ports.ports {
			if !pr.anyPort && pr.named == "" {
				ports[pr.protocol][pr.from], ports[pr.protocol][pr.to] = true, true
			}
			if pr.sourceFrom != 0 {
				sourcePorts = append(sourcePorts, pr.sourceFrom)
			}
		}
	}
	for _, e := range m.estate.endpoints {
		for np, port := range e.namedPorts {
			ports[np.protocol][port] = true
		}
	}
	probes := []Probe{{Protocol: ICMP}}
	for _, proto := range []Protocol{TCP, UDP, SCTP} {
		unused := int32(1)
		for ports[proto][unused] {
			unused++
		}
		ports[proto][unused] = true
		var list []int32
		for port := range ports[proto] {
			list = append(list, port)
		}
		sort.Slice(list, func(i, j int) bool { return list[i] < list[j] })
		for _, port := range list {
			probes = append(probes, Probe{Protocol: proto, Port: port})
		}
	}
	if len(sourcePorts) == 0 {
		return probes
	}
	slices.Sort(sourcePorts)
	sourcePorts = slices.Compact(sourcePorts)
	outside := int32(65535)
	for slices.Contains(sourcePorts, outside) || m.matchesAnySourcePort(outside) {
		outside--
	}
	sourcePorts = append(sourcePorts, outside)
	pinned := []Probe{{Protocol: ICMP}}
	for _, p := range probes[1:] {
		for _, sp := range sourcePorts {
			pinned = append(pinned, Probe{Protocol: p.Protocol, Port: p.Port, SourcePort: sp})
		}
	}
	return pinned
}

func (m *Model) matchesAnySourcePort(port int32) bool {
	for _, r := range m.compiled {
		for _, pr := range r.ports.ports {
			if pr.sourceFrom != 0 && port >= pr.sourceFrom && port <= pr.sourceTo {
				return true
			}
		}
	}
	return false
}
