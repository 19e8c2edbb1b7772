package cluster

import (
	"context"
	"fmt"
	"strings"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/topology"
)

// execFunc runs a command in an endpoint: a pod ("namespace/name") or an
// external host.
type execFunc func(ctx context.Context, endpoint string, command []string, stdin []byte) ([]byte, []byte, error)

// readEphemeralPorts asks the agent in each endpoint for the port range its
// clients take their ports from: the model needs it to judge probes that do
// not pin one under rules on source ports. Pods keep their network namespace,
// and so their range, for their life: it is read once.
func readEphemeralPorts(ctx context.Context, exec execFunc, endpoints []string) (map[string]topology.PortRange, error) {
	ranges := make(map[string]topology.PortRange, len(endpoints))
	for _, ep := range endpoints {
		out, stderr, err := exec(ctx, ep, []string{agent.Path, "ephemeral-ports"}, nil)
		if err != nil {
			return nil, fmt.Errorf("reading the ephemeral port range of %s: %w (%s)", ep, err, strings.TrimSpace(string(stderr)))
		}
		from, to, err := agent.ParseEphemeralPorts(string(out))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ep, err)
		}
		ranges[ep] = topology.PortRange{From: int32(from), To: int32(to)}
	}
	return ranges, nil
}

// withEphemeralPorts puts the ranges read at boot on a snapshot of the estate.
func withEphemeralPorts(t *topology.Topology, ranges map[string]topology.PortRange) *topology.Topology {
	for i := range t.Pods {
		if r, ok := ranges[t.Pods[i].EndpointName()]; ok {
			t.Pods[i].EphemeralPorts = &r
		}
	}
	for i := range t.Externals {
		if r, ok := ranges[t.Externals[i].Name]; ok {
			t.Externals[i].EphemeralPorts = &r
		}
	}
	return t
}
