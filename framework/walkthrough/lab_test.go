package walkthrough_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/dataplane"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/netlab"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
	"github.com/tierproof/tierproof/framework/walkthrough"
)

var agentBinary string

func TestMain(m *testing.M) {
	if err := netlab.Available(); err != nil {
		fmt.Println("lab walkthrough tests skipped:", err)
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "tierproof-agent-")
	if err != nil {
		panic(err)
	}
	if agentBinary, err = netlab.BuildAgent(dir); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// blogLab is the blog's estate in the lab, at the offline topology's addresses.
func blogLab(t *testing.T) (*dataplane.LabPlane, *scenario.Scenario, *topology.Topology) {
	t.Helper()
	if err := netlab.Available(); err != nil {
		t.Skip(err.Error() + "; run as root (CI does)")
	}
	s, err := scenario.Load("../../scenarios/antrea-blog")
	if err != nil {
		t.Fatal(err)
	}
	topo := s.Topology
	lab, err := dataplane.NewLab(context.Background(), topo, s.Probes, agentBinary)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })
	return lab, s, topo
}

func TestBlogWalkthroughInTheLab(t *testing.T) {
	lab, s, topo := blogLab(t)
	runner := walkthrough.Runner{Plane: lab, Engine: probe.Config{Timeout: time.Second, Retries: 1}, Logf: t.Logf}
	run, err := runner.Run(context.Background(), s, topo, s.ValuesFor(topo))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Stages) != 7 {
		t.Fatalf("%d stages played, want 7", len(run.Stages))
	}
	var junit bytes.Buffer
	if err := report.WriteJUnit(&junit, run); err != nil {
		t.Fatal(err)
	}
	tests, failures := junitCounts(t, junit.Bytes())
	if want := 7 * 14 * 14 * 8; tests != want || failures != 0 {
		t.Errorf("JUnit: %d tests, %d failures; want %d tests (7 stages × 14 × 14 × 8 probes), 0 failures", tests, failures, want)
	}
	if !strings.Contains(junit.String(), "not Antrea") {
		t.Error("the JUnit does not say that the lab, not Antrea, answered")
	}
}

// With one cell flipped in the lab at block-all, the run must fail on exactly
// that cell, stop there, and the reports must show it.
func TestAnInjectedFaultFailsExactlyItsCell(t *testing.T) {
	lab, s, topo := blogLab(t)
	faulty := netlab.Cell{From: "prod-app/ubuntu-16-04", To: "ssh-server", Probe: model.Probe{Protocol: model.TCP, Port: 22}}
	lab.Faults = func(stage int, plan *netlab.Plan) {
		if s.Stages[stage].Name == "block-all" {
			delete(plan.Verdicts, faulty) // the lab lets through what the model drops
		}
	}
	traced := &tracingPlane{LabPlane: lab}
	run, err := walkthrough.Runner{Plane: traced, Engine: probe.Config{Timeout: time.Second}}.Run(context.Background(), s, topo, s.ValuesFor(topo))
	if err == nil || !strings.Contains(err.Error(), "stage block-all") {
		t.Fatalf("error %v, want the block-all stage to fail", err)
	}
	if len(run.Stages) != 4 {
		t.Fatalf("%d stages played, want 4 (no-policy … block-all, then stop)", len(run.Stages))
	}
	mismatches := run.Stages[3].Matrix.Mismatches()
	if len(mismatches) != 1 || mismatches[0].From != faulty.From || mismatches[0].To != faulty.To || mismatches[0].Probe != faulty.Probe {
		t.Fatalf("mismatches %v, want exactly the faulted cell", mismatches)
	}
	var junit bytes.Buffer
	if err := report.WriteJUnit(&junit, run); err != nil {
		t.Fatal(err)
	}
	if _, failures := junitCounts(t, junit.Bytes()); failures != 1 {
		t.Errorf("JUnit has %d failures, want 1", failures)
	}
	if len(traced.flows) != 1 || traced.flows[0].From != faulty.From || traced.flows[0].To != faulty.To {
		t.Errorf("traced %v, want exactly the mismatched flow", traced.flows)
	}
	for _, want := range []string{`name="block-all/prod-app/ubuntu-16-04→ssh-server/tcp/22"`, `message="expected Drop, observed Allow"`,
		"baseline ClusterNetworkPolicy/block-all-whitelist egress[0]", "traceflow: test trace of prod-app/ubuntu-16-04 → ssh-server tcp/22"} {
		if !strings.Contains(junit.String(), want) {
			t.Errorf("JUnit lacks %q", want)
		}
	}
	var tables bytes.Buffer
	if err := report.WriteObservedTables(&tables, run); err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, mark := range []string{" .!", " X!", " R!", " E!"} {
		marked += strings.Count(tables.String(), mark)
	}
	if !strings.Contains(tables.String(), "== stage block-all: 1 mismatch(es)") || marked != 1 || !strings.Contains(tables.String(), " .!") {
		t.Errorf("observed tables mark %d cells, want exactly the faulted one as \".!\" (observed Allow where Drop was expected)", marked)
	}
}

func junitCounts(t *testing.T, data []byte) (tests, failures int) {
	t.Helper()
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v", err)
	}
	return doc.Tests, doc.Failures
}

// tracingPlane gives the lab a stand-in for Antrea's Traceflow, to check that
// mismatched flows are traced and the traces reach the reports.
type tracingPlane struct {
	*dataplane.LabPlane
	flows []probe.Flow
}

func (p *tracingPlane) Trace(_ context.Context, f probe.Flow) (string, error) {
	p.flows = append(p.flows, f)
	return "traceflow: test trace of " + f.String(), nil
}
