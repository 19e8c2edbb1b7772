package model

import (
	"fmt"
	"net/netip"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"

	"github.com/tierproof/tierproof/framework/policy"
)

// The tier priorities Antrea 2.7 gives the ClusterNetworkPolicy tiers
// (cnpAdminTierPriority, cnpBaselineTierPriority:
// pkg/controller/networkpolicy/clusternetworkpolicy.go:40,43). The agent puts
// 254 in the baseline tables beside Antrea's baseline tier (253), after it
// (pod_reconciler.go:370 sends both there; types.Priority orders by tier
// priority first).
const (
	CNPAdminTierPriority    int32 = 220
	cnpBaselineTierPriority int32 = 254
)

// The limits the network-policy-api's CRD (v0.3.0,
// config/crd/*/policy.networking.k8s.io_clusternetworkpolicies.yaml) sets:
// the API server refuses objects beyond them before Antrea sees them.
const (
	cnpMaxPriority = 1000
	cnpMaxRules    = 25 // per direction
	cnpMaxPeers    = 25 // per rule
	cnpMaxName     = 100
)

var cnpActions = []string{"Accept", "Deny", "Pass"}

// checkPlane refuses what the semantics' data plane cannot hold together:
// Antrea-native objects on the spec's order, which has no Antrea tiers, and
// on Antrea a Tier at the Admin tier's priority beside CNPs (the admission
// webhook refuses the Tier while the ClusterNetworkPolicy gate is on, and
// every CNP while such a Tier exists: validateUpstreamClusterNetworkPolicy
// and the Tier check, pkg/controller/networkpolicy/validate.go:451,966).
func (c *compiler) checkPlane(set *policy.Set) {
	if c.semantics.CNP == CNPSpecOrder {
		for _, o := range set.AntreaNative() {
			c.errs = append(c.errs, fmt.Errorf("%s: the %s order has no Antrea-native policies: remove it, or simulate with --semantics antrea", o, c.semantics.Name))
		}
	}
	if c.semantics.CNP != CNPAmongAntreaTiers || len(set.UpstreamCNPs) == 0 {
		return
	}
	for _, t := range set.Tiers {
		if t.Object.Spec.Priority == CNPAdminTierPriority {
			c.fail(t.Source, "Tier/"+t.Object.Name, field.ErrorList{field.Invalid(field.NewPath("spec", "priority"), CNPAdminTierPriority,
				fmt.Sprintf("is reserved for the ClusterNetworkPolicy Admin tier while ClusterNetworkPolicies are enforced (Antrea refuses the Tier, and every CNP while such a Tier exists); choose another priority, below %d to take precedence over CNPs or above to yield to them", CNPAdminTierPriority))})
		}
	}
}

// compileCNP compiles one ClusterNetworkPolicy into rules as Antrea's
// controller translates it (processClusterNetworkPolicy,
// clusternetworkpolicy.go:340): rule priority is the rule's index in its
// direction, policy priority the CNP's priority, and Accept, Deny and Pass
// are Allow, Drop and Pass (cnpActionToAntreaActionMap, :47).
func (c *compiler) compileCNP(l policy.Located[*npav1alpha2.ClusterNetworkPolicy]) {
	p := l.Object
	ref := PolicyRef{Kind: KindUpstreamCNP, Name: p.Name}
	spec := field.NewPath("spec")
	var errs field.ErrorList
	if c.semantics.CNP == CNPNotEnforced {
		c.fail(l.Source, ref.String(), field.ErrorList{field.Forbidden(field.NewPath("kind"),
			c.semantics.Name+" does not enforce ClusterNetworkPolicies: every flow they decide would read as allowed; play this stage on Antrea or the lab, or simulate it with --semantics antrea or spec")})
		return
	}
	var tier string
	var tierPrio int32
	switch p.Spec.Tier {
	case npav1alpha2.AdminTier:
		tier, tierPrio = "Admin", CNPAdminTierPriority
	case npav1alpha2.BaselineTier:
		tier, tierPrio = "Baseline", cnpBaselineTierPriority
	default:
		errs = append(errs, field.NotSupported(spec.Child("tier"), p.Spec.Tier, []string{"Admin", "Baseline"}))
	}
	if p.Spec.Priority < 0 || p.Spec.Priority > cnpMaxPriority {
		errs = append(errs, field.Invalid(spec.Child("priority"), p.Spec.Priority, fmt.Sprintf("must be from 0 to %d", cnpMaxPriority)))
	}
	scope := policyScope{ref: ref, cluster: true}
	subject, sErrs := c.cnpSubject(p.Spec.Subject, spec.Child("subject"), scope)
	errs = append(errs, sErrs...)

	var compiled []*rule
	add := func(dir Direction, i int, name string, action npav1alpha2.ClusterNetworkPolicyRuleAction, protocols []npav1alpha2.ClusterNetworkPolicyProtocol, peer func(*field.Path) (peerMatcher, bool, field.ErrorList)) {
		path := spec.Child(dir.String()).Index(i)
		info := &RuleInfo{Policy: ref, Source: l.Source, Tier: tier, TierPriority: tierPrio,
			Priority: float64(p.Spec.Priority), Direction: dir, Index: i, Name: name}
		var rErrs field.ErrorList
		if len(name) > cnpMaxName {
			rErrs = append(rErrs, field.TooLong(path.Child("name"), name, cnpMaxName))
		}
		switch action {
		case npav1alpha2.ClusterNetworkPolicyRuleActionAccept:
			info.Action = ActionAllow
		case npav1alpha2.ClusterNetworkPolicyRuleActionDeny:
			info.Action = ActionDrop
		case npav1alpha2.ClusterNetworkPolicyRuleActionPass:
			info.Action = ActionPass
			if tierPrio == cnpBaselineTierPriority && c.semantics.CNP == CNPAmongAntreaTiers {
				// The agent installs a Pass as a jump to the K8s
				// NetworkPolicy table (conjunctionActionPassFlow,
				// pkg/agent/openflow/pipeline.go:1886); from the baseline
				// tables, which come after it, that jump goes backwards,
				// which OpenFlow's goto_table does not allow.
				rErrs = append(rErrs, field.Forbidden(path.Child("action"),
					"a Baseline-tier Pass has no defined effect on Antrea 2.7 (its agent installs Pass as a jump back to the K8s NetworkPolicy table, before the baseline tables, which OpenFlow does not allow); write Accept for the spec's meaning (the default, Allow), or simulate with --semantics spec"))
			}
		default:
			rErrs = append(rErrs, field.NotSupported(path.Child("action"), action, cnpActions))
		}
		pm, namedOK, pErrs := peer(path)
		rErrs = append(rErrs, pErrs...)
		ports, portErrs := cnpProtocols(protocols, path.Child("protocols"), namedOK)
		rErrs = append(rErrs, portErrs...)
		errs = append(errs, rErrs...)
		if len(rErrs) == 0 {
			compiled = append(compiled, &rule{info: info, appliedTo: subject, peer: pm, ports: ports})
		}
	}
	if len(p.Spec.Ingress) > cnpMaxRules {
		errs = append(errs, field.TooMany(spec.Child("ingress"), len(p.Spec.Ingress), cnpMaxRules))
	}
	if len(p.Spec.Egress) > cnpMaxRules {
		errs = append(errs, field.TooMany(spec.Child("egress"), len(p.Spec.Egress), cnpMaxRules))
	}
	for i, r := range p.Spec.Ingress {
		add(Ingress, i, r.Name, r.Action, r.Protocols, func(path *field.Path) (peerMatcher, bool, field.ErrorList) {
			return c.cnpIngressPeers(r.From, path.Child("from"), scope)
		})
	}
	for i, r := range p.Spec.Egress {
		add(Egress, i, r.Name, r.Action, r.Protocols, func(path *field.Path) (peerMatcher, bool, field.ErrorList) {
			return c.cnpEgressPeers(r.To, path.Child("to"), scope)
		})
	}
	c.fail(l.Source, ref.String(), errs)
	if len(errs) == 0 {
		c.rules = append(c.rules, compiled...)
	}
}

// cnpSubject resolves the subject: exactly one of namespaces and pods (the
// CRD's minProperties/maxProperties 1), as processCNPSubject
// (clusternetworkpolicy.go:317) does.
func (c *compiler) cnpSubject(s npav1alpha2.ClusterNetworkPolicySubject, path *field.Path, scope policyScope) (bitset, field.ErrorList) {
	switch {
	case s.Namespaces != nil && s.Pods != nil:
		return nil, field.ErrorList{field.Forbidden(path, "set exactly one of namespaces and pods")}
	case s.Namespaces != nil:
		return c.selectPods(nil, s.Namespaces, path.Child("namespaces"), scope)
	case s.Pods != nil:
		return c.selectPods(&s.Pods.PodSelector, &s.Pods.NamespaceSelector, path.Child("pods"), scope)
	}
	return nil, field.ErrorList{field.Required(path, "set namespaces or pods")}
}

// cnpPeer is the part of a peer both directions share: namespaces and pods
// select pods (held as pods: their named ports resolve).
func (c *compiler) cnpPeer(pm *peerMatcher, namespaces *metav1.LabelSelector, pods *npav1alpha2.NamespacedPod, path *field.Path, scope policyScope) field.ErrorList {
	var set bitset
	var errs field.ErrorList
	if pods != nil {
		set, errs = c.selectPods(&pods.PodSelector, &pods.NamespaceSelector, path.Child("pods"), scope)
	} else {
		set, errs = c.selectPods(nil, namespaces, path.Child("namespaces"), scope)
	}
	if len(errs) == 0 {
		pm.pods.union(set)
	}
	return errs
}

func (c *compiler) cnpIngressPeers(peers []npav1alpha2.ClusterNetworkPolicyIngressPeer, path *field.Path, scope policyScope) (peerMatcher, bool, field.ErrorList) {
	pm := peerMatcher{pods: c.estate.newSet(), addresses: c.estate.newSet()}
	errs := checkPeerCount(len(peers), path)
	for i, peer := range peers {
		p := path.Index(i)
		if set := count(peer.Namespaces != nil, peer.Pods != nil); set != 1 {
			errs = append(errs, field.Invalid(p, set, "set exactly one of namespaces and pods"))
			continue
		}
		errs = append(errs, c.cnpPeer(&pm, peer.Namespaces, peer.Pods, p, scope)...)
	}
	return pm, true, errs
}

// cnpEgressPeers resolves egress peers; namedOK says whether named ports may
// be used with them (the CRD refuses them beside networks, nodes and
// domainNames: those have no named ports).
func (c *compiler) cnpEgressPeers(peers []npav1alpha2.ClusterNetworkPolicyEgressPeer, path *field.Path, scope policyScope) (peerMatcher, bool, field.ErrorList) {
	pm := peerMatcher{pods: c.estate.newSet(), addresses: c.estate.newSet()}
	errs := checkPeerCount(len(peers), path)
	namedOK := true
	for i, peer := range peers {
		p := path.Index(i)
		if set := count(peer.Namespaces != nil, peer.Pods != nil, peer.Nodes != nil, len(peer.Networks) > 0, len(peer.DomainNames) > 0); set != 1 {
			errs = append(errs, field.Invalid(p, set, "set exactly one of namespaces, pods, nodes, networks and domainNames"))
			continue
		}
		switch {
		case peer.Nodes != nil:
			namedOK = false
			errs = append(errs, unsupported(p.Child("nodes"), "nodes peers"))
		case len(peer.DomainNames) > 0:
			namedOK = false
			errs = append(errs, unsupported(p.Child("domainNames"), "domainNames peers"))
		case len(peer.Networks) > 0:
			namedOK = false
			for j, n := range peer.Networks {
				prefix, err := netip.ParsePrefix(string(n))
				if err != nil || prefix.Masked() != prefix {
					errs = append(errs, field.Invalid(p.Child("networks").Index(j), n, "Invalid CIDR format provided (a CIDR with no host bits, such as 10.0.0.0/24)"))
					continue
				}
				// Antrea turns networks into ipBlocks
				// (toAntreaIPBlocksForCNPNetworks, :299): pods inside
				// them match too, by address only.
				pm.addresses.union(c.estate.selectIPs(prefix, nil))
			}
		default:
			errs = append(errs, c.cnpPeer(&pm, peer.Namespaces, peer.Pods, p, scope)...)
		}
	}
	return pm, namedOK, errs
}

// count is how many of the fields are set: the CRD wants exactly one.
func count(set ...bool) int {
	n := 0
	for _, s := range set {
		if s {
			n++
		}
	}
	return n
}

func checkPeerCount(n int, path *field.Path) field.ErrorList {
	switch {
	case n == 0:
		return field.ErrorList{field.Required(path, "at least one peer")}
	case n > cnpMaxPeers:
		return field.ErrorList{field.TooMany(path, n, cnpMaxPeers)}
	}
	return nil
}

// cnpProtocols compiles protocols as toAntreaServicesForCNPProtocols
// (:204) does: none means every protocol and port; an entry without a port
// means every port of its protocol. A destinationNamedPort has no protocol:
// the agent resolves the name on the pod and takes that port's protocol
// (resolveService, pkg/agent/controller/networkpolicy/pod_reconciler.go:1296);
// a pod's port names are unique, so one entry per protocol is the same.
func cnpProtocols(protocols []npav1alpha2.ClusterNetworkPolicyProtocol, path *field.Path, namedOK bool) (portMatcher, field.ErrorList) {
	pm := portMatcher{all: len(protocols) == 0}
	var errs field.ErrorList
	for i, proto := range protocols {
		p := path.Index(i)
		var port *npav1alpha2.Port
		var protocol Protocol
		set := 0
		if proto.TCP != nil {
			set, protocol, port = set+1, TCP, proto.TCP.DestinationPort
		}
		if proto.UDP != nil {
			set, protocol, port = set+1, UDP, proto.UDP.DestinationPort
		}
		if proto.SCTP != nil {
			set, protocol, port = set+1, SCTP, proto.SCTP.DestinationPort
		}
		if proto.DestinationNamedPort != "" {
			set++
		}
		switch {
		case set != 1:
			errs = append(errs, field.Invalid(p, set, "set exactly one of tcp, udp, sctp and destinationNamedPort"))
		case proto.DestinationNamedPort != "":
			if !namedOK {
				errs = append(errs, field.Forbidden(p.Child("destinationNamedPort"), "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames"))
				continue
			}
			for _, pr := range []Protocol{TCP, UDP, SCTP} {
				pm.ports = append(pm.ports, portRange{protocol: pr, named: proto.DestinationNamedPort})
			}
		case port == nil:
			pm.ports = append(pm.ports, portRange{protocol: protocol, anyPort: true})
		default:
			pr, pErr := cnpPort(protocol, port, p.Child(strings.ToLower(protocol.String()), "destinationPort"))
			if pErr != nil {
				errs = append(errs, pErr)
				continue
			}
			pm.ports = append(pm.ports, pr)
		}
	}
	return pm, errs
}

func cnpPort(protocol Protocol, port *npav1alpha2.Port, path *field.Path) (portRange, *field.Error) {
	pr := portRange{protocol: protocol}
	switch {
	case port.Range != nil && port.Number != 0:
		return pr, field.Invalid(path, port, "set exactly one of number and range")
	case port.Range != nil:
		pr.from, pr.to = port.Range.Start, port.Range.End
		if pr.from < 1 || pr.to > 65535 || pr.from >= pr.to {
			return pr, field.Invalid(path.Child("range"), fmt.Sprintf("%d-%d", pr.from, pr.to), "Start port must be less than End port, both from 1 to 65535")
		}
	default:
		pr.from, pr.to = port.Number, port.Number
		if pr.from < 1 || pr.from > 65535 {
			return pr, field.Invalid(path.Child("number"), pr.from, "must be from 1 to 65535")
		}
	}
	return pr, nil
}
