package live_test

import (
	"context"
	"strconv"
	"strings"
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
	// Unnamed ports too (lint and the derived probes read them); an init
	// container's serve nothing once the pod runs.
	if len(ui.Ports) != 2 || ui.Ports[0].Name != "http" || ui.Ports[0].Port != 80 || ui.Ports[1].Port != 8080 || ui.Ports[1].Protocol != corev1.ProtocolTCP {
		t.Errorf("ports %+v: want http/80 and 8080/TCP (no init-container port)", ui.Ports)
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

// Pods are named after their workload, as the offline topology names them,
// whatever names their controllers gave them; the live name stays beside.
func TestPodsAreNamedAfterTheirWorkload(t *testing.T) {
	running := func(name, node string, labels map[string]string, owner *metav1.OwnerReference) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: labels},
			Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.1." + strconv.Itoa(len(name)+len(node))}}
		if owner != nil {
			owner.Controller = ptr(true)
			p.OwnerReferences = []metav1.OwnerReference{*owner}
		}
		return p
	}
	rs := &metav1.OwnerReference{Kind: "ReplicaSet", Name: "frontend-7d9c8f"}
	ds := &metav1.OwnerReference{Kind: "DaemonSet", Name: "log-agent"}
	client := fake.NewSimpleClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		running("frontend-7d9c8f-zzzzz", "kind-worker", map[string]string{"pod-template-hash": "7d9c8f"}, rs),
		running("frontend-7d9c8f-aaaaa", "kind-worker2", map[string]string{"pod-template-hash": "7d9c8f"}, rs),
		running("log-agent-q", "kind-worker2", nil, ds),
		running("log-agent-p", "kind-worker", nil, ds),
		running("payments-1", "kind-worker", nil, &metav1.OwnerReference{Kind: "StatefulSet", Name: "payments"}),
		running("batch-x1", "kind-worker", nil, &metav1.OwnerReference{Kind: "ReplicaSet", Name: "batch"}),
		running("debug", "kind-worker", nil, nil))
	topo, err := live.Topology(context.Background(), client, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range topo.Pods {
		got = append(got, p.EndpointName()+"="+p.LiveName())
	}
	want := []string{"shop/batch-0=shop/batch-x1", "shop/debug=shop/debug", "shop/frontend-0=shop/frontend-7d9c8f-aaaaa",
		"shop/frontend-1=shop/frontend-7d9c8f-zzzzz", "shop/log-agent-0=shop/log-agent-p", "shop/log-agent-1=shop/log-agent-q", "shop/payments-1=shop/payments-1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pods:\n got %v\nwant %v", got, want)
	}
}

func ptr[T any](v T) *T { return &v }
