// Package kuberouter is the Kubernetes NetworkPolicy data plane of kind
// clusters where Antrea cannot run (no openvswitch, no registry): a routed pod
// network — CNI's ptp and host-local on each node, a route per other node's
// pod CIDR — and kube-router's network-policy controller alone, unmodified,
// enforcing. It runs on the local node image (framework/nodeimage), which
// carries kube-router's image and the CNI plugins.
//
// kube-router v2.1.0 is the only version the Go module proxy here serves and
// security flaws are reported for it: it belongs in throwaway local test
// clusters with nothing exposed, nowhere else.
package kuberouter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/nodeimage"
	"github.com/tierproof/tierproof/framework/policy"
)

// CNIConfigPath is where each node's pod network configuration is written.
const CNIConfigPath = "/etc/cni/net.d/10-tierproof.conflist"

// Enforcer installs the pod network and kube-router on a kind cluster.
type Enforcer struct{}

// Name says what enforces, what it enforces and how its denials look.
func (Enforcer) Name() string {
	return "kube-router " + nodeimage.KubeRouterVersion + " on kind — Kubernetes NetworkPolicy only, denials rejected"
}

// Semantics are kube-router's: the spec's policyTypes, rejected denials, no
// Antrea-native policies.
func (Enforcer) Semantics() model.Semantics { return model.KubeRouter }

// Prepare requires the local node image, which holds kube-router's image and
// the CNI plugins, in the local Docker engine.
func (Enforcer) Prepare(ctx context.Context, env cluster.PrepareEnv) error {
	if env.NodeImage != nodeimage.Tag {
		return fmt.Errorf("the kube-router data plane runs on the local node image %s (it holds kube-router and the CNI plugins), not %s: drop -tierproof.node-image, or give that one", nodeimage.Tag, env.NodeImage)
	}
	if _, err := kind.RunDocker(ctx, nil, "image", "inspect", "--format", "{{.Id}}", nodeimage.Tag); err != nil {
		return fmt.Errorf("the node image %s is not in Docker (%w): build it with make node-image", nodeimage.Tag, err)
	}
	return nil
}

// Install gives every node its pod network, then runs kube-router and waits
// until it and CoreDNS are ready.
func (Enforcer) Install(ctx context.Context, in cluster.Installation) error {
	kindNodes, err := in.Kind.Nodes()
	if err != nil {
		return err
	}
	var names []string
	for _, kn := range kindNodes {
		names = append(names, kn.String())
	}
	nodes, err := podCIDRs(ctx, in.Clientset, names, time.Minute)
	if err != nil {
		return err
	}
	for _, kn := range kindNodes {
		self, ok := find(nodes, kn.String())
		if !ok {
			return fmt.Errorf("kind node %s is not a node of the cluster", kn.String())
		}
		config, err := CNIConfig(self.PodCIDR)
		if err != nil {
			return err
		}
		if err := kn.Command("sh", "-c", "cat > "+CNIConfigPath).SetStdin(bytes.NewReader(config)).Run(); err != nil {
			return fmt.Errorf("node %s: writing %s: %w", self.Name, CNIConfigPath, err)
		}
		for _, route := range Routes(self, nodes) {
			if err := kn.Command(route[0], route[1:]...).Run(); err != nil {
				return fmt.Errorf("node %s: %s: %w", self.Name, strings.Join(route, " "), err)
			}
		}
	}
	in.Logf("pod network: %d nodes, routes to each other's pod CIDRs (%s)", len(nodes), describe(nodes))
	if err := kube.InstallManifest(ctx, in.Client, "fixtures/dataplanes/kube-router.yaml", fixtures.KubeRouterManifest()); err != nil {
		return err
	}
	in.Logf("waiting for kube-router and CoreDNS")
	return kube.WaitReady(ctx, in.Getter, 2*time.Second, 5*time.Minute,
		kube.DaemonSetReady("kube-system", "kube-router"), kube.DeploymentReady("kube-system", "coredns"))
}

// Enforced returns at once: kube-router reports nothing about a policy, and
// the plane's settling pause and the probe engine's retries cover its sync.
func (Enforcer) Enforced(context.Context, *policy.Set) error { return nil }

// Node is what the pod network needs of a node.
type Node struct{ Name, IP, PodCIDR string }

// CNIConfig is a node's pod network: ptp gives each pod a veth to the node
// and a host route, host-local addresses it from the node's pod CIDR. Pod
// traffic is not masqueraded, so that peers and policies see pod addresses.
func CNIConfig(podCIDR string) ([]byte, error) {
	if podCIDR == "" {
		return nil, errors.New("pod network: the node has no pod CIDR")
	}
	return json.MarshalIndent(map[string]any{
		"cniVersion": "1.0.0",
		"name":       "tierproof",
		"plugins": []any{
			map[string]any{"type": "ptp", "ipMasq": false, "ipam": map[string]any{
				"type":   "host-local",
				"ranges": [][]map[string]string{{{"subnet": podCIDR}}},
				"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
			}},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}, "", "  ")
}

// Routes are the commands that send each other node's pod CIDR to that node.
func Routes(self Node, all []Node) [][]string {
	var routes [][]string
	for _, n := range all {
		if n.Name != self.Name {
			routes = append(routes, []string{"ip", "route", "replace", n.PodCIDR, "via", n.IP})
		}
	}
	return routes
}

// podCIDRs waits until every one of the named nodes has registered and the
// controller manager has given it a pod CIDR (kind returns once kubeadm join
// is done, which can be before a worker's Node object exists), and returns
// the nodes sorted by name.
func podCIDRs(ctx context.Context, cs kubernetes.Interface, names []string, timeout time.Duration) ([]Node, error) {
	var nodes []Node
	var missing []string
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		nodes, missing = nodes[:0], missing[:0]
		byName := map[string]corev1.Node{}
		for _, n := range list.Items {
			byName[n.Name] = n
		}
		for _, name := range names {
			n, ok := byName[name]
			node := Node{Name: name, PodCIDR: n.Spec.PodCIDR}
			for _, a := range n.Status.Addresses {
				if a.Type == corev1.NodeInternalIP && !strings.Contains(a.Address, ":") {
					node.IP = a.Address
				}
			}
			if !ok || node.PodCIDR == "" || node.IP == "" {
				missing = append(missing, name)
				continue
			}
			nodes = append(nodes, node)
		}
		return len(missing) == 0, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pod network: after %v, nodes not registered or without a pod CIDR or an IPv4 address: %v (kube-controller-manager allocates pod CIDRs)", timeout, missing)
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	return nodes, nil
}

func find(nodes []Node, name string) (Node, bool) {
	for _, n := range nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

func describe(nodes []Node) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = n.Name + " " + n.PodCIDR + " via " + n.IP
	}
	return strings.Join(parts, ", ")
}
