package estate

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"

	corev1 "k8s.io/api/core/v1"

	"github.com/tierproof/tierproof/framework/topology"
)

// Layout is where the derived pods run offline: the worker nodes (a
// DaemonSet has a pod on each) behind a control plane that runs none of the
// estate's pods, as on kind, and the hosts outside the cluster.
type Layout struct {
	Workers   []string
	Externals []topology.External
	// CoreDNS adds the cluster's DNS as a target: kube-system (labelled
	// ns=kube-system, as a cluster run labels it) and its CoreDNS pod.
	CoreDNS bool
}

// coreDNS is CoreDNS as kind runs it, on the control plane; a cluster run
// names its replicas coredns-0 and coredns-1.
var coreDNS = topology.Pod{Namespace: "kube-system", Name: "coredns", Labels: map[string]string{"k8s-app": "kube-dns"}, Node: controlPlane,
	Ports: []topology.ContainerPort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP}}}

// KindWorkers are the workers of the cluster make e2e boots.
var KindWorkers = []string{"kind-worker", "kind-worker2"}

const controlPlane = "kind-control-plane"

// Placeholder addresses, in the ranges of the kind cluster a run boots:
// node i of the node list (the control plane first) at 172.18.0.(2+i), its
// pods in 10.10.i.0/24 (the cluster's pod subnet is 10.10.0.0/16).
var (
	nodeBase = netip.MustParseAddr("172.18.0.2")
	podBase  = netip.MustParseAddr("10.10.0.0")
)

// maxPodsPerNode is what a node's /24 holds, as kind's (and the kubelet's
// default limit is lower still: 110).
const maxPodsPerNode = 250

// Topology derives the estate's topology: each namespace with its labels,
// each replica a pod named after its workload (frontend-0, frontend-1; a bare
// Pod keeps its name) with the template's labels, service account and
// container ports, placed on the workers in turn, with an address from its
// node's pod range. The same estate and layout give the same topology.
func (e *Estate) Topology(l Layout) (*topology.Topology, error) {
	workers := l.Workers
	if len(workers) == 0 {
		workers = KindWorkers
	}
	t := &topology.Topology{Externals: l.Externals}
	nodeIndex := map[string]int{}
	for i, name := range append([]string{controlPlane}, workers...) {
		t.Nodes = append(t.Nodes, topology.Node{Name: name, IP: offset(nodeBase, 0, i).String()})
		nodeIndex[name] = i
	}
	for _, ns := range e.Namespaces {
		t.Namespaces = append(t.Namespaces, topology.Namespace{Name: ns.Name, Labels: maps.Clone(ns.Labels)})
	}
	var errs []error
	owner := map[string]string{} // endpoint name → the workload that has it
	next := map[string]int{}     // node → the pods placed on it so far
	bare := 0                    // bare Pods so far, spread over the workers in turn
	for _, w := range e.Workloads {
		for r, node := range w.placement(workers, &bare) {
			name := w.Name
			if w.Kind != "Pod" {
				name += "-" + strconv.Itoa(r)
			}
			endpoint := w.Namespace + "/" + name
			if first, dup := owner[endpoint]; dup {
				errs = append(errs, fmt.Errorf("%s: %s: its pod %s has the name of one of %s's: rename one of them", w.Source, w.Ref(), endpoint, first))
				continue
			}
			owner[endpoint] = w.Ref()
			if next[node] == maxPodsPerNode {
				errs = append(errs, fmt.Errorf("%s: %s: more than %d pods on %s: name more workers in the scenario's nodes", w.Source, w.Ref(), maxPodsPerNode, node))
				continue
			}
			// .0 and .1 of a node's range are its network and gateway.
			ip := offset(podBase, nodeIndex[node], 2+next[node])
			next[node]++
			labels := maps.Clone(w.Template.Labels)
			if w.Kind == "StatefulSet" {
				// The labels the StatefulSet controller gives each pod
				// (setPodIdentity / initIdentity in Kubernetes'
				// pkg/controller/statefulset/stateful_set_utils.go):
				// policies select single replicas by them.
				if labels == nil {
					labels = map[string]string{}
				}
				labels[appsv1.StatefulSetPodNameLabel] = name
				labels[appsv1.PodIndexLabel] = strconv.Itoa(r)
			}
			t.Pods = append(t.Pods, topology.Pod{Namespace: w.Namespace, Name: name, Labels: labels,
				IP: ip.String(), Node: node, ServiceAccount: serviceAccount(w.Template.Spec), Ports: ports(w.Template.Spec)})
		}
	}
	namespaces := map[string]bool{}
	for _, ns := range e.Namespaces {
		namespaces[ns.Name] = true
	}
	if l.CoreDNS {
		if !namespaces[coreDNS.Namespace] {
			t.Namespaces = append(t.Namespaces, topology.Namespace{Name: coreDNS.Namespace, Labels: map[string]string{"ns": coreDNS.Namespace}})
		}
		dns := coreDNS
		dns.IP = offset(podBase, 0, 2).String()
		t.Pods = append(t.Pods, dns)
	}
	for _, x := range l.Externals {
		if namespaces[x.Name] {
			errs = append(errs, fmt.Errorf("external %s has the name of a namespace of the estate: reports could not tell them apart; rename the external", x.Name))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if verrs := t.Validate(); len(verrs) > 0 {
		return nil, fmt.Errorf("estate %s: the derived topology: %w", e.Dir, verrs.ToAggregate())
	}
	return t, nil
}

// placement is the node of each of w's pods: a DaemonSet's one per worker;
// a Pod's its spec.nodeName when that is a worker, else the next worker of
// the bare pods' turn; a controller's replicas in turn from the first.
func (w Workload) placement(workers []string, bare *int) []string {
	switch {
	case w.Kind == "DaemonSet":
		return workers
	case w.Kind == "Pod" && slices.Contains(workers, w.Template.Spec.NodeName):
		return []string{w.Template.Spec.NodeName}
	case w.Kind == "Pod":
		*bare++
		return []string{workers[(*bare-1)%len(workers)]}
	}
	nodes := make([]string, w.Replicas)
	for r := range nodes {
		nodes[r] = workers[r%len(workers)]
	}
	return nodes
}

func serviceAccount(spec corev1.PodSpec) string {
	if spec.ServiceAccountName != "" {
		return spec.ServiceAccountName
	}
	return spec.DeprecatedServiceAccount
}

// ports are the container ports of every container of a pod (its init
// containers serve none once it runs).
func ports(spec corev1.PodSpec) []topology.ContainerPort {
	var out []topology.ContainerPort
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			out = append(out, topology.ContainerPort{Name: p.Name, Port: p.ContainerPort, Protocol: protocolOf(p.Protocol)})
		}
	}
	return out
}

// offset is base with its third octet raised by third and its fourth by fourth.
func offset(base netip.Addr, third, fourth int) netip.Addr {
	b := base.As4()
	b[2] += byte(third)
	b[3] += byte(fourth)
	return netip.AddrFrom4(b)
}
