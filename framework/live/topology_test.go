package live_test

import (
	"context"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tierproof/tierproof/framework/live"
	"github.com/tierproof/tierproof/framework/topology"
)

func TestSnapshotReadsTheEstateTheModelNeeds(t *testing.T) {
	ns := func(name string, labels map[string]string) *corev1.Namespace {
		l := map[string]string{"kubernetes.io/metadata.name": name}
		for k, v := range labels {
			l[k] = v
		}
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
	}
	pod := func(namespace, name, ip string, mutate func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{"app": name}},
			Spec:   corev1.PodSpec{NodeName: "kind-worker", ServiceAccountName: "default"},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip}}
		if mutate != nil {
			mutate(p)
		}
		return p
	}
	client := fake.NewSimpleClientset(
		ns("yelb", map[string]string{"env": "test", "ns": "yelb"}),
		ns("kube-system", map[string]string{"ns": "kube-system"}),
		pod("yelb", "yelb-ui", "10.10.1.5", func(p *corev1.Pod) {
			p.Spec.Containers = []corev1.Container{
				{Name: "yelb-ui", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP}, {ContainerPort: 8080}}},
				{Name: "tierproof-agent"},
			}
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Ports: []corev1.ContainerPort{{Name: "init-port", ContainerPort: 9}}}}
			p.Spec.ServiceAccountName = "ui"
		}),
		pod("yelb", "pending", "", func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }),
		pod("kube-system", "kube-proxy", "172.18.0.3", func(p *corev1.Pod) { p.Spec.HostNetwork = true }),
		pod("kube-system", "coredns", "10.10.0.2", nil),
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "kind-worker", Labels: map[string]string{"role": "worker"}},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "kind-worker"}, {Type: corev1.NodeInternalIP, Address: "172.18.0.3"}}}},
	)
	topo, err := live.Topology(context.Background(), client, []topology.External{{Name: "ssh-server", IP: "172.18.0.100"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Pods) != 2 || topo.Pods[0].EndpointName() != "kube-system/coredns" || topo.Pods[1].EndpointName() != "yelb/yelb-ui" {
		t.Fatalf("pods %+v: want coredns and yelb-ui only (no pending, no hostNetwork pod)", topo.Pods)
	}
	ui := topo.Pods[1]
	if ui.IP != "10.10.1.5" || ui.Node != "kind-worker" || ui.ServiceAccount != "ui" || ui.Labels["app"] != "yelb-ui" {
		t.Errorf("yelb-ui: %+v", ui)
	}
	if len(ui.Ports) != 1 || ui.Ports[0].Name != "http" || ui.Ports[0].Port != 80 {
		t.Errorf("named ports %+v: want only http/80 (unnamed and init-container ports do not count)", ui.Ports)
	}
	var yelb topology.Namespace
	for _, n := range topo.Namespaces {
		if n.Name == "yelb" {
			yelb = n
		}
	}
	if yelb.Labels["env"] != "test" || yelb.Labels["ns"] != "yelb" {
		t.Errorf("yelb labels %v", yelb.Labels)
	}
	if len(topo.Nodes) != 1 || topo.Nodes[0].IP != "172.18.0.3" {
		t.Errorf("nodes %+v: want kind-worker with its internal IP", topo.Nodes)
	}
	if len(topo.Externals) != 1 || topo.Externals[0].Name != "ssh-server" {
		t.Errorf("externals %+v", topo.Externals)
	}
}

func TestSnapshotKeepsOnlyChosenPods(t *testing.T) {
	running := func(namespace, name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.10.0." + strconv.Itoa(len(name))}}
	}
	client := fake.NewSimpleClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, running("a", "p"), running("a", "skipped"))
	topo, err := live.Topology(context.Background(), client, nil, func(p corev1.Pod) bool { return p.Name != "skipped" })
	if err != nil || len(topo.Pods) != 1 || topo.Pods[0].Name != "p" {
		t.Fatalf("pods %+v, %v", topo.Pods, err)
	}
}
