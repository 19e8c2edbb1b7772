// Package netlab is a network-namespace lab for tests and benchmarks: one Linux
// network namespace per endpoint, joined by a bridge, the probe agent serving
// in each, and nftables rules that enforce a given verdict table. It is a test
// double for the data plane — not a CNI and not Antrea — and every output that
// comes from it says "lab data plane".
package netlab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/tierproof/tierproof/framework/agent"
)

// Config describes a lab.
type Config struct {
	// Endpoints are the names of the lab's hosts, each in its own namespace.
	Endpoints []string
	// Ports are served by the agent in every endpoint.
	Ports agent.Ports
	// AgentBinary is the path of a built tierproof-agent.
	AgentBinary string
	// IPs optionally gives every endpoint its own IPv4 address, such as a
	// topology's pod and external IPs, so that policies' ipBlocks mean the same
	// in the lab. Each gets a /32 and an on-link default route on the bridge.
	// When nil, endpoints are numbered in Subnet.
	IPs map[string]netip.Addr
}

// Lab is a running lab. Close removes everything it created.
type Lab struct {
	id        string
	hub       string // namespace holding the bridge
	endpoints map[string]*node
	order     []string
	agent     string
	servers   []*exec.Cmd
	// delayStops release the userspace queues of delayed pairs.
	delayStops []func()
}

type node struct {
	namespace string
	ip        netip.Addr
	bits      int // prefix length of ip on eth0; 32 means on-link routing
	index     int
}

// Subnet is where lab endpoints get their addresses, one /24 for the lab.
var Subnet = netip.MustParsePrefix("10.213.0.0/24")

// Available says why a lab cannot run here, or nil: it needs root and the ip tool.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("the network-namespace lab needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("the network-namespace lab needs the ip tool (Debian package iproute2)")
	}
	return nil
}

// New builds the lab and starts an agent serving in every endpoint. On error
// nothing it created is left behind.
func New(ctx context.Context, cfg Config) (lab *Lab, err error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if len(cfg.Endpoints) == 0 || len(cfg.Endpoints) > 250 {
		return nil, fmt.Errorf("a lab has 1 to 250 endpoints, not %d", len(cfg.Endpoints))
	}
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	if _, err := RemoveStale(); err != nil {
		return nil, err
	}
	l := &Lab{id: hex.EncodeToString(suffix), endpoints: map[string]*node{}, agent: cfg.AgentBinary}
	l.hub = "tplab-" + l.id + "-hub"
	if err := l.claim(); err != nil {
		return nil, fmt.Errorf("marking the lab as this process's: %w", err)
	}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	addr := Subnet.Addr().Next() // .1 stays free
	used := map[netip.Addr]string{}
	for i, name := range cfg.Endpoints {
		if _, dup := l.endpoints[name]; dup {
			return nil, fmt.Errorf("endpoint %q twice", name)
		}
		n := &node{namespace: fmt.Sprintf("tplab-%s-%d", l.id, i), index: i}
		if cfg.IPs == nil {
			addr = addr.Next()
			n.ip, n.bits = addr, Subnet.Bits()
		} else {
			ip, ok := cfg.IPs[name]
			if !ok || !ip.Is4() {
				return nil, fmt.Errorf("endpoint %q has no IPv4 address in Config.IPs", name)
			}
			if other, taken := used[ip]; taken {
				return nil, fmt.Errorf("endpoints %q and %q share %s", other, name, ip)
			}
			used[ip] = name
			n.ip, n.bits = ip, 32
		}
		l.endpoints[name] = n
		l.order = append(l.order, name)
	}
	if err := l.wire(); err != nil {
		return nil, fmt.Errorf("wiring the lab: %w", err)
	}
	if err := l.serve(ctx, cfg.Ports); err != nil {
		return nil, err
	}
	return l, nil
}

// wire creates the namespaces, the bridge and one veth pair per endpoint.
func (l *Lab) wire() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	origin, err := netns.Get()
	if err != nil {
		return err
	}
	defer origin.Close()
	// netns.NewNamed moves the calling thread into the new namespace, where
	// the namespace's sysctls are set before the thread moves back.
	newNamed := func(name string) (netns.NsHandle, error) {
		h, err := netns.NewNamed(name)
		if err == nil {
			err = unlimitICMPErrors()
		}
		if setErr := netns.Set(origin); setErr != nil && err == nil {
			err = setErr
		}
		return h, err
	}
	hubNS, err := newNamed(l.hub)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", l.hub, err)
	}
	defer hubNS.Close()
	hub, err := netlink.NewHandleAt(hubNS)
	if err != nil {
		return err
	}
	defer hub.Close()
	bridge := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}
	if err := hub.LinkAdd(bridge); err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	if err := hub.LinkSetUp(bridge); err != nil {
		return err
	}
	for _, name := range l.order {
		n := l.endpoints[name]
		epNS, err := newNamed(n.namespace)
		if err != nil {
			return fmt.Errorf("namespace %s: %w", n.namespace, err)
		}
		err = wireEndpoint(hub, bridge, epNS, n)
		epNS.Close()
		if err != nil {
			return fmt.Errorf("endpoint %s: %w", name, err)
		}
	}
	return nil
}

func wireEndpoint(hub *netlink.Handle, bridge *netlink.Bridge, epNS netns.NsHandle, n *node) error {
	hostSide := "veth" + strconv.Itoa(n.index)
	podSide := "pod" + strconv.Itoa(n.index)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: hostSide, MasterIndex: bridge.Index}, PeerName: podSide}
	if err := hub.LinkAdd(veth); err != nil {
		return fmt.Errorf("veth: %w", err)
	}
	peer, err := hub.LinkByName(podSide)
	if err != nil {
		return err
	}
	if err := hub.LinkSetNsFd(peer, int(epNS)); err != nil {
		return err
	}
	if err := hub.LinkSetUp(veth); err != nil {
		return err
	}
	ep, err := netlink.NewHandleAt(epNS)
	if err != nil {
		return err
	}
	defer ep.Close()
	link, err := ep.LinkByName(podSide)
	if err != nil {
		return err
	}
	if err := ep.LinkSetName(link, "eth0"); err != nil {
		return err
	}
	ipNet, _ := netlink.ParseIPNet(netip.PrefixFrom(n.ip, n.bits).String())
	if err := ep.AddrAdd(link, &netlink.Addr{IPNet: ipNet}); err != nil {
		return err
	}
	if err := ep.LinkSetUp(link); err != nil {
		return err
	}
	if n.bits == 32 {
		// Every other endpoint is on the same bridge: reach them all on-link.
		everything := &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}
		if err := ep.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Scope: netlink.SCOPE_LINK, Dst: everything}); err != nil {
			return fmt.Errorf("on-link default route: %w", err)
		}
	}
	lo, err := ep.LinkByName("lo")
	if err != nil {
		return err
	}
	return ep.LinkSetUp(lo)
}

// serve starts `tierproof-agent serve` in every endpoint and waits until each
// says it is serving.
func (l *Lab) serve(ctx context.Context, ports agent.Ports) error {
	join := func(ps []int) string {
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = strconv.Itoa(p)
		}
		return strings.Join(s, ",")
	}
	for _, name := range l.order {
		n := l.endpoints[name]
		cmd := exec.Command("ip", "netns", "exec", n.namespace, l.agent, "serve",
			"--tcp", join(ports.TCP), "--udp", join(ports.UDP), "--sctp", join(ports.SCTP))
		// The agent dies with the lab's process, however that ends.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		stderr, err := cmd.StderrPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting the agent in %s: %w", name, err)
		}
		l.servers = append(l.servers, cmd)
		ready := make(chan error, 1)
		go func() {
			scanner := bufio.NewScanner(stderr)
			var lines []string
			for scanner.Scan() {
				lines = append(lines, scanner.Text())
				if strings.Contains(scanner.Text(), "serving tcp") {
					ready <- nil
					for scanner.Scan() {
					}
					return
				}
			}
			ready <- fmt.Errorf("agent in %s exited: %s", name, strings.Join(lines, "; "))
		}()
		select {
		case err := <-ready:
			if err != nil {
				return err
			}
		case <-time.After(10 * time.Second):
			return fmt.Errorf("agent in %s did not start serving within 10s", name)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// IP is an endpoint's address.
func (l *Lab) IP(endpoint string) string { return l.endpoints[endpoint].ip.String() }

// Endpoints are the lab's endpoint names in the order given.
func (l *Lab) Endpoints() []string { return append([]string(nil), l.order...) }

// Exec runs command in an endpoint's namespace; it makes the lab a probe.Executor.
func (l *Lab) Exec(ctx context.Context, endpoint string, command []string, stdin []byte) ([]byte, []byte, error) {
	n, ok := l.endpoints[endpoint]
	if !ok {
		return nil, nil, fmt.Errorf("no lab endpoint %q", endpoint)
	}
	if len(command) > 0 && command[0] == agent.Path {
		command = append([]string{l.agent}, command[1:]...)
	}
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.namespace}, command...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.Bytes(), stderr.Bytes(), err
}

// ID names the lab: its namespaces are tplab-<ID>-*.
func (l *Lab) ID() string { return l.id }

// Close stops the agents and deletes every namespace, which removes the veths
// and the bridge with them.
func (l *Lab) Close() error {
	l.stopDelays()
	for _, cmd := range l.servers {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	var errs []error
	for _, n := range l.endpoints {
		if err := netns.DeleteNamed(n.namespace); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := netns.DeleteNamed(l.hub); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		l.release()
	}
	return errors.Join(errs...)
}

// unlimitICMPErrors lifts the kernel's rate limit on ICMP errors in the current
// thread's namespace. Antrea answers a Reject from the data plane, never rate
// limited; the lab's kernel would otherwise swallow some of a burst of
// "administratively prohibited" replies to one peer and turn Rejects into Drops.
func unlimitICMPErrors() error {
	for file, value := range map[string]string{
		"/proc/sys/net/ipv4/icmp_ratelimit":    "0",
		"/proc/sys/net/ipv4/icmp_msgs_per_sec": "100000",
		"/proc/sys/net/ipv4/icmp_msgs_burst":   "100000",
	} {
		if err := os.WriteFile(file, []byte(value), 0o644); err != nil {
			return fmt.Errorf("lifting the ICMP rate limit: %w", err)
		}
	}
	return nil
}

// HasSCTP says whether this kernel can open SCTP sockets (many kernels are
// built without CONFIG_IP_SCTP).
func HasSCTP() bool {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_SCTP)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}
