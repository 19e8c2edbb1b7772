package cluster_test

import (
	"testing"

	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
)

func TestClusterPlaneProbesFromAgentsOnly(t *testing.T) {
	plane := &cluster.ClusterPlane{
		Agents: map[string]bool{"dev-app/ubuntu-16-04": true, "ssh-server": true},
		DNS:    map[string]bool{"kube-system/coredns-7db6d8ff4d-x2xkq": true},
	}
	dns := "kube-system/coredns-7db6d8ff4d-x2xkq"
	for _, tc := range []struct {
		from, to string
		probe    model.Probe
		want     bool
	}{
		{"dev-app/ubuntu-16-04", "ssh-server", model.Probe{Protocol: model.TCP, Port: 22}, true},
		{"dev-app/ubuntu-16-04", dns, model.Probe{Protocol: model.UDP, Port: 53}, true},
		{"dev-app/ubuntu-16-04", dns, model.Probe{Protocol: model.TCP, Port: 53}, true},
		{"dev-app/ubuntu-16-04", dns, model.Probe{Protocol: model.TCP, Port: 80}, false}, // CoreDNS does not serve 80
		{"dev-app/ubuntu-16-04", dns, model.Probe{Protocol: model.ICMP}, false},
		{dns, "dev-app/ubuntu-16-04", model.Probe{Protocol: model.UDP, Port: 53}, false}, // no agent in CoreDNS
	} {
		if got := plane.Probeable(probe.Flow{From: tc.from, To: tc.to, Probe: tc.probe}) == nil; got != tc.want {
			t.Errorf("%s → %s %s: probeable %v, want %v", tc.from, tc.to, tc.probe, got, tc.want)
		}
	}
}
