package model

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/tierproof/tierproof/framework/printable"
)

// Explanation is the evaluation walk of one flow on both sides.
type Explanation struct {
	From, To string
	Probe    Probe
	Result   Result
	Egress   SideWalk
	Ingress  SideWalk
}

// SideWalk is what one side tried, in order, and what it skipped.
type SideWalk struct {
	Direction Direction
	Endpoint  string
	Steps     []Step
	// K8sPolicies lists the K8s NetworkPolicies that select the endpoint in
	// this direction, whether or not the walk reached them.
	K8sPolicies []string
	// Skipped says what the deciding rule kept from being consulted.
	Skipped []string
	// PassSkipped are the Antrea rules after a matching Pass that would have
	// matched the flow: the Pass kept them from deciding it.
	PassSkipped []*RuleInfo
}

// Explain evaluates one flow and records every rule tried on each side.
func (m *Model) Explain(from, to int, p Probe) Explanation {
	e := Explanation{From: m.estate.endpoints[from].name, To: m.estate.endpoints[to].name, Probe: p}
	if from == to {
		e.Result = m.Evaluate(from, to, p)
		e.Egress = SideWalk{Direction: Egress, Endpoint: e.From}
		e.Ingress = SideWalk{Direction: Ingress, Endpoint: e.To}
		return e
	}
	var egress, ingress Decision
	e.Egress, egress = m.walk(Egress, from, to, to, p)
	e.Ingress, ingress = m.walk(Ingress, to, from, to, p)
	e.Result = Combine(egress, ingress)
	return e
}

// walk decides one side while recording every rule tried.
func (m *Model) walk(dir Direction, applied, other, dst int, p Probe) (SideWalk, Decision) {
	w := SideWalk{Direction: dir, Endpoint: m.estate.endpoints[applied].name}
	d := m.decide(dir, applied, other, dst, p, &w.Steps)
	if m.estate.endpoints[applied].pod == nil {
		return w, d
	}
	s := &m.sides[dir][applied]
	seen := map[PolicyRef]bool{}
	for _, r := range s.k8sRules {
		seen[r.info.Policy] = true
	}
	for _, iso := range s.k8sIsolation {
		seen[iso.Policy] = true
	}
	for ref := range seen {
		w.K8sPolicies = append(w.K8sPolicies, ref.String())
	}
	sort.Strings(w.K8sPolicies)
	if d.PassedBy != nil {
		after := false
		for _, r := range s.tiered {
			if after && r.matches(m.estate, applied, other, dst, p) {
				w.PassSkipped = append(w.PassSkipped, r.info)
			}
			after = after || r.info == d.PassedBy
		}
	}
	if d.Phase == PhaseTiers {
		if len(w.K8sPolicies) > 0 {
			w.Skipped = append(w.Skipped, fmt.Sprintf("K8s NetworkPolicies %s (an Antrea %s in an earlier tier is final)",
				strings.Join(w.K8sPolicies, ", "), d.Rule.Action))
		}
		if n := len(s.baseline); n > 0 {
			w.Skipped = append(w.Skipped, fmt.Sprintf("%d baseline rule(s)", n))
		}
	}
	if d.Phase == PhaseK8sAllow || d.Phase == PhaseK8sIsolation {
		if n := len(s.baseline); n > 0 {
			w.Skipped = append(w.Skipped, fmt.Sprintf("%d baseline rule(s) (K8s NetworkPolicies select this pod, so the baseline tier is never reached)", n))
		}
	}
	return w, d
}

// WriteText renders the walk for a terminal.
func (e *Explanation) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Flow %s → %s  %s\n", e.From, e.To, e.Probe)
	decidedBy := "ingress"
	if e.Result.Egress.Verdict != Allow || e.From == e.To {
		decidedBy = "egress"
	}
	fmt.Fprintf(&b, "Verdict: %s", e.Result.Verdict)
	if e.From == e.To {
		b.WriteString(" (a pod reaching its own IP never leaves the pod)\n")
	} else if e.Result.Verdict == Allow {
		switch {
		case e.Result.Egress.Phase == PhaseNoSide:
			b.WriteString(" (the ingress side allows; an external source has no side of its own)\n")
		case e.Result.Ingress.Phase == PhaseNoSide:
			b.WriteString(" (the egress side allows; an external destination has no side of its own)\n")
		default:
			b.WriteString(" (both sides allow)\n")
		}
	} else {
		fmt.Fprintf(&b, " (decided on the %s side)\n", decidedBy)
	}
	e.Egress.write(&b, e.Result.Egress, e.To)
	if e.Result.Egress.Verdict != Allow {
		b.WriteString("  (the ingress side below is what it would do; the packet never reaches it)\n")
	}
	e.Ingress.write(&b, e.Result.Ingress, e.From)
	_, err := io.WriteString(w, b.String())
	return err
}

func (s *SideWalk) write(b *strings.Builder, d Decision, other string) {
	where := "at the source"
	if s.Direction == Ingress {
		where = "at the destination"
	}
	fmt.Fprintf(b, "\n%s %s %s\n", strings.ToUpper(s.Direction.String()), where, s.Endpoint)
	switch d.Phase {
	case PhaseSelf:
		b.WriteString("  not evaluated: self traffic\n")
		return
	case PhaseNoSide:
		b.WriteString("  not evaluated: an external endpoint has no policies of its own\n")
		return
	}
	// The walk in evaluation order: Antrea tiers, what a Pass skipped, K8s
	// NetworkPolicies (or that none select the pod), baseline.
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	k8sShown := false
	showK8s := func() {
		if k8sShown {
			return
		}
		k8sShown = true
		if d.PassedBy != nil && !passedByBaseline(d) {
			tw.Flush()
			fmt.Fprintf(b, "  %s %s: Pass → the rest of the Antrea tiers is skipped%s\n", d.PassedBy.Policy, d.PassedBy.ID(), passSkippedText(s.PassSkipped))
		}
		if len(s.K8sPolicies) == 0 {
			tw.Flush()
			fmt.Fprintf(b, "  K8s NetworkPolicies: none select %s for %s\n", s.Endpoint, s.Direction)
		}
	}
	for _, st := range s.Steps {
		if st.Phase != PhaseTiers {
			showK8s()
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", phaseColumn(st), st.Rule.Policy, ruleColumn(st.Rule), st.Rule.Action, outcomeText(st.Outcome, other))
	}
	tw.Flush()
	if d.Phase >= PhaseK8sAllow {
		showK8s()
	}
	if d.Phase == PhaseDefault && !passedByBaseline(d) {
		b.WriteString("  no rule matched → default Allow\n")
	}
	for _, sk := range s.Skipped {
		fmt.Fprintf(b, "  not consulted: %s\n", sk)
	}
	fmt.Fprintf(b, "  ⇒ %s: %s\n", d.Verdict, d.Describe())
	if d.Tie != nil {
		fmt.Fprintf(b, "  ⚠ %s %s has the same tier, priority and rule index and acts differently: Antrea's choice between them is undefined\n", d.Tie.Policy, d.Tie.ID())
	}
}

// passedByBaseline says whether a Baseline-tier CNP's Pass ended the walk
// (the spec's order: on to the default).
func passedByBaseline(d Decision) bool {
	return d.PassedBy != nil && d.PassedBy.TierPriority >= baselineTierPriority
}

func passSkippedText(rules []*RuleInfo) string {
	if len(rules) == 0 {
		return " (no later Antrea rule matches this flow)"
	}
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = fmt.Sprintf("%s %s (%s, %s)", r.Policy, r.ID(), r.Tier, r.Action)
	}
	return "; it would have matched " + strings.Join(names, ", ")
}

func phaseColumn(st Step) string {
	switch st.Phase {
	case PhaseK8sAllow:
		return "k8s"
	case PhaseK8sIsolation:
		return "k8s isolation"
	}
	return fmt.Sprintf("%s (%d)", st.Rule.Tier, st.Rule.TierPriority)
}

func ruleColumn(r *RuleInfo) string {
	s := r.ID()
	if r.Priority != 0 {
		s = fmt.Sprintf("priority %g %s", r.Priority, s)
	}
	if r.Name != "" {
		s += " " + printable.Name(r.Name)
	}
	return s
}

func outcomeText(o Outcome, other string) string {
	switch o {
	case PeerMismatch:
		return "skip: peer does not match " + other
	case PortMismatch:
		return "skip: ports do not match"
	}
	return "MATCH"
}
