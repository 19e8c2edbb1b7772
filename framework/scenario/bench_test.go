package scenario_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/scenario"
)

// BenchmarkLoadManyStages loads a scenario of 200 stages of one policy each:
// each stage's manifests are rendered and decoded once, so loading grows
// with the stages, not with their square.
func BenchmarkLoadManyStages(b *testing.B) {
	dir := b.TempDir()
	var yaml strings.Builder
	yaml.WriteString("name: many\ntopology: xyz\nprobes: [tcp/80]\nstages:\n")
	for i := range 200 {
		stage := fmt.Sprintf("s%03d", i)
		fmt.Fprintf(&yaml, "  - {name: %s, manifests: %s}\n", stage, stage)
		if err := os.Mkdir(filepath.Join(dir, stage), 0o755); err != nil {
			b.Fatal(err)
		}
		policy := fmt.Sprintf("apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: p%d}\nspec:\n  priority: %d\n  appliedTo: [{podSelector: {}}]\n  ingress: [{action: Allow, from: [{ipBlock: {cidr: '{{ value \"ext.ip\" }}/32'}}]}]\n", i, i+1)
		if err := os.WriteFile(filepath.Join(dir, stage, "p.yaml"), []byte(policy), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "scenario.yaml"), []byte(yaml.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scenario.Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}
