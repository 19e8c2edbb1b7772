package live

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tierproof/tierproof/framework/topology"
)

// Topology reads the estate the model reasons about from the live cluster:
// namespaces and their labels; running pods with an IP, their labels, node,
// service account and named container ports; nodes and their internal IPs.
// hostNetwork pods are left out: Antrea's policies never select them as pods.
// externals (hosts outside the cluster) are added as given. keep, when not
// nil, chooses the pods to include.
func Topology(ctx context.Context, client kubernetes.Interface, externals []topology.External, keep func(corev1.Pod) bool) (*topology.Topology, error) {
	namespaces, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	pods, err := client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}

	t := &topology.Topology{Externals: externals}
	for _, ns := range namespaces.Items {
		labels := map[string]string{}
		for k, v := range ns.Labels {
			if k != topology.NamespaceNameLabel { // implied by the topology format
				labels[k] = v
			}
		}
		t.Namespaces = append(t.Namespaces, topology.Namespace{Name: ns.Name, Labels: labels})
	}
	for _, p := range pods.Items {
		if p.Spec.HostNetwork || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || (keep != nil && !keep(p)) {
			continue
		}
		pod := topology.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, IP: p.Status.PodIP,
			Node: p.Spec.NodeName, ServiceAccount: p.Spec.ServiceAccountName}
		// Policies resolve named ports against spec.containers only.
		for _, c := range p.Spec.Containers {
			for _, port := range c.Ports {
				if port.Name != "" {
					pod.Ports = append(pod.Ports, topology.ContainerPort{Name: port.Name, Port: port.ContainerPort, Protocol: port.Protocol})
				}
			}
		}
		t.Pods = append(t.Pods, pod)
	}
	for _, n := range nodes.Items {
		node := topology.Node{Name: n.Name, Labels: n.Labels}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && node.IP == "" {
				node.IP = a.Address
			}
		}
		t.Nodes = append(t.Nodes, node)
	}
	sort.Slice(t.Pods, func(i, j int) bool { return t.Pods[i].EndpointName() < t.Pods[j].EndpointName() })
	if err := t.Validate().ToAggregate(); err != nil {
		return nil, fmt.Errorf("the live estate is not a valid topology: %w", err)
	}
	return t, nil
}
