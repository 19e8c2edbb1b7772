package matrix_test

import (
	"runtime"
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
)

// The rows are spread over the cores; on one core the matrix is the same,
// cell for cell, and each cell is what the per-flow evaluator says.
func TestTheMatrixIsTheSameOnOneCoreAndOnAll(t *testing.T) {
	topo, set := fixtures.LargeEstate()
	m, err := model.Compile(topo, set)
	if err != nil {
		t.Fatal(err)
	}
	probes := []model.Probe{{Protocol: model.TCP, Port: 80}, {Protocol: model.TCP, Port: 81}}
	all, err := matrix.Expected(m, probes)
	if err != nil {
		t.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one, err := matrix.Expected(m, probes)
	if err != nil {
		t.Fatal(err)
	}
	n := len(all.Endpoints)
	for pi, p := range probes {
		for from := 0; from < n; from += 7 {
			for to := range n {
				got, single, flow := all.Expected(pi, from, to), one.Expected(pi, from, to), m.Evaluate(from, to, p)
				if got != single || got != flow {
					t.Fatalf("%s %s → %s: all cores %+v, one core %+v, per flow %+v", p, all.Endpoints[from], all.Endpoints[to], got, single, flow)
				}
			}
		}
	}
}
