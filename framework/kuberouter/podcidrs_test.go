package kuberouter

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func node(name, ip, cidr string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDR: cidr},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}}}
}

// kind returns once kubeadm join is done, and a worker's Node object may come
// later (a real run met it): the pod network waits for every kind node.
func TestThePodNetworkWaitsForEveryKindNode(t *testing.T) {
	cs := fake.NewSimpleClientset(node("cp", "172.31.255.2", "10.10.0.0/24"), node("w1", "172.31.255.3", "10.10.1.0/24"))
	go func() {
		time.Sleep(1200 * time.Millisecond)
		_, _ = cs.CoreV1().Nodes().Create(context.Background(), node("w2", "172.31.255.4", "10.10.2.0/24"), metav1.CreateOptions{})
	}()
	nodes, err := podCIDRs(context.Background(), cs, []string{"cp", "w1", "w2"}, 10*time.Second)
	if err != nil || len(nodes) != 3 || nodes[2] != (Node{"w2", "172.31.255.4", "10.10.2.0/24"}) {
		t.Fatalf("%+v, %v", nodes, err)
	}
	_, err = podCIDRs(context.Background(), cs, []string{"cp", "w3"}, 1500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "[w3]") {
		t.Errorf("a node that never registers: %v", err)
	}
}
