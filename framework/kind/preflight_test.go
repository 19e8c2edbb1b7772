package kind_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"

	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/testenv"
)

func TestKindConfigIsTheWalkthroughsCluster(t *testing.T) {
	cfg := kind.Config("", false)
	if !cfg.Networking.DisableDefaultCNI || cfg.Networking.PodSubnet != "10.10.0.0/16" {
		t.Errorf("networking %+v: want the default CNI off and pod subnet 10.10.0.0/16", cfg.Networking)
	}
	var roles []v1alpha4.NodeRole
	for _, n := range cfg.Nodes {
		roles = append(roles, n.Role)
		if n.Image != kind.NodeImage || !strings.Contains(n.Image, "@sha256:") {
			t.Errorf("node image %q: want the pinned image with its digest", n.Image)
		}
	}
	if want := []v1alpha4.NodeRole{"control-plane", "worker", "worker"}; strings.Join(toStrings(roles), ",") != strings.Join(toStrings(want), ",") {
		t.Errorf("roles %v, want %v", roles, want)
	}
	if got := kind.Config("kindest/node:custom", false).Nodes[1].Image; got != "kindest/node:custom" {
		t.Errorf("image override ignored: %q", got)
	}
}

// Kubernetes 1.35+ kubelets refuse cgroup v1 unless told otherwise; kind nodes
// share the host's cgroups, so a cgroup v1 host (this CI's) needs the patch,
// and a cgroup v2 host gets none.
func TestKindConfigLetsTheKubeletRunOnCgroupV1Hosts(t *testing.T) {
	v1 := testenv.HostRoot(t, map[string]string{"sys/fs/cgroup/cpu/tasks": ""})
	v2 := testenv.HostRoot(t, map[string]string{"sys/fs/cgroup/cgroup.controllers": "cpu memory"})
	if !kind.CgroupV1(v1) || kind.CgroupV1(v2) {
		t.Fatalf("cgroup v1 detected: %v on the v1 host, %v on the v2 host", kind.CgroupV1(v1), kind.CgroupV1(v2))
	}
	patches := kind.Config("", true).KubeadmConfigPatches
	if len(patches) != 1 || !strings.Contains(patches[0], "kind: KubeletConfiguration") || !strings.Contains(patches[0], "failCgroupV1: false") {
		t.Errorf("cgroup v1 patches %q", patches)
	}
	if patches := kind.Config("", false).KubeadmConfigPatches; len(patches) != 0 {
		t.Errorf("cgroup v2 patches %q", patches)
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
	err := kind.CheckDocker(context.Background())
	if err == nil {
		t.Skip("a Docker engine answers on this machine; nothing to check")
	}
	if !errors.Is(err, kind.ErrDockerUnavailable) {
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
	err := kind.CheckDocker(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the docker command is not installed") {
		t.Fatalf("error %v, want it to say docker is not installed", err)
	}
}

// host lays out a fake host root: the kernel release and files under it.
