package lint

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
)

// antreaPolicy is an ACNP or an ANP, seen the same way.
type antreaPolicy struct {
	ref    model.PolicyRef
	source policy.Source
	tier   string
	spec   antreav1beta1.PolicySpec
}

func antreaPolicies(set *policy.Set) []antreaPolicy {
	var out []antreaPolicy
	for _, p := range set.ClusterNetworkPolicies {
		out = append(out, antreaPolicy{model.PolicyRef{Kind: model.KindClusterNetworkPolicy, Name: p.Object.Name},
			p.Source, p.Object.Spec.Tier, p.Object.Spec.PolicySpec()})
	}
	for _, p := range set.NetworkPolicies {
		out = append(out, antreaPolicy{model.PolicyRef{Kind: model.KindAntreaNetworkPolicy, Namespace: p.Object.Namespace, Name: p.Object.Name},
			p.Source, p.Object.Spec.Tier, p.Object.Spec.PolicySpec()})
	}
	return out
}

// selectorUse is one label selector of the input and what it selects.
type selectorUse struct {
	object     string
	source     policy.Source
	path       *field.Path
	namespaces bool // a namespaceSelector; otherwise it selects pods
	selector   *metav1.LabelSelector
}

// groupUse is one reference to a ClusterGroup (namespace "") or Group.
type groupUse struct {
	object    string
	source    policy.Source
	path      *field.Path
	namespace string
	name      string
}

// uses lists every selector and group reference in set.
func uses(set *policy.Set) ([]selectorUse, []groupUse) {
	var sels []selectorUse
	var groups []groupUse
	addSelectors := func(object string, src policy.Source, path *field.Path, pods, namespaces *metav1.LabelSelector) {
		if pods != nil {
			sels = append(sels, selectorUse{object, src, path.Child("podSelector"), false, pods})
		}
		if namespaces != nil {
			sels = append(sels, selectorUse{object, src, path.Child("namespaceSelector"), true, namespaces})
		}
	}
	for _, p := range antreaPolicies(set) {
		object := p.ref.String()
		addGroup := func(path *field.Path, name string) {
			if name != "" {
				groups = append(groups, groupUse{object, p.source, path.Child("group"), p.ref.Namespace, name})
			}
		}
		appliedTo := func(path *field.Path, entries []antreav1beta1.AppliedTo) {
			for i, a := range entries {
				addSelectors(object, p.source, path.Index(i), a.PodSelector, a.NamespaceSelector)
				addGroup(path.Index(i), a.Group)
			}
		}
		appliedTo(field.NewPath("spec", "appliedTo"), p.spec.AppliedTo)
		for _, dir := range []struct {
			name, peers string
			rules       []antreav1beta1.Rule
		}{{"ingress", "from", p.spec.Ingress}, {"egress", "to", p.spec.Egress}} {
			for i, r := range dir.rules {
				rp := field.NewPath("spec", dir.name).Index(i)
				appliedTo(rp.Child("appliedTo"), r.AppliedTo)
				peers := r.From
				if dir.name == "egress" {
					peers = r.To
				}
				for j, peer := range peers {
					addSelectors(object, p.source, rp.Child(dir.peers).Index(j), peer.PodSelector, peer.NamespaceSelector)
					addGroup(rp.Child(dir.peers).Index(j), peer.Group)
				}
			}
		}
	}
	group := func(object, namespace string, src policy.Source, spec antreav1beta1.GroupSpec) {
		spath := field.NewPath("spec")
		addSelectors(object, src, spath, spec.PodSelector, spec.NamespaceSelector)
		for i, child := range spec.ChildGroups {
			groups = append(groups, groupUse{object, src, spath.Child("childGroups").Index(i), namespace, string(child)})
		}
	}
	for _, g := range set.ClusterGroups {
		group("ClusterGroup/"+g.Object.Name, "", g.Source, g.Object.Spec)
	}
	for _, g := range set.Groups {
		group("Group/"+g.Object.Namespace+"/"+g.Object.Name, g.Object.Namespace, g.Source, g.Object.Spec)
	}
	for _, p := range set.K8sNetworkPolicies {
		object := model.PolicyRef{Kind: model.KindK8sNetworkPolicy, Namespace: p.Object.Namespace, Name: p.Object.Name}.String()
		spec := field.NewPath("spec")
		sels = append(sels, selectorUse{object, p.Source, spec.Child("podSelector"), false, &p.Object.Spec.PodSelector})
		for i, r := range p.Object.Spec.Ingress {
			for j, peer := range r.From {
				addSelectors(object, p.Source, spec.Child("ingress").Index(i).Child("from").Index(j), peer.PodSelector, peer.NamespaceSelector)
			}
		}
		for i, r := range p.Object.Spec.Egress {
			for j, peer := range r.To {
				addSelectors(object, p.Source, spec.Child("egress").Index(i).Child("to").Index(j), peer.PodSelector, peer.NamespaceSelector)
			}
		}
	}
	return sels, groups
}
