package report_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/report"
)

// The streamed simulate JSON holds exactly what encoding/json makes of the
// records, one flow per line, for a matrix with flows and for an empty one.
func TestStreamedJSONHoldsEveryRecord(t *testing.T) {
	for name, x := range map[string]*matrix.Matrix{
		"xyz":   expectedMatrix(t, "apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: p}\nspec:\n  priority: 1\n  appliedTo: [{namespaceSelector: {}}]\n  ingress: [{action: Reject, from: [{podSelector: {matchLabels: {pod: a}}}]}]\n"),
		"empty": {},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := report.WriteJSON(&out, x); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Flows []json.RawMessage `json:"flows"`
			}
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatalf("not JSON: %v\n%.300s", err, out.String())
			}
			records := x.Records()
			if len(doc.Flows) != len(records) || doc.Flows == nil {
				t.Fatalf("%d flows, want %d (and a list, never null)", len(doc.Flows), len(records))
			}
			for i, r := range records {
				want, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(doc.Flows[i], want) {
					t.Errorf("flow %d is %s, want %s", i, doc.Flows[i], want)
				}
			}
			// {"flows": [, a line per flow, ]} — or {"flows": []} alone.
			want := 1
			if len(records) > 0 {
				want = len(records) + 2
			}
			if lines := bytes.Count(out.Bytes(), []byte("\n")); lines != want {
				t.Errorf("%d lines for %d flows, want %d: one per flow", lines, len(records), want)
			}
		})
	}
}
