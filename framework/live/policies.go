package live

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
)

// Policies reads every policy object of the cluster that decides flows —
// ClusterNetworkPolicies, Antrea NetworkPolicies, Tiers other than Antrea's
// own, ClusterGroups, Groups, Kubernetes NetworkPolicies and the
// network-policy-api's ClusterNetworkPolicies — as manifests:
// status, managed fields and what the API server sets left out. With
// namespaces, namespaced objects of other namespaces are left out too.
// A kind the API server does not serve (Antrea's, on a cluster without
// Antrea; CNPs without their CRD) is left out with a note.
func Policies(ctx context.Context, c client.Reader, namespaces []string) (objects []*unstructured.Unstructured, notes []string, err error) {
	scheme := policy.Scheme()
	for _, k := range policy.Kinds {
		list, err := scheme.New(k.GVK.GroupVersion().WithKind(k.GVK.Kind + "List"))
		if err != nil {
			return nil, nil, err
		}
		l := list.(client.ObjectList)
		if err := c.List(ctx, l); err != nil {
			if meta.IsNoMatchError(err) {
				notes = append(notes, fmt.Sprintf("the cluster serves no %s (%s): none exported", k.GVK.Kind, k.GVK.GroupVersion()))
				continue
			}
			return nil, nil, fmt.Errorf("listing %s: %w", k.GVK.Kind, err)
		}
		items, err := meta.ExtractList(l)
		if err != nil {
			return nil, nil, err
		}
		for _, item := range items {
			o := item.(client.Object)
			if k.Namespaced && len(namespaces) > 0 && !slices.Contains(namespaces, o.GetNamespace()) {
				continue
			}
			if k.GVK.Kind == "Tier" && model.IsStaticTier(o.GetName()) {
				continue
			}
			m, err := asManifest(o, k.GVK)
			if err != nil {
				return nil, nil, err
			}
			objects = append(objects, m)
		}
	}
	return objects, notes, nil
}

// asManifest is o as a user would write it: its kind, name, namespace,
// labels and annotations (but kubectl's copy of the last applied object),
// and spec; no status, nothing the API server sets.
func asManifest(o client.Object, gvk schema.GroupVersionKind) (*unstructured.Unstructured, error) {
	object, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, err
	}
	annotations := o.GetAnnotations()
	delete(annotations, "kubectl.kubernetes.io/last-applied-configuration")
	m := &unstructured.Unstructured{Object: map[string]any{}}
	m.SetGroupVersionKind(gvk)
	m.SetName(o.GetName())
	m.SetNamespace(o.GetNamespace())
	m.SetLabels(o.GetLabels())
	if len(annotations) > 0 {
		m.SetAnnotations(annotations)
	}
	m.Object["spec"] = object["spec"]
	return m, nil
}
