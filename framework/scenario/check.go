package scenario

import (
	"context"
	"fmt"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/topology"
)

// Model compiles stage (an index) offline on base: the stage's labels, and
// the policies of every stage up to it rendered with base's addresses.
func (s *Scenario) Model(ctx context.Context, stage int, base *topology.Topology) (*model.Model, error) {
	topo, err := s.TopologyAt(stage, base)
	if err != nil {
		return nil, err
	}
	set, err := s.Policies(stage, s.ValuesFor(base))
	if err != nil {
		return nil, err
	}
	return model.CompileContext(ctx, topo, set, model.Antrea)
}

// AssertionResult is an assertion checked against the model on one endpoint pair.
type AssertionResult struct {
	From    string        `json:"from"`
	To      string        `json:"to"`
	Probe   string        `json:"probe"`
	Verdict model.Verdict `json:"verdict"`
	Model   model.Verdict `json:"model"`
	Holds   bool          `json:"holds"`
	Why     string        `json:"why,omitempty"`
}

// Check evaluates each assertion of the stage on every endpoint pair its
// patterns name. An assertion that names no pair is an error: it checks nothing.
func (st Stage) Check(m *model.Model) ([]AssertionResult, error) {
	var results []AssertionResult
	endpoints := m.Endpoints()
	for _, a := range st.Assertions {
		if err := m.CheckProbe(a.Probe); err != nil {
			return nil, fmt.Errorf("stage %s: assertion %s → %s: %w", st.Name, a.From, a.To, err)
		}
		matched := 0
		for from, fromName := range endpoints {
			if !MatchesEndpoint(a.From, fromName) {
				continue
			}
			for to, toName := range endpoints {
				if !MatchesEndpoint(a.To, toName) {
					continue
				}
				matched++
				got := m.Evaluate(from, to, a.Probe).Verdict
				results = append(results, AssertionResult{From: fromName, To: toName, Probe: a.Probe.String(),
					Verdict: a.Verdict, Model: got, Holds: got == a.Verdict, Why: a.Why})
			}
		}
		if matched == 0 {
			return nil, fmt.Errorf("stage %s: assertion %s → %s: no endpoint pair of the topology matches", st.Name, a.From, a.To)
		}
	}
	return results, nil
}
