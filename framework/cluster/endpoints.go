package cluster

import (
	"context"
	"strings"

	"github.com/tierproof/tierproof/framework/kube"
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
