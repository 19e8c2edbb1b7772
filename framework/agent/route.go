package agent

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
)

// AddRoute routes cidr via gateway in the current network namespace, replacing
// any route to cidr. External hosts use it to reach pod IPs through the node
// that owns each pod CIDR, as a load balancer sending to pods would.
func AddRoute(cidr, gateway string) error {
	_, dst, err := net.ParseCIDR(cidr)
	if err != nil {
		return fmt.Errorf("route destination %q: %w", cidr, err)
	}
	gw := net.ParseIP(gateway)
	if gw == nil {
		return fmt.Errorf("route gateway %q is not an IP address", gateway)
	}
	if err := netlink.RouteReplace(&netlink.Route{Dst: dst, Gw: gw}); err != nil {
		return fmt.Errorf("adding route %s via %s: %w", dst, gw, err)
	}
	return nil
}
