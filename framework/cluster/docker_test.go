package cluster_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/agentimage"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/imagebuild"
	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/netlab"
	"github.com/tierproof/tierproof/framework/probe"
)

// The external hosts on a real Docker engine (.ci/run starts one): the agent
// image loads, the run's network takes fixed addresses on Docker 20.10, the
// container runtime finds the agent where every executor runs it, and the
// probe engine classifies what the hosts serve and refuse through docker
// exec. Everything it makes is labelled and removed.
func TestExternalHostsOnARealDockerEngine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := kind.CheckDocker(ctx); err != nil {
		t.Skip("no Docker engine answers (.ci/run starts one): " + firstLineOf(err.Error()))
	}
	tag := loadAgentImage(ctx, t, "test")

	run := fmt.Sprintf("it-%d", os.Getpid())
	network, err := kind.EnsureNetwork(ctx, kind.NetworkName(run), run)
	if err != nil {
		t.Fatal(err)
	}
	d := cluster.ExternalHosts{Run: run, Network: network.Name, Image: tag}
	t.Cleanup(func() {
		ctx := context.Background()
		if _, err := d.RemoveExternals(ctx); err != nil {
			t.Error(err)
		}
		if err := kind.RemoveNetwork(ctx, network); err != nil {
			t.Error(err)
		}
		if out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label="+kube.OwnerLabel+"="+run).Output(); len(out) > 0 {
			t.Errorf("containers left: %s", out)
		}
		if exec.Command("docker", "network", "inspect", network.Name).Run() == nil {
			t.Errorf("network %s left", network.Name)
		}
	})
	plan, err := cluster.PlanExternals(network.Subnet, []string{"ext"}, "lb", 1)
	if err != nil {
		t.Fatal(err)
	}
	ports := agent.Ports{TCP: []int{80, 81}, UDP: []int{80}, SCTP: []int{80}}
	// StartExternals also execs the agent's route command (by agent.Path).
	if err := d.StartExternals(ctx, plan, ports, []cluster.Route{{CIDR: "10.250.0.0/24", Via: addrIn(network.Subnet, 2)}}); err != nil {
		t.Fatalf("starting the external hosts on %s (%s): %v", network.Name, network.Subnet, err)
	}
	ext := plan.Values["ext.ip"]
	var flows []probe.Flow
	want := map[string]probe.Verdict{}
	for _, c := range []struct {
		probe   model.Probe
		verdict probe.Verdict
	}{
		{model.Probe{Protocol: model.TCP, Port: 80}, probe.Allow},
		{model.Probe{Protocol: model.TCP, Port: 82}, probe.Reject}, // nothing listens: RST
		{model.Probe{Protocol: model.UDP, Port: 80}, probe.Allow},
		{model.Probe{Protocol: model.ICMP}, probe.Allow},
	} {
		f := probe.Flow{From: "lb-client-1", To: "ext", ToIP: ext, Probe: c.probe}
		flows = append(flows, f)
		want[f.String()] = c.verdict
	}
	obs, stats := probe.NewEngine(d, probe.Config{Timeout: time.Second}).Run(ctx, flows, nil)
	for _, o := range obs {
		if got := o.Verdict(); got != want[o.Flow.String()] {
			t.Errorf("%s: %s (%s), want %s", o.Flow, got, o.Attempts[len(o.Attempts)-1].Detail, want[o.Flow.String()])
		}
	}
	if stats.Execs != 1 {
		t.Errorf("%d execs, want one for the one source", stats.Execs)
	}
}

// kind runs every node with --privileged and execs into them with
// --privileged. On a machine whose capability bounding set lacks some
// capability, that works only through the runtime wrapper hack/docker/start
// registers; this checks it does, on the engine .ci/run starts.
func TestPrivilegedContainersRunOnTheDockerEngine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := kind.CheckDocker(ctx); err != nil {
		t.Skip("no Docker engine answers (.ci/run starts one): " + firstLineOf(err.Error()))
	}
	tag := loadAgentImage(ctx, t, "priv")
	name := fmt.Sprintf("tierproof-priv-%d", os.Getpid())
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name).Run() })
	out, err := exec.CommandContext(ctx, "docker", "run", "-d", "--name", name, "--privileged", "--label", kube.OwnerLabel+"=priv-test", tag, "serve", "--tcp", "80").CombinedOutput()
	if err != nil {
		runtime, _ := exec.Command("docker", "info", "--format", "{{.DefaultRuntime}}").Output()
		if strings.Contains(string(out), "unable to apply caps") && strings.TrimSpace(string(runtime)) != "tierproof" {
			t.Skip("this engine cannot run privileged containers here (the bounding set lacks capabilities) and was not started by hack/docker/start, which adds the runtime wrapper")
		}
		t.Fatalf("docker run --privileged: %v\n%s", err, out)
	}
	if out, err := exec.CommandContext(ctx, "docker", "exec", "--privileged", name, agent.Path, "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "probe agent") {
		t.Fatalf("docker exec --privileged: %v\n%s", err, out)
	}
}

// loadAgentImage builds the agent image from a fresh agent build and loads it
// into Docker under a tag of this test process, removed at the end.
func loadAgentImage(ctx context.Context, t *testing.T, kind string) string {
	t.Helper()
	bin, err := netlab.BuildAgent(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	img, err := agentimage.Build(bin)
	if err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("tierproof.local/agent:%s-%d", kind, os.Getpid())
	archive := filepath.Join(t.TempDir(), "agent.tar")
	if err := imagebuild.WriteArchive(img, tag, archive); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, "docker", "load", "-i", archive).CombinedOutput(); err != nil {
		t.Fatalf("docker load: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", tag).Run() })
	return tag
}

// addrIn is the n-th address of a prefix.
func addrIn(p netip.Prefix, n int) string {
	a := p.Masked().Addr()
	for range n {
		a = a.Next()
	}
	return a.String()
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
