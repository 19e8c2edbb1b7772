package cluster_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/kube"
)

// A kept cluster's pods made by another build — another agent image, or a
// pod spec the API server would refuse to update in place — are deleted, for
// the estate's apply to recreate; this build's, and pods that are not
// tierproof's, stay.
func TestRecreateStalePodsDeletesOnlyOtherBuilds(t *testing.T) {
	_, estate, _ := estateWithAgent(t, blog, false)
	current, err := cluster.Fingerprint(estate, "sha256:"+strings.Repeat("c", 64))
	if err != nil {
		t.Fatal(err)
	}
	_, estate2, _ := estateWithAgent(t, blog, false)
	otherAgent, _ := cluster.Fingerprint(estate2, "sha256:"+strings.Repeat("0", 64))
	if len(current) != 10 || current["yelb/yelb-db"] == otherAgent["yelb/yelb-db"] {
		t.Fatalf("fingerprints %v: want one per estate pod, changing with the agent image", current)
	}
	_, estate3, _ := estateWithAgent(t, blog, false)
	for _, o := range estate3 {
		if p, ok := o.(*corev1.Pod); ok && p.Name == "yelb-db" {
			p.Spec.Containers[0].ReadinessProbe = nil // an older fixture
		}
	}
	olderSpec, _ := cluster.Fingerprint(estate3, "sha256:"+strings.Repeat("c", 64))
	if olderSpec["yelb/yelb-db"] == current["yelb/yelb-db"] || olderSpec["yelb/yelb-ui"] != current["yelb/yelb-ui"] {
		t.Fatal("the fingerprint does not follow the pod spec")
	}
	pod := func(ns, name, print string, owned bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + name),
			Annotations: map[string]string{cluster.EstateAnnotation: print}}}
		if owned {
			p.Labels = map[string]string{kube.OwnerLabel: "tierproof"}
		}
		return p
	}
	cs := fake.NewSimpleClientset(
		pod("yelb", "yelb-ui", current["yelb/yelb-ui"], true),
		pod("yelb", "yelb-db", olderSpec["yelb/yelb-db"], true),
		pod("dev-app", "ubuntu-16-04", otherAgent["dev-app/ubuntu-16-04"], true),
		pod("dev-app", "ubuntu-20-04", "", true),
		pod("dev-app", "removed-from-the-fixture", "x", true),
		pod("dev-app", "theirs", "", false),
		pod("elsewhere", "old", "", true),
	)
	deleted, err := cluster.RecreateStalePods(context.Background(), cs, []string{"dev-app", "yelb"}, current, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(deleted)
	if got := strings.Join(deleted, ","); got != "dev-app/removed-from-the-fixture,dev-app/ubuntu-16-04,dev-app/ubuntu-20-04,yelb/yelb-db" {
		t.Errorf("deleted %s", got)
	}
	left, _ := cs.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
	var names []string
	for _, p := range left.Items {
		names = append(names, p.Namespace+"/"+p.Name)
	}
	slices.Sort(names)
	if got := strings.Join(names, ","); got != "dev-app/theirs,elsewhere/old,yelb/yelb-ui" {
		t.Errorf("left %s", got)
	}
}
