package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	npav1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/manifest"
)

// Set is a policy input sorted by kind. Each slice keeps input order.
type Set struct {
	Tiers                  []Located[*antreav1beta1.Tier]
	ClusterGroups          []Located[*antreav1beta1.ClusterGroup]
	Groups                 []Located[*antreav1beta1.Group]
	ClusterNetworkPolicies []Located[*antreav1beta1.ClusterNetworkPolicy]
	NetworkPolicies        []Located[*antreav1beta1.NetworkPolicy]
	K8sNetworkPolicies     []Located[*networkingv1.NetworkPolicy]
	// UpstreamCNPs are the network-policy-api's ClusterNetworkPolicies,
	// read at v1alpha2 or v1beta1 and held at v1alpha2 (the same schema).
	UpstreamCNPs []Located[*npav1alpha2.ClusterNetworkPolicy]
}

// Located is a typed object and the document it came from.
type Located[T any] struct {
	Source Source
	Object T
}

// Load reads files or directories, in the order given, into one Set.
// It stops, with ctx's error, once ctx is done.
func Load(ctx context.Context, paths ...string) (*Set, error) {
	objects, _, err := Read(ctx, false, paths...)
	if err != nil {
		return nil, err
	}
	return NewSet(objects)
}

// Read reads files or directories, in the order given. lenient passes over
// documents of other kinds (ConfigMaps, Deployments: real manifests mix
// them), listing each in skipped as "<Kind> <name> (<file> (document N))".
// It stops, with ctx's error, once ctx is done.
func Read(ctx context.Context, lenient bool, paths ...string) (objects []Object, skipped []string, err error) {
	d := decoder
	if lenient {
		d = decoder.Lenient()
	}
	for _, path := range paths {
		decoded, err := d.ReadPath(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		for _, o := range decoded {
			if o.Skipped != "" {
				skipped = append(skipped, o.Skipped+" ("+o.Source.String()+")")
				continue
			}
			objects = append(objects, o)
		}
	}
	return objects, skipped, nil
}

// DefaultNamespace puts namespaced objects without a namespace in namespace,
// as kubectl apply does with its current namespace, and lists them.
func DefaultNamespace(objects []Object, namespace string) (defaulted []string) {
	for _, o := range objects {
		k, _ := KindOf(o.Object.GetObjectKind().GroupVersionKind().GroupKind())
		m, err := meta.Accessor(o.Object)
		if err != nil || !k.Namespaced || m.GetNamespace() != "" {
			continue
		}
		m.SetNamespace(namespace)
		defaulted = append(defaulted, fmt.Sprintf("%s (%s)", manifest.ObjectName(k.GVK.GroupKind(), namespace, m.GetName()), o.Source))
	}
	return defaulted
}

// NewSet sorts objects by kind. Namespaced kinds must name their namespace
// (a manifest without one would land wherever kubectl points), and the same
// object may appear only once.
func NewSet(objects []Object) (*Set, error) {
	s := &Set{}
	seen := map[string]Source{}
	for _, o := range objects {
		var namespace, name string
		switch obj := o.Object.(type) {
		case *antreav1beta1.Tier:
			s.Tiers = append(s.Tiers, Located[*antreav1beta1.Tier]{o.Source, obj})
			namespace, name = obj.Namespace, obj.Name
		case *antreav1beta1.ClusterGroup:
			s.ClusterGroups = append(s.ClusterGroups, Located[*antreav1beta1.ClusterGroup]{o.Source, obj})
			namespace, name = obj.Namespace, obj.Name
		case *antreav1beta1.Group:
			s.Groups = append(s.Groups, Located[*antreav1beta1.Group]{o.Source, obj})
			namespace, name = obj.Namespace, obj.Name
		case *antreav1beta1.ClusterNetworkPolicy:
			s.ClusterNetworkPolicies = append(s.ClusterNetworkPolicies, Located[*antreav1beta1.ClusterNetworkPolicy]{o.Source, obj})
			namespace, name = obj.Namespace, obj.Name
		case *antreav1beta1.NetworkPolicy:
			s.NetworkPolicies = append(s.NetworkPolicies, Located[*antreav1beta1.NetworkPolicy]{o.Source, obj})
			namespace, name = obj.Namespace, obj.Name
		case *networkingv1.NetworkPolicy:
			s.K8sNetworkPolicies = append(s.K8sNetworkPolicies, Located[*networkingv1.NetworkPolicy]{o.Source, obj})
			namespace, name = obj.Namespace, obj.Name
		case *npav1alpha2.ClusterNetworkPolicy:
			s.UpstreamCNPs = append(s.UpstreamCNPs, Located[*npav1alpha2.ClusterNetworkPolicy]{o.Source, obj})
			namespace, name = obj.Namespace, obj.Name
		case *npav1beta1.ClusterNetworkPolicy:
			held, err := toV1alpha2(obj)
			if err != nil {
				return nil, fmt.Errorf("%s: ClusterNetworkPolicy %s: %w", o.Source, obj.Name, err)
			}
			s.UpstreamCNPs = append(s.UpstreamCNPs, Located[*npav1alpha2.ClusterNetworkPolicy]{o.Source, held})
			namespace, name = obj.Namespace, obj.Name
		default:
			return nil, fmt.Errorf("%s: unsupported kind %T", o.Source, o.Object)
		}
		kind := o.Object.GetObjectKind().GroupVersionKind()
		if gvks, _, err := scheme.ObjectKinds(o.Object); kind.Empty() && err == nil {
			kind = gvks[0] // built in code, without its TypeMeta
		}
		k, _ := KindOf(kind.GroupKind())
		namespaced := k.Namespaced
		if name == "" {
			return nil, fmt.Errorf("%s: %s: metadata.name: Required value", o.Source, kind.Kind)
		}
		if namespaced && namespace == "" {
			return nil, fmt.Errorf("%s: %s: metadata.namespace: Required value: namespaced kinds must name their namespace", o.Source, manifest.ObjectName(kind.GroupKind(), "", name))
		}
		if !namespaced && namespace != "" {
			return nil, fmt.Errorf("%s: %s: metadata.namespace: Invalid value: %q: %s is cluster-scoped", o.Source, manifest.ObjectName(kind.GroupKind(), "", name), namespace, kind.Kind)
		}
		// The API server's own rules: names it would refuse never reach a
		// verdict, a report or a terminal.
		if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
			return nil, fmt.Errorf("%s: %s: metadata.name: Invalid value: %q: %s", o.Source, kind.Kind, name, strings.Join(msgs, "; "))
		}
		if msgs := validation.IsDNS1123Label(namespace); namespace != "" && len(msgs) > 0 {
			return nil, fmt.Errorf("%s: %s: metadata.namespace: Invalid value: %q: %s", o.Source, manifest.ObjectName(kind.GroupKind(), "", name), namespace, strings.Join(msgs, "; "))
		}
		key := strings.Join([]string{kind.Group, kind.Kind, namespace, name}, "/")
		if first, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s: %s: duplicate of the object in %s", o.Source, manifest.ObjectName(kind.GroupKind(), namespace, name), first)
		}
		seen[key] = o.Source
	}
	return s, nil
}

// Objects lists the set's objects in apply order: Tiers, groups, then policies.
func (s *Set) Objects() []runtime.Object {
	var out []runtime.Object
	for _, o := range s.Tiers {
		out = append(out, o.Object)
	}
	for _, o := range s.ClusterGroups {
		out = append(out, o.Object)
	}
	for _, o := range s.Groups {
		out = append(out, o.Object)
	}
	for _, o := range s.ClusterNetworkPolicies {
		out = append(out, o.Object)
	}
	for _, o := range s.NetworkPolicies {
		out = append(out, o.Object)
	}
	for _, o := range s.K8sNetworkPolicies {
		out = append(out, o.Object)
	}
	for _, o := range s.UpstreamCNPs {
		out = append(out, o.Object)
	}
	return out
}

// toV1alpha2 holds a v1beta1 ClusterNetworkPolicy at v1alpha2: v0.3.0 serves
// one schema at both versions (its CRD's two versions differ only in name),
// so the JSON of one is the other's.
func toV1alpha2(in *npav1beta1.ClusterNetworkPolicy) (*npav1alpha2.ClusterNetworkPolicy, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	out := &npav1alpha2.ClusterNetworkPolicy{}
	if err := json.Unmarshal(data, out); err != nil {
		return nil, err
	}
	out.APIVersion = UpstreamCNPVersion.String()
	return out, nil
}

// Upstream lists the set's network-policy-api objects, each as
// "<Kind> <name> (<source>)", for data planes that do not enforce them.
func (s *Set) Upstream() []string {
	var out []string
	for _, o := range s.UpstreamCNPs {
		out = append(out, manifest.ObjectName(schema.GroupKind{Group: npav1alpha2.GroupName, Kind: "ClusterNetworkPolicy"}, "", o.Object.Name)+" ("+o.Source.String()+")")
	}
	return out
}

// AntreaPolicyNames names the set's Antrea policies the way the model does:
// "ClusterNetworkPolicy/<name>" and "NetworkPolicy/<ns>/<name>".
func (s *Set) AntreaPolicyNames() []string {
	var names []string
	for _, o := range s.ClusterNetworkPolicies {
		names = append(names, "ClusterNetworkPolicy/"+o.Object.Name)
	}
	for _, o := range s.NetworkPolicies {
		names = append(names, "NetworkPolicy/"+o.Object.Namespace+"/"+o.Object.Name)
	}
	return names
}

// AntreaNative lists the set's Antrea-native objects (Tiers, groups and
// policies), each as "<Kind> <name> (<source>)", for data planes that enforce
// Kubernetes NetworkPolicies only.
func (s *Set) AntreaNative() []string {
	var out []string
	add := func(kind, namespace, name string, src Source) {
		out = append(out, manifest.ObjectName(schema.GroupKind{Group: antreav1beta1.GroupName, Kind: kind}, namespace, name)+" ("+src.String()+")")
	}
	for _, o := range s.Tiers {
		add("Tier", "", o.Object.Name, o.Source)
	}
	for _, o := range s.ClusterGroups {
		add("ClusterGroup", "", o.Object.Name, o.Source)
	}
	for _, o := range s.Groups {
		add("Group", o.Object.Namespace, o.Object.Name, o.Source)
	}
	for _, o := range s.ClusterNetworkPolicies {
		add("ClusterNetworkPolicy", "", o.Object.Name, o.Source)
	}
	for _, o := range s.NetworkPolicies {
		add("NetworkPolicy", o.Object.Namespace, o.Object.Name, o.Source)
	}
	return out
}
