package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/toolprobe"
	"github.com/tierproof/tierproof/framework/topology"
)

// liveName is the namespace/name of the pod behind a pod endpoint of topo
// (pods named after their workload have other names on the cluster).
func liveName(topo *topology.Topology, endpoint string) string {
	if topo == nil {
		return endpoint
	}
	for _, p := range topo.Pods {
		if p.EndpointName() == endpoint {
			return p.LiveName()
		}
	}
	return endpoint
}

// AgentContainer is the sidecar every fixture pod runs the probe agent in.
const AgentContainer = "tierproof-agent"

// endpointExec runs commands in the estate's endpoints: pods ("namespace/pod")
// through the API server, external hosts in their Docker containers.
type endpointExec struct {
	pods   *kube.PodExecutor
	docker ExternalHosts
	topo   *topology.Topology // names each pod endpoint's live pod
}

func (e endpointExec) Exec(ctx context.Context, endpoint string, command []string, stdin []byte) ([]byte, []byte, error) {
	if strings.Contains(endpoint, "/") {
		return e.pods.Exec(ctx, liveName(e.topo, endpoint), command, stdin)
	}
	return e.docker.Exec(ctx, endpoint, command, stdin)
}

// detectTools reads which tools each estate pod's ToolsContainer has (one
// exec of toolprobe.DetectScript a pod). A pod without a tool for ICMP and
// TCP is an error: its image is tierproof's own.
func detectTools(ctx context.Context, x *kube.PodExecutor, t *topology.Topology, namespaces []string) (map[string]toolprobe.Kit, error) {
	kits := map[string]toolprobe.Kit{}
	for _, p := range t.Pods {
		if !slices.Contains(namespaces, p.Namespace) {
			continue
		}
		out, stderr, err := x.Exec(ctx, p.LiveName(), []string{toolprobe.Shell, "-c", toolprobe.DetectScript}, nil)
		if err != nil {
			return nil, fmt.Errorf("finding the tools of %s: %w (%s)", p.EndpointName(), err, strings.TrimSpace(string(stderr)))
		}
		kit := toolprobe.ParseKit(string(out))
		for _, pr := range []model.Probe{{Protocol: model.ICMP}, {Protocol: model.TCP, Port: 80}} {
			if _, err := toolprobe.Choose(kit, pr); err != nil {
				return nil, fmt.Errorf("the tools of %s: %w", p.EndpointName(), err)
			}
		}
		kits[p.EndpointName()] = kit
	}
	return kits, nil
}
