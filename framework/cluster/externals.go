package cluster

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/agentimage"
	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/topology"
)

// ExternalPlan places an estate's hosts outside the cluster on the kind
// network: the load balancer's clients inside a small pool CIDR at the top of
// the network, a server (the walkthrough's ssh-server) just outside that pool.
type ExternalPlan struct {
	Hosts  []topology.External
	LBPool netip.Prefix
	// Values are what scenarios' manifests refer to: ssh-server.ip, lb-pool.cidr, …
	Values map[string]string
}

// PlanExternals carves the hosts' addresses out of the nodes' network's subnet:
// the servers', then the clients of the pool (pool-client-1, …, in
// pool-pool.cidr). Docker hands out addresses from the bottom of the subnet,
// so the top is free.
func PlanExternals(subnet netip.Prefix, servers []string, pool string, clients int) (ExternalPlan, error) {
	subnet = subnet.Masked()
	if !subnet.Addr().Is4() || subnet.Bits() > 24 {
		return ExternalPlan{}, fmt.Errorf("kind network %s: want an IPv4 subnet of /24 or larger", subnet)
	}
	if clients < 0 || clients > 13 {
		return ExternalPlan{}, fmt.Errorf("%d load-balancer clients: want 0 to 13 (they share a /28)", clients)
	}
	if len(servers) > 15 {
		return ExternalPlan{}, fmt.Errorf("%d servers outside the cluster: want 15 or fewer (they share the /28 below the pool)", len(servers))
	}
	last := lastAddr(subnet)
	lbPool := netip.PrefixFrom(addrAdd(last, -15), 28).Masked()
	plan := ExternalPlan{LBPool: lbPool, Values: map[string]string{}}
	for i, server := range servers {
		ip := addrAdd(lbPool.Addr(), -15+i) // inside the /28 below the pool
		plan.Hosts = append(plan.Hosts, topology.External{Name: server, IP: ip.String()})
		plan.Values[server+".ip"] = ip.String()
	}
	if clients > 0 {
		plan.Values[pool+"-pool.cidr"] = lbPool.String()
	}
	for i := 1; i <= clients; i++ {
		name := pool + "-client-" + strconv.Itoa(i)
		ip := addrAdd(lbPool.Addr(), i)
		plan.Hosts = append(plan.Hosts, topology.External{Name: name, IP: ip.String()})
		plan.Values[name+".ip"] = ip.String()
	}
	return plan, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func addrAdd(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v = uint32(int64(v) + int64(n))
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Route sends a pod CIDR to the node that owns it.
type Route struct {
	CIDR, Via string
}

// PodRoutes lists each node's pod CIDR via the node's internal IP.
func PodRoutes(nodes []corev1.Node) ([]Route, error) {
	var routes []Route
	for _, n := range nodes {
		var ip string
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				ip = a.Address
				break
			}
		}
		if n.Spec.PodCIDR == "" || ip == "" {
			return nil, fmt.Errorf("node %s has no pod CIDR or internal IP yet", n.Name)
		}
		routes = append(routes, Route{CIDR: n.Spec.PodCIDR, Via: ip})
	}
	return routes, nil
}

// ExternalHosts runs the hosts outside the cluster as containers of the agent image on the nodes'
// network, as kind itself drives Docker: through its CLI.
type ExternalHosts struct {
	Run     string // run label value, so removal finds exactly these containers
	Network string // the Docker network the cluster's nodes are on
	Image   string // agentimage.DefaultTag unless set
}

func (d ExternalHosts) container(host string) string { return "tierproof-" + d.Run + "-" + host }

// StartExternals starts one container per host at its planned address, serving
// the probed ports, and routes the pod CIDRs through the nodes.
func (d ExternalHosts) StartExternals(ctx context.Context, plan ExternalPlan, ports agent.Ports, routes []Route) error {
	image := d.Image
	if image == "" {
		image = agentimage.DefaultTag
	}
	for _, h := range plan.Hosts {
		name := d.container(h.Name)
		args := []string{"run", "-d", "--name", name, "--network", d.Network, "--ip", h.IP,
			"--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW", "--label", kube.OwnerLabel + "=" + d.Run,
			image, "serve", "--tcp", joinPorts(ports.TCP), "--udp", joinPorts(ports.UDP), "--sctp", joinPorts(ports.SCTP)}
		if _, err := kind.RunDocker(ctx, nil, args...); err != nil {
			return fmt.Errorf("starting external host %s: %w", h.Name, err)
		}
		for _, r := range routes {
			if _, err := kind.RunDocker(ctx, nil, "exec", name, agent.Path, "route", r.CIDR, r.Via); err != nil {
				return fmt.Errorf("external host %s: route %s via %s: %w", h.Name, r.CIDR, r.Via, err)
			}
		}
	}
	return nil
}

// RemoveExternals removes every container of the run and says how many.
func (d ExternalHosts) RemoveExternals(ctx context.Context) (int, error) {
	out, err := kind.RunDocker(ctx, nil, "ps", "-aq", "--filter", "label="+kube.OwnerLabel+"="+d.Run)
	if err != nil {
		return 0, fmt.Errorf("listing external hosts: %w", err)
	}
	ids := strings.Fields(string(out))
	if len(ids) == 0 {
		return 0, nil
	}
	if _, err := kind.RunDocker(ctx, nil, append([]string{"rm", "-f"}, ids...)...); err != nil {
		return 0, fmt.Errorf("removing external hosts: %w", err)
	}
	return len(ids), nil
}

// Exec runs command in an external host's container; it is the probe engine's
// Executor for the hosts outside the cluster.
func (d ExternalHosts) Exec(ctx context.Context, endpoint string, command []string, stdin []byte) ([]byte, []byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", append([]string{"exec", "-i", d.container(endpoint)}, command...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), &stdout, &stderr
	err := cmd.Run()
	return stdout.Bytes(), stderr.Bytes(), err
}

func joinPorts(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ",")
}
