// Package cluster is the only part of tierproof that talks to kind, Docker and
// the Kubernetes API: it checks the host, describes the kind cluster, reads the
// live estate into a topology and executes commands in pods.
package cluster

import (
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
)

// PodSubnet is the cluster's pod CIDR, as the seed walkthrough uses.
const PodSubnet = "10.10.0.0/16"

// NodeImage is the kind node image, pinned by digest: kind v0.33's own node
// image for Kubernetes 1.36. kind's default (1.37) is newer than what Antrea
// v2.7.0 supports; the nightly workflow runs 1.37 as a best-effort cell.
const NodeImage = "kindest/node:v1.36.4@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed"

// KindConfig is the walkthrough's cluster: one control plane and two workers,
// kind's default CNI off (Antrea is installed instead).
func KindConfig(nodeImage string) *v1alpha4.Cluster {
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
	for _, role := range []v1alpha4.NodeRole{v1alpha4.ControlPlaneRole, v1alpha4.WorkerRole, v1alpha4.WorkerRole} {
		cfg.Nodes = append(cfg.Nodes, v1alpha4.Node{Role: role, Image: nodeImage})
	}
	return cfg
}
