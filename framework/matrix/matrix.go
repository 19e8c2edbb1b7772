// Package matrix holds a stage's reachability: for every probe and every
// ordered pair of endpoints, the model's expected result and, once probed, the
// data plane's observation. Reports read a matrix; they never recompute verdicts.
package matrix

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
)

// Matrix is the expected reachability of every endpoint pair under each probe.
type Matrix struct {
	Endpoints []string
	Probes    []model.Probe
	// Semantics names the data plane reading the expectations follow.
	Semantics string
	// decisions numbers the stage's distinct decisions; a cell holds the
	// numbers of its two sides: egress[probe][from*n+to] and
	// ingress[probe][to*n+from] (a row per applied endpoint, as model.Row
	// writes them). Eight bytes a cell: 10⁸ cells fit in 800 MB.
	decisions *model.DecisionTable
	egress    [][]uint32
	ingress   [][]uint32
	attempts  [][][]probe.Attempt
}

// Expected evaluates every ordered pair of the model's endpoints, the pair of
// an endpoint with itself included, under each probe.
func Expected(m *model.Model, probes []model.Probe) (*Matrix, error) {
	return ExpectedContext(context.Background(), m, probes)
}

// ExpectedContext is Expected that stops, with ctx's error, once ctx is done.
// It decides a side of a whole row at a time (model.Row), the rows spread
// over the machine's cores.
func ExpectedContext(ctx context.Context, m *model.Model, probes []model.Probe) (*Matrix, error) {
	for _, p := range probes {
		if err := m.CheckProbe(p); err != nil {
			return nil, err
		}
	}
	x := &Matrix{Endpoints: m.Endpoints(), Probes: probes, Semantics: m.Semantics().Name, decisions: model.NewDecisionTable()}
	n := len(x.Endpoints)
	for _, p := range probes {
		egress, ingress := make([]uint32, n*n), make([]uint32, n*n)
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(runtime.GOMAXPROCS(0), max(n, 1)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var sc model.RowScratch
				for {
					a := int(next.Add(1) - 1)
					if a >= n || ctx.Err() != nil {
						return
					}
					m.Row(model.Egress, a, p, x.decisions, egress[a*n:(a+1)*n], &sc)
					m.Row(model.Ingress, a, p, x.decisions, ingress[a*n:(a+1)*n], &sc)
				}
			}()
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x.egress, x.ingress = append(x.egress, egress), append(x.ingress, ingress)
	}
	return x, nil
}

// Expected is the model's result for a cell.
func (x *Matrix) Expected(probe, from, to int) model.Result {
	n := len(x.Endpoints)
	return model.Combine(x.decisions.Decision(x.egress[probe][from*n+to]), x.decisions.Decision(x.ingress[probe][to*n+from]))
}

// Verdict is a cell's expected verdict and whether it rests on a tie
// (model.Result.Tied), without building its Result: what a truth table shows.
func (x *Matrix) Verdict(probe, from, to int) (v model.Verdict, tied bool) {
	n := len(x.Endpoints)
	egress := x.decisions.Decision(x.egress[probe][from*n+to])
	if egress.Verdict != model.Allow {
		return egress.Verdict, egress.Tie != nil
	}
	ingress := x.decisions.Decision(x.ingress[probe][to*n+from])
	return ingress.Verdict, egress.Tie != nil || ingress.Tie != nil
}

// Record is one flow as the simulate JSON contract writes it.
type Record struct {
	From     string            `json:"from"`
	To       string            `json:"to"`
	Protocol string            `json:"protocol"`
	Port     int32             `json:"port"`
	Verdict  model.Verdict     `json:"verdict"`
	Ingress  model.SideSummary `json:"ingress"`
	Egress   model.SideSummary `json:"egress"`
}

// Records lists every cell, probe by probe, row by row.
func (x *Matrix) Records() []Record {
	cells := x.Cells()
	out := make([]Record, len(cells))
	for i, c := range cells {
		out[i] = c.Record()
	}
	return out
}
