package report_test

import (
	"io"
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/report"
)

// BenchmarkOutputs writes simulate's two outputs, and the HTML report, for the
// full tcp/80 matrix of the large estate (1 000 pods, 500 policies: 10⁶
// cells); "model" computes the matrix, the baseline for the writers' time and
// memory. Targets: JSON within 2× the text output's time; peak memory within
// 2× the model's (run one sub-benchmark per process under /usr/bin/time -v;
// -test.bench 'Outputs/none' gives the model's own peak).
func BenchmarkOutputs(b *testing.B) {
	topo, set := fixtures.LargeEstate()
	m, err := model.Compile(topo, set)
	if err != nil {
		b.Fatal(err)
	}
	x, err := matrix.Expected(m, []model.Probe{{Protocol: model.TCP, Port: 80}})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("model", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := matrix.Expected(m, x.Probes); err != nil {
				b.Fatal(err)
			}
		}
	})
	for name, write := range map[string]func(io.Writer, *matrix.Matrix) error{
		"text": report.WriteExpectedTables,
		"json": report.WriteJSON,
		"html": func(w io.Writer, x *matrix.Matrix) error {
			return report.WriteHTML(w, report.Run{Scenario: "large", DataPlane: "none", Stages: []report.Stage{{Name: "all", Matrix: x}}})
		},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := write(io.Discard, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
