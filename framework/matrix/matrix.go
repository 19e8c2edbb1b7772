// Package matrix holds a stage's reachability: for every probe and every
// ordered pair of endpoints, the model's expected result and, once probed, the
// data plane's observation. Reports read a matrix; they never recompute verdicts.
package matrix

import (
	"context"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
)

// Matrix is the expected reachability of every endpoint pair under each probe.
type Matrix struct {
	Endpoints []string
	Probes    []model.Probe
	expected  [][]model.Result // [probe][from*len(Endpoints)+to]
	attempts  [][][]probe.Attempt
}

// Expected evaluates every ordered pair of the model's endpoints, the pair of
// an endpoint with itself included, under each probe.
func Expected(m *model.Model, probes []model.Probe) (*Matrix, error) {
	return ExpectedContext(context.Background(), m, probes)
}

// ExpectedContext is Expected that stops, with ctx's error, once ctx is done.
func ExpectedContext(ctx context.Context, m *model.Model, probes []model.Probe) (*Matrix, error) {
	for _, p := range probes {
		if err := m.CheckProbe(p); err != nil {
			return nil, err
		}
	}
	x := &Matrix{Endpoints: m.Endpoints(), Probes: probes}
	n := len(x.Endpoints)
	for _, p := range probes {
		cells := make([]model.Result, n*n)
		for from := 0; from < n; from++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			for to := 0; to < n; to++ {
				cells[from*n+to] = m.Evaluate(from, to, p)
			}
		}
		x.expected = append(x.expected, cells)
	}
	return x, nil
}

// Expected is the model's result for a cell.
func (x *Matrix) Expected(probe, from, to int) model.Result {
	return x.expected[probe][from*len(x.Endpoints)+to]
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
