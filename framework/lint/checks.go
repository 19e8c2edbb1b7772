package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/topology"
)

// references finds Tiers and Groups that policies name but the input lacks,
// and groups as appliedTo beside per-namespace peers, and returns the input
// without the policies the model cannot judge: those whose tier is missing
// (Antrea's webhook refuses them) and those whose group Antrea's controller
// would ignore.
func references(set *policy.Set) ([]Finding, *policy.Set) {
	var findings []Finding
	tiers := map[string]bool{}
	for _, t := range set.Tiers {
		tiers[t.Object.Name] = true
	}
	unjudgeable := map[model.PolicyRef]bool{}
	for _, p := range antreaPolicies(set) {
		if model.IsStaticTier(p.tier) || tiers[p.tier] {
			continue
		}
		unjudgeable[p.ref] = true
		findings = append(findings, Finding{Severity: Error, Check: CheckMissingTier, Object: p.ref.String(), Source: p.source.String(),
			Field: "spec.tier", Message: fmt.Sprintf("Tier %q is neither a static tier nor in the input; Antrea refuses the policy", p.tier),
			Fix: fmt.Sprintf("create Tier %s (a priority below 250) before the policy, or name a static tier", p.tier)})
	}
	groups := map[string]bool{}
	for _, g := range set.ClusterGroups {
		groups["/"+g.Object.Name] = true
	}
	for _, g := range set.Groups {
		groups[g.Object.Namespace+"/"+g.Object.Name] = true
	}
	_, refs := uses(set)
	for _, r := range refs {
		if groups[r.namespace+"/"+r.name] {
			continue
		}
		kind := "ClusterGroup/" + r.name
		if r.namespace != "" {
			kind = "Group/" + r.namespace + "/" + r.name
		}
		findings = append(findings, Finding{Severity: Error, Check: CheckMissingGroup, Object: r.object, Source: r.source.String(),
			Field: r.path.String(), Message: kind + " is not in the input; the reference matches nothing",
			Fix: "create " + kind + " in the same stage, or fix the name"})
	}
	for _, p := range set.ClusterNetworkPolicies {
		ref := model.PolicyRef{Kind: model.KindClusterNetworkPolicy, Name: p.Object.Name}
		for _, path := range model.PerNamespaceGroupConflicts(p.Object.Spec.PolicySpec()) {
			unjudgeable[ref] = true // the model cannot judge it either
			findings = append(findings, Finding{Severity: Error, Check: CheckGroupPerNS, Object: ref.String(), Source: p.Source.String(),
				Field: path.String(), Message: "the rule's appliedTo is a group and this peer is per namespace: Antrea's controller ignores the group for such rules and applies them to every pod of every affected namespace (its docs say otherwise)",
				Fix: "write the group's podSelector/namespaceSelector in appliedTo instead of the group"})
		}
	}
	if len(unjudgeable) == 0 {
		return findings, set
	}
	usable := *set
	usable.ClusterNetworkPolicies = slices.DeleteFunc(slices.Clone(set.ClusterNetworkPolicies), func(p policy.Located[*antreav1beta1.ClusterNetworkPolicy]) bool {
		return unjudgeable[model.PolicyRef{Kind: model.KindClusterNetworkPolicy, Name: p.Object.Name}]
	})
	usable.NetworkPolicies = slices.DeleteFunc(slices.Clone(set.NetworkPolicies), func(p policy.Located[*antreav1beta1.NetworkPolicy]) bool {
		return unjudgeable[model.PolicyRef{Kind: model.KindAntreaNetworkPolicy, Namespace: p.Object.Namespace, Name: p.Object.Name}]
	})
	return findings, &usable
}

// selectors finds NotIn and DoesNotExist expressions that exclude nothing on
// topo: both also match objects that lack the key, so a value no object
// carries excludes nothing — the seed's `ns NotIn [kube-system, monitoring]`
// selects kube-system unless kube-system is labelled ns=kube-system.
func selectors(topo *topology.Topology, set *policy.Set) []Finding {
	var findings []Finding
	sels, _ := uses(set)
	for _, u := range sels {
		what, labelSets, names := "pod", podLabels(topo), map[string]bool{}
		if u.namespaces {
			what, labelSets = "namespace", nil
			for _, n := range topo.Namespaces {
				labelSets = append(labelSets, n.EffectiveLabels())
				names[n.Name] = true
			}
		}
		for i, e := range u.selector.MatchExpressions {
			path := u.path.Child("matchExpressions").Index(i).String()
			carried := func(value *string) bool {
				return slices.ContainsFunc(labelSets, func(l map[string]string) bool {
					v, ok := l[e.Key]
					return ok && (value == nil || v == *value)
				})
			}
			add := func(severity Severity, msg, fix string) {
				findings = append(findings, Finding{Severity: severity, Check: CheckSelectorNoEffect, Object: u.object,
					Source: u.source.String(), Field: path, Message: msg, Fix: fix})
			}
			switch {
			case (e.Operator == metav1.LabelSelectorOpNotIn || e.Operator == metav1.LabelSelectorOpDoesNotExist) && !carried(nil):
				add(Warning, fmt.Sprintf("%s %s on %q excludes nothing: no %s carries the label %s, so the expression matches every %s",
					e.Key, e.Operator, e.Key, what, e.Key, what),
					fmt.Sprintf("label the %ss it should exclude with %s, or select by a label they carry", what, e.Key))
			case e.Operator == metav1.LabelSelectorOpNotIn:
				for _, v := range e.Values {
					if carried(&v) {
						continue
					}
					if u.namespaces && names[v] {
						add(Warning, fmt.Sprintf("%s NotIn %v does not exclude namespace %s: it has no label %s=%s, and NotIn matches namespaces without it",
							e.Key, e.Values, v, e.Key, v),
							fmt.Sprintf("label it (kubectl label namespace %s %s=%s) or select by %s, which every namespace has",
								v, e.Key, v, topology.NamespaceNameLabel))
						continue
					}
					add(Info, fmt.Sprintf("%s NotIn %v: no %s has %s=%s, so that value excludes nothing", e.Key, e.Values, what, e.Key, v),
						fmt.Sprintf("drop %s from the values, or label what it should exclude", v))
				}
			}
		}
	}
	return findings
}

func podLabels(topo *topology.Topology) []map[string]string {
	var out []map[string]string
	for _, p := range topo.Pods {
		out = append(out, p.Labels)
	}
	return out
}

// appliesToNothing finds policies whose appliedTo (or podSelector, for a K8s
// NetworkPolicy) selects no pod of the topology.
func appliesToNothing(m *model.Model, set *policy.Set) []Finding {
	applied := m.AppliedTo()
	var findings []Finding
	seen := map[model.PolicyRef]bool{}
	for _, r := range m.Rules() {
		if seen[r.Policy] || applied[r.Policy] > 0 {
			continue
		}
		seen[r.Policy] = true
		field := "spec.appliedTo"
		if r.Policy.Kind == model.KindK8sNetworkPolicy {
			field = "spec.podSelector"
		}
		findings = append(findings, Finding{Severity: Warning, Check: CheckAppliesToNothing, Object: r.Policy.String(), Source: r.Source.String(),
			Field: field, Message: "selects no pod in the topology: the policy has no effect",
			Fix: "check the selector's labels against the pods', or delete the policy"})
	}
	return findings
}

// shadowed finds rules that match flows but never decide one, because an
// earlier tier, priority or rule always decides first. A K8s NetworkPolicy's
// rules are a union: one counts as deciding whenever K8s decides the side.
// A K8s NetworkPolicy none of whose rules (isolation included) ever decides is
// reported once, as a whole.
func shadowed(m *model.Model) []Finding {
	type tally struct {
		matched, effective int
		by                 map[*model.RuleInfo]int
	}
	tallies := map[*model.RuleInfo]*tally{}
	type tieKey struct{ decided, other *model.RuleInfo }
	ties := map[tieKey]int{}
	// cnpPassSkipped[pass][r]: flow sides an Admin-tier CNP's Pass took from
	// r, an Antrea-native rule of a tier after the CNP Admin tier.
	cnpPassSkipped := map[*model.RuleInfo]map[*model.RuleInfo]int{}
	probes := m.AnalysisProbes()
	n := len(m.Endpoints())
	for from := 0; from < n; from++ {
		for to := 0; to < n; to++ {
			if from == to {
				continue
			}
			for _, p := range probes {
				for _, dir := range []model.Direction{model.Egress, model.Ingress} {
					sm := m.Matches(dir, from, to, p)
					d := sm.Decision
					k8sDecided := d.Phase == model.PhaseK8sAllow || d.Phase == model.PhaseK8sIsolation
					decider := d.Rule
					if decider == nil {
						decider = d.PassedBy
					}
					for _, r := range sm.Matching {
						blame := decider
						if d.PassedBy != nil && passSkips(r) {
							// The Pass, not what decided after it, kept r from the flow.
							blame = d.PassedBy
							if p := d.PassedBy; p.Policy.Kind == model.KindUpstreamCNP && r.Policy.Kind != model.KindUpstreamCNP && r.TierPriority > p.TierPriority {
								if cnpPassSkipped[p] == nil {
									cnpPassSkipped[p] = map[*model.RuleInfo]int{}
								}
								cnpPassSkipped[p][r]++
							}
						}
						t := tallies[r]
						if t == nil {
							t = &tally{by: map[*model.RuleInfo]int{}}
							tallies[r] = t
						}
						t.matched++
						switch {
						case r == d.Rule || r == d.PassedBy || r == d.Tie,
							r.Policy.Kind == model.KindK8sNetworkPolicy && k8sDecided:
							t.effective++
						case blame != nil:
							t.by[blame]++
						}
						if d.Tie != nil && r == d.Rule {
							ties[tieKey{d.Rule, d.Tie}]++
						}
					}
				}
			}
		}
	}
	// A K8s NetworkPolicy is shadowed as a whole when no rule of it decides.
	k8sDecides := map[model.PolicyRef]bool{}
	k8sBy := map[model.PolicyRef]map[*model.RuleInfo]int{}
	for r, t := range tallies {
		if r.Policy.Kind != model.KindK8sNetworkPolicy {
			continue
		}
		k8sDecides[r.Policy] = k8sDecides[r.Policy] || t.effective > 0
		if k8sBy[r.Policy] == nil {
			k8sBy[r.Policy] = map[*model.RuleInfo]int{}
		}
		for d, c := range t.by {
			k8sBy[r.Policy][d] += c
		}
	}
	var findings []Finding
	for k, n := range ties {
		findings = append(findings, Finding{Severity: Warning, Check: CheckTie, Object: k.decided.Policy.String(), Source: k.decided.Source.String(),
			Field: "spec." + k.decided.ID(),
			Message: fmt.Sprintf("ties with %s %s on tier, priority and rule index and acts differently (%s vs %s) on %d flow side(s): which one Antrea applies is undefined",
				k.other.Policy, k.other.ID(), k.decided.Action, k.other.Action, n),
			Fix: "give one of the two policies another priority"})
	}
	for pass, skipped := range cnpPassSkipped {
		total := 0
		for _, n := range skipped {
			total += n
		}
		findings = append(findings, Finding{Severity: Warning, Check: CheckCNPPassSkips, Object: pass.Policy.String(), Source: pass.Source.String(),
			Field: "spec." + pass.ID(),
			Message: fmt.Sprintf("this Admin-tier Pass also skips Antrea-native tiers after priority %d on Antrea 2.7, which the spec's Pass (the rest of the Admin tier only) does not: %s would have matched %d flow side(s) it passes to K8s NetworkPolicies",
				model.CNPAdminTierPriority, shadowers(skipped), total),
			Fix: "if those rules must apply, narrow the Pass, or move them to a Tier with priority below 220; if not, this is what Antrea does"})
	}
	reported := map[model.PolicyRef]bool{}
	for _, r := range m.Rules() {
		t := tallies[r]
		if t == nil || t.effective > 0 || t.matched == 0 {
			continue
		}
		field := "spec." + r.ID()
		switch {
		case r.Policy.Kind == model.KindK8sNetworkPolicy && !k8sDecides[r.Policy]:
			if !reported[r.Policy] {
				reported[r.Policy] = true
				findings = append(findings, Finding{Severity: Warning, Check: CheckShadowedK8s, Object: r.Policy.String(), Source: r.Source.String(),
					Message: "never decides a flow: every flow of the pods it selects is decided before K8s NetworkPolicies are consulted, by " + shadowers(k8sBy[r.Policy]),
					Fix:     "an Antrea Allow or Drop is final: narrow that rule, or make it Pass to hand these flows to K8s NetworkPolicies"})
			}
		case r.Policy.Kind == model.KindK8sNetworkPolicy:
			if r.Isolation {
				continue // isolation that only ever decides together with the rules
			}
			findings = append(findings, Finding{Severity: Warning, Check: CheckShadowedK8s, Object: r.Policy.String(), Source: r.Source.String(),
				Field: field, Message: fmt.Sprintf("%s matches %d flow side(s) but never decides one: %s decides them before K8s NetworkPolicies are consulted", r.ID(), t.matched, shadowers(t.by)),
				Fix: "an Antrea Allow or Drop is final: narrow that rule, or make it Pass to hand these flows to K8s NetworkPolicies"})
		case isBaselineAllowUnderK8s(r, t.by):
			findings = append(findings, Finding{Severity: Warning, Check: CheckBaselineIsolated, Object: r.Policy.String(), Source: r.Source.String(),
				Field: field, Message: "this baseline Allow only matches pods that K8s NetworkPolicies isolate (" + shadowers(t.by) + "); K8s isolation is final, so baseline is never consulted for them",
				Fix: "allow the flow in the K8s NetworkPolicy, or move the Allow to a tier before K8s (application or earlier)"})
		case onlyPasses(t.by):
			findings = append(findings, Finding{Severity: Warning, Check: CheckShadowedRule, Object: r.Policy.String(), Source: r.Source.String(),
				Field: field, Message: fmt.Sprintf("%s (%s) matches %d flow side(s) but is never reached: %s passes them on to K8s NetworkPolicies and baseline first, skipping the rest of the Antrea tiers", r.ID(), r.Action, t.matched, shadowers(t.by)),
				Fix: "narrow the Pass, or move this rule ahead of it (an earlier tier or priority), or into baseline"})
		case shadowedByEarlierTiers(r, t.by):
			findings = append(findings, Finding{Severity: Warning, Check: CheckCNPShadowed, Object: r.Policy.String(), Source: r.Source.String(),
				Field: field, Message: fmt.Sprintf("%s (%s) matches %d flow side(s) but never decides one: %s decides them first; on Antrea 2.7 the Antrea tiers before priority %d (Emergency to Platform, and custom Tiers there) stay authoritative over the CNP Admin tier", r.ID(), r.Action, t.matched, shadowers(t.by), model.CNPAdminTierPriority),
				Fix: "narrow the Antrea-native rule, or move it to a Tier after priority 220 (application) if the CNP must win"})
		default:
			findings = append(findings, Finding{Severity: Warning, Check: CheckShadowedRule, Object: r.Policy.String(), Source: r.Source.String(),
				Field: field, Message: fmt.Sprintf("%s (%s) matches %d flow side(s) but never decides one: %s decides them first", r.ID(), r.Action, t.matched, shadowers(t.by)),
				Fix: "move the rule to an earlier tier or priority, narrow the shadowing rule, or delete this one"})
		}
	}
	return findings
}

// passSkips says whether a Pass skips r: the Antrea-native rules of every
// tier but baseline that come after it (it hands the flow to K8s NetworkPolicies).
func passSkips(r *model.RuleInfo) bool {
	return r.Policy.Kind != model.KindK8sNetworkPolicy && r.TierPriority < antreav1beta1.BaselineTierPriority
}

// shadowedByEarlierTiers: r is a CNP Admin rule that Antrea-native rules of
// tiers before the CNP Admin tier always decide first.
func shadowedByEarlierTiers(r *model.RuleInfo, by map[*model.RuleInfo]int) bool {
	if r.Policy.Kind != model.KindUpstreamCNP || r.TierPriority != model.CNPAdminTierPriority || len(by) == 0 {
		return false
	}
	for d := range by {
		if d.Policy.Kind == model.KindUpstreamCNP || d.TierPriority >= model.CNPAdminTierPriority {
			return false
		}
	}
	return true
}

// tierAtCNPAdmin points at Tiers at priority 220, which Antrea 2.7 reserves
// for the CNP Admin tier once its ClusterNetworkPolicy gate is on (with CNPs
// in the input the model refuses them outright).
func tierAtCNPAdmin(set *policy.Set) []Finding {
	var findings []Finding
	for _, t := range set.Tiers {
		if t.Object.Spec.Priority != model.CNPAdminTierPriority || len(set.UpstreamCNPs) > 0 {
			continue
		}
		findings = append(findings, Finding{Severity: Warning, Check: CheckTierAtCNPAdmin, Object: "Tier/" + t.Object.Name, Source: t.Source.String(), Field: "spec.priority",
			Message: "priority 220 is Antrea 2.7's ClusterNetworkPolicy Admin tier: with the ClusterNetworkPolicy feature gate on, Antrea refuses a new Tier there, and an existing one blocks the creation of every ClusterNetworkPolicy (docs/cluster-network-policy.md, Reserved Tier Priority)",
			Fix:     "use another priority now (below 220 to take precedence over CNPs, above to yield to them): a Tier's priority cannot be changed in place later"})
	}
	return findings
}

// onlyPasses: every rule that kept r from its flows is a Pass.
func onlyPasses(by map[*model.RuleInfo]int) bool {
	for d := range by {
		if d.Action != model.ActionPass {
			return false
		}
	}
	return len(by) > 0
}

// isBaselineAllowUnderK8s: a baseline Allow whose flows K8s decides.
func isBaselineAllowUnderK8s(r *model.RuleInfo, by map[*model.RuleInfo]int) bool {
	if r.TierPriority < 253 || r.Action != model.ActionAllow || len(by) == 0 {
		return false
	}
	for d := range by {
		if d.Policy.Kind != model.KindK8sNetworkPolicy {
			return false
		}
	}
	return true
}

// shadowers names the deciding rules, most frequent first, at most three.
func shadowers(by map[*model.RuleInfo]int) string {
	rules := make([]*model.RuleInfo, 0, len(by))
	for r := range by {
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool {
		if by[rules[i]] != by[rules[j]] {
			return by[rules[i]] > by[rules[j]]
		}
		return describe(rules[i]) < describe(rules[j])
	})
	var names []string
	for i, r := range rules {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(rules)-3))
			break
		}
		names = append(names, describe(r))
	}
	return strings.Join(names, ", ")
}

func describe(r *model.RuleInfo) string {
	if r.Policy.Kind == model.KindK8sNetworkPolicy {
		return r.Policy.String() + " " + r.ID()
	}
	return fmt.Sprintf("%s %s (%s, tier %s)", r.Policy, r.ID(), r.Action, r.Tier)
}

// dns finds pods whose DNS queries to CoreDNS (kube-system pods labelled
// k8s-app=kube-dns) are denied on either side; one finding per deciding rule.
// Without CoreDNS in the topology there is nothing to check.
func dns(m *model.Model, topo *topology.Topology) []Finding {
	var servers, clients []string
	for _, p := range topo.Pods {
		if p.Namespace == "kube-system" && p.Labels["k8s-app"] == "kube-dns" {
			servers = append(servers, p.EndpointName())
		} else if p.Namespace != "kube-system" {
			clients = append(clients, p.EndpointName())
		}
	}
	type denial struct {
		rule *model.RuleInfo
		side model.Direction
	}
	denied := map[denial][]string{}
	var order []denial
	for _, probe := range []model.Probe{{Protocol: model.UDP, Port: 53}, {Protocol: model.TCP, Port: 53}} {
		if m.CheckProbe(probe) != nil {
			probe.SourcePort = 40000 // rules on client ports: judge one ephemeral port
		}
		for _, server := range servers {
			to, _ := m.Endpoint(server)
			for _, client := range clients {
				from, _ := m.Endpoint(client)
				res := m.Evaluate(from, to, probe)
				if res.Verdict == model.Allow {
					continue
				}
				d := denial{res.Egress.Rule, model.Egress}
				if res.Egress.Verdict == model.Allow {
					d = denial{res.Ingress.Rule, model.Ingress}
				}
				key := client + " " + probe.String()
				if _, ok := denied[d]; !ok {
					order = append(order, d)
				}
				if !slices.Contains(denied[d], key) {
					denied[d] = append(denied[d], key)
				}
			}
		}
	}
	var findings []Finding
	for _, d := range order {
		f := Finding{Severity: Error, Check: CheckDNSCutOff, Object: d.rule.Policy.String(), Source: d.rule.Source.String(), Field: "spec." + d.rule.ID(),
			Message: fmt.Sprintf("DNS to %s is denied on the %s side for %s", strings.Join(servers, ", "), d.side, summarize(denied[d])),
			Fix:     "allow egress to kube-system on TCP and UDP 53 in a tier before the drop (the seed's allow-core-dns in NetworkOps), and keep CoreDNS out of the drop-all's appliedTo"}
		if d.side == model.Ingress {
			f.Fix = "keep kube-system out of the rule's appliedTo (a selector CoreDNS's namespace really carries, e.g. " + topology.NamespaceNameLabel + "), or allow DNS into it before the drop"
		}
		if d.rule.Isolation {
			// A K8s NetworkPolicy denies by isolating the pods it selects:
			// advice in the terms of the policy the user wrote.
			f.Field = "spec.policyTypes"
			f.Fix = "add an egress rule allowing TCP and UDP 53 to: [{namespaceSelector: {matchLabels: {" + topology.NamespaceNameLabel + ": kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}] to this NetworkPolicy (or another selecting the same pods)"
			if d.side == model.Ingress {
				f.Fix = "narrow spec.podSelector so that it does not select CoreDNS, or add an ingress rule allowing TCP and UDP 53 from the namespaces whose pods resolve names"
			}
		}
		findings = append(findings, f)
	}
	return findings
}

// summarize lists up to four "pod probe" items and counts the rest.
func summarize(items []string) string {
	if len(items) <= 4 {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:4], ", "), len(items)-4)
}

// policyTypes finds K8s NetworkPolicies with rules in a direction their
// policyTypes leave out: Antrea enforces those rules and isolates that
// direction, the spec and other implementations ignore them
// (model.Semantics.PolicyTypesAsListed), so the policy means two things.
func policyTypes(set *policy.Set) []Finding {
	var findings []Finding
	for _, l := range set.K8sNetworkPolicies {
		np := l.Object
		if len(np.Spec.PolicyTypes) == 0 {
			continue // defaulted from the rules: both readings agree
		}
		listed := map[networkingv1.PolicyType]bool{}
		for _, t := range np.Spec.PolicyTypes {
			listed[t] = true
		}
		for _, d := range []struct {
			kind  networkingv1.PolicyType
			field string
			rules int
		}{{networkingv1.PolicyTypeIngress, "spec.ingress", len(np.Spec.Ingress)}, {networkingv1.PolicyTypeEgress, "spec.egress", len(np.Spec.Egress)}} {
			if d.rules == 0 || listed[d.kind] {
				continue
			}
			ref := model.PolicyRef{Kind: model.KindK8sNetworkPolicy, Namespace: np.Namespace, Name: np.Name}
			findings = append(findings, Finding{Severity: Warning, Check: CheckPolicyTypes, Object: ref.String(), Source: l.Source.String(),
				Field: d.field, Message: fmt.Sprintf("%d %s rule(s) but policyTypes %v leaves %s out: Antrea enforces them and isolates %s, the spec (and kube-router) ignores them",
					d.rules, strings.ToLower(string(d.kind)), np.Spec.PolicyTypes, d.kind, strings.ToLower(string(d.kind))),
				Fix: fmt.Sprintf("add %s to spec.policyTypes, or remove the %s rules", d.kind, strings.ToLower(string(d.kind)))})
		}
	}
	return findings
}

// quotedPorts finds rule ports written as quoted numbers in Antrea-native
// policies (port: "6379"): Antrea's webhook takes them as port names, which
// no container can have — a port name needs a letter (IANA_SVC_NAME) — so
// the rule matches no port. The API server refuses the same in a K8s
// NetworkPolicy, and so does the model.
func quotedPorts(set *policy.Set) []Finding {
	var findings []Finding
	for _, p := range antreaPolicies(set) {
		for _, dir := range []struct {
			name  string
			rules []antreav1beta1.Rule
		}{{"ingress", p.spec.Ingress}, {"egress", p.spec.Egress}} {
			for i, r := range dir.rules {
				for j, port := range r.Ports {
					if port.Port == nil || port.Port.Type != intstr.String || len(validation.IsValidPortName(port.Port.StrVal)) == 0 {
						continue
					}
					findings = append(findings, Finding{Severity: Warning, Check: CheckQuotedPort, Object: p.ref.String(), Source: p.source.String(),
						Field:   fmt.Sprintf("spec.%s[%d].ports[%d].port", dir.name, i, j),
						Message: fmt.Sprintf("port %q is read as a port name, which no container can have: the rule matches no port", port.Port.StrVal),
						Fix:     fmt.Sprintf("write the port as a number (port: %s), or name a port the pods declare", port.Port.StrVal)})
				}
			}
		}
	}
	return findings
}

// unexposedPorts finds rule ports no pod at the rule's receiving end
// declares (model.UnexposedPorts): a Service's port written where the
// container's belongs, or a port name the pods lack.
func unexposedPorts(m *model.Model) []Finding {
	var findings []Finding
	for _, u := range m.UnexposedPorts() {
		ends := "the pods it applies to"
		if u.Rule.Direction == model.Egress {
			ends = "the pods its peers select"
		}
		f := Finding{Severity: Warning, Check: CheckUnexposedPort, Object: u.Rule.Policy.String(), Source: u.Rule.Source.String(),
			Field:   fmt.Sprintf("spec.%s.ports[%d].port", u.Rule.ID(), u.Index),
			Message: fmt.Sprintf("port %s is declared by none of %s: a Service's port in place of the container's?", u.Port, ends),
			Fix:     "name the port the containers listen on (a Service's targetPort, not its port)"}
		if u.Named {
			f.Message = fmt.Sprintf("no container of %s has a port named %s: the entry matches no port", ends, u.Port)
			f.Fix = "name a port the containers declare, or write its number"
		}
		findings = append(findings, f)
	}
	return findings
}
