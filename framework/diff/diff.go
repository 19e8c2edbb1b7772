// Package diff answers a policy change's review question: which flows does
// it open or close, and which rule decides them now? It evaluates every flow
// of a topology under the policies before and after the change and keeps
// those whose verdict changes, grouped so that a big change stays readable.
package diff

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tierproof/tierproof/framework/model"
)

// Change is one flow whose verdict the change moves.
type Change struct {
	From, To      string
	Probe         model.Probe
	Before, After model.Result
}

// Kind is how a change moves a flow.
type Kind string

// The kinds of change, in the order summaries list them.
const (
	Opened     Kind = "opened"      // denied before, allowed after
	Closed     Kind = "closed"      // allowed before, denied after
	DenialKind Kind = "denial kind" // Drop before, Reject after, or back
)

// Kind is how c moves its flow.
func (c Change) Kind() Kind {
	switch {
	case c.Before.Verdict != model.Allow && c.After.Verdict == model.Allow:
		return Opened
	case c.Before.Verdict == model.Allow:
		return Closed
	}
	return DenialKind
}

// Decider is who decides a flow, in explain's words: the side that denies
// it, or the rules that allow it on each side.
func Decider(r model.Result) string {
	switch {
	case r.Egress.Verdict != model.Allow:
		return "egress: " + r.Egress.Describe()
	case r.Ingress.Verdict != model.Allow:
		return "ingress: " + r.Ingress.Describe()
	}
	var rules []string
	for _, side := range []struct {
		name string
		d    model.Decision
	}{{"egress", r.Egress}, {"ingress", r.Ingress}} {
		if side.d.Rule != nil {
			rules = append(rules, side.name+": "+side.d.Describe())
		}
	}
	if len(rules) == 0 {
		return "no rule on either side → default Allow"
	}
	return strings.Join(rules, "; ")
}

// Diff is a change's effect on every flow of a topology.
type Diff struct {
	Probes    []model.Probe
	Flows     int // every flow evaluated
	Changes   []Change
	Semantics model.Semantics
}

// Compute evaluates every ordered pair of endpoints (each with itself too),
// under each probe, with before's and after's policies; both models must
// be of the same topology. It stops with ctx's error once ctx is done.
func Compute(ctx context.Context, before, after *model.Model, probes []model.Probe, semantics model.Semantics) (*Diff, error) {
	for _, p := range probes {
		if err := before.CheckProbe(p); err != nil {
			return nil, err
		}
		if err := after.CheckProbe(p); err != nil {
			return nil, err
		}
	}
	endpoints := before.Endpoints()
	if !slices.Equal(after.Endpoints(), endpoints) {
		return nil, fmt.Errorf("the models before and after have different endpoints")
	}
	if len(endpoints) == 0 || len(probes) == 0 {
		// "Nothing changes" must never be the answer of a diff that compared nothing.
		return nil, fmt.Errorf("nothing to compare: %d endpoints, %d probes", len(endpoints), len(probes))
	}
	d := &Diff{Probes: probes, Semantics: semantics}
	for _, p := range probes {
		for from := range endpoints {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			for to := range endpoints {
				d.Flows++
				b, a := before.Evaluate(from, to, p), after.Evaluate(from, to, p)
				if b.Verdict != a.Verdict {
					d.Changes = append(d.Changes, Change{From: endpoints[from], To: endpoints[to], Probe: p, Before: b, After: a})
				}
			}
		}
	}
	return d, nil
}

// Count is how many changes are of kind k.
func (d *Diff) Count(k Kind) int {
	n := 0
	for _, c := range d.Changes {
		if c.Kind() == k {
			n++
		}
	}
	return n
}

// Group is the changes that move the same way for the same reason: from
// one namespace (or from outside the cluster) to another, from one verdict
// and decider to another, under one or more probes.
type Group struct {
	From, To      string // "ns/*", or "outside the cluster"
	Probes        []model.Probe
	Before, After model.Verdict
	// BeforeBy and AfterBy say who decides, in explain's words.
	BeforeBy, AfterBy string
	Changes           []Change
}

// Kind is how the group's flows move.
func (g Group) Kind() Kind { return g.Changes[0].Kind() }

// Groups gathers the changes; every change is in exactly one group. Groups
// come by kind (opened, closed, denial kind), then by size, largest first.
func (d *Diff) Groups() []Group {
	type key struct {
		from, to          string
		before, after     model.Verdict
		beforeBy, afterBy string
	}
	index := map[key]int{}
	var groups []Group
	for _, c := range d.Changes {
		k := key{place(c.From), place(c.To), c.Before.Verdict, c.After.Verdict, Decider(c.Before), Decider(c.After)}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, Group{From: k.from, To: k.to, Before: k.before, After: k.after, BeforeBy: k.beforeBy, AfterBy: k.afterBy})
		}
		g := &groups[i]
		g.Changes = append(g.Changes, c)
		if !slices.Contains(g.Probes, c.Probe) {
			g.Probes = append(g.Probes, c.Probe)
		}
	}
	order := map[Kind]int{Opened: 0, Closed: 1, DenialKind: 2}
	sort.SliceStable(groups, func(i, j int) bool {
		if ki, kj := order[groups[i].Kind()], order[groups[j].Kind()]; ki != kj {
			return ki < kj
		}
		return len(groups[i].Changes) > len(groups[j].Changes)
	})
	return groups
}

// outside is where every external endpoint sits.
const outside = "outside the cluster"

// place is where an endpoint sits: a pod's namespace, or outside the cluster.
func place(endpoint string) string {
	ns, _, ok := strings.Cut(endpoint, "/")
	if !ok {
		return outside
	}
	return ns + "/*"
}
