package report

import (
	"bufio"
	"fmt"
	"io"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
)

// verdictMarks are the truth table's cell symbols.
var verdictMarks = map[model.Verdict]string{model.Allow: ".", model.Drop: "X", model.Reject: "R"}

// cellTexts are the expected table's cells, padded to width, by verdict and
// tie: a 10⁸-cell table is written without formatting each cell.
func cellTexts(width int) (texts [3][2]string) {
	for _, v := range []model.Verdict{model.Allow, model.Drop, model.Reject} {
		texts[v][0] = fmt.Sprintf(" %*s", width, verdictMarks[v])
		texts[v][1] = fmt.Sprintf(" %*s", width, verdictMarks[v]+"?")
	}
	return texts
}

// WriteExpectedTables writes one truth table per probe: a row per source, a
// numbered column per destination.
func WriteExpectedTables(w io.Writer, x *matrix.Matrix) error {
	b := bufio.NewWriterSize(w, 64<<10) // streamed: a 1 000-endpoint table is never held whole
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
		fmt.Fprintf(b, "%s — expected (model, %s semantics)   . Allow   X Drop   R Reject%s   rows: from, columns: to\n", p, x.Semantics, legend)
		fmt.Fprintf(b, "%*s  %-*s", idWidth, "", width, "")
		for to := range x.Endpoints {
			fmt.Fprintf(b, " %*d", cellWidth, to+1)
		}
		b.WriteString("\n")
		texts := cellTexts(cellWidth)
		for from, name := range x.Endpoints {
			fmt.Fprintf(b, "%*d  %-*s", idWidth, from+1, width, name)
			for to := range x.Endpoints {
				v, tied := x.Verdict(pi, from, to)
				if tied {
					b.WriteString(texts[v][1])
				} else {
					b.WriteString(texts[v][0])
				}
			}
			b.WriteString("\n")
		}
	}
	return b.Flush()
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
			if _, tied := x.Verdict(probe, from, to); tied {
				n++
			}
		}
	}
	return n
}

// WriteObservedTables writes, per stage and probe, what the model expected and
// what the data plane did: the observed mark, followed by ! where the model
// expected otherwise (the comparison) and ~ where the cell matched only on retry.
func WriteObservedTables(w io.Writer, run Run) error {
	b := bufio.NewWriterSize(w, 64<<10) // streamed, as the expected tables are
	fmt.Fprintf(b, "%s — data plane: %s\n", run.Scenario, run.DataPlane)
	t := tallyRun(run)
	fmt.Fprintf(b, "summary: %d stage(s) played, %d not played; %d flows probed, %d mismatch(es), %d matched only on retry\n",
		len(run.Stages), len(run.NotPlayed), t.probed, t.mismatches, t.retried)
	for _, st := range run.Stages {
		x := st.Matrix
		s := tallyStage(st)
		fmt.Fprintf(b, "\n== stage %s: %d mismatch(es); %d flows probed, %d matched only on retry\n", st.Name, s.mismatches, s.probed, s.retried)
		if err := WriteExpectedTables(b, x); err != nil {
			return err
		}
		b.WriteString("\n")
		cells := x.Cells()
		n := len(x.Endpoints)
		width := 0
		for _, name := range x.Endpoints {
			width = max(width, len(name))
		}
		for pi, p := range x.Probes {
			tieLegend := ""
			if tiedCells(x, pi) > 0 {
				tieLegend = "   ? the model's verdict rests on a tie"
			}
			fmt.Fprintf(b, "%s — observed   . Allow   X Drop   R Reject   E Error   ! differs from the model   ~ matched on retry%s\n", p, tieLegend)
			fmt.Fprintf(b, "%3s  %-*s", "", width, "")
			for to := range x.Endpoints {
				fmt.Fprintf(b, " %3d", to+1)
			}
			b.WriteString("\n")
			for from, name := range x.Endpoints {
				fmt.Fprintf(b, "%3d  %-*s", from+1, width, name)
				for to := range x.Endpoints {
					c := cells[pi*n*n+from*n+to]
					mark := observedMarks[c.Observed()]
					switch {
					case len(c.Attempts) == 0:
						mark = "-"
					case !c.Matches():
						mark += "!"
					case c.MatchedOnRetry():
						mark += "~"
					}
					fmt.Fprintf(b, " %3s", mark+tieMark(c.Expected))
				}
				b.WriteString("\n")
			}
		}
	}
	for _, np := range run.NotPlayed {
		fmt.Fprintf(b, "\n== stage %s: not played (%s)\n", np.Stage, np.Why)
	}
	return b.Flush()
}

var observedMarks = map[probe.Verdict]string{probe.Allow: ".", probe.Drop: "X", probe.Reject: "R", probe.Error: "E"}
