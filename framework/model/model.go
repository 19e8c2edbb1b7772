package model

import (
	"context"
	"errors"
	"fmt"
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/topology"
)

// Model answers, for any flow between two endpoints of its topology, what
// Antrea must do with it.
type Model struct {
	estate *estate
	// sides[direction][endpoint] lists, in evaluation order, the rules that
	// apply to the endpoint in that direction.
	sides [2][]side
	// sourcePortRules match client ports: CheckProbe refuses unpinned probes
	// whose client port they would decide.
	sourcePortRules []*rule
	// compiled holds every rule, rules holds every RuleInfo (K8s isolation
	// included), also those applied to nothing: for analysis.
	compiled []*rule
	rules    []*RuleInfo
	// namespaceMembers[ns] are the pods of namespace ns, for Row.
	namespaceMembers []bitset
	semantics        Semantics
}

// side is one endpoint's evaluation chain in one direction.
type side struct {
	tiered       []*rule     // Antrea-native rules of every tier but baseline, in order
	k8sRules     []*rule     // rules of the K8s NetworkPolicies selecting the endpoint
	k8sIsolation []*RuleInfo // the K8s NetworkPolicies isolating the endpoint
	baseline     []*rule     // Antrea-native rules of the baseline tier, in order
}

// Compile resolves every selector of set against t. Any error — an unknown
// tier, a bad selector, a field the model does not evaluate — names the
// document, the object and the field, and no model is returned.
func Compile(t *topology.Topology, set *policy.Set) (*Model, error) {
	return CompileFor(t, set, Antrea)
}

// CompileFor is Compile with a data plane's semantics of K8s NetworkPolicies.
func CompileFor(t *topology.Topology, set *policy.Set, semantics Semantics) (*Model, error) {
	return CompileContext(context.Background(), t, set, semantics)
}

// CompileContext is CompileFor that stops, with ctx's error, once ctx is
// done: 100 000 policies take a while, and an interrupt must not wait.
func CompileContext(ctx context.Context, t *topology.Topology, set *policy.Set, semantics Semantics) (*Model, error) {
	if errs := t.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("topology: %w", errs.ToAggregate())
	}
	c := &compiler{estate: newEstate(t), semantics: semantics}
	c.checkNamespaces(set)
	c.checkPlane(set)
	c.compileTiers(set.Tiers)
	c.compileGroups(set)
	for _, p := range set.ClusterNetworkPolicies {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c.compileACNP(p)
	}
	for _, p := range set.NetworkPolicies {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c.compileANP(p)
	}
	for _, p := range set.UpstreamCNPs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c.compileCNP(p)
	}
	k8s := append([]policy.Located[*networkingv1.NetworkPolicy](nil), set.K8sNetworkPolicies...)
	sort.SliceStable(k8s, func(i, j int) bool {
		a, b := k8s[i].Object, k8s[j].Object
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	var k8sPolicies []*k8sPolicy
	for _, p := range k8s {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k8sPolicies = append(k8sPolicies, c.compileK8s(p))
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}

	m := &Model{estate: c.estate, compiled: c.rules, namespaceMembers: c.estate.namespaceMembers(), semantics: semantics}
	n := len(c.estate.endpoints)
	m.sides[Egress], m.sides[Ingress] = make([]side, n), make([]side, n)
	sortRules(c.rules)
	for _, r := range c.rules {
		chains := m.sides[r.info.Direction]
		baseline := r.info.TierPriority >= baselineTierPriority
		r.appliedTo.each(func(i int) {
			if baseline {
				chains[i].baseline = append(chains[i].baseline, r)
			} else {
				chains[i].tiered = append(chains[i].tiered, r)
			}
		})
		if r.ports.matchesSourcePorts() {
			m.sourcePortRules = append(m.sourcePortRules, r)
		}
	}
	for _, r := range c.rules {
		m.rules = append(m.rules, r.info)
	}
	for _, kp := range k8sPolicies {
		for _, dir := range []Direction{Ingress, Egress} {
			for _, r := range kp.rules[dir] {
				m.compiled = append(m.compiled, r)
				m.rules = append(m.rules, r.info)
			}
			if kp.isolation[dir] != nil {
				m.rules = append(m.rules, kp.isolation[dir])
			}
			chains := m.sides[dir]
			kp.selected.each(func(i int) {
				chains[i].k8sRules = append(chains[i].k8sRules, kp.rules[dir]...)
				if kp.isolation[dir] != nil {
					chains[i].k8sIsolation = append(chains[i].k8sIsolation, kp.isolation[dir])
				}
			})
		}
	}
	return m, nil
}

// checkNamespaces refuses namespaced objects whose namespace is not in the
// topology: the API server would refuse to create them.
func (c *compiler) checkNamespaces(set *policy.Set) {
	check := func(src policy.Source, what, namespace string) {
		if _, ok := c.estate.namespaceIndex[namespace]; !ok {
			c.fail(src, what, field.ErrorList{field.NotFound(field.NewPath("metadata", "namespace"), namespace)})
		}
	}
	for _, g := range set.Groups {
		check(g.Source, "Group/"+g.Object.Namespace+"/"+g.Object.Name, g.Object.Namespace)
	}
	for _, p := range set.NetworkPolicies {
		check(p.Source, "NetworkPolicy/"+p.Object.Namespace+"/"+p.Object.Name, p.Object.Namespace)
	}
	for _, p := range set.K8sNetworkPolicies {
		check(p.Source, "K8sNetworkPolicy/"+p.Object.Namespace+"/"+p.Object.Name, p.Object.Namespace)
	}
}

// Semantics are the data plane's reading the model was compiled for.
func (m *Model) Semantics() Semantics { return m.semantics }

// Endpoints names the model's endpoints in index order: pods, then externals.
func (m *Model) Endpoints() []string {
	names := make([]string, len(m.estate.endpoints))
	for i, ep := range m.estate.endpoints {
		names[i] = ep.name
	}
	return names
}

// Endpoint finds an endpoint's index by name ("ns/pod" or an external's name).
func (m *Model) Endpoint(name string) (int, bool) {
	i, ok := m.estate.byName[name]
	return i, ok
}

// CheckProbe reports whether the model can judge p. A probe that does not pin
// its client port gets one from its client's ephemeral range; a rule whose
// source range covers part of that range makes the verdict depend on the port
// the kernel picks, which the model cannot know.
func (m *Model) CheckProbe(p Probe) error {
	if p.Protocol == ICMP || p.SourcePort != 0 {
		return nil
	}
	for _, r := range m.sourcePortRules {
		var clients []int // computed once per rule, when an entry needs them
		for i := range r.ports.ports {
			pr := &r.ports.ports[i]
			if pr.sourceFrom == 0 || pr.protocol != p.Protocol {
				continue
			}
			if clients == nil {
				clients = m.clients(r)
			}
			for _, client := range clients {
				ep := &m.estate.endpoints[client]
				if pr.overlapsPartly(ep.ephemeral) {
					return fmt.Errorf("probe %s: %s %s matches client ports %d-%d, part of %s's ephemeral range %s, so the port the kernel picks decides: pin one with %s,sourcePort=N (or set the endpoint's ephemeralPorts in the topology)",
						p, r.info.Policy, r.info.ID(), pr.sourceFrom, pr.sourceTo, ep.name, ep.ephemeral, p)
				}
			}
		}
	}
	return nil
}

// clients lists the endpoints that can be a client under r: the pods it
// applies to at egress, its peers at ingress.
func (m *Model) clients(r *rule) []int {
	set := m.estate.newSet()
	switch {
	case r.info.Direction == Egress:
		set.union(r.appliedTo)
	case r.peer.all:
		for i := range m.estate.endpoints {
			set.add(i)
		}
	default:
		set.union(r.peer.pods)
		set.union(r.peer.addresses)
		set.union(r.peer.self)
		for _, sl := range r.peer.sameLabels {
			set.union(sl.pods)
		}
	}
	var out []int
	set.each(func(i int) { out = append(out, i) })
	return out
}

// Evaluate decides one flow. from and to are endpoint indexes.
func (m *Model) Evaluate(from, to int, p Probe) Result {
	if from == to {
		self := Decision{Verdict: Allow, Phase: PhaseSelf}
		return Result{Verdict: Allow, Egress: self, Ingress: self}
	}
	return Combine(m.decide(Egress, from, to, to, p, nil), m.decide(Ingress, to, from, to, p, nil))
}

// Combine is a flow's result from its sides: a denial at the source is what
// the client sees, since the packet never reaches the destination.
func Combine(egress, ingress Decision) Result {
	r := Result{Verdict: egress.Verdict, Egress: egress, Ingress: ingress}
	if r.Verdict == Allow {
		r.Verdict = ingress.Verdict
	}
	return r
}

// Outcome is how one rule related to a flow during an evaluation walk.
type Outcome uint8

// Outcomes of a rule during a walk.
const (
	Matched Outcome = iota
	PeerMismatch
	PortMismatch
)

// Step is one rule tried during an evaluation walk.
type Step struct {
	Phase   Phase
	Rule    *RuleInfo
	Outcome Outcome
}

// decide walks one side's chain. applied is the endpoint whose policies are
// consulted, other the far end, dst the flow's destination (where named ports
// are resolved). trace, when not nil, collects every rule tried.
func (m *Model) decide(dir Direction, applied, other, dst int, p Probe, trace *[]Step) Decision {
	if m.estate.endpoints[applied].pod == nil {
		return Decision{Verdict: Allow, Phase: PhaseNoSide}
	}
	s := &m.sides[dir][applied]
	var passed *RuleInfo
	for i, r := range s.tiered {
		if !m.try(PhaseTiers, r, applied, other, dst, p, trace) {
			continue
		}
		if r.info.Action == ActionPass {
			passed = r.info
			break
		}
		return Decision{Verdict: r.info.Action.verdict(), Phase: PhaseTiers, Rule: r.info,
			Tie: m.tie(s.tiered[i+1:], r, applied, other, dst, p)}
	}
	for _, r := range s.k8sRules {
		if m.try(PhaseK8sAllow, r, applied, other, dst, p, trace) {
			return Decision{Verdict: Allow, Phase: PhaseK8sAllow, Rule: r.info, PassedBy: passed}
		}
	}
	if len(s.k8sIsolation) > 0 {
		if trace != nil {
			*trace = append(*trace, Step{Phase: PhaseK8sIsolation, Rule: s.k8sIsolation[0], Outcome: Matched})
		}
		return Decision{Verdict: s.k8sIsolation[0].Action.verdict(), Phase: PhaseK8sIsolation, Rule: s.k8sIsolation[0], PassedBy: passed}
	}
	for i, r := range s.baseline {
		if m.try(PhaseBaseline, r, applied, other, dst, p, trace) {
			if r.info.Action == ActionPass { // a Baseline CNP's, on the spec's order
				return Decision{Verdict: Allow, Phase: PhaseDefault, PassedBy: r.info}
			}
			return Decision{Verdict: r.info.Action.verdict(), Phase: PhaseBaseline, Rule: r.info, PassedBy: passed,
				Tie: m.tie(s.baseline[i+1:], r, applied, other, dst, p)}
		}
	}
	return Decision{Verdict: Allow, Phase: PhaseDefault, PassedBy: passed}
}

func (m *Model) try(phase Phase, r *rule, applied, other, dst int, p Probe, trace *[]Step) bool {
	outcome := r.outcome(m.estate, applied, other, dst, p)
	if trace != nil {
		*trace = append(*trace, Step{Phase: phase, Rule: r.info, Outcome: outcome})
	}
	return outcome == Matched
}

// tie finds a later rule with exactly the precedence of the deciding one that
// also matches but acts differently; Antrea's order between them is undefined.
func (m *Model) tie(rest []*rule, decided *rule, applied, other, dst int, p Probe) *RuleInfo {
	d := decided.info
	for _, r := range rest {
		if r.info.TierPriority != d.TierPriority || r.info.Priority != d.Priority || r.info.Index != d.Index {
			return nil
		}
		if r.info.Action != d.Action && r.matches(m.estate, applied, other, dst, p) {
			return r.info
		}
	}
	return nil
}
