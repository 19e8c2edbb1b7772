package kind_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/testenv"
)

func TestKindUpStopsAtTheDockerCheck(t *testing.T) {
	if kind.CheckDocker(context.Background()) == nil {
		t.Skip("a Docker engine answers here: Up would create a real cluster")
	}
	k, err := kind.New("tierproof-test", t.TempDir()+"/kubeconfig", log.NoopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	created, err := k.Up(context.Background())
	if created || !errors.Is(err, kind.ErrDockerUnavailable) {
		t.Fatalf("Up = %v, %v; want no cluster and ErrDockerUnavailable", created, err)
	}
	if _, err := kind.New("x", "", log.NoopLogger{}); err == nil {
		t.Fatal("a kind cluster without its own kubeconfig path was accepted (kind would write ~/.kube/config)")
	}
}

func TestKindClusterNameComesFromTheProviderIDs(t *testing.T) {
	node := func(name, providerID string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{ProviderID: providerID}}
	}
	client := fake.NewSimpleClientset(node("tp-control-plane", "kind://docker/tp/tp-control-plane"), node("tp-worker", "kind://docker/tp/tp-worker"))
	if name, why, err := kind.ClusterName(context.Background(), client); name != "tp" || why != "" || err != nil {
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
		name, why, err := kind.ClusterName(context.Background(), fake.NewSimpleClientset(objects...))
		if err != nil || name != "" || !strings.Contains(why, c.why) {
			t.Errorf("%q %q %v, want refused with %q", name, why, err, c.why)
		}
	}
	// An existing kind cluster is attached with the network its nodes are on,
	// so that the agent image is loaded into them and the externals join it.
	testenv.FakeDocker(t,
		testenv.DockerAnswer{Pattern: "ps -a --filter label=io.x-k8s.kind.cluster=tp --format*", Stdout: "tp-control-plane\ntp-worker\n"},
		testenv.DockerAnswer{Pattern: "inspect tp-control-plane --format*", Stdout: "kind "},
		testenv.DockerAnswer{Pattern: "network inspect kind --format*", Stdout: `{"IPAM":{"Config":[{"Subnet":"172.18.0.0/16"}]},"Labels":{}}`})
	k, err := kind.Attach(context.Background(), client, "/home/u/.kube/config")
	if err != nil || k.Name != "tp" || k.Network.Name != "kind" || k.Network.Subnet.String() != "172.18.0.0/16" || k.Network.Owned {
		t.Fatalf("attached %+v, %v", k, err)
	}
	// Attach refuses before touching Docker.
	calls := testenv.FakeDocker(t)
	eks := fake.NewSimpleClientset(node("ip-10-0-0-1", "aws:///eu-west-1a/i-0abc"))
	if _, err := kind.Attach(context.Background(), eks, "/home/u/.kube/config"); err == nil ||
		!strings.Contains(err.Error(), "refusing the cluster of /home/u/.kube/config") || len(calls()) != 0 {
		t.Errorf("a non-kind cluster: %v (docker calls %q)", err, calls())
	}
}
