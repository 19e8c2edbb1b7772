package kind

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// Network is the Docker network a cluster's nodes are on; the external hosts
// join it at fixed addresses.
type Network struct {
	Name   string
	Subnet netip.Prefix // IPv4
	// Owned says tierproof created it (it carries OwnerLabel): it is removed
	// with the kind.
	Owned bool
}

// NetworkName is the Docker network tierproof creates for cluster name. kind
// puts its nodes on it through KIND_EXPERIMENTAL_DOCKER_NETWORK; the network
// kind makes itself has an IPv6 subnet only, with the IPv4 one picked by
// Docker, and Docker before 29.0.4 refuses a fixed --ip on such a network
// ("user specified IP address is supported only when connecting to networks
// with user configured subnets").
func NetworkName(cluster string) string { return "tierproof-" + cluster }

// networkCandidates are the IPv4 subnets tried in turn for a new network: /24s
// at the top of 172.31.0.0/16, away from Docker's first default pools, the pod
// subnet (10.10.0.0/16) and the Service subnet (10.96.0.0/12).
func networkCandidates() []netip.Prefix {
	var out []netip.Prefix
	for third := 255; third >= 200; third-- {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 31, byte(third), 0}), 24))
	}
	return out
}

// EnsureNetwork returns the network name, creating it with an explicit IPv4
// subnet (the first candidate no other Docker network overlaps) if it does not
// exist. It is a bridge with IP masquerading and the default bridge's MTU, as
// the network kind creates.
func EnsureNetwork(ctx context.Context, name, run string) (Network, error) {
	if n, err := InspectNetwork(ctx, name); err == nil {
		return n, nil
	}
	args := []string{"network", "create", "-d=bridge", "-o", "com.docker.network.bridge.enable_ip_masquerade=true",
		"--label", OwnerLabel + "=" + run}
	if out, err := RunDocker(ctx, nil, "network", "inspect", "bridge", "-f", `{{ index .Options "com.docker.network.driver.mtu" }}`); err == nil {
		if mtu := strings.TrimSpace(string(out)); mtu != "" && mtu != "<no value>" {
			args = append(args, "-o", "com.docker.network.driver.mtu="+mtu)
		}
	}
	var tried []string
	for _, subnet := range networkCandidates() {
		_, err := RunDocker(ctx, nil, append(args, "--subnet", subnet.String(), name)...)
		if err == nil {
			return Network{Name: name, Subnet: subnet, Owned: true}, nil
		}
		if !strings.Contains(err.Error(), "overlaps") {
			return Network{}, fmt.Errorf("creating Docker network %s: %w", name, err)
		}
		tried = append(tried, subnet.String())
	}
	return Network{}, fmt.Errorf("creating Docker network %s: every candidate subnet overlaps an existing network (%s): remove unused networks (docker network prune)",
		name, strings.Join(tried, ", "))
}

// InspectNetwork reads a network's IPv4 subnet and whether tierproof owns it.
func InspectNetwork(ctx context.Context, name string) (Network, error) {
	out, err := RunDocker(ctx, nil, "network", "inspect", name, "--format", "{{json .}}")
	if err != nil {
		return Network{}, err
	}
	var inspected struct {
		IPAM struct {
			Config []struct{ Subnet string }
		}
		Labels map[string]string
	}
	if err := json.Unmarshal(out, &inspected); err != nil {
		return Network{}, fmt.Errorf("reading Docker network %s: %w", name, err)
	}
	n := Network{Name: name, Owned: inspected.Labels[OwnerLabel] != ""}
	for _, c := range inspected.IPAM.Config {
		if p, err := netip.ParsePrefix(c.Subnet); err == nil && p.Addr().Is4() {
			n.Subnet = p
		}
	}
	if !n.Subnet.IsValid() {
		return n, fmt.Errorf("the Docker network %s has no IPv4 subnet (%s)", name, strings.TrimSpace(string(out)))
	}
	return n, nil
}

// ContainerNetwork is the network a container (a kind node) is attached to;
// a kind node is on exactly one.
func ContainerNetwork(ctx context.Context, container string) (string, error) {
	out, err := RunDocker(ctx, nil, "inspect", container, "--format", "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}")
	if err != nil {
		return "", fmt.Errorf("finding the network of %s: %w", container, err)
	}
	names := strings.Fields(string(out))
	if len(names) != 1 {
		return "", fmt.Errorf("%s is on networks %q, want exactly one", container, names)
	}
	return names[0], nil
}

// RemoveNetwork removes a network tierproof created; others are left alone.
func RemoveNetwork(ctx context.Context, n Network) error {
	if !n.Owned {
		return nil
	}
	if _, err := RunDocker(ctx, nil, "network", "rm", n.Name); err != nil && !strings.Contains(err.Error(), "No such network") {
		return fmt.Errorf("removing Docker network %s: %w", n.Name, err)
	}
	return nil
}
