package kuberouter_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/kuberouter"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/nodeimage"
)

func TestEachNodeRoutesTheOthersPodCIDRs(t *testing.T) {
	nodes := []kuberouter.Node{{"cp", "172.31.255.2", "10.10.0.0/24"}, {"w1", "172.31.255.3", "10.10.1.0/24"}, {"w2", "172.31.255.4", "10.10.2.0/24"}}
	got := kuberouter.Routes(nodes[1], nodes)
	want := [][]string{{"ip", "route", "replace", "10.10.0.0/24", "via", "172.31.255.2"}, {"ip", "route", "replace", "10.10.2.0/24", "via", "172.31.255.4"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes %v, want %v", got, want)
	}
}

func TestThePodNetworkAddressesFromTheNodesCIDRUnmasqueraded(t *testing.T) {
	data, err := kuberouter.CNIConfig("10.10.1.0/24")
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Plugins []struct {
			Type   string `json:"type"`
			IPMasq bool   `json:"ipMasq"`
			IPAM   struct {
				Type   string                `json:"type"`
				Ranges [][]map[string]string `json:"ranges"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(data, &conf); err != nil {
		t.Fatal(err)
	}
	p := conf.Plugins[0]
	if p.Type != "ptp" || p.IPMasq || p.IPAM.Type != "host-local" || p.IPAM.Ranges[0][0]["subnet"] != "10.10.1.0/24" {
		t.Errorf("pod network %s", data)
	}
	if _, err := kuberouter.CNIConfig(""); err == nil {
		t.Error("a node without a pod CIDR got a pod network")
	}
}

func TestKubeRouterNamesItselfAndItsSemantics(t *testing.T) {
	var e cluster.Enforcer = kuberouter.Enforcer{}
	if !strings.Contains(e.Name(), "Kubernetes NetworkPolicy only") || !strings.Contains(e.Name(), "rejected") {
		t.Errorf("name %q", e.Name())
	}
	if s := e.Semantics(); s.AntreaNative || !s.PolicyTypesAsListed || s.K8sDenial != model.Reject {
		t.Errorf("semantics %+v", s)
	}
}

func TestKubeRouterRefusesAnotherNodeImage(t *testing.T) {
	err := kuberouter.Enforcer{}.Prepare(context.Background(), cluster.PrepareEnv{NodeImage: kind.NodeImage})
	if err == nil || !strings.Contains(err.Error(), nodeimage.Tag) {
		t.Errorf("kindest/node accepted: %v", err)
	}
}
