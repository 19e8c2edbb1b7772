//go:build tools

// Package tools pins CoreDNS, the cluster DNS of the local kind node image
// (make node-image), at the version kubeadm v1.36 deploys.
package tools

import _ "github.com/coredns/coredns"
