package diff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/diff"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/scenario"
)

// stageDiff is what a scenario's stage changes against the stage before it.
func stageDiff(t *testing.T, dir string, stage int) *diff.Diff {
	t.Helper()
	s, err := scenario.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	before, err := s.Model(ctx, stage-1, s.Topology)
	if err != nil {
		t.Fatal(err)
	}
	after, err := s.Model(ctx, stage, s.Topology)
	if err != nil {
		t.Fatal(err)
	}
	d, err := diff.Compute(ctx, before, after, s.Probes, model.Antrea)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Grouping never hides a flow: every changed flow is in exactly one group,
// the groups' counts add up to the changes, the summary's kinds too, and
// the JSON lists each changed flow.
func TestGroupsHideNoFlow(t *testing.T) {
	for _, c := range []struct {
		dir   string
		stage int
	}{{"../../scenarios/antrea-blog", 3}, {"../../scenarios/antrea-blog", 6}, {"../../examples/shop", 1}, {"../../examples/shop", 4}} {
		d := stageDiff(t, c.dir, c.stage)
		if len(d.Changes) == 0 {
			t.Fatalf("%s stage %d changes nothing", c.dir, c.stage)
		}
		seen := map[diff.Change]int{}
		total := 0
		for _, g := range d.Groups() {
			total += len(g.Changes)
			for _, ch := range g.Changes {
				seen[ch]++
				if ch.Before.Verdict != g.Before || ch.After.Verdict != g.After || diff.Decider(ch.Before) != g.BeforeBy || diff.Decider(ch.After) != g.AfterBy {
					t.Errorf("%s → %s %s is in a group it does not fit", ch.From, ch.To, ch.Probe)
				}
			}
		}
		if total != len(d.Changes) || len(seen) != len(d.Changes) {
			t.Errorf("%s stage %d: groups hold %d flows (%d distinct), %d changed", c.dir, c.stage, total, len(seen), len(d.Changes))
		}
		if d.Count(diff.Opened)+d.Count(diff.Closed)+d.Count(diff.DenialKind) != len(d.Changes) {
			t.Errorf("the kinds do not add up to the changes")
		}
		var out bytes.Buffer
		if err := diff.WriteJSON(&out, diff.Review{Diff: d}); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Summary map[string]any   `json:"summary"`
			Changes []map[string]any `json:"changes"`
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Changes) != len(d.Changes) || int(doc.Summary["flows"].(float64)) != d.Flows {
			t.Errorf("JSON lists %d changes of %v flows, want %d of %d", len(doc.Changes), doc.Summary["flows"], len(d.Changes), d.Flows)
		}
	}
}

// The blog's block-all closes flows and opens none; every flow it closes is
// decided by the baseline now, and nothing in the summary is unaccounted.
func TestBlockAllClosesWhatTheBaselineDecides(t *testing.T) {
	d := stageDiff(t, "../../scenarios/antrea-blog", 3)
	if d.Count(diff.Opened) != 0 || d.Count(diff.Closed) != len(d.Changes) {
		t.Errorf("opened %d, closed %d of %d", d.Count(diff.Opened), d.Count(diff.Closed), len(d.Changes))
	}
	for _, c := range d.Changes {
		if by := diff.Decider(c.After); !strings.Contains(by, "baseline ClusterNetworkPolicy/block-all-whitelist") {
			t.Errorf("%s → %s %s is closed by %s", c.From, c.To, c.Probe, by)
		}
	}
}

// Models of two topologies cannot be compared flow by flow.
func TestDifferentTopologiesAreRefused(t *testing.T) {
	blog, err := scenario.Load(filepath.Join("..", "..", "scenarios", "antrea-blog"))
	if err != nil {
		t.Fatal(err)
	}
	shop, err := scenario.Load(filepath.Join("..", "..", "examples", "shop"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, _ := blog.Model(ctx, 0, blog.Topology)
	b, _ := shop.Model(ctx, 0, shop.Topology)
	if _, err := diff.Compute(ctx, a, b, blog.Probes[:1], model.Antrea); err == nil || !strings.Contains(err.Error(), "different endpoints") {
		t.Errorf("%v", err)
	}
}

// A diff that compared nothing never answers "nothing changes".
func TestNothingToCompareIsRefused(t *testing.T) {
	s, err := scenario.Load(filepath.Join("..", "..", "examples", "shop"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Model(context.Background(), 0, s.Topology)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := diff.Compute(context.Background(), m, m, nil, model.Antrea); err == nil || !strings.Contains(err.Error(), "nothing to compare: 11 endpoints, 0 probes") {
		t.Errorf("no probes: %v", err)
	}
}
