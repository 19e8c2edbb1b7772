package live

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tierproof/tierproof/framework/topology"
)

// endpointNames names each pod after its workload, as the offline topology
// does (estate.Workload): a Deployment's, ReplicaSet's or DaemonSet's pods
// WORKLOAD-0, -1, … (a Deployment's in the order of their names, a
// DaemonSet's in the order of their nodes'), so that reports and assertions
// name the same endpoints from run to run. A StatefulSet's and a bare
// pod's keep their own names. The keys are namespace/pod.
func endpointNames(pods []corev1.Pod) map[string]string {
	type group struct{ namespace, workload string }
	members := map[group][]corev1.Pod{}
	names := map[string]string{}
	for _, p := range pods {
		names[p.Namespace+"/"+p.Name] = p.Name
		if w := workloadOf(p); w != "" {
			g := group{p.Namespace, w}
			members[g] = append(members[g], p)
		}
	}
	for g, ps := range members {
		sort.Slice(ps, func(i, j int) bool {
			if ps[i].Spec.NodeName != ps[j].Spec.NodeName && isDaemonSetPod(ps[i]) {
				return ps[i].Spec.NodeName < ps[j].Spec.NodeName
			}
			return ps[i].Name < ps[j].Name
		})
		for i, p := range ps {
			names[p.Namespace+"/"+p.Name] = g.workload + "-" + strconv.Itoa(i)
		}
	}
	return names
}

// workloadOf is the workload a pod is named after: its Deployment (its
// ReplicaSet's name less the pod-template-hash the Deployment added), its
// ReplicaSet or DaemonSet; "" for a StatefulSet's pod (already NAME-ORDINAL)
// and a pod of no controller.
func workloadOf(p corev1.Pod) string {
	owner := metav1.GetControllerOf(&p)
	if owner == nil {
		return ""
	}
	switch owner.Kind {
	case "ReplicaSet":
		if hash := p.Labels["pod-template-hash"]; hash != "" {
			if deployment, ok := strings.CutSuffix(owner.Name, "-"+hash); ok {
				return deployment
			}
		}
		return owner.Name
	case "DaemonSet":
		return owner.Name
	}
	return ""
}

func isDaemonSetPod(p corev1.Pod) bool {
	owner := metav1.GetControllerOf(&p)
	return owner != nil && owner.Kind == "DaemonSet"
}

// Topology reads the estate the model reasons about from the live cluster:
// namespaces and their labels; running pods with an IP, their labels, node,
// service account and container ports; nodes and their internal IPs.
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
	var running []corev1.Pod
	for _, p := range pods.Items {
		if p.Spec.HostNetwork || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || p.DeletionTimestamp != nil || (keep != nil && !keep(p)) {
			continue
		}
		running = append(running, p)
	}
	names := endpointNames(running)
	for _, p := range running {
		pod := topology.Pod{Namespace: p.Namespace, Name: names[p.Namespace+"/"+p.Name], Labels: p.Labels, IP: p.Status.PodIP,
			Node: p.Spec.NodeName, ServiceAccount: p.Spec.ServiceAccountName}
		if pod.Name != p.Name {
			pod.PodName = p.Name
		}
		// Policies resolve named ports against spec.containers only.
		for _, c := range p.Spec.Containers {
			for _, port := range c.Ports {
				protocol := port.Protocol
				if protocol == "" {
					protocol = corev1.ProtocolTCP // the API server's default
				}
				pod.Ports = append(pod.Ports, topology.ContainerPort{Name: port.Name, Port: port.ContainerPort, Protocol: protocol})
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
