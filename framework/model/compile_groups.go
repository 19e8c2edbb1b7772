package model

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/policy"
)

// groupMembers is a ClusterGroup or Group resolved against the estate.
type groupMembers struct {
	pods              bitset // the pods it selects: its members as appliedTo, and as a peer
	addresses         bitset // what its ipBlocks match as a peer, by IP (as appliedTo they select nothing)
	namespaceSelector bool   // selects by namespace labels (not allowed as an ANP's appliedTo)
	namespace         string // "" for a ClusterGroup
	children          []antreav1beta1.ClusterGroupReference
	source            policy.Source
	what              string // "ClusterGroup name" or "Group namespace/name", for errors
}

func groupKey(namespace, name string) string { return namespace + "/" + name }

// group finds the group a policy refers to: a ClusterGroup for an ACNP, a Group
// of the policy's namespace for an ANP. nil when it does not exist.
func (c *compiler) group(scope policyScope, name string) *groupMembers {
	return c.groups[groupKey(scope.namespace(), name)]
}

func (c *compiler) compileGroups(set *policy.Set) {
	c.groups = map[string]*groupMembers{}
	for _, g := range set.ClusterGroups {
		c.compileGroup(g.Source, "ClusterGroup/"+g.Object.Name, "", g.Object.Name, &g.Object.Spec)
	}
	for _, g := range set.Groups {
		c.compileGroup(g.Source, "Group/"+g.Object.Namespace+"/"+g.Object.Name, g.Object.Namespace, g.Object.Name, &g.Object.Spec)
	}
	// Children are resolved once every group is known. Antrea nests one level
	// only: its webhook refuses a child that has children of its own
	// (validateChildClusterGroup and validateChildGroup in validate.go).
	for _, g := range c.groups {
		for i, child := range g.children {
			cg := c.groups[groupKey(g.namespace, string(child))]
			if cg == nil {
				continue // a child not created yet contributes nothing
			}
			if len(cg.children) > 0 {
				c.fail(g.source, g.what, field.ErrorList{field.Forbidden(field.NewPath("spec", "childGroups").Index(i),
					fmt.Sprintf("%s has childGroups itself: Antrea nests groups one level only, and its webhook refuses the second level", child))})
				continue
			}
			g.pods.union(cg.pods)
			g.addresses.union(cg.addresses)
			g.namespaceSelector = g.namespaceSelector || cg.namespaceSelector
		}
	}
}

func (c *compiler) compileGroup(src policy.Source, what, namespace, name string, spec *antreav1beta1.GroupSpec) {
	path := field.NewPath("spec")
	var errs field.ErrorList
	ways := 0
	for _, set := range []bool{spec.PodSelector != nil || spec.NamespaceSelector != nil, len(spec.IPBlocks) > 0,
		spec.ServiceReference != nil, len(spec.ChildGroups) > 0, spec.ExternalEntitySelector != nil, spec.NodeSelector != nil} {
		if set {
			ways++
		}
	}
	if ways != 1 {
		errs = append(errs, field.Invalid(path, "", "set exactly one of podSelector/namespaceSelector, ipBlocks, serviceReference, childGroups, externalEntitySelector, nodeSelector"))
	}
	g := &groupMembers{pods: c.estate.newSet(), addresses: c.estate.newSet(), namespace: namespace, children: spec.ChildGroups,
		source: src, what: what}
	switch {
	case spec.ServiceReference != nil:
		errs = append(errs, unsupported(path.Child("serviceReference"), "Service-backed groups"))
	case spec.ExternalEntitySelector != nil:
		errs = append(errs, unsupported(path.Child("externalEntitySelector"), "ExternalEntities"))
	case spec.NodeSelector != nil:
		errs = append(errs, unsupported(path.Child("nodeSelector"), "Node groups"))
	case len(spec.IPBlocks) > 0:
		for i, b := range spec.IPBlocks {
			cidr, except, err := parseIPBlock(b.CIDR, b.Except, path.Child("ipBlocks").Index(i))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			g.addresses.union(c.estate.selectIPs(cidr, except))
		}
	case spec.PodSelector != nil || spec.NamespaceSelector != nil:
		// A ClusterGroup's podSelector alone spans every namespace; a Group's
		// stays in its own namespace.
		scope := policyScope{ref: PolicyRef{Namespace: namespace}, cluster: namespace == ""}
		pods, pErrs := c.selectPods(spec.PodSelector, spec.NamespaceSelector, path, scope)
		errs = append(errs, pErrs...)
		if pods != nil {
			g.pods = pods
			g.namespaceSelector = spec.NamespaceSelector != nil
		}
	}
	c.fail(src, what, errs)
	if len(errs) == 0 {
		c.groups[groupKey(namespace, name)] = g
	}
}
