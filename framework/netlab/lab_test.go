package netlab_test

import (
	"context"
	"fmt"
	"math/rand"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/netlab"
	"github.com/tierproof/tierproof/framework/probe"
)

var agentBinary string

func TestMain(m *testing.M) {
	if err := netlab.Available(); err != nil {
		fmt.Println("netlab tests skipped:", err)
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "tierproof-agent-")
	if err != nil {
		panic(err)
	}
	agentBinary, err = netlab.BuildAgent(dir)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newLab(t testing.TB, endpoints []string, ports agent.Ports) *netlab.Lab {
	t.Helper()
	if err := netlab.Available(); err != nil {
		t.Skip(err.Error() + "; run the lab tests as root (CI does)")
	}
	lab, err := netlab.New(context.Background(), netlab.Config{Endpoints: endpoints, Ports: ports, AgentBinary: agentBinary})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Errorf("closing the lab: %v", err)
		}
	})
	return lab
}

func mustProbe(s string) model.Probe {
	p, err := model.ParseProbe(s)
	if err != nil {
		panic(err)
	}
	return p
}

// matrix lists every ordered pair of distinct endpoints under each probe.
func matrix(lab *netlab.Lab, probes []model.Probe) []probe.Flow {
	var out []probe.Flow
	for _, from := range lab.Endpoints() {
		for _, to := range lab.Endpoints() {
			if from == to {
				continue
			}
			for _, p := range probes {
				out = append(out, probe.Flow{From: from, To: to, ToIP: lab.IP(to), Probe: p})
			}
		}
	}
	return out
}

func cellOf(f probe.Flow) netlab.Cell { return netlab.Cell{From: f.From, To: f.To, Probe: f.Probe} }

func TestEveryVerdictKindIsClassified(t *testing.T) {
	protocols := []string{"tcp/80", "udp/53", "icmp"}
	ports := agent.Ports{TCP: []int{80}, UDP: []int{53}}
	if netlab.HasSCTP() {
		protocols = append(protocols, "sctp/80")
		ports.SCTP = []int{80}
	} else {
		t.Log("SCTP: this kernel has no SCTP support; SCTP cells not tested")
	}
	lab := newLab(t, []string{"client", "allow", "drop", "reject"}, ports)
	plan := netlab.Plan{Verdicts: map[netlab.Cell]model.Verdict{}}
	want := map[netlab.Cell]probe.Verdict{}
	for _, ps := range protocols {
		p := mustProbe(ps)
		for _, to := range []string{"allow", "drop", "reject"} {
			cell := netlab.Cell{From: "client", To: to, Probe: p}
			v := map[string]model.Verdict{"allow": model.Allow, "drop": model.Drop, "reject": model.Reject}[to]
			plan.Verdicts[cell] = v
			want[cell] = probe.FromModel(v)
		}
	}
	if err := lab.Program(plan); err != nil {
		t.Fatal(err)
	}
	var fl []probe.Flow
	for cell := range want {
		fl = append(fl, probe.Flow{From: cell.From, To: cell.To, ToIP: lab.IP(cell.To), Probe: cell.Probe})
	}
	obs, stats := probe.NewEngine(lab, probe.Config{Timeout: time.Second}).Run(context.Background(), fl, nil)
	for _, o := range obs {
		if got := o.Verdict(); got != want[cellOf(o.Flow)] {
			t.Errorf("%v: observed %s (%s), want %s", o.Flow, got, o.Attempts[0].Detail, want[cellOf(o.Flow)])
		}
	}
	if stats.Execs != 1 {
		t.Errorf("%d execs for one source", stats.Execs)
	}
}

// randomPlan gives every cell of the matrix a verdict: mostly Allow, some Drop and Reject.
func randomPlan(rng *rand.Rand, fl []probe.Flow) netlab.Plan {
	plan := netlab.Plan{Verdicts: map[netlab.Cell]model.Verdict{}}
	for _, f := range fl {
		switch r := rng.Intn(10); {
		case r < 2:
			plan.Verdicts[cellOf(f)] = model.Drop
		case r < 4:
			plan.Verdicts[cellOf(f)] = model.Reject
		default:
			plan.Verdicts[cellOf(f)] = model.Allow
		}
	}
	return plan
}

var eightProbes = []model.Probe{mustProbe("tcp/80"), mustProbe("tcp/81"), mustProbe("tcp/22"), mustProbe("tcp/443"),
	mustProbe("udp/53"), mustProbe("udp/80"), mustProbe("udp/123"), mustProbe("icmp")}

var eightProbePorts = agent.Ports{TCP: []int{22, 80, 81, 443}, UDP: []int{53, 80, 123}}

func endpointNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("ep%02d", i)
	}
	return names
}

func TestInjectedFaultsShowOnExactlyTheFaultedCells(t *testing.T) {
	lab := newLab(t, endpointNames(5), eightProbePorts)
	fl := matrix(lab, eightProbes)
	plan := randomPlan(rand.New(rand.NewSource(7)), fl)
	expected := map[netlab.Cell]model.Verdict{}
	for c, v := range plan.Verdicts {
		expected[c] = v
	}
	// Faults: one flipped cell, one cell losing every packet, one cell delayed
	// past the probe timeout.
	flipped := netlab.Cell{From: "ep00", To: "ep01", Probe: mustProbe("tcp/80")}
	plan.Verdicts[flipped] = map[model.Verdict]model.Verdict{model.Allow: model.Reject, model.Drop: model.Allow, model.Reject: model.Allow}[expected[flipped]]
	lossy := netlab.Cell{From: "ep02", To: "ep03", Probe: mustProbe("udp/53")}
	expected[lossy] = model.Allow
	plan.Verdicts[lossy] = model.Allow
	plan.Loss = map[netlab.Cell]int{lossy: 100}
	delayed := netlab.Cell{From: "ep04", To: "ep00", Probe: mustProbe("icmp")}
	expected[delayed] = model.Allow
	plan.Verdicts[delayed] = model.Allow
	plan.Delay = map[netlab.Cell]time.Duration{delayed: 1500 * time.Millisecond}
	if err := lab.Program(plan); err != nil {
		t.Fatal(err)
	}

	expect := func(f probe.Flow) (probe.Verdict, bool) { return probe.FromModel(expected[cellOf(f)]), true }
	obs, _ := probe.NewEngine(lab, probe.Config{Timeout: time.Second, Retries: 1}).Run(context.Background(), fl, expect)
	for _, o := range obs {
		cell := cellOf(o.Flow)
		want := probe.FromModel(expected[cell])
		faulted := cell == flipped || cell == lossy || cell == delayed
		got := o.Verdict()
		switch {
		case faulted && got == want:
			t.Errorf("faulted cell %v matched the expectation (%s)", o.Flow, got)
		case faulted && len(o.Attempts) != 2:
			t.Errorf("faulted cell %v: %d attempts, want 2 (one retry)", o.Flow, len(o.Attempts))
		case !faulted && got != want:
			t.Errorf("healthy cell %v: observed %s (%s), want %s", o.Flow, got, o.Attempts[len(o.Attempts)-1].Detail, want)
		case !faulted && len(o.Attempts) != 1:
			t.Errorf("healthy cell %v took %d attempts", o.Flow, len(o.Attempts))
		}
	}
}

// 12 endpoints × 8 probes, mixed verdicts, repeated: no cell may be
// misclassified. The full 20 runs are in BenchmarkRepeatedMatrix (make lab-soak).
func TestRepeatedMatrixHasNoMisclassification(t *testing.T) {
	runs := 3
	if testing.Short() {
		runs = 1
	}
	lab := newLab(t, endpointNames(12), eightProbePorts)
	wrong, cells := repeatedMatrix(t, lab, runs)
	if wrong != 0 {
		t.Fatalf("%d of %d cells misclassified", wrong, cells)
	}
	t.Logf("%d runs, %d cells, 0 misclassified", runs, cells)
}

func repeatedMatrix(t testing.TB, lab *netlab.Lab, runs int) (wrong, cells int) {
	fl := matrix(lab, eightProbes)
	rng := rand.New(rand.NewSource(42))
	engine := probe.NewEngine(lab, probe.Config{Timeout: time.Second})
	for run := 0; run < runs; run++ {
		plan := randomPlan(rng, fl)
		if err := lab.Program(plan); err != nil {
			t.Fatal(err)
		}
		obs, _ := engine.Run(context.Background(), fl, nil)
		for _, o := range obs {
			cells++
			if want := probe.FromModel(plan.Verdicts[cellOf(o.Flow)]); o.Verdict() != want {
				wrong++
				t.Errorf("run %d: %v observed %s (%s), want %s", run, o.Flow, o.Verdict(), o.Attempts[0].Detail, want)
			}
		}
	}
	return wrong, cells
}

func TestDelayBelowTheTimeoutSlowsACellWithoutChangingIt(t *testing.T) {
	lab := newLab(t, []string{"a", "b"}, agent.Ports{TCP: []int{80}})
	cell := netlab.Cell{From: "a", To: "b", Probe: mustProbe("tcp/80")}
	if err := lab.Program(netlab.Plan{Delay: map[netlab.Cell]time.Duration{cell: 300 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	fl := []probe.Flow{{From: "a", To: "b", ToIP: lab.IP("b"), Probe: cell.Probe}, {From: "b", To: "a", ToIP: lab.IP("a"), Probe: cell.Probe}}
	obs, _ := probe.NewEngine(lab, probe.Config{Timeout: time.Second}).Run(context.Background(), fl, nil)
	if obs[0].Verdict() != probe.Allow || obs[0].Attempts[0].Duration < 300*time.Millisecond {
		t.Errorf("delayed cell: %s in %v, want Allow after at least 300ms", obs[0].Verdict(), obs[0].Attempts[0].Duration)
	}
	if obs[1].Verdict() != probe.Allow || obs[1].Attempts[0].Duration >= 300*time.Millisecond {
		t.Errorf("reverse cell: %s in %v, want Allow without the delay", obs[1].Verdict(), obs[1].Attempts[0].Duration)
	}
}

// External hosts route pod CIDRs through nodes with the agent's route command.
func TestAgentRouteCommandAddsARoute(t *testing.T) {
	lab := newLab(t, []string{"host", "node"}, agent.Ports{TCP: []int{80}})
	ctx := context.Background()
	if _, stderr, err := lab.Exec(ctx, "host", []string{agent.Path, "route", "10.99.0.0/16", lab.IP("node")}, nil); err != nil {
		t.Fatalf("route: %v: %s", err, stderr)
	}
	out, _, err := lab.Exec(ctx, "host", []string{"ip", "route", "show", "10.99.0.0/16"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "10.99.0.0/16 via " + lab.IP("node"); !strings.Contains(string(out), want) {
		t.Fatalf("routes %q lack %q", out, want)
	}
	if _, stderr, err := lab.Exec(ctx, "host", []string{agent.Path, "route", "10.99.0.0/33", lab.IP("node")}, nil); err == nil || !strings.Contains(string(stderr), "route destination") {
		t.Fatalf("bad CIDR accepted: %v %s", err, stderr)
	}
}

// A lab can take a topology's own addresses, from different subnets, so that
// ipBlocks mean in the lab what they mean on the cluster.
func TestLabWithGivenAddresses(t *testing.T) {
	if err := netlab.Available(); err != nil {
		t.Skip(err.Error())
	}
	ips := map[string]netip.Addr{"pod": netip.MustParseAddr("10.10.1.5"), "ext": netip.MustParseAddr("172.18.255.241")}
	lab, err := netlab.New(context.Background(), netlab.Config{Endpoints: []string{"pod", "ext"}, Ports: agent.Ports{TCP: []int{80}}, AgentBinary: agentBinary, IPs: ips})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })
	if lab.IP("ext") != "172.18.255.241" {
		t.Fatalf("ext at %s", lab.IP("ext"))
	}
	cell := netlab.Cell{From: "ext", To: "pod", Probe: mustProbe("tcp/80")}
	if err := lab.Program(netlab.Plan{Verdicts: map[netlab.Cell]model.Verdict{cell: model.Reject}}); err != nil {
		t.Fatal(err)
	}
	fl := []probe.Flow{{From: "ext", To: "pod", ToIP: lab.IP("pod"), Probe: cell.Probe}, {From: "pod", To: "ext", ToIP: lab.IP("ext"), Probe: cell.Probe}}
	obs, _ := probe.NewEngine(lab, probe.Config{Timeout: time.Second}).Run(context.Background(), fl, nil)
	if obs[0].Verdict() != probe.Reject || obs[1].Verdict() != probe.Allow {
		t.Fatalf("across subnets: %s (%s), %s (%s)", obs[0].Verdict(), obs[0].Attempts[0].Detail, obs[1].Verdict(), obs[1].Attempts[0].Detail)
	}
	if _, err := netlab.New(context.Background(), netlab.Config{Endpoints: []string{"a"}, AgentBinary: agentBinary, IPs: map[string]netip.Addr{}}); err == nil {
		t.Fatal("an endpoint without an address was accepted")
	}
}
