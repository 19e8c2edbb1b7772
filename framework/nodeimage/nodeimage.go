// Package nodeimage builds a kind node image on a machine that reaches no
// container registry (make node-image): a Debian root file system made by
// debootstrap, the Kubernetes binaries built from the Go module proxy, and
// every image the cluster runs (control plane, etcd, CoreDNS, kube-proxy,
// pause, kube-router) made from those binaries with go-containerregistry and
// imported into the node's containerd, so that kubeadm never pulls.
//
// On a machine with a registry none of this is needed: kind pulls the pinned
// kindest/node (kind.NodeImage).
package nodeimage

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KubernetesVersion is the node's Kubernetes (the Makefile's
// KUBERNETES_VERSION builds it; the builder checks that they agree).
const KubernetesVersion = "v1.36.3"

// Tag names the image in Docker; the label KeyLabel says which inputs built it.
const (
	Tag      = "tierproof.local/kind-node:" + KubernetesVersion
	KeyLabel = "dev.tierproof.node-image.key"
)

// PauseImage is the pod sandbox image (the containerd configuration names it):
// tierproof's own pause program, so it carries tierproof's name.
const PauseImage = "tierproof.local/pause:1"

// KubeRouterImage runs kube-router's network-policy controller, the
// NetworkPolicy data plane of clusters on this image (framework/kuberouter).
const KubeRouterImage = "tierproof.local/kube-router:" + KubeRouterVersion

// KubeRouterVersion is the only version the Go module proxy here serves.
const KubeRouterVersion = "v2.1.0"

// nodePackages make a kind node: systemd as PID 1, containerd and runc, and
// the tools the kubelet, kube-proxy and kubeadm run.
var nodePackages = []string{"systemd", "systemd-sysv", "dbus", "containerd", "runc",
	"iptables", "nftables", "ipset", "conntrack", "iproute2", "ethtool", "util-linux", "mount",
	"kmod", "libseccomp2", "ca-certificates", "procps", "socat", "bash"}

// netPackages are the base of kube-proxy's and kube-router's images: the
// iptables, ipset and conntrack programs they run (Debian's iptables uses
// the nf_tables backend, as the node's does).
var netPackages = []string{"iptables", "ipset", "conntrack", "iproute2", "nftables"}

// overlay holds the node's own files: its entrypoint, the kubelet's unit and
// cgroup helper, containerd's configuration and a sysctl.
//
//go:embed all:overlay
var overlay embed.FS

// Binaries are the programs the image is made of, built from the Go module
// proxy by make node-binaries.
type Binaries struct {
	// Kubernetes holds kubelet, kubeadm, kubectl, kube-apiserver,
	// kube-controller-manager, kube-scheduler and kube-proxy.
	Kubernetes string
	Etcd       string
	CoreDNS    string
	KubeRouter string
	Pause      string
	// Runtime is tierproof's OCI runtime wrapper (hack/docker/runtime): the
	// node's containerd runs runc through it, so that privileged pods start
	// where the capability bounding set lacks capabilities.
	Runtime string
	// CNIPlugins holds ptp, host-local, loopback and portmap.
	CNIPlugins string
}

// kubernetesBinaries are the Kubernetes programs, by file name.
var kubernetesBinaries = []string{"kubelet", "kubeadm", "kubectl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"}

// cniPlugins are the pod network's CNI plugins, by file name.
var cniPlugins = []string{"ptp", "host-local", "loopback", "portmap"}

// files lists every binary, so that a missing one is named before any work.
func (b Binaries) files() (map[string]string, error) {
	all := map[string]string{"etcd": b.Etcd, "coredns": b.CoreDNS, "kube-router": b.KubeRouter, "pause": b.Pause, "runtime": b.Runtime}
	for _, n := range kubernetesBinaries {
		all[n] = filepath.Join(b.Kubernetes, n)
	}
	for _, n := range cniPlugins {
		all["cni/"+n] = filepath.Join(b.CNIPlugins, n)
	}
	for name, path := range all {
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("node image: the %s binary: %w (build them with make node-binaries)", name, err)
		}
		if st.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("node image: the %s binary %s is not executable", name, path)
		}
	}
	return all, nil
}

// overlayFiles are the embedded files with their paths in the node.
func overlayFiles() (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(overlay, "overlay", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := overlay.ReadFile(path)
		files[path[len("overlay"):]] = data
		return err
	})
	return files, err
}
