//go:build tools

// Package tools pins the CNI plugins of the local kind node image's pod
// network (make node-image): ptp links each pod to its node, host-local hands
// out addresses from the node's pod CIDR, loopback brings up lo, portmap serves
// hostPort.
package tools

import (
	_ "github.com/containernetworking/plugins/plugins/ipam/host-local"
	_ "github.com/containernetworking/plugins/plugins/main/loopback"
	_ "github.com/containernetworking/plugins/plugins/main/ptp"
	_ "github.com/containernetworking/plugins/plugins/meta/portmap"
)
