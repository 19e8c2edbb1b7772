// Package report renders matrices for people and tools: text truth tables,
// JSON flow records (and, as the harness grows, JUnit and HTML).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
)

// verdictMarks are the truth table's cell symbols.
var verdictMarks = map[model.Verdict]string{model.Allow: ".", model.Drop: "X", model.Reject: "R"}

// WriteExpectedTables writes one truth table per probe: a row per source, a
// numbered column per destination.
func WriteExpectedTables(w io.Writer, x *matrix.Matrix) error {
	var b strings.Builder
	width := 0
	for _, name := range x.Endpoints {
		width = max(width, len(name))
	}
	idWidth := len(fmt.Sprint(len(x.Endpoints)))
	for pi, p := range x.Probes {
		if pi > 0 {
			b.WriteString("\n")
		}
		ties := tiedCells(x, pi)
		cellWidth, legend := idWidth, ""
		if ties > 0 {
			cellWidth, legend = max(idWidth, 2), fmt.Sprintf("   ? tie: %d cell(s) rest on rules of equal tier, priority and rule index that disagree (Antrea's choice is undefined)", ties)
		}
		fmt.Fprintf(&b, "%s — expected (model)   . Allow   X Drop   R Reject%s   rows: from, columns: to\n", p, legend)
		fmt.Fprintf(&b, "%*s  %-*s", idWidth, "", width, "")
		for to := range x.Endpoints {
			fmt.Fprintf(&b, " %*d", cellWidth, to+1)
		}
		b.WriteString("\n")
		for from, name := range x.Endpoints {
			fmt.Fprintf(&b, "%*d  %-*s", idWidth, from+1, width, name)
			for to := range x.Endpoints {
				r := x.Expected(pi, from, to)
				fmt.Fprintf(&b, " %*s", cellWidth, verdictMarks[r.Verdict]+tieMark(r))
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tieMark is "?" for a verdict that rests on a tie (model.Result.Tied).
func tieMark(r model.Result) string {
	if r.Tied() {
		return "?"
	}
	return ""
}

func tiedCells(x *matrix.Matrix, probe int) int {
	n := 0
	for from := range x.Endpoints {
		for to := range x.Endpoints {
			if x.Expected(probe, from, to).Tied() {
				n++
			}
		}
	}
	return n
}

// WriteJSON writes {"flows": [...]}, the simulate contract.
func WriteJSON(w io.Writer, x *matrix.Matrix) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Flows []matrix.Record `json:"flows"`
	}{x.Records()})
}
