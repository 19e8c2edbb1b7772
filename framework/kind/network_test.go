package kind_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/testenv"
)

// Docker before 29.0.4 gives a container a fixed --ip only on a network
// created with a subnet; the network kind makes has none for IPv4. The run's
// own network has one, skipping subnets other networks hold, and is labelled
// so that only it is ever removed.
func TestEnsureNetworkCreatesOneWithAnIPv4SubnetOfItsOwn(t *testing.T) {
	calls := testenv.FakeDocker(t,
		testenv.DockerAnswer{Pattern: "network inspect tierproof-x --format*", Stderr: "Error: No such network: tierproof-x", Code: 1},
		testenv.DockerAnswer{Pattern: "network inspect bridge*", Stdout: "1400"},
		testenv.DockerAnswer{Pattern: "network create*--subnet 172.31.255.0/24 tierproof-x", Stderr: "Error response from daemon: Pool overlaps with other one on this address space", Code: 1},
	)
	n, err := kind.EnsureNetwork(context.Background(), kind.NetworkName("x"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if n != (kind.Network{Name: "tierproof-x", Subnet: netip.MustParsePrefix("172.31.254.0/24"), Owned: true}) {
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
	calls := testenv.FakeDocker(t, testenv.DockerAnswer{Pattern: "network inspect tierproof-x --format*",
		Stdout: `{"IPAM":{"Config":[{"Subnet":"172.31.250.0/24"}]},"Labels":{"tierproof.io/run":"x"}}`})
	n, err := kind.EnsureNetwork(context.Background(), "tierproof-x", "x")
	if err != nil || n.Subnet.String() != "172.31.250.0/24" || !n.Owned {
		t.Fatalf("%+v, %v", n, err)
	}
	if slices.ContainsFunc(calls(), func(c string) bool { return strings.HasPrefix(c, "network create") }) {
		t.Errorf("an existing network was created again: %v", calls())
	}
}

// The external hosts join whatever network the nodes are on, even kind's own.
func TestTheExternalsFollowTheNodesNetwork(t *testing.T) {
	testenv.FakeDocker(t,
		testenv.DockerAnswer{Pattern: "inspect tierproof-control-plane --format*", Stdout: "kind "},
		testenv.DockerAnswer{Pattern: "network inspect kind --format*",
			Stdout: `{"IPAM":{"Config":[{"Subnet":"fc00:f853:ccd:e793::/64"},{"Subnet":"172.18.0.0/16","Gateway":"172.18.0.1"}]},"Labels":{}}`},
	)
	name, err := kind.ContainerNetwork(context.Background(), "tierproof-control-plane")
	if err != nil || name != "kind" {
		t.Fatalf("network %q, %v", name, err)
	}
	n, err := kind.InspectNetwork(context.Background(), name)
	if err != nil || n.Subnet.String() != "172.18.0.0/16" || n.Owned {
		t.Fatalf("%+v, %v: want kind's IPv4 subnet, not tierproof's", n, err)
	}
	if err := kind.RemoveNetwork(context.Background(), n); err != nil {
		t.Fatal(err)
	}
}

func TestRemoveNetworkRemovesOnlyTierproofs(t *testing.T) {
	calls := testenv.FakeDocker(t)
	_ = kind.RemoveNetwork(context.Background(), kind.Network{Name: "kind"})
	_ = kind.RemoveNetwork(context.Background(), kind.Network{Name: "tierproof-x", Owned: true})
	if got := calls(); len(got) != 1 || got[0] != "network rm tierproof-x" {
		t.Errorf("docker calls %q, want only the removal of tierproof-x", got)
	}
}
