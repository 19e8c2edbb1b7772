package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the API group of Antrea's policy CRDs.
const GroupName = "crd.antrea.io"

// SchemeGroupVersion is the group version the mirror describes.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1beta1"}

var (
	schemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme registers the mirrored kinds with a scheme.
	AddToScheme = schemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion,
		&Tier{}, &TierList{},
		&ClusterNetworkPolicy{}, &ClusterNetworkPolicyList{},
		&NetworkPolicy{}, &NetworkPolicyList{},
		&ClusterGroup{}, &ClusterGroupList{},
		&Group{}, &GroupList{},
		&Traceflow{}, &TraceflowList{},
	)
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}
