package cluster_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/cluster"
)

func TestKindUpStopsAtTheDockerCheck(t *testing.T) {
	if cluster.CheckDocker(context.Background()) == nil {
		t.Skip("a Docker engine answers here: Up would create a real cluster")
	}
	k, err := cluster.NewKind("tierproof-test", t.TempDir()+"/kubeconfig", log.NoopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	created, err := k.Up(context.Background())
	if created || !errors.Is(err, cluster.ErrDockerUnavailable) {
		t.Fatalf("Up = %v, %v; want no cluster and ErrDockerUnavailable", created, err)
	}
	if _, err := cluster.NewKind("x", "", log.NoopLogger{}); err == nil {
		t.Fatal("a kind cluster without its own kubeconfig path was accepted (kind would write ~/.kube/config)")
	}
}

func TestKindClusterNameComesFromTheProviderIDs(t *testing.T) {
	node := func(name, providerID string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{ProviderID: providerID}}
	}
	kind := fake.NewSimpleClientset(node("tp-control-plane", "kind://docker/tp/tp-control-plane"), node("tp-worker", "kind://docker/tp/tp-worker"))
	if name, why, err := cluster.KindClusterName(context.Background(), kind); name != "tp" || why != "" || err != nil {
		t.Fatalf("kind cluster: %q %q %v", name, why, err)
	}
	for _, c := range []struct {
		nodes []*corev1.Node
		why   string
	}{
		{[]*corev1.Node{node("tp-control-plane", "kind://docker/tp/tp-control-plane"), node("ip-10-0-0-1", "aws:///eu-west-1a/i-0abc")},
			`node ip-10-0-0-1 has providerID "aws:///eu-west-1a/i-0abc", not kind's`},
		{[]*corev1.Node{node("tp-control-plane", "kind://podman/tp/tp-control-plane")}, "kind node on podman"},
		{[]*corev1.Node{node("a-control-plane", "kind://docker/a/a-control-plane"), node("b-worker", "kind://docker/b/b-worker")}, "kind clusters a and b"},
		{nil, "no nodes"},
	} {
		var objects []runtime.Object
		for _, n := range c.nodes {
			objects = append(objects, n)
		}
		name, why, err := cluster.KindClusterName(context.Background(), fake.NewSimpleClientset(objects...))
		if err != nil || name != "" || !strings.Contains(why, c.why) {
			t.Errorf("%q %q %v, want refused with %q", name, why, err, c.why)
		}
	}
	// An existing kind cluster is attached with the network its nodes are on,
	// so that the agent image is loaded into them and the externals join it.
	fakeDocker(t,
		answer{pattern: "ps -a --filter label=io.x-k8s.kind.cluster=tp --format*", stdout: "tp-control-plane\ntp-worker\n"},
		answer{pattern: "inspect tp-control-plane --format*", stdout: "kind "},
		answer{pattern: "network inspect kind --format*", stdout: `{"IPAM":{"Config":[{"Subnet":"172.18.0.0/16"}]},"Labels":{}}`})
	k, err := cluster.AttachKind(context.Background(), kind, "/home/u/.kube/config")
	if err != nil || k.Name != "tp" || k.Network.Name != "kind" || k.Network.Subnet.String() != "172.18.0.0/16" || k.Network.Owned {
		t.Fatalf("attached %+v, %v", k, err)
	}
	// AttachKind refuses before touching Docker.
	calls := fakeDocker(t)
	eks := fake.NewSimpleClientset(node("ip-10-0-0-1", "aws:///eu-west-1a/i-0abc"))
	if _, err := cluster.AttachKind(context.Background(), eks, "/home/u/.kube/config"); err == nil ||
		!strings.Contains(err.Error(), "refusing the cluster of /home/u/.kube/config") || len(calls()) != 0 {
		t.Errorf("a non-kind cluster: %v (docker calls %q)", err, calls())
	}
}

// A kept cluster's pods made by another build — another agent image, or a
// pod spec the API server would refuse to update in place — are deleted, for
// the estate's apply to recreate; this build's, and pods that are not
// tierproof's, stay.
func TestRecreateStalePodsDeletesOnlyOtherBuilds(t *testing.T) {
	estate, err := fixtures.Estate("antrea-blog")
	if err != nil {
		t.Fatal(err)
	}
	current, err := cluster.Fingerprint(estate, "sha256:"+strings.Repeat("c", 64))
	if err != nil {
		t.Fatal(err)
	}
	estate2, _ := fixtures.Estate("antrea-blog")
	otherAgent, _ := cluster.Fingerprint(estate2, "sha256:"+strings.Repeat("0", 64))
	if len(current) != 10 || current["yelb/yelb-db"] == otherAgent["yelb/yelb-db"] {
		t.Fatalf("fingerprints %v: want one per estate pod, changing with the agent image", current)
	}
	estate3, _ := fixtures.Estate("antrea-blog")
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
			p.Labels = map[string]string{cluster.OwnerLabel: "tierproof"}
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
