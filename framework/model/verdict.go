package model

import (
	"fmt"
	"strconv"

	"github.com/tierproof/tierproof/framework/policy"
)

// Verdict is what happens to a flow.
type Verdict uint8

// The verdicts. Reject answers the client (TCP RST or ICMP "administratively
// prohibited"); Drop stays silent so the client times out.
const (
	Allow Verdict = iota
	Drop
	Reject
)

var verdictNames = [...]string{Allow: "Allow", Drop: "Drop", Reject: "Reject"}

func (v Verdict) String() string { return verdictNames[v] }

// MarshalText writes the verdict's name, as the JSON contract requires.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText reads a verdict's name.
func (v *Verdict) UnmarshalText(text []byte) error {
	for i, name := range verdictNames {
		if string(text) == name {
			*v = Verdict(i)
			return nil
		}
	}
	return fmt.Errorf("unknown verdict %q (want Allow, Drop or Reject)", text)
}

// Direction is the side of a flow a rule is enforced on.
type Direction uint8

// Egress rules are enforced at the source pod, ingress rules at the destination.
const (
	Egress Direction = iota
	Ingress
)

func (d Direction) String() string {
	if d == Egress {
		return "egress"
	}
	return "ingress"
}

// Action is what a rule does with the flows it matches.
type Action uint8

// Rule actions. Pass hands the flow to K8s NetworkPolicies, then the baseline tier.
const (
	ActionAllow Action = iota
	ActionDrop
	ActionReject
	ActionPass
)

var actionNames = [...]string{ActionAllow: "Allow", ActionDrop: "Drop", ActionReject: "Reject", ActionPass: "Pass"}

func (a Action) String() string { return actionNames[a] }

func (a Action) verdict() Verdict {
	switch a {
	case ActionDrop:
		return Drop
	case ActionReject:
		return Reject
	}
	return Allow
}

// Phase is the step of a side's evaluation that decided it.
type Phase uint8

// The phases, in the order a side walks them.
const (
	// PhaseSelf: a pod reaching its own IP never leaves the pod.
	PhaseSelf Phase = iota
	// PhaseNoSide: an external endpoint has no policies of its own.
	PhaseNoSide
	// PhaseTiers: an Antrea-native rule in a tier other than baseline.
	PhaseTiers
	// PhaseK8sAllow: a rule of a K8s NetworkPolicy selecting the pod.
	PhaseK8sAllow
	// PhaseK8sIsolation: K8s NetworkPolicies select the pod and none allows the flow.
	PhaseK8sIsolation
	// PhaseBaseline: an Antrea-native rule in the baseline tier.
	PhaseBaseline
	// PhaseDefault: nothing decided; the flow is allowed.
	PhaseDefault
)

var phaseNames = [...]string{
	PhaseSelf: "self", PhaseNoSide: "no-side", PhaseTiers: "antrea-tiers",
	PhaseK8sAllow: "k8s-networkpolicy", PhaseK8sIsolation: "k8s-isolation",
	PhaseBaseline: "baseline", PhaseDefault: "default",
}

func (s Phase) String() string { return phaseNames[s] }

// MarshalText writes the phase's name.
func (s Phase) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// PolicyKind distinguishes the three policy kinds; Antrea's and Kubernetes'
// NetworkPolicy share a kind name, so they are told apart here.
type PolicyKind uint8

// The policy kinds.
const (
	KindClusterNetworkPolicy PolicyKind = iota
	KindAntreaNetworkPolicy
	KindK8sNetworkPolicy
	// KindUpstreamCNP is the network-policy-api's ClusterNetworkPolicy,
	// "CNP" in Antrea's docs.
	KindUpstreamCNP
)

// PolicyRef names a policy.
type PolicyRef struct {
	Kind      PolicyKind
	Namespace string
	Name      string
}

// String is "ClusterNetworkPolicy/<name>", "NetworkPolicy/<ns>/<name>" (Antrea),
// "K8sNetworkPolicy/<ns>/<name>" or "CNP/<name>" (network-policy-api).
func (p PolicyRef) String() string {
	switch p.Kind {
	case KindClusterNetworkPolicy:
		return "ClusterNetworkPolicy/" + p.Name
	case KindUpstreamCNP:
		return "CNP/" + p.Name
	case KindAntreaNetworkPolicy:
		return "NetworkPolicy/" + p.Namespace + "/" + p.Name
	}
	return "K8sNetworkPolicy/" + p.Namespace + "/" + p.Name
}

// RuleInfo describes one rule for explanations. A K8s NetworkPolicy's isolation
// is described as a rule too: its Isolation field is set and it drops (or
// rejects: Semantics.K8sDenial).
type RuleInfo struct {
	Policy       PolicyRef
	Source       policy.Source
	Tier         string // the Tier object's name; a CNP's tier, Admin or Baseline; "" for K8s
	TierPriority int32
	Priority     float64 // Antrea-native only
	Direction    Direction
	Index        int
	Name         string // the rule's name, if the manifest gives one
	Action       Action
	Isolation    bool
}

// ID is the rule's position: "ingress[0]", or "isolation" for K8s isolation.
func (r *RuleInfo) ID() string {
	if r.Isolation {
		return "isolation"
	}
	return r.Direction.String() + "[" + strconv.Itoa(r.Index) + "]"
}

// Decision is how one side of a flow was decided.
type Decision struct {
	Verdict Verdict
	Phase   Phase
	// Rule decided the side; nil for PhaseSelf, PhaseNoSide and PhaseDefault.
	Rule *RuleInfo
	// PassedBy is the Pass rule that sent the flow on to K8s NetworkPolicies and
	// the baseline tier, if one did: the last one, when a Baseline-tier CNP
	// passes it on to the default.
	PassedBy *RuleInfo
	// Tie is a rule with exactly Rule's precedence (tier, priority, index) that
	// also matches but acts differently: Antrea leaves that order undefined.
	Tie *RuleInfo
}

// Result is the model's answer for one flow. Egress is decided at the source,
// Ingress at the destination; a flow the egress side denies never reaches the
// destination, so the client sees the egress verdict.
type Result struct {
	Verdict Verdict
	Egress  Decision
	Ingress Decision
}

// Tied says whether the verdict rests on a tie: a deciding rule with a rival
// of the same tier, priority and rule index that acts differently, on the
// egress side or, when egress lets the packet out, on the ingress side.
// Antrea's order between such rules is undefined.
func (r Result) Tied() bool {
	return r.Egress.Tie != nil || (r.Egress.Verdict == Allow && r.Ingress.Tie != nil)
}

// SideSummary is a Decision as the simulate JSON contract writes it. A side no
// policy decides has rule "default"; Phase says why.
type SideSummary struct {
	Verdict  Verdict `json:"verdict"`
	Tier     string  `json:"tier"`
	Policy   string  `json:"policy"`
	Rule     string  `json:"rule"`
	Phase    Phase   `json:"stage"`
	RuleName string  `json:"ruleName,omitempty"`
	PassedBy string  `json:"passedBy,omitempty"`
	Tie      string  `json:"tie,omitempty"`
}

// Summary flattens the decision for reports.
func (d Decision) Summary() SideSummary {
	s := SideSummary{Verdict: d.Verdict, Phase: d.Phase, Rule: "default"}
	if d.Rule != nil {
		s.Tier, s.Policy, s.Rule, s.RuleName = d.Rule.Tier, d.Rule.Policy.String(), d.Rule.ID(), d.Rule.Name
	}
	if d.PassedBy != nil {
		s.PassedBy = d.PassedBy.Policy.String() + " " + d.PassedBy.ID()
	}
	if d.Tie != nil {
		s.Tie = d.Tie.Policy.String() + " " + d.Tie.ID()
	}
	return s
}

// Describe says in a few words who decided: "securityops ClusterNetworkPolicy/x ingress[0]".
func (d Decision) Describe() string {
	switch d.Phase {
	case PhaseSelf:
		return "a pod reaching itself"
	case PhaseNoSide:
		return "external endpoint: no policies of its own"
	case PhaseDefault:
		if passedByBaseline(d) {
			return "Pass by " + d.PassedBy.Policy.String() + " " + d.PassedBy.ID() + " in the Baseline tier → default Allow"
		}
		if d.PassedBy != nil {
			return "no rule matched after Pass by " + d.PassedBy.Policy.String() + " " + d.PassedBy.ID() + " → default Allow"
		}
		return "no rule matched → default Allow"
	}
	r := d.Rule
	where := r.Tier
	if r.Policy.Kind == KindK8sNetworkPolicy {
		where = "K8s NetworkPolicy"
	}
	return where + " " + r.Policy.String() + " " + r.ID()
}
