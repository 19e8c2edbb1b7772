package nodeimage

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBinaries writes shell scripts that answer the version questions the
// builder asks, the way the real binaries do.
func fakeBinaries(t *testing.T, etcdVersion string) Binaries {
	t.Helper()
	dir := t.TempDir()
	write := func(path, script string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b := Binaries{Kubernetes: filepath.Join(dir, "k8s"), CNIPlugins: filepath.Join(dir, "cni"),
		Etcd: filepath.Join(dir, "etcd"), CoreDNS: filepath.Join(dir, "coredns"), KubeRouter: filepath.Join(dir, "kube-router"),
		Pause: filepath.Join(dir, "pause"), Runtime: filepath.Join(dir, "runtime")}
	for _, n := range kubernetesBinaries {
		write(filepath.Join(b.Kubernetes, n), "exit 0\n")
	}
	// kubeadm v1.36.3's answers.
	write(filepath.Join(b.Kubernetes, "kubeadm"), `case "$1" in
version) echo v1.36.3 ;;
config) printf '%s\n' registry.k8s.io/kube-apiserver:v1.36.3 registry.k8s.io/kube-controller-manager:v1.36.3 \
  registry.k8s.io/kube-scheduler:v1.36.3 registry.k8s.io/kube-proxy:v1.36.3 registry.k8s.io/coredns/coredns:v1.14.2 \
  registry.k8s.io/pause:3.10.2 registry.k8s.io/etcd:3.6.8-0 ;;
esac
`)
	for _, n := range cniPlugins {
		write(filepath.Join(b.CNIPlugins, n), "exit 0\n")
	}
	write(b.Etcd, "echo 'etcd Version: "+etcdVersion+"'\necho 'Git SHA: Not provided'\n")
	write(b.CoreDNS, "echo CoreDNS-1.14.2\necho linux/amd64\n")
	write(b.KubeRouter, "echo 'Running /kube-router version v2.1.0, built on , go1.26'\n")
	write(b.Pause, "exit 0\n")
	write(b.Runtime, "exit 0\n")
	return b
}

func TestComponentImagesCarryTheNamesKubeadmAsksFor(t *testing.T) {
	files, err := fakeBinaries(t, "3.6.8").files()
	if err != nil {
		t.Fatal(err)
	}
	images, err := componentImages(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]component{}
	for _, c := range images {
		got[c.tag] = c
	}
	for tag, want := range map[string]component{
		"registry.k8s.io/kube-apiserver:v1.36.3":  {binary: "kube-apiserver"},
		"registry.k8s.io/kube-proxy:v1.36.3":      {binary: "kube-proxy", netTools: true},
		"registry.k8s.io/etcd:3.6.8-0":            {binary: "etcd"},
		"registry.k8s.io/coredns/coredns:v1.14.2": {binary: "coredns", entrypoint: true},
		PauseImage:      {binary: "pause", entrypoint: true},
		KubeRouterImage: {binary: "kube-router", entrypoint: true, netTools: true},
	} {
		c, ok := got[tag]
		want.tag = tag
		if !ok || c != want {
			t.Errorf("%s: %+v, want %+v", tag, c, want)
		}
	}
	if _, ok := got["registry.k8s.io/pause:3.10.2"]; ok {
		t.Error("the pause image carries upstream's name, but its content is tierproof's own")
	}
	if len(images) != 8 {
		t.Errorf("%d images, want kubeadm's 7 and kube-router", len(images))
	}
}

func TestAnImageNeverNamesAnotherVersionThanItsContent(t *testing.T) {
	files, err := fakeBinaries(t, "3.6.9").files()
	if err != nil {
		t.Fatal(err)
	}
	_, err = componentImages(context.Background(), files)
	if err == nil || !strings.Contains(err.Error(), `is not "etcd Version: 3.6.8"`) {
		t.Fatalf("etcd 3.6.9 under kubeadm's 3.6.8-0 tag: %v", err)
	}
}

func TestAMissingBinaryIsNamedBeforeAnyWork(t *testing.T) {
	b := fakeBinaries(t, "3.6.8")
	if err := os.Remove(filepath.Join(b.CNIPlugins, "ptp")); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), Options{Binaries: b, CacheDir: t.TempDir(), Logf: t.Logf})
	if err == nil || !strings.Contains(err.Error(), "the cni/ptp binary") || !strings.Contains(err.Error(), "make node-binaries") {
		t.Fatalf("%v", err)
	}
}

// The cache key changes with any input, so a changed binary or file rebuilds.
func TestTheKeyFollowsEveryBinary(t *testing.T) {
	b := fakeBinaries(t, "3.6.8")
	files, err := b.files()
	if err != nil {
		t.Fatal(err)
	}
	before, err := inputsKey(files)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := inputsKey(files); again != before {
		t.Fatal("the key of the same inputs changed")
	}
	if err := os.WriteFile(b.Pause, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if after, _ := inputsKey(files); after == before {
		t.Error("a changed pause binary kept the key")
	}
}

// The files the node runs with agree with the builder's names.
func TestTheNodeFilesNameWhatTheBuilderMakes(t *testing.T) {
	files, err := overlayFiles()
	if err != nil {
		t.Fatal(err)
	}
	config := string(files["/etc/containerd/config.toml"])
	for _, want := range []string{`sandbox_image = "` + PauseImage + `"`, `BinaryName = "/usr/local/bin/tierproof-runtime"`, "restrict_oom_score_adj = true", "SystemdCgroup = true"} {
		if !strings.Contains(config, want) {
			t.Errorf("containerd's configuration lacks %s", want)
		}
	}
	if !strings.Contains(string(files["/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"]), "/var/lib/kubelet/kubeadm-flags.env") {
		t.Error("the kubelet drop-in does not read kubeadm's flags")
	}
	if !strings.HasPrefix(string(files["/usr/local/bin/entrypoint"]), "#!/bin/bash") {
		t.Error("the entrypoint is not a bash script")
	}
	fixture, err := os.ReadFile("../../fixtures/dataplanes/kube-router.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(fixture), "image: "+KubeRouterImage) {
		t.Errorf("fixtures/dataplanes/kube-router.yaml does not run %s", KubeRouterImage)
	}
}

func TestTheNodeScriptsParse(t *testing.T) {
	files, err := overlayFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/usr/local/bin/entrypoint", "/usr/local/bin/kubelet-cgroup"} {
		cmd := exec.Command("bash", "-n")
		cmd.Stdin = strings.NewReader(string(files[path]))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", path, err, out)
		}
	}
}
