package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"

	"github.com/tierproof/tierproof/framework/cluster"
)

func TestKindConfigIsTheWalkthroughsCluster(t *testing.T) {
	cfg := cluster.KindConfig("", false)
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
	if got := cluster.KindConfig("kindest/node:custom", false).Nodes[1].Image; got != "kindest/node:custom" {
		t.Errorf("image override ignored: %q", got)
	}
}

// Kubernetes 1.35+ kubelets refuse cgroup v1 unless told otherwise; kind nodes
// share the host's cgroups, so a cgroup v1 host (this CI's) needs the patch,
// and a cgroup v2 host gets none.
func TestKindConfigLetsTheKubeletRunOnCgroupV1Hosts(t *testing.T) {
	v1 := host(t, map[string]string{"sys/fs/cgroup/cpu/tasks": ""})
	v2 := host(t, map[string]string{"sys/fs/cgroup/cgroup.controllers": "cpu memory"})
	if !cluster.CgroupV1(v1) || cluster.CgroupV1(v2) {
		t.Fatalf("cgroup v1 detected: %v on the v1 host, %v on the v2 host", cluster.CgroupV1(v1), cluster.CgroupV1(v2))
	}
	patches := cluster.KindConfig("", true).KubeadmConfigPatches
	if len(patches) != 1 || !strings.Contains(patches[0], "kind: KubeletConfiguration") || !strings.Contains(patches[0], "failCgroupV1: false") {
		t.Errorf("cgroup v1 patches %q", patches)
	}
	if patches := cluster.KindConfig("", false).KubeadmConfigPatches; len(patches) != 0 {
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

// host lays out a fake host root: the kernel release and files under it.
func host(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files["proc/sys/kernel/osrelease"] = "6.8.0-test\n"
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "/") {
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// Antrea's agent loads the module itself when the running kernel has it in
// /lib/modules (kind mounts it into the nodes); only a host where it can be
// neither found loaded, built in nor installed is refused.
func TestCheckOpenVSwitchAcceptsWhatAntreaCanLoadAndRefusesTheRest(t *testing.T) {
	const modules = "lib/modules/6.8.0-test/"
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string // "" accepted, else a part of the error
		log   string // a part of what is logged
	}{
		{"loaded", map[string]string{"sys/module/openvswitch/refcnt": "1"}, "", ""},
		{"built in", map[string]string{modules + "modules.builtin": "kernel/net/bridge/bridge.ko\nkernel/net/openvswitch/openvswitch.ko\n"}, "", ""},
		{"installed, compressed", map[string]string{modules + "modules.dep": "kernel/net/openvswitch/openvswitch.ko.zst: kernel/net/nsh/nsh.ko.zst\n"}, "", "Antrea's agent loads it"},
		{"installed", map[string]string{modules + "modules.dep": "kernel/net/openvswitch/openvswitch.ko: kernel/net/nsh/nsh.ko\n"}, "", "Antrea's agent loads it"},
		{"absent", map[string]string{modules + "modules.dep": "kernel/net/openvswitch/vport-vxlan.ko: kernel/net/openvswitch/openvswitch.kox\n"},
			"sudo apt-get install linux-modules-extra-6.8.0-test", ""},
		{"no modules directory", map[string]string{"lib/": ""}, "has no /lib/modules/6.8.0-test", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logged strings.Builder
			err := cluster.CheckOpenVSwitch(host(t, c.files), func(f string, a ...any) { fmt.Fprintf(&logged, f, a...) })
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "modprobe openvswitch")):
				t.Errorf("error %v, want one saying %q and what to run", err, c.want)
			case !strings.Contains(logged.String(), c.log):
				t.Errorf("logged %q, want %q", logged.String(), c.log)
			}
		})
	}
}
