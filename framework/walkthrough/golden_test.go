package walkthrough_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/golden"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
	"github.com/tierproof/tierproof/framework/walkthrough"
)

// oraclePlane answers every probe with the model's verdict for the stage it
// last applied, like the lab, but in memory and with fixed details and
// durations, so that a run's reports are the same bytes every time. fault,
// if set, flips one cell at one stage.
type oraclePlane struct {
	topo    *topology.Topology
	byIP    map[string]string
	verdict map[probe.Flow]model.Verdict
	probes  []model.Probe
	fault   *faultAt
}

type faultAt struct {
	stage int
	flow  probe.Flow // ToIP left empty
}

func newOraclePlane(topo *topology.Topology, probes []model.Probe) *oraclePlane {
	p := &oraclePlane{topo: topo, probes: probes, byIP: map[string]string{}}
	for _, pod := range topo.Pods {
		p.byIP[pod.IP] = pod.EndpointName()
	}
	for _, e := range topo.Externals {
		p.byIP[e.IP] = e.Name
	}
	return p
}

func (*oraclePlane) Name() string                { return "oracle data plane (the model's verdicts, in memory)" }
func (*oraclePlane) Semantics() model.Semantics  { return model.Antrea }
func (*oraclePlane) Probeable(probe.Flow) error  { return nil }
func (p *oraclePlane) IP(endpoint string) string { return p.ipOf(endpoint) }
func (p *oraclePlane) ipOf(endpoint string) string {
	for ip, name := range p.byIP {
		if name == endpoint {
			return ip
		}
	}
	return ""
}

func (p *oraclePlane) Apply(_ context.Context, stage int, set *policy.Set) error {
	m, err := model.Compile(p.topo, set)
	if err != nil {
		return err
	}
	p.verdict = map[probe.Flow]model.Verdict{}
	for fi, from := range m.Endpoints() {
		for ti, to := range m.Endpoints() {
			for _, pr := range p.probes {
				v := m.Evaluate(fi, ti, pr).Verdict
				f := probe.Flow{From: from, To: to, Probe: pr}
				if p.fault != nil && p.fault.stage == stage && p.fault.flow == f {
					v = map[bool]model.Verdict{true: model.Drop, false: model.Allow}[v == model.Allow]
				}
				p.verdict[f] = v
			}
		}
	}
	return nil
}

func (p *oraclePlane) Exec(_ context.Context, endpoint string, _ []string, stdin []byte) ([]byte, []byte, error) {
	var b agent.Batch
	if err := json.Unmarshal(stdin, &b); err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	for _, r := range b.Requests {
		proto, err := model.ParseProtocol(r.Protocol)
		if err != nil {
			return nil, nil, err
		}
		pr := model.Probe{Protocol: proto, Port: int32(r.Port), SourcePort: int32(r.SourcePort)}
		res := agent.Result{ID: r.ID, Duration: 3}
		switch p.verdict[probe.Flow{From: endpoint, To: p.byIP[r.IP], Probe: pr}] {
		case model.Allow:
			res.Outcome = agent.Connected
		case model.Reject:
			res.Outcome, res.Detail = agent.Rejected, "connection refused"
		default:
			res.Outcome = agent.Dropped
		}
		line, _ := json.Marshal(res)
		out.Write(append(line, '\n'))
	}
	return out.Bytes(), nil, nil
}

// The blog walkthrough's reports, passing and with one cell flipped at
// block-all, are pinned byte for byte: a change of any report's output shows
// here first.
func TestBlogWalkthroughReportsAreGolden(t *testing.T) {
	s, err := scenario.Load("../../scenarios/antrea-blog")
	if err != nil {
		t.Fatal(err)
	}
	topo := s.Topology
	for _, c := range []struct {
		name  string
		fault *faultAt
	}{
		{"pass", nil},
		{"fault", &faultAt{stage: 3, flow: probe.Flow{From: "prod-app/ubuntu-16-04", To: "ssh-server", Probe: model.Probe{Protocol: model.TCP, Port: 22}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			plane := newOraclePlane(topo, s.Probes)
			plane.fault = c.fault
			run, err := walkthrough.Runner{Plane: plane, Engine: probe.Config{Timeout: time.Second}}.Run(context.Background(), s, topo, s.ValuesFor(topo))
			if (err != nil) != (c.fault != nil) {
				t.Fatalf("run error %v", err)
			}
			for _, w := range []struct {
				file  string
				write func(io.Writer, report.Run) error
			}{
				{"junit.xml", report.WriteJUnit},
				{"results.json", report.WriteResultsJSON},
				{"truth-tables.txt", report.WriteObservedTables},
				{"report.html", report.WriteHTML},
			} {
				var out bytes.Buffer
				if err := w.write(&out, run); err != nil {
					t.Fatal(err)
				}
				golden.Check(t, filepath.Join("testdata", "blog-"+c.name, w.file), out.Bytes())
			}
		})
	}
}

// PerFlowSample probes a sample of sources again one exec per flow after a
// stage that matched, and says what that costs beside the stage's execs.
func TestPerFlowSampleSaysWhatOneExecPerFlowCosts(t *testing.T) {
	s, err := scenario.Load("../../scenarios/antrea-blog")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	logf := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	runner := walkthrough.Runner{Plane: newOraclePlane(s.Topology, s.Probes), Engine: probe.Config{Timeout: time.Second}, Logf: logf, PerFlowSample: 2}
	if _, err := runner.Run(context.Background(), s, s.Topology, s.ValuesFor(s.Topology)); err != nil {
		t.Fatal(err)
	}
	// 2 sources × (14 endpoints × 8 probes) flows, one exec each, all as the model says.
	want := regexp.MustCompile(`^stage no-policy: one exec per flow, 2 sources: 224 flows, 224 execs, \S+, 224 as the model says; the whole stage so: 1568 execs, about \S+ \(batched: 14 execs, \S+\)$`)
	if !slices.ContainsFunc(lines, want.MatchString) {
		t.Errorf("no line matches %s:\n%s", want, strings.Join(lines, "\n"))
	}
}
