package kube_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tierproof/tierproof/framework/estate"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/policy"
)

func kindsOf(objects []runtime.Object) string {
	var kinds []string
	for _, o := range objects {
		kinds = append(kinds, o.GetObjectKind().GroupVersionKind().Kind)
	}
	return strings.Join(kinds, ",")
}

func TestApplyOrderPutsWhatIsReferredToFirst(t *testing.T) {
	objects, err := policy.Decode("stage.yaml", []byte(`apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: p}
spec: {priority: 1, tier: mytier, appliedTo: [{group: g}], ingress: [{action: Drop}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: k, namespace: x}
spec: {podSelector: {}}
---
apiVersion: crd.antrea.io/v1beta1
kind: ClusterGroup
metadata: {name: g}
spec: {podSelector: {}}
---
apiVersion: crd.antrea.io/v1beta1
kind: Tier
metadata: {name: mytier}
spec: {priority: 120}
`))
	if err != nil {
		t.Fatal(err)
	}
	var in []runtime.Object
	for _, o := range objects {
		in = append(in, o.Object)
	}
	if got, want := kindsOf(kube.ApplyOrder(in)), "Tier,ClusterGroup,ClusterNetworkPolicy,NetworkPolicy"; got != want {
		t.Fatalf("order %s, want %s (policies keep their input order)", got, want)
	}
	if kindsOf(in) != "ClusterNetworkPolicy,NetworkPolicy,ClusterGroup,Tier" {
		t.Fatal("ApplyOrder reordered its input in place")
	}
}

func TestEstateAndBlogStagesApplyInOrderAndAreOwned(t *testing.T) {
	e, err := estate.Load(context.Background(), filepath.Join("..", "..", "scenarios", "antrea-blog", "estate"))
	if err != nil {
		t.Fatal(err)
	}
	var objects []runtime.Object
	for _, o := range e.Objects {
		objects = append(objects, o.Object)
	}
	ordered := kube.ApplyOrder(objects)
	if got := kindsOf(ordered); !strings.HasPrefix(got, "Namespace,Namespace,Namespace,Namespace,Namespace,Service") || !strings.HasSuffix(got, "Pod") {
		t.Errorf("estate order %s: namespaces, then services, then pods (yelb-ui resolves yelb-appserver at start)", got)
	}
	set, err := policy.ReadPath(context.Background(), filepath.Join("..", "..", "scenarios", "antrea-blog", "01-isolate-environments"))
	if err != nil {
		t.Fatal(err)
	}
	var stage []runtime.Object
	for _, o := range set {
		stage = append(stage, o.Object)
	}
	if err := kube.Own(append(ordered, stage...), "run-1"); err != nil {
		t.Fatal(err)
	}
	for _, o := range append(ordered, stage...) {
		m, _ := meta.Accessor(o)
		if m.GetLabels()[kube.OwnerLabel] != "run-1" {
			t.Errorf("%s %s is not labelled as tierproof's", o.GetObjectKind().GroupVersionKind().Kind, m.GetName())
		}
	}
	// Labelling keeps the labels policies select on.
	for _, o := range ordered {
		if m, _ := meta.Accessor(o); m.GetName() == "yelb" && m.GetLabels()["env"] != "test" {
			t.Errorf("yelb lost its env label: %v", m.GetLabels())
		}
	}
}
