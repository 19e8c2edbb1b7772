package netlab_test

import (
	"context"
	"math/rand"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/probe"
)

// BenchmarkStage probes one stage's matrix — 16 endpoints × 15 peers × 8 probes,
// 1 920 flows, mixed verdicts — in the lab, once with the engine (one exec per
// source) and once in the style of other harnesses (one process per flow, 15
// workers, same timeout), and reports both. Targets for the engine: execs =
// sources, wall time ≤ 2 × timeout + 1 s. Run with -benchtime 1x (make bench-lab).
func BenchmarkStage(b *testing.B) {
	const timeout = time.Second
	lab := newLab(b, endpointNames(16), eightProbePorts)
	fl := matrix(lab, eightProbes)
	if err := lab.Program(randomPlan(rand.New(rand.NewSource(1)), fl)); err != nil {
		b.Fatal(err)
	}
	run := func(cfg probe.Config) (time.Duration, int64) {
		cfg.Timeout = timeout
		var wall time.Duration
		var execs int64
		for i := 0; i < b.N; i++ {
			obs, stats := probe.NewEngine(lab, cfg).Run(context.Background(), fl, nil)
			for _, o := range obs {
				if o.Verdict() == probe.Error {
					b.Fatalf("%v: %s", o.Flow, o.Attempts[0].Detail)
				}
			}
			wall += stats.Wall
			execs += stats.Execs
		}
		return wall / time.Duration(b.N), execs / int64(b.N)
	}
	b.ResetTimer()
	engineWall, engineExecs := run(probe.Config{})
	perFlowWall, perFlowExecs := run(probe.Config{BatchSize: 1, Parallel: 15})
	b.StopTimer()

	b.ReportMetric(float64(len(fl)), "flows/stage")
	b.ReportMetric(engineWall.Seconds(), "engine-s/stage")
	b.ReportMetric(float64(engineExecs), "engine-execs/stage")
	b.ReportMetric(perFlowWall.Seconds(), "per-flow-s/stage")
	b.ReportMetric(float64(perFlowExecs), "per-flow-execs/stage")
	b.ReportMetric(perFlowWall.Seconds()/engineWall.Seconds(), "speedup")
	if sources := int64(len(lab.Endpoints())); engineExecs != sources {
		b.Errorf("engine: %d execs per stage, target %d (one per source)", engineExecs, sources)
	}
	if limit := 2*timeout + time.Second; engineWall > limit {
		b.Errorf("engine: %v per stage, target ≤ %v", engineWall, limit)
	}
}

// BenchmarkRepeatedMatrix is the full soak: 20 runs of the 12-endpoint ×
// 8-probe matrix with mixed verdicts, and not one misclassified cell.
func BenchmarkRepeatedMatrix(b *testing.B) {
	lab := newLab(b, endpointNames(12), eightProbePorts)
	for i := 0; i < b.N; i++ {
		wrong, cells := repeatedMatrix(b, lab, 20)
		b.ReportMetric(float64(cells), "cells")
		b.ReportMetric(float64(wrong), "misclassified")
	}
}
