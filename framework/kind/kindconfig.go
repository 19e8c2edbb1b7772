// Package kind is the kind cluster's lifecycle: the host's Docker engine,
// the cluster's configuration and node image, its own Docker network, creating,
// reusing, attaching and deleting it, and loading images into its nodes.
package kind

import (
	"os"
	"path/filepath"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
)

// OwnerLabel marks every Docker object (and Kubernetes object) tierproof
// creates, so cleanup finds exactly those; its value names the run.
const OwnerLabel = "tierproof.io/run"

// DataPlaneLabel records, on the nodes of a cluster tierproof creates, the
// data plane it was made for: a kept cluster is reused only for the same.
const DataPlaneLabel = "tierproof.io/data-plane"

// PodSubnet is the cluster's pod CIDR, as the seed walkthrough uses.
const PodSubnet = "10.10.0.0/16"

// NodeImage is the kind node image, pinned by digest: kind v0.33's own node
// image for Kubernetes 1.36. kind's default (1.37) is newer than what Antrea
// v2.7.0 supports; the nightly workflow runs 1.37 as a best-effort cell.
const NodeImage = "kindest/node:v1.36.4@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed"

// allowCgroupV1 lets the kubelet run on a cgroup v1 host: since Kubernetes
// 1.35 it refuses to start there unless failCgroupV1 is false.
const allowCgroupV1 = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
`

// CgroupV1 says whether the host under root ("" is "/") runs cgroup v1 or the
// hybrid layout: only a cgroup v2 host has cgroup.controllers at the root of
// /sys/fs/cgroup. kind nodes share the host's cgroups.
func CgroupV1(root string) bool {
	if root == "" {
		root = "/"
	}
	_, err := os.Stat(filepath.Join(root, "sys/fs/cgroup/cgroup.controllers"))
	return err != nil
}

// Config is the walkthrough's cluster: one control plane and two workers,
// kind's default CNI off (Antrea is installed instead). On a cgroup v1 host
// the kubelet is told to run anyway.
func Config(nodeImage string, cgroupV1 bool) *v1alpha4.Cluster {
	if nodeImage == "" {
		nodeImage = NodeImage
	}
	cfg := &v1alpha4.Cluster{
		TypeMeta: v1alpha4.TypeMeta{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4"},
		Networking: v1alpha4.Networking{
			DisableDefaultCNI: true,
			PodSubnet:         PodSubnet,
		},
	}
	if cgroupV1 {
		cfg.KubeadmConfigPatches = append(cfg.KubeadmConfigPatches, allowCgroupV1)
	}
	for _, role := range []v1alpha4.NodeRole{v1alpha4.ControlPlaneRole, v1alpha4.WorkerRole, v1alpha4.WorkerRole} {
		cfg.Nodes = append(cfg.Nodes, v1alpha4.Node{Role: role, Image: nodeImage})
	}
	return cfg
}
