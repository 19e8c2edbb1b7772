package cluster_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"

	"github.com/tierproof/tierproof/framework/cluster"
)

func TestKindConfigIsTheWalkthroughsCluster(t *testing.T) {
	cfg := cluster.KindConfig("")
	if !cfg.Networking.DisableDefaultCNI || cfg.Networking.PodSubnet != "10.10.0.0/16" {
		t.Errorf("networking %+v: want the default CNI off and pod subnet 10.10.0.0/16", cfg.Networking)
	}
	var roles []v1alpha4.NodeRole
	for _, n := range cfg.Nodes {
		roles = append(roles, n.Role)
		if n.Image != cluster.NodeImage || !strings.Contains(n.Image, "@sha256:") {
			t.Errorf("node image %q: want the pinned image with its digest", n.Image)
		}
	}
	if want := []v1alpha4.NodeRole{"control-plane", "worker", "worker"}; strings.Join(toStrings(roles), ",") != strings.Join(toStrings(want), ",") {
		t.Errorf("roles %v, want %v", roles, want)
	}
	if got := cluster.KindConfig("kindest/node:custom").Nodes[1].Image; got != "kindest/node:custom" {
		t.Errorf("image override ignored: %q", got)
	}
}

func toStrings(roles []v1alpha4.NodeRole) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// These machines have no Docker engine: the check must say so and what to do.
func TestCheckDockerExplainsWhatToDo(t *testing.T) {
	err := cluster.CheckDocker(context.Background())
	if err == nil {
		t.Skip("a Docker engine answers on this machine; nothing to check")
	}
	if !errors.Is(err, cluster.ErrDockerUnavailable) {
		t.Fatalf("error %v does not wrap ErrDockerUnavailable", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "Docker is not available: ") || !strings.Contains(msg, "make e2e again") {
		t.Errorf("message %q: want it to start with \"Docker is not available\" and say what to do", msg)
	}
	if _, lookErr := exec.LookPath("docker"); lookErr == nil && !strings.Contains(msg, "no Docker engine answers") {
		t.Errorf("the docker CLI is installed here, so the message must say the engine does not answer: %q", msg)
	}
}

func TestCheckDockerWithoutTheCLI(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := cluster.CheckDocker(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the docker command is not installed") {
		t.Fatalf("error %v, want it to say docker is not installed", err)
	}
}

func TestCheckOpenVSwitch(t *testing.T) {
	sys := t.TempDir()
	err := cluster.CheckOpenVSwitch(sys)
	if err == nil || !strings.Contains(err.Error(), "sudo modprobe openvswitch") {
		t.Fatalf("error %v, want the modprobe advice", err)
	}
	if err := os.Mkdir(filepath.Join(sys, "openvswitch"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := cluster.CheckOpenVSwitch(sys); err != nil {
		t.Fatalf("module present, still refused: %v", err)
	}
}
