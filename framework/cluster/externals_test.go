package cluster_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/testenv"
)

func TestPlanExternalsKeepsTheSSHServerOutsideTheLBPool(t *testing.T) {
	plan, err := cluster.PlanExternals(netip.MustParsePrefix("172.18.0.0/16"), []string{"ssh-server"}, "lb", 2)
	if err != nil {
		t.Fatal(err)
	}
	if plan.LBPool.String() != "172.18.255.240/28" {
		t.Errorf("pool %s, want the top /28 of the kind network", plan.LBPool)
	}
	subnet := netip.MustParsePrefix("172.18.0.0/16")
	for _, h := range plan.Hosts {
		ip := netip.MustParseAddr(h.IP)
		inPool := plan.LBPool.Contains(ip)
		if !subnet.Contains(ip) || inPool != strings.HasPrefix(h.Name, "lb-client") || ip == plan.LBPool.Addr() {
			t.Errorf("%s at %s (in pool: %v)", h.Name, ip, inPool)
		}
	}
	if plan.Values["ssh-server.ip"] != plan.Hosts[0].IP || plan.Values["lb-pool.cidr"] != "172.18.255.240/28" || plan.Values["lb-client-2.ip"] != "172.18.255.242" {
		t.Errorf("template values %v", plan.Values)
	}
	if _, err := cluster.PlanExternals(netip.MustParsePrefix("172.18.0.0/26"), []string{"ssh-server"}, "lb", 2); err == nil {
		t.Error("a /26 kind network accepted")
	}
}

func TestPodRoutesGoThroughTheOwningNode(t *testing.T) {
	node := func(name, cidr, ip string) corev1.Node {
		return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDR: cidr},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}}}
	}
	routes, err := cluster.PodRoutes([]corev1.Node{node("cp", "10.10.0.0/24", "172.18.0.2"), node("w1", "10.10.1.0/24", "172.18.0.3")})
	if err != nil || len(routes) != 2 || routes[1] != (cluster.Route{CIDR: "10.10.1.0/24", Via: "172.18.0.3"}) {
		t.Fatalf("routes %v, %v", routes, err)
	}
	if _, err := cluster.PodRoutes([]corev1.Node{node("new", "", "172.18.0.9")}); err == nil || !strings.Contains(err.Error(), "node new has no pod CIDR") {
		t.Fatalf("node without pod CIDR: %v", err)
	}
}

func TestStartExternalsNeedsDocker(t *testing.T) {
	if kind.CheckDocker(context.Background()) == nil {
		t.Skip("a Docker engine answers here: this would start containers")
	}
	plan, _ := cluster.PlanExternals(netip.MustParsePrefix("172.18.0.0/16"), []string{"ssh-server"}, "lb", 1)
	err := cluster.ExternalHosts{Run: "t"}.StartExternals(context.Background(), plan, agent.Ports{TCP: []int{22}}, nil)
	if err == nil || !strings.Contains(err.Error(), "starting external host ssh-server: docker run") {
		t.Fatalf("error %v", err)
	}
}

// Every port of the estate's spec is served by the external hosts, SCTP too
// (the conformance catalog's ext is probed on SCTP 80 and 81).
func TestStartExternalsServesEveryProtocolOnTheNodesNetwork(t *testing.T) {
	calls := testenv.FakeDocker(t)
	plan, err := cluster.PlanExternals(netip.MustParsePrefix("172.31.254.0/24"), []string{"ext"}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	d := cluster.ExternalHosts{Run: "r", Network: "tierproof-r"}
	if err := d.StartExternals(context.Background(), plan, agent.Ports{TCP: []int{80, 81}, UDP: []int{80, 81}, SCTP: []int{80, 81}}, []cluster.Route{{CIDR: "10.10.1.0/24", Via: "172.31.254.3"}}); err != nil {
		t.Fatal(err)
	}
	got := calls()
	if len(got) != 2 {
		t.Fatalf("docker calls %q, want a run and a route", got)
	}
	for _, want := range []string{"run -d --name tierproof-r-ext --network tierproof-r --ip " + plan.Hosts[0].IP, "--label tierproof.io/run=r",
		"serve --tcp 80,81 --udp 80,81 --sctp 80,81"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("%q lacks %q", got[0], want)
		}
	}
	if want := "exec tierproof-r-ext " + agent.Path + " route 10.10.1.0/24 172.31.254.3"; got[1] != want {
		t.Errorf("route: %q, want %q", got[1], want)
	}
}

func TestRemoveExternalsCountsWhatItRemoved(t *testing.T) {
	calls := testenv.FakeDocker(t, testenv.DockerAnswer{Pattern: "ps -aq --filter label=tierproof.io/run=r", Stdout: "c1\nc2\n"})
	n, err := cluster.ExternalHosts{Run: "r"}.RemoveExternals(context.Background())
	if err != nil || n != 2 || calls()[1] != "rm -f c1 c2" {
		t.Fatalf("removed %d (%v), calls %q", n, err, calls())
	}
}
