package model

import "sync"

// DecisionTable numbers the distinct decisions of a matrix: a stage has few
// (a rule, the Pass before it, a tie), so a cell stores two small numbers
// instead of two decisions.
type DecisionTable struct {
	mu   sync.Mutex
	ids  map[Decision]uint32
	list []Decision
}

// NewDecisionTable is an empty table.
func NewDecisionTable() *DecisionTable { return &DecisionTable{ids: map[Decision]uint32{}} }

// ID numbers d, the same number each time. Safe for concurrent use.
func (t *DecisionTable) ID(d Decision) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ok := t.ids[d]
	if !ok {
		id = uint32(len(t.list))
		t.ids[d] = id
		t.list = append(t.list, d)
	}
	return id
}

// Decision is the decision numbered id. Call it once the numbering is done.
func (t *DecisionTable) Decision(id uint32) Decision { return t.list[id] }

// Len is how many decisions the table holds.
func (t *DecisionTable) Len() int { return len(t.list) }

// RowScratch is the working memory of Row, reused from row to row by one
// goroutine.
type RowScratch struct {
	remaining, passed, hit, asPod, addr, tied bitset
	passedBy, tie                             []*RuleInfo
	ids                                       map[Decision]uint32
}

func (sc *RowScratch) reset(n int) {
	if len(sc.passedBy) != n {
		words := (n + 63) / 64
		*sc = RowScratch{remaining: make(bitset, words), passed: make(bitset, words), hit: make(bitset, words),
			asPod: make(bitset, words), addr: make(bitset, words), tied: make(bitset, words),
			passedBy: make([]*RuleInfo, n), tie: make([]*RuleInfo, n), ids: map[Decision]uint32{}}
	}
	sc.passed.clear()
	clear(sc.ids)
}

// Row decides one side of the flows between applied and every endpoint at
// once — applied's egress (dir Egress: applied is the source) or its ingress
// (applied is the destination) — and writes each decision's number in t to
// out[other]; out[applied] is the pod reaching itself. It walks applied's
// chain as decide does, a rule at a time over the set of far ends still
// undecided: a rule's peers are bitsets, so most rules cost a few word
// operations, not one test per flow. The decisions, deciding rules, Passes
// and ties are decide's, cell for cell (the property test holds them equal).
func (m *Model) Row(dir Direction, applied int, p Probe, t *DecisionTable, out []uint32, sc *RowScratch) {
	n := len(m.estate.endpoints)
	sc.reset(n)
	id := func(d Decision) uint32 {
		v, ok := sc.ids[d]
		if !ok {
			v = t.ID(d)
			sc.ids[d] = v
		}
		return v
	}
	self := id(Decision{Verdict: Allow, Phase: PhaseSelf})
	if m.estate.endpoints[applied].pod == nil {
		none := id(Decision{Verdict: Allow, Phase: PhaseNoSide})
		for i := range out[:n] {
			out[i] = none
		}
		out[applied] = self
		return
	}
	s := &m.sides[dir][applied]
	remaining := sc.remaining
	remaining.fill(n)
	remaining.remove(applied)
	passedBy := func(o int) *RuleInfo {
		if sc.passed.has(o) {
			return sc.passedBy[o]
		}
		return nil
	}
	for i, r := range s.tiered {
		if !m.matchSet(r, dir, applied, p, remaining, sc) {
			continue
		}
		remaining.subtract(sc.hit)
		if r.info.Action == ActionPass {
			// Pass skips every later tier rule: on to K8s NetworkPolicies.
			sc.passed.union(sc.hit)
			sc.hit.each(func(o int) { sc.passedBy[o] = r.info })
			continue
		}
		m.decideSet(Decision{Verdict: r.info.Action.verdict(), Phase: PhaseTiers, Rule: r.info}, s.tiered[i+1:], r, dir, applied, p, nil, out, id, sc)
	}
	remaining.union(sc.passed)
	if sc.passed.empty() {
		passedBy = nil // no Pass: each later decision is one number for its whole set
	}
	// each writes d, with each far end's Pass, for every member of set.
	each := func(set bitset, d Decision) {
		if passedBy == nil {
			v := id(d)
			set.each(func(o int) { out[o] = v })
			return
		}
		set.each(func(o int) {
			dd := d
			dd.PassedBy = passedBy(o)
			out[o] = id(dd)
		})
	}
	for _, r := range s.k8sRules {
		if !m.matchSet(r, dir, applied, p, remaining, sc) {
			continue
		}
		remaining.subtract(sc.hit)
		each(sc.hit, Decision{Verdict: Allow, Phase: PhaseK8sAllow, Rule: r.info})
	}
	if len(s.k8sIsolation) > 0 {
		iso := s.k8sIsolation[0]
		each(remaining, Decision{Verdict: iso.Action.verdict(), Phase: PhaseK8sIsolation, Rule: iso})
		out[applied] = self
		return
	}
	for i, r := range s.baseline {
		if !m.matchSet(r, dir, applied, p, remaining, sc) {
			continue
		}
		remaining.subtract(sc.hit)
		if r.info.Action == ActionPass { // a Baseline CNP's, on the spec's order: on to the default
			v := id(Decision{Verdict: Allow, Phase: PhaseDefault, PassedBy: r.info})
			sc.hit.each(func(o int) { out[o] = v })
			continue
		}
		m.decideSet(Decision{Verdict: r.info.Action.verdict(), Phase: PhaseBaseline, Rule: r.info}, s.baseline[i+1:], r, dir, applied, p, passedBy, out, id, sc)
	}
	each(remaining, Decision{Verdict: Allow, Phase: PhaseDefault})
	out[applied] = self
}

// decideSet writes base for the far ends in sc.hit, each with its Pass (when
// passedBy is set) and its tie: the first later rule of exactly r's
// precedence that also matches it but acts differently (see Model.tie).
func (m *Model) decideSet(base Decision, rest []*rule, r *rule, dir Direction, applied int, p Probe,
	passedBy func(int) *RuleInfo, out []uint32, id func(Decision) uint32, sc *RowScratch) {
	decided := sc.hit
	sc.tied.clear()
	d := r.info
	var untied bitset
	for _, other := range rest {
		if other.info.TierPriority != d.TierPriority || other.info.Priority != d.Priority || other.info.Index != d.Index {
			break
		}
		if other.info.Action == d.Action {
			continue
		}
		if untied == nil {
			untied = append(bitset(nil), decided...)
		}
		untied.subtract(sc.tied)
		if untied.empty() {
			break
		}
		matched := m.matchesEach(other, dir, applied, p, untied)
		matched.each(func(o int) { sc.tie[o] = other.info })
		sc.tied.union(matched)
	}
	if passedBy == nil && sc.tied.empty() {
		v := id(base)
		decided.each(func(o int) { out[o] = v })
		return
	}
	decided.each(func(o int) {
		dd := base
		if passedBy != nil {
			dd.PassedBy = passedBy(o)
		}
		if sc.tied.has(o) {
			dd.Tie = sc.tie[o]
		}
		out[o] = id(dd)
	})
}

// matchesEach is the members of candidates r matches, in a new set.
func (m *Model) matchesEach(r *rule, dir Direction, applied int, p Probe, candidates bitset) bitset {
	out := make(bitset, len(candidates))
	candidates.each(func(o int) {
		if r.matches(m.estate, applied, o, dstOf(dir, applied, o), p) {
			out.add(o)
		}
	})
	return out
}

// dstOf is a flow's destination given the side's applied end and far end.
func dstOf(dir Direction, applied, other int) int {
	if dir == Ingress {
		return applied
	}
	return other
}

// matchSet sets sc.hit to the members of candidates r matches, as rule.outcome
// would one by one, and says whether there are any.
func (m *Model) matchSet(r *rule, dir Direction, applied int, p Probe, candidates bitset, sc *RowScratch) bool {
	e := m.estate
	hit, asPod, addr := sc.hit, sc.asPod, sc.addr
	asPod.clear()
	addr.clear()
	pm := &r.peer
	if pm.all {
		asPod.union(candidates)
	} else {
		asPod.unionAnd(pm.pods, candidates)
		appliedNS := e.endpoints[applied].namespace
		if pm.self != nil && appliedNS >= 0 {
			// Both the peer set and the namespace: the far end must be in both.
			self := m.namespaceMembers[appliedNS]
			for w := range asPod {
				asPod[w] |= pm.self[w] & self[w] & candidates[w]
			}
		}
		for _, sl := range pm.sameLabels {
			if g := e.groupOf(sl.group, applied); g >= 0 && g < len(sl.byGroup) {
				asPod.unionAnd(sl.byGroup[g], candidates)
			}
		}
		addr.unionAnd(pm.addresses, candidates)
		addr.subtract(asPod)
	}
	hit.clear()
	switch {
	case r.ports.all:
		hit.union(asPod)
		hit.union(addr)
	case !r.ports.variesByFarEnd(dir, p):
		// src and dst only matter through named ports at egress and client
		// port ranges at ingress, neither of which is here.
		if r.ports.matches(e, applied, applied, p, true) {
			hit.union(asPod)
			hit.union(addr)
		}
	default:
		// Named ports resolve on the destination only when the rule holds it
		// as a pod, or at ingress (see rule.outcome).
		asPod.each(func(o int) {
			if r.ports.matches(e, srcOf(dir, applied, o), dstOf(dir, applied, o), p, true) {
				hit.add(o)
			}
		})
		addr.each(func(o int) {
			if r.ports.matches(e, srcOf(dir, applied, o), dstOf(dir, applied, o), p, dir == Ingress) {
				hit.add(o)
			}
		})
	}
	return !hit.empty()
}

// srcOf is a flow's source given the side's applied end and far end.
func srcOf(dir Direction, applied, other int) int {
	if dir == Egress {
		return applied
	}
	return other
}

// variesByFarEnd says whether p is among the ports can depend on the
// far end: at egress a named port resolves on the destination, the far end;
// at ingress an unpinned client port comes from the far end's ephemeral range.
func (m *portMatcher) variesByFarEnd(dir Direction, p Probe) bool {
	for i := range m.ports {
		pr := &m.ports[i]
		if dir == Egress && pr.named != "" {
			return true
		}
		if dir == Ingress && pr.sourceFrom != 0 && p.SourcePort == 0 {
			return true
		}
	}
	return false
}
