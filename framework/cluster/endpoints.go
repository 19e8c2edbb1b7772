package cluster

import (
	"context"
	"strings"

	"github.com/tierproof/tierproof/framework/kube"
)

// AgentContainer is the sidecar every fixture pod runs the probe agent in.
const AgentContainer = "tierproof-agent"

// endpointExec runs commands in the estate's endpoints: pods ("namespace/pod")
// through the API server, external hosts in their Docker containers.
type endpointExec struct {
	pods   *kube.PodExecutor
	docker ExternalHosts
}

func (e endpointExec) Exec(ctx context.Context, endpoint string, command []string, stdin []byte) ([]byte, []byte, error) {
	if strings.Contains(endpoint, "/") {
		return e.pods.Exec(ctx, endpoint, command, stdin)
	}
	return e.docker.Exec(ctx, endpoint, command, stdin)
}
