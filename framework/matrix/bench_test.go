package matrix_test

import (
	"fmt"
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/topology"
)

// BenchmarkWholeMatrix computes a stage's whole tcp/80 matrix on the
// estates of issue 26's figures (fixtures.KNPEstate: 300 pods with 100
// NetworkPolicies, 1 000 with 300): by rows of sets on every core, as
// simulate does, and one flow at a time on one core, the reference.
func BenchmarkWholeMatrix(b *testing.B) {
	probe := model.Probe{Protocol: model.TCP, Port: 80}
	for _, size := range []struct{ namespaces, knps int }{{30, 100}, {100, 300}} {
		topoYAML, policies := fixtures.KNPEstate(size.namespaces, size.knps, 0)
		topo, err := topology.Parse(topoYAML)
		if err != nil {
			b.Fatal(err)
		}
		objects, err := policy.Decode("knp.yaml", policies)
		if err != nil {
			b.Fatal(err)
		}
		set, err := policy.NewSet(objects)
		if err != nil {
			b.Fatal(err)
		}
		m, err := model.Compile(topo, set)
		if err != nil {
			b.Fatal(err)
		}
		n := len(m.Endpoints())
		b.Run(fmt.Sprintf("pods=%d/rows", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := matrix.Expected(m, []model.Probe{probe}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*n*b.N)/b.Elapsed().Seconds(), "cells/s")
		})
		b.Run(fmt.Sprintf("pods=%d/flows", n), func(b *testing.B) {
			b.ReportAllocs()
			results := make([]model.Result, n*n)
			for b.Loop() {
				for from := range n {
					for to := range n {
						results[from*n+to] = m.Evaluate(from, to, probe)
					}
				}
			}
			b.ReportMetric(float64(n*n*b.N)/b.Elapsed().Seconds(), "cells/s")
		})
	}
}
