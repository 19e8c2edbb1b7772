package matrix

import (
	"fmt"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
)

// Cell is one flow of a stage: the model's expectation and, once probed, what
// the data plane did.
type Cell struct {
	From, To string
	Probe    model.Probe
	Expected model.Result
	// Attempts are the probe's attempts, in order; empty if not probed.
	Attempts []probe.Attempt
}

// Record is the cell as the simulate JSON contract writes it.
func (c Cell) Record() Record {
	return Record{From: c.From, To: c.To, Protocol: c.Probe.Protocol.String(), Port: c.Probe.Port,
		Verdict: c.Expected.Verdict, Ingress: c.Expected.Ingress.Summary(), Egress: c.Expected.Egress.Summary()}
}

// Observed is the last attempt's verdict, or "" if the cell was not probed.
func (c Cell) Observed() probe.Verdict {
	if len(c.Attempts) == 0 {
		return ""
	}
	return c.Attempts[len(c.Attempts)-1].Verdict
}

// Matches says whether the data plane did what the model expects; a Denied
// observation matches either denial.
func (c Cell) Matches() bool {
	return c.Observed().Satisfies(probe.FromModel(c.Expected.Verdict))
}

// MatchedOnRetry flags a cell that matched only after a first attempt did not:
// it passes, but never silently.
func (c Cell) MatchedOnRetry() bool { return c.Matches() && len(c.Attempts) > 1 }

// Flows lists the flows to probe: every ordered pair under every probe, the
// destination's address given by ip.
func (x *Matrix) Flows(ip func(endpoint string) string) []probe.Flow {
	var flows []probe.Flow
	for _, p := range x.Probes {
		for _, from := range x.Endpoints {
			for _, to := range x.Endpoints {
				flows = append(flows, probe.Flow{From: from, To: to, ToIP: ip(to), Probe: p})
			}
		}
	}
	return flows
}

// Observe records what the probes saw.
func (x *Matrix) Observe(observations []probe.Observation) error {
	if x.attempts == nil {
		x.attempts = make([][][]probe.Attempt, len(x.Probes))
		for i := range x.attempts {
			x.attempts[i] = make([][]probe.Attempt, len(x.Endpoints)*len(x.Endpoints))
		}
	}
	index := map[string]int{}
	for i, e := range x.Endpoints {
		index[e] = i
	}
	probes := map[model.Probe]int{}
	for i, p := range x.Probes {
		probes[p] = i
	}
	for _, o := range observations {
		from, okFrom := index[o.Flow.From]
		to, okTo := index[o.Flow.To]
		pi, okProbe := probes[o.Flow.Probe]
		if !okFrom || !okTo || !okProbe {
			return fmt.Errorf("observation of %v is not a cell of this matrix", o.Flow)
		}
		x.attempts[pi][from*len(x.Endpoints)+to] = o.Attempts
	}
	return nil
}

// Attempts are the probe attempts of one cell; nil if it was not probed.
func (x *Matrix) Attempts(probeIndex, from, to int) []probe.Attempt {
	if x.attempts == nil {
		return nil
	}
	return x.attempts[probeIndex][from*len(x.Endpoints)+to]
}

// Cells lists every cell, probe by probe, row by row.
func (x *Matrix) Cells() []Cell {
	cells := make([]Cell, 0, len(x.Probes)*len(x.Endpoints)*len(x.Endpoints))
	x.EachCell(func(c Cell) bool { cells = append(cells, c); return true })
	return cells
}

// EachCell calls fn with every cell in Cells' order, without holding them
// all, until fn returns false: writers stream a large matrix through it.
func (x *Matrix) EachCell(fn func(Cell) bool) {
	for pi, p := range x.Probes {
		for from, fromName := range x.Endpoints {
			for to, toName := range x.Endpoints {
				c := Cell{From: fromName, To: toName, Probe: p, Expected: x.Expected(pi, from, to), Attempts: x.Attempts(pi, from, to)}
				if !fn(c) {
					return
				}
			}
		}
	}
}

// Mismatches lists the probed cells where the data plane and the model disagree.
func (x *Matrix) Mismatches() []Cell {
	var out []Cell
	for _, c := range x.Cells() {
		if len(c.Attempts) > 0 && !c.Matches() {
			out = append(out, c)
		}
	}
	return out
}
