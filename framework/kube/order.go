package kube

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/policy"
)

// OwnerLabel marks every object tierproof creates, Kubernetes objects and
// Docker containers and networks alike, so cleanup finds exactly those.
const OwnerLabel = kind.OwnerLabel

// estateRank places the estate's kinds among the policy kinds' ranks
// (policy.Kinds): namespaces hold everything namespaced; Services come before
// the Pods (and the workloads that make them) that resolve them at start
// (yelb-ui's nginx looks up yelb-appserver when it starts and exits if it
// cannot), then policies.
var estateRank = map[string]int{
	"Namespace":      0,
	"ServiceAccount": 1,
	"Service":        5,
	"Pod":            6,
	"Deployment":     6,
	"StatefulSet":    6,
	"DaemonSet":      6,
	"ReplicaSet":     6,
}

// ApplyOrder sorts objects into dependency order, keeping input order within a
// rank. Deleting runs in the reverse order.
func ApplyOrder(objects []runtime.Object) []runtime.Object {
	out := append([]runtime.Object(nil), objects...)
	rank := func(o runtime.Object) int {
		gvk := o.GetObjectKind().GroupVersionKind()
		if k, ok := policy.KindOf(gvk.GroupKind()); ok {
			return k.ApplyRank
		}
		if r, ok := estateRank[gvk.Kind]; ok {
			return r
		}
		return policy.RankPolicy
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

// Own labels objects as created by run, so that cleanup can find them.
func Own(objects []runtime.Object, run string) error {
	for _, o := range objects {
		m, err := meta.Accessor(o)
		if err != nil {
			return fmt.Errorf("labelling %T: %w", o, err)
		}
		labels := m.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[OwnerLabel] = run
		m.SetLabels(labels)
	}
	return nil
}
