package cluster

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/topology"
)

func TestEphemeralPortsAreReadFromEachAgentAndKeptOnSnapshots(t *testing.T) {
	var asked []string
	exec := func(_ context.Context, endpoint string, command []string, _ []byte) ([]byte, []byte, error) {
		if !slices.Equal(command, []string{agent.Path, "ephemeral-ports"}) {
			t.Errorf("ran %v in %s", command, endpoint)
		}
		asked = append(asked, endpoint)
		if endpoint == "ext" {
			return []byte("1024 4999\n"), nil, nil
		}
		return []byte("32768\t60999\n"), nil, nil
	}
	ranges, err := readEphemeralPorts(context.Background(), exec, []string{"x/a", "ext"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked, []string{"x/a", "ext"}) {
		t.Errorf("asked %v", asked)
	}
	topo := &topology.Topology{Pods: []topology.Pod{{Namespace: "x", Name: "a"}, {Namespace: "kube-system", Name: "dns"}},
		Externals: []topology.External{{Name: "ext"}}}
	withEphemeralPorts(topo, ranges)
	if r := topo.Pods[0].EphemeralPorts; r == nil || *r != (topology.PortRange{From: 32768, To: 60999}) {
		t.Errorf("x/a's range: %v", r)
	}
	if r := topo.Externals[0].EphemeralPorts; r == nil || *r != (topology.PortRange{From: 1024, To: 4999}) {
		t.Errorf("ext's range: %v", r)
	}
	if topo.Pods[1].EphemeralPorts != nil {
		t.Errorf("a pod without the agent got a range: %v", topo.Pods[1].EphemeralPorts)
	}

	failing := func(context.Context, string, []string, []byte) ([]byte, []byte, error) {
		return nil, []byte("no such file"), errors.New("exit 127")
	}
	if _, err := readEphemeralPorts(context.Background(), failing, []string{"y/b"}); err == nil || !strings.Contains(err.Error(), "y/b") {
		t.Errorf("a failed read: %v, want an error naming the endpoint", err)
	}
}
