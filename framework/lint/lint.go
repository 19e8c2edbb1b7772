// Package lint finds policy mistakes that apply cleanly but do not do what
// their author meant: selectors that exclude nothing, rules an earlier tier
// always decides for them, baseline rules K8s isolation never lets run,
// policies that apply to nobody, references to missing Tiers and Groups, DNS
// cut off by a drop-all, and where Antrea's placement of the network-policy-api's
// ClusterNetworkPolicy tiers surprises (an Admin Pass skipping Antrea tiers, an
// Admin rule a Platform-tier policy shadows, a Tier at the reserved 220). Findings are judged on a topology, with the
// expected model.
package lint

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/topology"
)

// Severity ranks findings; --fail-on compares against it.
type Severity int

// The severities, lowest first.
const (
	Info Severity = iota
	Warning
	Error
)

var severityNames = [...]string{Info: "info", Warning: "warning", Error: "error"}

func (s Severity) String() string { return severityNames[s] }

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseSeverity reads info, warning or error.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if n == name {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or error)", name)
}

// Finding is one problem: where it is, what it does, how to fix it.
type Finding struct {
	Severity Severity `json:"severity"`
	Check    string   `json:"check"`
	Object   string   `json:"object"`          // e.g. ClusterNetworkPolicy/block-all-whitelist
	Source   string   `json:"source"`          // the manifest file and document
	Field    string   `json:"field,omitempty"` // e.g. spec.appliedTo[0].namespaceSelector
	Message  string   `json:"message"`
	Fix      string   `json:"fix"`
}

// The checks, as named in findings.
const (
	CheckMissingTier      = "missing-tier"
	CheckMissingGroup     = "missing-group"
	CheckSelectorNoEffect = "selector-excludes-nothing"
	CheckAppliesToNothing = "applies-to-nothing"
	CheckShadowedRule     = "shadowed-rule"
	CheckShadowedK8s      = "shadowed-k8s-networkpolicy"
	CheckBaselineIsolated = "baseline-allow-under-k8s-isolation"
	CheckDNSCutOff        = "dns-cut-off"
	CheckPolicyTypes      = "rules-outside-policy-types"
	CheckGroupPerNS       = "group-applied-to-with-namespaces-peer"
	CheckTie              = "undefined-order-tie"
	CheckQuotedPort       = "quoted-port-number"
	CheckUnexposedPort    = "port-not-exposed"
	CheckCNPPassSkips     = "cnp-pass-skips-antrea-tiers"
	CheckCNPShadowed      = "cnp-shadowed-by-antrea-tier"
	CheckTierAtCNPAdmin   = "tier-at-cnp-admin-priority"
)

// Run lints set on topo. An error means input the model cannot evaluate at
// all (a bad selector, an unsupported field); problems it can judge are findings.
func Run(ctx context.Context, topo *topology.Topology, set *policy.Set) ([]Finding, error) {
	return RunFor(ctx, topo, set, model.Antrea)
}

// RunFor is Run on a data plane's semantics.
func RunFor(ctx context.Context, topo *topology.Topology, set *policy.Set, semantics model.Semantics) ([]Finding, error) {
	findings, usable := references(set)
	findings = append(findings, selectors(topo, set)...)
	findings = append(findings, policyTypes(set)...)
	findings = append(findings, quotedPorts(set)...)
	if semantics.CNP == model.CNPAmongAntreaTiers {
		findings = append(findings, tierAtCNPAdmin(set)...)
	}
	m, err := model.CompileContext(ctx, topo, usable, semantics)
	if err != nil {
		return nil, err
	}
	for _, check := range []func() []Finding{
		func() []Finding { return appliesToNothing(m, usable) },
		func() []Finding { return shadowed(m) },
		func() []Finding { return dns(m, topo) },
		func() []Finding { return unexposedPorts(m) },
	} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		findings = append(findings, check()...)
	}
	slices.SortStableFunc(findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Object, b.Object), cmp.Compare(a.Field, b.Field))
	})
	return findings, nil
}

// Worst is the highest severity among findings, and false when there are none.
func Worst(findings []Finding) (Severity, bool) {
	if len(findings) == 0 {
		return 0, false
	}
	worst := Info
	for _, f := range findings {
		worst = max(worst, f.Severity)
	}
	return worst, true
}

// WriteText writes one block per finding, then a count by severity.
func WriteText(w io.Writer, findings []Finding) error {
	var b strings.Builder
	counts := map[Severity]int{}
	for _, f := range findings {
		counts[f.Severity]++
		where := f.Object
		if f.Field != "" {
			where += " " + f.Field
		}
		fmt.Fprintf(&b, "%s: %s [%s]\n  %s\n  fix: %s\n  in %s\n\n", f.Severity, where, f.Check, f.Message, f.Fix, f.Source)
	}
	if len(findings) == 0 {
		b.WriteString("no findings\n")
	} else {
		fmt.Fprintf(&b, "%d finding(s) — error: %d, warning: %d, info: %d\n", len(findings), counts[Error], counts[Warning], counts[Info])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes {"findings": [...]}; an empty list when clean.
func WriteJSON(w io.Writer, findings []Finding) error {
	if findings == nil {
		findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Findings []Finding `json:"findings"`
	}{findings})
}
