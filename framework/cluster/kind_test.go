package cluster_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/kind/pkg/log"

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

func TestIsKindClusterRefusesOtherClusters(t *testing.T) {
	node := func(name, providerID string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{ProviderID: providerID}}
	}
	kind := fake.NewSimpleClientset(node("tp-control-plane", "kind://docker/tp/tp-control-plane"), node("tp-worker", "kind://docker/tp/tp-worker"))
	if ok, why, err := cluster.IsKindCluster(context.Background(), kind); !ok || err != nil {
		t.Fatalf("kind cluster refused: %s %v", why, err)
	}
	eks := fake.NewSimpleClientset(node("tp-control-plane", "kind://docker/tp/tp-control-plane"), node("ip-10-0-0-1", "aws:///eu-west-1a/i-0abc"))
	ok, why, err := cluster.IsKindCluster(context.Background(), eks)
	if ok || err != nil || !strings.Contains(why, `node ip-10-0-0-1 has providerID "aws:///eu-west-1a/i-0abc"`) {
		t.Fatalf("mixed cluster: %v %q %v", ok, why, err)
	}
	if ok, why, _ := cluster.IsKindCluster(context.Background(), fake.NewSimpleClientset()); ok || why == "" {
		t.Fatal("a cluster without nodes passed as kind")
	}
}
