package matrix

import (
	"fmt"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/scenario"
)

// Expectation answers the probe engine with the matrix's own expected
// verdicts, so that it retries exactly the flows that differ.
func (x *Matrix) Expectation() probe.Expectation {
	index := make(map[string]int, len(x.Endpoints))
	for i, e := range x.Endpoints {
		index[e] = i
	}
	probes := make(map[model.Probe]int, len(x.Probes))
	for i, p := range x.Probes {
		probes[p] = i
	}
	return func(f probe.Flow) (probe.Verdict, bool) {
		from, okFrom := index[f.From]
		to, okTo := index[f.To]
		pi, okProbe := probes[f.Probe]
		if !okFrom || !okTo || !okProbe {
			return "", false
		}
		return probe.FromModel(x.Expected(pi, from, to).Verdict), true
	}
}

// Unmet lists the probed cells a stage's explicit assertion covers whose
// observation differs from it; covered is false when no probed cell does.
// Assertions are written for Antrea: where K8s NetworkPolicy isolation
// denies a flow, the data plane's own K8s denial (k8sDenial) is wanted.
func (x *Matrix) Unmet(a scenario.Assertion, k8sDenial model.Verdict) (unmet []string, covered bool) {
	for _, c := range x.Cells() {
		if c.Probe != a.Probe || len(c.Attempts) == 0 || !scenario.MatchesEndpoint(a.From, c.From) || !scenario.MatchesEndpoint(a.To, c.To) {
			continue
		}
		covered = true
		want := a.Verdict
		if want == model.Drop && deniedByK8sIsolation(c.Expected) {
			want = k8sDenial
		}
		if !c.Observed().Satisfies(probe.FromModel(want)) {
			unmet = append(unmet, fmt.Sprintf("%s → %s %s: want %s, observed %s", c.From, c.To, a.Probe, want, c.Observed()))
		}
	}
	return unmet, covered
}

// deniedByK8sIsolation says whether K8s NetworkPolicy isolation denies the
// flow on the side that decided it.
func deniedByK8sIsolation(r model.Result) bool {
	for _, d := range []model.Decision{r.Egress, r.Ingress} {
		if d.Verdict != model.Allow {
			return d.Phase == model.PhaseK8sIsolation
		}
	}
	return false
}
