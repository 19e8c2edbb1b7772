//go:build tools

// Package tools pins kube-router, whose network-policy controller (its
// firewall alone) is the Kubernetes NetworkPolicy data plane of the local kind
// clusters. The module proxy serves only v2.1.0, for which security flaws are
// reported: it runs only inside throwaway local test clusters (README).
package tools

import _ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
