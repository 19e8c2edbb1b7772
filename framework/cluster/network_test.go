package cluster_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/cluster"
)

// Docker before 29.0.4 gives a container a fixed --ip only on a network
// created with a subnet; the network kind makes has none for IPv4. The run's
// own network has one, skipping subnets other networks hold, and is labelled
// so that only it is ever removed.
func TestEnsureNetworkCreatesOneWithAnIPv4SubnetOfItsOwn(t *testing.T) {
	calls := fakeDocker(t,
		answer{pattern: "network inspect tierproof-x --format*", stderr: "Error: No such network: tierproof-x", code: 1},
		answer{pattern: "network inspect bridge*", stdout: "1400"},
		answer{pattern: "network create*--subnet 172.31.255.0/24 tierproof-x", stderr: "Error response from daemon: Pool overlaps with other one on this address space", code: 1},
	)
	n, err := cluster.EnsureNetwork(context.Background(), cluster.NetworkName("x"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if n != (cluster.Network{Name: "tierproof-x", Subnet: netip.MustParsePrefix("172.31.254.0/24"), Owned: true}) {
		t.Errorf("network %+v, want tierproof-x on the first free candidate, 172.31.254.0/24", n)
	}
	created := calls()[len(calls())-1]
	for _, want := range []string{"network create -d=bridge", "enable_ip_masquerade=true", "--label tierproof.io/run=x", "com.docker.network.driver.mtu=1400", "--subnet 172.31.254.0/24 tierproof-x"} {
		if !strings.Contains(created, want) {
			t.Errorf("%q lacks %q", created, want)
		}
	}
}

func TestEnsureNetworkReusesAnExistingOne(t *testing.T) {
	calls := fakeDocker(t, answer{pattern: "network inspect tierproof-x --format*",
		stdout: `{"IPAM":{"Config":[{"Subnet":"172.31.250.0/24"}]},"Labels":{"tierproof.io/run":"x"}}`})
	n, err := cluster.EnsureNetwork(context.Background(), "tierproof-x", "x")
	if err != nil || n.Subnet.String() != "172.31.250.0/24" || !n.Owned {
		t.Fatalf("%+v, %v", n, err)
	}
	if slices.ContainsFunc(calls(), func(c string) bool { return strings.HasPrefix(c, "network create") }) {
		t.Errorf("an existing network was created again: %v", calls())
	}
}

// The external hosts join whatever network the nodes are on, even kind's own.
func TestTheExternalsFollowTheNodesNetwork(t *testing.T) {
	fakeDocker(t,
		answer{pattern: "inspect tierproof-control-plane --format*", stdout: "kind "},
		answer{pattern: "network inspect kind --format*",
			stdout: `{"IPAM":{"Config":[{"Subnet":"fc00:f853:ccd:e793::/64"},{"Subnet":"172.18.0.0/16","Gateway":"172.18.0.1"}]},"Labels":{}}`},
	)
	name, err := cluster.ContainerNetwork(context.Background(), "tierproof-control-plane")
	if err != nil || name != "kind" {
		t.Fatalf("network %q, %v", name, err)
	}
	n, err := cluster.InspectNetwork(context.Background(), name)
	if err != nil || n.Subnet.String() != "172.18.0.0/16" || n.Owned {
		t.Fatalf("%+v, %v: want kind's IPv4 subnet, not tierproof's", n, err)
	}
	if err := cluster.RemoveNetwork(context.Background(), n); err != nil {
		t.Fatal(err)
	}
}

func TestRemoveNetworkRemovesOnlyTierproofs(t *testing.T) {
	calls := fakeDocker(t)
	_ = cluster.RemoveNetwork(context.Background(), cluster.Network{Name: "kind"})
	_ = cluster.RemoveNetwork(context.Background(), cluster.Network{Name: "tierproof-x", Owned: true})
	if got := calls(); len(got) != 1 || got[0] != "network rm tierproof-x" {
		t.Errorf("docker calls %q, want only the removal of tierproof-x", got)
	}
}

// Every port of the estate's spec is served by the external hosts, SCTP too
// (the conformance catalog's ext is probed on SCTP 80 and 81).
func TestStartExternalsServesEveryProtocolOnTheNodesNetwork(t *testing.T) {
	calls := fakeDocker(t)
	plan, err := cluster.PlanExternals(netip.MustParsePrefix("172.31.254.0/24"), "ext", 0)
	if err != nil {
		t.Fatal(err)
	}
	d := cluster.Docker{Run: "r", Network: "tierproof-r"}
	if err := d.StartExternals(context.Background(), plan, cluster.ConformanceEstate.Ports, []cluster.Route{{CIDR: "10.10.1.0/24", Via: "172.31.254.3"}}); err != nil {
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
	calls := fakeDocker(t, answer{pattern: "ps -aq --filter label=tierproof.io/run=r", stdout: "c1\nc2\n"})
	n, err := cluster.Docker{Run: "r"}.RemoveExternals(context.Background())
	if err != nil || n != 2 || calls()[1] != "rm -f c1 c2" {
		t.Fatalf("removed %d (%v), calls %q", n, err, calls())
	}
}
