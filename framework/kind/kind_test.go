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
		// An empty cluster segment must not disable the two-clusters check.
		{[]*corev1.Node{node("x", "kind://docker//x"), node("b-worker", "kind://docker/b/b-worker")}, "with no cluster or node name"},
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
		testenv.DockerAnswer{Pattern: "inspect --format*tp-control-plane", Stdout: "control-plane"},
		testenv.DockerAnswer{Pattern: "inspect --format*tp-worker", Stdout: "worker"},
		testenv.DockerAnswer{Pattern: "port tp-control-plane 6443/tcp", Stdout: "127.0.0.1:41234\n"},
		testenv.DockerAnswer{Pattern: "inspect tp-control-plane --format*", Stdout: "kind "},
		testenv.DockerAnswer{Pattern: "network inspect kind --format*", Stdout: `{"IPAM":{"Config":[{"Subnet":"172.18.0.0/16"}]},"Labels":{}}`})
	for _, server := range []string{"https://127.0.0.1:41234", "https://tp-control-plane:6443"} {
		k, err := kind.Attach(context.Background(), client, "/home/u/.kube/config", server)
		if err != nil || k.Name != "tp" || k.Network.Name != "kind" || k.Network.Subnet.String() != "172.18.0.0/16" || k.Network.Owned {
			t.Fatalf("attached %+v, %v", k, err)
		}
	}
	// What the API server says of itself is not proof: a cluster elsewhere
	// whose nodes claim kind's providerIDs, or one with a node that is no
	// container here, is refused.
	if _, err := kind.Attach(context.Background(), client, "/home/u/.kube/config", "https://10.20.30.40:6443"); err == nil ||
		!strings.Contains(err.Error(), "its server https://10.20.30.40:6443 is not the API server of kind cluster tp on this host (Docker publishes it at tp-control-plane:6443, 127.0.0.1:41234, localhost:41234)") {
		t.Errorf("a forged cluster elsewhere: %v", err)
	}
	extra := fake.NewSimpleClientset(node("tp-control-plane", "kind://docker/tp/tp-control-plane"), node("tp-worker", "kind://docker/tp/tp-worker"), node("tp-worker9", "kind://docker/tp/tp-worker9"))
	if _, err := kind.Attach(context.Background(), extra, "/home/u/.kube/config", "https://127.0.0.1:41234"); err == nil ||
		!strings.Contains(err.Error(), "node tp-worker9 is no container of kind cluster tp on this host") {
		t.Errorf("a node that is no local container: %v", err)
	}
	// Attach refuses before touching Docker.
	calls := testenv.FakeDocker(t)
	eks := fake.NewSimpleClientset(node("ip-10-0-0-1", "aws:///eu-west-1a/i-0abc"))
	if _, err := kind.Attach(context.Background(), eks, "/home/u/.kube/config", "https://eks.example:443"); err == nil ||
		!strings.Contains(err.Error(), "refusing the cluster of /home/u/.kube/config") || len(calls()) != 0 {
		t.Errorf("a non-kind cluster: %v (docker calls %q)", err, calls())
	}
}

// A kept cluster is reused only when it is what this run would create: the
// same node image, and nodes labelled with the same run and data plane. A
// kube-router cluster kept after a failure is not Antrea's to reuse.
func TestAKeptClusterIsReusedOnlyForTheSameDataPlaneAndImage(t *testing.T) {
	calls := testenv.FakeDocker(t, testenv.DockerInfo,
		testenv.DockerAnswer{Pattern: `ps -a --filter label=io.x-k8s.kind.cluster --format*`, Stdout: "tierproof\n"},
		testenv.DockerAnswer{Pattern: "ps -a --filter label=io.x-k8s.kind.cluster=tierproof --format*", Stdout: "tierproof-control-plane\ntierproof-worker\ntierproof-worker2\n"},
		testenv.DockerAnswer{Pattern: "inspect --format {{.Config.Image}} *", Stdout: "tierproof.local/kind-node:v1.36.3\n"})
	k, err := kind.New("tierproof", t.TempDir()+"/kubeconfig", log.NoopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	created, err := k.Up(context.Background())
	if created || err == nil || !strings.Contains(err.Error(), "its node tierproof-control-plane runs tierproof.local/kind-node:v1.36.3, and this run asks for "+kind.NodeImage) ||
		!strings.Contains(err.Error(), "neither reused nor deleted") {
		t.Errorf("a kept cluster of another node image: %v, %v", created, err)
	}
	for _, call := range calls() {
		if strings.HasPrefix(call, "rm") || strings.HasPrefix(call, "exec") || strings.HasPrefix(call, "run") {
			t.Errorf("Up touched the refused cluster: docker %s", call)
		}
	}

	node := func(labels map[string]string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "tierproof-worker", Labels: labels}}
	}
	want := map[string]string{kind.OwnerLabel: "tierproof", kind.DataPlaneLabel: "antrea"}
	for _, c := range []struct {
		labels map[string]string
		why    string
	}{
		{map[string]string{kind.OwnerLabel: "tierproof", kind.DataPlaneLabel: "antrea"}, ""},
		{map[string]string{kind.OwnerLabel: "tierproof", kind.DataPlaneLabel: "kube-router"}, `has tierproof.io/data-plane="kube-router", and this run needs "antrea"`},
		{nil, `has tierproof.io/data-plane="", and this run needs "antrea"`},
	} {
		why, err := kind.NodeLabelsMismatch(context.Background(), fake.NewSimpleClientset(node(c.labels)), want)
		if err != nil || (c.why == "") != (why == "") || !strings.Contains(why, c.why) {
			t.Errorf("labels %v: %q, %v; want %q", c.labels, why, err, c.why)
		}
	}
}
