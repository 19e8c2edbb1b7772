package model_test

import (
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/model"
)

// BenchmarkEvaluate reports verdicts per second on one core for one probe
// over every ordered pair of the large estate. Target: ≥ 10⁶ verdicts/s.
func BenchmarkEvaluate(b *testing.B) {
	t, set := fixtures.LargeEstate()
	m, err := model.Compile(t, set)
	if err != nil {
		b.Fatal(err)
	}
	n := len(m.Endpoints())
	probe := model.Probe{Protocol: model.TCP, Port: 80}
	var denied int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		from, to := (i/n)%n, i%n
		if m.Evaluate(from, to, probe).Verdict != model.Allow {
			denied++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
	if denied == 0 && b.N > n*n {
		b.Fatal("the estate's policies denied nothing: the benchmark would not exercise the rule chains")
	}
}

// BenchmarkCompile is the one-off cost of resolving every selector.
func BenchmarkCompile(b *testing.B) {
	t, set := fixtures.LargeEstate()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := model.Compile(t, set); err != nil {
			b.Fatal(err)
		}
	}
}
