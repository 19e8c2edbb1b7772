package model

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/policy"
)

// staticTiers are the Tiers Antrea creates at start-up.
var staticTiers = map[string]int32{
	"emergency": 50, "securityops": 100, "networkops": 150,
	"platform": 200, "application": antreav1beta1.DefaultTierPriority, "baseline": antreav1beta1.BaselineTierPriority,
}

// staticTierAliases are the capitalised spellings older manifests use, which
// Antrea accepts and lowercases. Only these: other tier names are exact.
var staticTierAliases = map[string]string{
	"Emergency": "emergency", "SecurityOps": "securityops", "NetworkOps": "networkops",
	"Platform": "platform", "Application": "application", "Baseline": "baseline",
}

// maxTiers is how many Tiers Antrea admits, its static ones included
// (maxSupportedTiers, pkg/controller/networkpolicy).
const maxTiers = 20

// reservedTierPriorities cannot be used by custom Tiers (Antrea keeps them for
// the AdminNetworkPolicy tiers and the end of the baseline range).
var reservedTierPriorities = map[int32]bool{251: true, 252: true, 254: true, 255: true}

// compiler turns a policy set into rules over one estate.
type compiler struct {
	estate    *estate
	semantics Semantics
	tiers     map[string]int32
	// groups by "namespace/name" ("" namespace for ClusterGroups).
	groups map[string]*groupMembers
	rules  []*rule
	errs   []error
}

// rule is an Antrea-native rule or a K8s NetworkPolicy rule with every
// selector already resolved to endpoints.
type rule struct {
	info      *RuleInfo
	appliedTo bitset
	peer      peerMatcher
	ports     portMatcher
}

func (c *compiler) fail(src policy.Source, what string, errs field.ErrorList) {
	for _, err := range errs {
		c.errs = append(c.errs, fmt.Errorf("%s: %s: %w", src, what, err))
	}
}

func (c *compiler) compileTiers(tiers []policy.Located[*antreav1beta1.Tier]) {
	c.tiers = map[string]int32{}
	used := map[int32]string{}
	for name, prio := range staticTiers {
		c.tiers[name] = prio
		used[prio] = name
	}
	for i, t := range tiers {
		var errs field.ErrorList
		prio := t.Object.Spec.Priority
		if len(staticTiers)+i >= maxTiers {
			errs = append(errs, field.TooMany(field.NewPath("metadata", "name"), len(staticTiers)+len(tiers), maxTiers))
			c.fail(t.Source, "Tier/"+t.Object.Name, errs)
			continue
		}
		path := field.NewPath("spec", "priority")
		switch {
		case staticTiers[t.Object.Name] != 0:
			errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), t.Object.Name, "is a static tier Antrea creates itself"))
		case prio < 0 || prio > 255:
			errs = append(errs, field.Invalid(path, prio, "must be from 0 to 255"))
		case reservedTierPriorities[prio]:
			errs = append(errs, field.Invalid(path, prio, "is reserved by Antrea"))
		case used[prio] != "":
			errs = append(errs, field.Invalid(path, prio, "is already the priority of Tier "+used[prio]))
		default:
			c.tiers[t.Object.Name] = prio
			used[prio] = t.Object.Name
		}
		c.fail(t.Source, "Tier/"+t.Object.Name, errs)
	}
}

// resolveTier finds a policy's tier: empty means application.
func (c *compiler) resolveTier(name string, path *field.Path) (string, int32, *field.Error) {
	if name == "" {
		return "application", antreav1beta1.DefaultTierPriority, nil
	}
	if lower, ok := staticTierAliases[name]; ok {
		name = lower
	}
	prio, ok := c.tiers[name]
	if !ok {
		// Name the tiers there are, in evaluation order, to pick from.
		known := slices.SortedFunc(maps.Keys(c.tiers), func(a, b string) int { return cmp.Or(cmp.Compare(c.tiers[a], c.tiers[b]), cmp.Compare(a, b)) })
		return "", 0, field.Invalid(path, name, "no such Tier (tiers: "+strings.Join(known, ", ")+"; a Tier of your own must be in the input)")
	}
	return name, prio, nil
}

// policyScope is what differs between an ACNP and an ANP when resolving selectors.
type policyScope struct {
	ref     PolicyRef
	cluster bool // ACNP: selectors reach every namespace, groups are ClusterGroups
}

func (s policyScope) namespace() string { return s.ref.Namespace }

func (c *compiler) compileACNP(l policy.Located[*antreav1beta1.ClusterNetworkPolicy]) {
	p := l.Object
	scope := policyScope{ref: PolicyRef{Kind: KindClusterNetworkPolicy, Name: p.Name}, cluster: true}
	c.compileAntreaPolicy(l.Source, scope, p.Spec.Tier, p.Spec.Priority, p.Spec.PolicySpec())
}

func (c *compiler) compileANP(l policy.Located[*antreav1beta1.NetworkPolicy]) {
	p := l.Object
	scope := policyScope{ref: PolicyRef{Kind: KindAntreaNetworkPolicy, Namespace: p.Namespace, Name: p.Name}}
	c.compileAntreaPolicy(l.Source, scope, p.Spec.Tier, p.Spec.Priority, p.Spec.PolicySpec())
}

func (c *compiler) compileAntreaPolicy(src policy.Source, scope policyScope, tierName string, priority float64, rules antreav1beta1.PolicySpec) {
	spec := field.NewPath("spec")
	var errs field.ErrorList
	tier, tierPrio, ferr := c.resolveTier(tierName, spec.Child("tier"))
	if ferr != nil {
		errs = append(errs, ferr)
	}
	if priority < 1 || priority > 10000 {
		errs = append(errs, field.Invalid(spec.Child("priority"), priority, "is required and must be from 1 to 10000"))
	}

	var policyAppliedTo bitset
	if len(rules.AppliedTo) > 0 {
		var aErrs field.ErrorList
		policyAppliedTo, aErrs = c.appliedTo(rules.AppliedTo, spec.Child("appliedTo"), scope)
		errs = append(errs, aErrs...)
	}

	names := map[string]*field.Path{}
	generated := map[string]*field.Path{}
	var compiled []*rule
	for _, dir := range []Direction{Ingress, Egress} {
		list := rules.Ingress
		if dir == Egress {
			list = rules.Egress
		}
		for i := range list {
			path := spec.Child(dir.String()).Index(i)
			r := &list[i]
			if r.Name != "" {
				if first, dup := names[r.Name]; dup {
					errs = append(errs, &field.Error{Type: field.ErrorTypeDuplicate, Field: path.Child("name").String(), BadValue: r.Name,
						Detail: "also at " + first.String() + ": Antrea's webhook refuses the policy, rules names must be unique within the policy"})
				}
				names[r.Name] = path
			} else if key, err := generatedRuleName(dir, r); err == nil {
				if first, dup := generated[key]; dup {
					errs = append(errs, &field.Error{Type: field.ErrorTypeDuplicate, Field: path.Child("name").String(), BadValue: field.OmitValueType{},
						Detail: "unset, and the rule is identical to " + first.String() + ": Antrea's mutating webhook names an unnamed rule from a hash of its content, so both get the same name and the validating webhook refuses the policy (rules names must be unique within the policy); give one of them a name"})
				}
				generated[key] = path
			}
			info := &RuleInfo{Policy: scope.ref, Source: src, Tier: tier, TierPriority: tierPrio,
				Priority: priority, Direction: dir, Index: i, Name: r.Name}
			cr, rErrs := c.antreaRule(r, info, path, scope, policyAppliedTo)
			errs = append(errs, rErrs...)
			if cr != nil {
				compiled = append(compiled, cr)
			}
		}
	}
	if scope.cluster {
		for _, p := range PerNamespaceGroupConflicts(rules) {
			errs = append(errs, field.Forbidden(p, perNamespaceGroupReason))
		}
	}
	if len(rules.AppliedTo) == 0 && len(compiled) == 0 && len(rules.Ingress)+len(rules.Egress) == 0 {
		errs = append(errs, field.Required(spec.Child("appliedTo"), "set appliedTo in spec or in every rule"))
	}
	c.fail(src, scope.ref.String(), errs)
	if len(errs) == 0 {
		c.rules = append(c.rules, compiled...)
	}
}

func (c *compiler) antreaRule(r *antreav1beta1.Rule, info *RuleInfo, path *field.Path, scope policyScope, policyAppliedTo bitset) (*rule, field.ErrorList) {
	var errs field.ErrorList
	if r.Action == nil {
		errs = append(errs, field.Required(path.Child("action"), "one of Allow, Drop, Reject, Pass"))
	} else {
		switch *r.Action {
		case antreav1beta1.RuleActionAllow:
			info.Action = ActionAllow
		case antreav1beta1.RuleActionDrop:
			info.Action = ActionDrop
		case antreav1beta1.RuleActionReject:
			info.Action = ActionReject
		case antreav1beta1.RuleActionPass:
			info.Action = ActionPass
			if info.TierPriority == antreav1beta1.BaselineTierPriority {
				errs = append(errs, field.Invalid(path.Child("action"), *r.Action, "Pass is not allowed in the baseline tier"))
			}
		default:
			errs = append(errs, field.NotSupported(path.Child("action"), *r.Action, []string{"Allow", "Drop", "Reject", "Pass"}))
		}
	}
	if len(r.L7Protocols) > 0 {
		errs = append(errs, unsupported(path.Child("l7Protocols"), "layer-7 rules"))
	}
	if len(r.ToServices) > 0 {
		errs = append(errs, unsupported(path.Child("toServices"), "toServices peers"))
	}

	cr := &rule{info: info}
	switch {
	case policyAppliedTo != nil && len(r.AppliedTo) > 0:
		errs = append(errs, field.Forbidden(path.Child("appliedTo"), "appliedTo is already set in spec; set it in spec or in every rule, not both"))
	case policyAppliedTo != nil:
		cr.appliedTo = policyAppliedTo
	case len(r.AppliedTo) == 0:
		errs = append(errs, field.Required(path.Child("appliedTo"), "spec has no appliedTo, so every rule needs one"))
	default:
		var aErrs field.ErrorList
		cr.appliedTo, aErrs = c.appliedTo(r.AppliedTo, path.Child("appliedTo"), scope)
		errs = append(errs, aErrs...)
	}

	peers, peersPath := r.From, path.Child("from")
	if info.Direction == Egress {
		peers, peersPath = r.To, path.Child("to")
	}
	var pErrs field.ErrorList
	cr.peer, pErrs = c.antreaPeers(peers, peersPath, scope)
	errs = append(errs, pErrs...)

	cr.ports, pErrs = antreaPorts(r.Ports, r.Protocols, path)
	errs = append(errs, pErrs...)
	if len(errs) > 0 {
		return nil, errs
	}
	return cr, nil
}

func unsupported(path *field.Path, what string) *field.Error {
	return field.Forbidden(path, "tierproof's model does not evaluate "+what+" yet; remove it or test this policy on a cluster only")
}

func antreaPorts(ports []antreav1beta1.NetworkPolicyPort, protocols []antreav1beta1.NetworkPolicyProtocol, path *field.Path) (portMatcher, field.ErrorList) {
	var errs field.ErrorList
	pm := portMatcher{all: len(ports) == 0 && len(protocols) == 0}
	for i, p := range ports {
		pr, pErrs := compilePort(portSpec{p.Protocol, p.Port, p.EndPort, p.SourcePort, p.SourceEndPort}, path.Child("ports").Index(i))
		errs = append(errs, pErrs...)
		pm.ports = append(pm.ports, pr)
	}
	for i, p := range protocols {
		pp := path.Child("protocols").Index(i)
		switch {
		case p.IGMP != nil:
			errs = append(errs, unsupported(pp.Child("igmp"), "IGMP (multicast) rules"))
		case p.ICMP != nil:
			im := icmpMatch{icmpType: -1, icmpCode: -1}
			if p.ICMP.ICMPType != nil {
				im.icmpType = *p.ICMP.ICMPType
			}
			if p.ICMP.ICMPCode != nil {
				im.icmpCode = *p.ICMP.ICMPCode
			}
			pm.icmp = append(pm.icmp, im)
		default:
			errs = append(errs, field.Required(pp, "set icmp"))
		}
	}
	return pm, errs
}

// appliedTo resolves appliedTo entries (OR'ed) to the pods they select.
func (c *compiler) appliedTo(entries []antreav1beta1.AppliedTo, path *field.Path, scope policyScope) (bitset, field.ErrorList) {
	var errs field.ErrorList
	set := c.estate.newSet()
	for i, a := range entries {
		p := path.Index(i)
		switch {
		case a.Service != nil:
			errs = append(errs, unsupported(p.Child("service"), "NodePort Service appliedTo"))
		case a.NodeSelector != nil:
			errs = append(errs, unsupported(p.Child("nodeSelector"), "Node NetworkPolicies"))
		case a.ExternalEntitySelector != nil:
			errs = append(errs, unsupported(p.Child("externalEntitySelector"), "ExternalEntities"))
		case a.Group != "":
			if a.PodSelector != nil || a.NamespaceSelector != nil || a.ServiceAccount != nil {
				errs = append(errs, field.Forbidden(p.Child("group"), "a group must be the only selector of its entry"))
				continue
			}
			g := c.group(scope, a.Group)
			switch {
			case g == nil:
				// Antrea applies a policy whose group does not exist (yet) to nothing.
			case !scope.cluster && g.namespaceSelector:
				errs = append(errs, field.Invalid(p.Child("group"), a.Group, "a Group with a namespaceSelector cannot be an ANP's appliedTo (Antrea leaves the policy unrealizable)"))
			default:
				// A group with ipBlocks applies to nothing; pods are what it has.
				set.union(g.pods)
			}
		case a.ServiceAccount != nil:
			if a.PodSelector != nil || a.NamespaceSelector != nil {
				errs = append(errs, field.Forbidden(p.Child("serviceAccount"), "a serviceAccount must be the only selector of its entry"))
				continue
			}
			set.union(c.estate.selectServiceAccount(a.ServiceAccount.Namespace, a.ServiceAccount.Name))
		case a.PodSelector == nil && a.NamespaceSelector == nil:
			errs = append(errs, field.Required(p, "set podSelector, namespaceSelector, group or serviceAccount"))
		default:
			pods, pErrs := c.selectPods(a.PodSelector, a.NamespaceSelector, p, scope)
			errs = append(errs, pErrs...)
			set.union(pods)
		}
	}
	return set, errs
}

// selectPods resolves a podSelector/namespaceSelector pair. A podSelector alone
// stays in the policy's namespace for an ANP (or a Group) and spans every
// namespace for an ACNP (or a ClusterGroup); a namespaceSelector alone selects
// every pod there. On error the set is nil.
func (c *compiler) selectPods(pods, namespaces *metav1.LabelSelector, path *field.Path, scope policyScope) (bitset, field.ErrorList) {
	var errs field.ErrorList
	var q podQuery
	var err *field.Error
	if q.pods, err = optionalSelector(pods, path.Child("podSelector")); err != nil {
		errs = append(errs, err)
	}
	if q.namespaces, err = optionalSelector(namespaces, path.Child("namespaceSelector")); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if namespaces == nil && !scope.cluster {
		q.namespace = scope.namespace()
	}
	return c.estate.selectPods(q), nil
}

func (c *compiler) antreaPeers(peers []antreav1beta1.NetworkPolicyPeer, path *field.Path, scope policyScope) (peerMatcher, field.ErrorList) {
	pm := peerMatcher{all: len(peers) == 0, pods: c.estate.newSet(), addresses: c.estate.newSet()}
	var errs field.ErrorList
	for i := range peers {
		peer := &peers[i]
		p := path.Index(i)
		switch {
		case peer.FQDN != "":
			errs = append(errs, unsupported(p.Child("fqdn"), "FQDN peers"))
		case peer.NodeSelector != nil:
			errs = append(errs, unsupported(p.Child("nodeSelector"), "Node peers"))
		case peer.ExternalEntitySelector != nil:
			errs = append(errs, unsupported(p.Child("externalEntitySelector"), "ExternalEntities"))
		case peer.Scope == antreav1beta1.ScopeClusterSet:
			errs = append(errs, unsupported(p.Child("scope"), "multi-cluster (ClusterSet) peers"))
		case peer.Scope != "" && peer.Scope != antreav1beta1.ScopeCluster:
			errs = append(errs, field.NotSupported(p.Child("scope"), peer.Scope, []string{"Cluster", "ClusterSet"}))
		case peer.Group != "":
			if peer.IPBlock != nil || peer.PodSelector != nil || peer.NamespaceSelector != nil || peer.Namespaces != nil || peer.ServiceAccount != nil || peer.Scope != "" {
				errs = append(errs, field.Forbidden(p.Child("group"), "a group must be the only field of its peer (Antrea's webhook: group cannot be set with other peers in rules)"))
				continue
			}
			// A group that does not exist (yet) contributes no peers.
			if g := c.group(scope, peer.Group); g != nil {
				pm.pods.union(g.pods)
				pm.addresses.union(g.addresses)
			}
		case peer.ServiceAccount != nil:
			if peer.IPBlock != nil || peer.PodSelector != nil || peer.NamespaceSelector != nil || peer.Namespaces != nil || peer.Scope != "" {
				errs = append(errs, field.Forbidden(p.Child("serviceAccount"), "a serviceAccount must be the only field of its peer (Antrea's webhook: serviceAccount cannot be set with other peers in rules)"))
				continue
			}
			pm.pods.union(c.estate.selectServiceAccount(peer.ServiceAccount.Namespace, peer.ServiceAccount.Name))
		case peer.IPBlock != nil:
			// Antrea uses the ipBlock and ignores selectors set beside it.
			cidr, except, err := parseIPBlock(peer.IPBlock.CIDR, peer.IPBlock.Except, p.Child("ipBlock"))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			pm.addresses.union(c.estate.selectIPs(cidr, except))
		case peer.Namespaces != nil:
			errs = append(errs, c.namespacesPeer(&pm, peer, p, scope)...)
		case peer.PodSelector == nil && peer.NamespaceSelector == nil:
			errs = append(errs, field.Required(p, "set ipBlock, podSelector, namespaceSelector, namespaces, group or serviceAccount"))
		default:
			pods, pErrs := c.selectPods(peer.PodSelector, peer.NamespaceSelector, p, scope)
			errs = append(errs, pErrs...)
			pm.pods.union(pods)
		}
	}
	return pm, errs
}

// namespacesPeer compiles `namespaces: {match: Self}` and `namespaces:
// {sameLabels: [...]}`, whose pods depend on the applied-to pod's namespace.
func (c *compiler) namespacesPeer(pm *peerMatcher, peer *antreav1beta1.NetworkPolicyPeer, p *field.Path, scope policyScope) field.ErrorList {
	ns := peer.Namespaces
	np := p.Child("namespaces")
	switch {
	case peer.NamespaceSelector != nil:
		return field.ErrorList{field.Forbidden(np, "cannot be set with namespaceSelector")}
	case ns.Match != "" && len(ns.SameLabels) > 0:
		return field.ErrorList{field.Forbidden(np, "set match or sameLabels, not both")}
	case ns.Match != "" && ns.Match != antreav1beta1.NamespaceMatchSelf:
		return field.ErrorList{field.NotSupported(np.Child("match"), ns.Match, []string{"Self"})}
	case ns.Match == "" && len(ns.SameLabels) == 0:
		return field.ErrorList{field.Required(np, "set match: Self or sameLabels")}
	}
	for i, k := range ns.SameLabels {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			return field.ErrorList{field.Invalid(np.Child("sameLabels").Index(i), k, "not a label key: "+strings.Join(msgs, "; "))}
		}
	}
	podSel, err := optionalSelector(peer.PodSelector, p.Child("podSelector"))
	if err != nil {
		return field.ErrorList{err}
	}
	pods := c.estate.selectPods(podQuery{pods: podSel})
	if ns.Match == antreav1beta1.NamespaceMatchSelf {
		if pm.self == nil {
			pm.self = c.estate.newSet()
		}
		pm.self.union(pods)
		return nil
	}
	sl := sameLabelsPeer{pods: pods, group: c.sameLabelGroups(ns.SameLabels)}
	pods.each(func(o int) {
		if g := c.estate.groupOf(sl.group, o); g >= 0 {
			for len(sl.byGroup) <= g {
				sl.byGroup = append(sl.byGroup, c.estate.newSet())
			}
			sl.byGroup[g].add(o)
		}
	})
	pm.sameLabels = append(pm.sameLabels, sl)
	return nil
}

// sameLabelGroups numbers the distinct value tuples namespaces have for keys.
func (c *compiler) sameLabelGroups(keys []string) []int {
	ids := map[string]int{}
	groups := make([]int, len(c.estate.namespaces))
	for i, nsLabels := range c.estate.namespaceLabels {
		values := make([]string, 0, len(keys))
		for _, k := range keys {
			if !nsLabels.Has(k) {
				values = nil
				break
			}
			values = append(values, nsLabels.Get(k))
		}
		if values == nil {
			groups[i] = -1
			continue
		}
		key := strings.Join(values, "\x00")
		if _, ok := ids[key]; !ok {
			ids[key] = len(ids)
		}
		groups[i] = ids[key]
	}
	return groups
}

// sortRules orders rules as Antrea's data plane does: tier priority, policy
// priority, rule index. Kind and name only make full ties deterministic.
func sortRules(rules []*rule) {
	sort.SliceStable(rules, func(i, j int) bool {
		a, b := rules[i].info, rules[j].info
		if a.TierPriority != b.TierPriority {
			return a.TierPriority < b.TierPriority
		}
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		if a.Index != b.Index {
			return a.Index < b.Index
		}
		return a.Policy.String() < b.Policy.String()
	})
}

// baselineTierPriority: rules of this tier and after are enforced after K8s NetworkPolicies.
const baselineTierPriority = antreav1beta1.BaselineTierPriority

// IsStaticTier says whether name is one of the tiers Antrea creates itself
// (empty is application), in either spelling Antrea accepts.
func IsStaticTier(name string) bool {
	if lower, ok := staticTierAliases[name]; ok {
		name = lower
	}
	return name == "" || staticTiers[name] != 0
}

// generatedRuleName is what Antrea's mutating webhook effectively names an
// unnamed rule: its direction, action and a hash of its content
// (generateRuleNames and hashRule in pkg/controller/networkpolicy/mutate.go).
// Identical content in one direction gives identical names; the key here is
// the content itself.
func generatedRuleName(dir Direction, r *antreav1beta1.Rule) (string, error) {
	content, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	return dir.String() + "\x00" + string(content), nil
}

const perNamespaceGroupReason = "a group as appliedTo together with a `namespaces` (match: Self or sameLabels) peer: " +
	"Antrea's controller builds the per-namespace applied-to groups of such a rule from the appliedTo's podSelector " +
	"and namespaceSelector only and ignores the group, so it would apply the rule to every pod of every affected namespace " +
	"(antreaclusternetworkpolicy.go, its per-namespace createAppliedToGroup calls); the model refuses rather than guess. " +
	"Write the group's podSelector/namespaceSelector in appliedTo instead"

// PerNamespaceGroupConflicts lists the `namespaces` peers of an ACNP's rules
// whose appliedTo (the policy's, or the rule's own) includes a group: Antrea's
// webhook admits them, but its controller ignores the group for them (see
// perNamespaceGroupReason). lint reports the same paths.
func PerNamespaceGroupConflicts(spec antreav1beta1.PolicySpec) []*field.Path {
	hasGroup := func(entries []antreav1beta1.AppliedTo) bool {
		return slices.ContainsFunc(entries, func(a antreav1beta1.AppliedTo) bool { return a.Group != "" })
	}
	var out []*field.Path
	for _, dir := range []Direction{Ingress, Egress} {
		rules, peersField := spec.Ingress, "from"
		if dir == Egress {
			rules, peersField = spec.Egress, "to"
		}
		for i, r := range rules {
			if !hasGroup(spec.AppliedTo) && !hasGroup(r.AppliedTo) {
				continue
			}
			peers := r.From
			if dir == Egress {
				peers = r.To
			}
			for j, peer := range peers {
				if peer.Namespaces != nil {
					out = append(out, field.NewPath("spec").Child(dir.String()).Index(i).Child(peersField).Index(j).Child("namespaces"))
				}
			}
		}
	}
	return out
}
