package policy

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
)

// Kind is one kind of object a policy input may hold.
type Kind struct {
	GVK        schema.GroupVersionKind
	Namespaced bool
	// ApplyRank orders applying: nothing before what it refers to (Antrea's
	// admission refuses a policy that names an unknown Tier or group).
	// Removing runs in the reverse order.
	ApplyRank int
}

// The apply ranks of policy kinds; kube.ApplyOrder puts the estate's own
// kinds (namespaces, service accounts, Services, Pods) between them.
const (
	RankTier         = 2
	RankClusterGroup = 3
	RankGroup        = 4
	RankPolicy       = 7
)

// Kinds are the kinds a policy input may hold: the one table the decoder,
// the Set, the applier's order and the cleanup of leftovers read.
var Kinds = []Kind{
	{antreav1beta1.SchemeGroupVersion.WithKind("ClusterNetworkPolicy"), false, RankPolicy},
	{antreav1beta1.SchemeGroupVersion.WithKind("NetworkPolicy"), true, RankPolicy},
	{antreav1beta1.SchemeGroupVersion.WithKind("Tier"), false, RankTier},
	{antreav1beta1.SchemeGroupVersion.WithKind("ClusterGroup"), false, RankClusterGroup},
	{antreav1beta1.SchemeGroupVersion.WithKind("Group"), true, RankGroup},
	{networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"), true, RankPolicy},
	// The network-policy-api's ClusterNetworkPolicy, at the version Antrea
	// 2.7 watches; v1beta1, the same schema, is read too (see Scheme).
	{UpstreamCNPVersion.WithKind("ClusterNetworkPolicy"), false, RankPolicy},
}

// UpstreamCNPVersion is the network-policy-api version whose
// ClusterNetworkPolicy Antrea 2.7 watches and tierproof applies
// (pkg/controller/networkpolicy/clusternetworkpolicy.go imports v1alpha2).
var UpstreamCNPVersion = schema.GroupVersion(npav1alpha2.GroupVersion)

// KindOf is the policy kind of gk, at whatever version.
func KindOf(gk schema.GroupKind) (Kind, bool) {
	for _, k := range Kinds {
		if k.GVK.GroupKind() == gk {
			return k, true
		}
	}
	return Kind{}, false
}

// describeKinds lists Kinds by API version, for messages:
// "crd.antrea.io/v1beta1 ClusterNetworkPolicy, …; networking.k8s.io/v1 NetworkPolicy".
func describeKinds() string {
	var versions []string
	byVersion := map[string][]string{}
	for _, k := range Kinds {
		v := k.GVK.GroupVersion().String()
		if byVersion[v] == nil {
			versions = append(versions, v)
		}
		byVersion[v] = append(byVersion[v], k.GVK.Kind)
	}
	parts := make([]string, len(versions))
	for i, v := range versions {
		parts[i] = v + " " + strings.Join(byVersion[v], ", ")
	}
	return strings.Join(parts, "; ")
}

// refusal says why a document of a policy kind at an API version tierproof
// does not read is refused rather than passed over as another kind: read as
// no policy, it would make every flow it decides look allowed.
func refusal(gvk schema.GroupVersionKind) string {
	switch {
	case gvk.Group == npav1alpha2.GroupName && gvk.Kind != "ClusterNetworkPolicy":
		return fmt.Sprintf("%s (%s) is not read: the network-policy-api replaced AdminNetworkPolicy and BaselineAdminNetworkPolicy with ClusterNetworkPolicy (tier: Admin or Baseline) in v0.2.0, and Antrea 2.7 enforces that; rewrite it as a policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy", gvk.Kind, gvk.GroupVersion())
	case gvk.Group == npav1alpha2.GroupName:
		return fmt.Sprintf("apiVersion %s is not read: write apiVersion: %s or policy.networking.k8s.io/v1beta1 (the same fields)", gvk.GroupVersion(), UpstreamCNPVersion)
	case gvk.Group == "extensions" && gvk.Kind == "NetworkPolicy":
		return "apiVersion extensions/v1beta1 was removed in Kubernetes 1.16: write apiVersion: networking.k8s.io/v1 (the same fields)"
	}
	k, ok := KindOf(gvk.GroupKind())
	if !ok {
		return ""
	}
	if gvk.Group == "crd.antrea.io" {
		return fmt.Sprintf("apiVersion %s is not read: Antrea 2.0 removed its alpha policy APIs; write apiVersion: %s (ClusterNetworkPolicy and NetworkPolicy keep their fields; check yours against Antrea's docs/antrea-network-policy.md)", gvk.GroupVersion(), k.GVK.GroupVersion())
	}
	return fmt.Sprintf("apiVersion %s is not read: write apiVersion: %s (the same fields)", gvk.GroupVersion(), k.GVK.GroupVersion())
}
