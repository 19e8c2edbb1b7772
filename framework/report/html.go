package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/probe"
)

//go:embed report.html.tmpl
var htmlTemplate string

var reportTemplate = template.Must(template.New("report").Parse(htmlTemplate))

type htmlStage struct {
	Name       string
	ID         string
	Flows      int
	Mismatches int
	Retried    int
	Probes     []htmlProbe
}

type htmlProbe struct {
	Name    string
	Columns []htmlRow // Index and Endpoint of each destination
	Rows    []htmlRow
}

type htmlRow struct {
	Index    int
	Endpoint string
	Cells    []htmlCell
}

type htmlCell struct {
	Class, Mark, Title string
	From, To, Probe    string
	Expected, Observed string
}

// WriteHTML writes a single self-contained page: a summary of every stage,
// then per stage and probe a colour matrix of what the model expected, marked
// where the data plane did otherwise; each cell's tooltip holds the model's
// explanation and the attempts.
func WriteHTML(w io.Writer, run Run) error {
	var stages []htmlStage
	for _, st := range run.Stages {
		hs := htmlStage{Name: st.Name, ID: "stage-" + st.Name}
		x := st.Matrix
		cells := x.Cells()
		n := len(x.Endpoints)
		for pi, p := range x.Probes {
			hp := htmlProbe{Name: p.String()}
			for i, e := range x.Endpoints {
				hp.Columns = append(hp.Columns, htmlRow{Index: i + 1, Endpoint: e})
			}
			for from, name := range x.Endpoints {
				row := htmlRow{Index: from + 1, Endpoint: name}
				for to := range x.Endpoints {
					c := cells[pi*n*n+from*n+to]
					row.Cells = append(row.Cells, htmlCellOf(c))
					if len(c.Attempts) > 0 {
						hs.Flows++
						if !c.Matches() {
							hs.Mismatches++
						} else if c.MatchedOnRetry() {
							hs.Retried++
						}
					}
				}
				hp.Rows = append(hp.Rows, row)
			}
			hs.Probes = append(hs.Probes, hp)
		}
		stages = append(stages, hs)
	}
	total := 0
	for _, s := range stages {
		total += s.Mismatches
	}
	return reportTemplate.Execute(w, struct {
		Scenario, DataPlane string
		Stages              []htmlStage
		NotPlayed           []NotPlayed
		Mismatches          int
	}{run.Scenario, run.DataPlane, stages, run.NotPlayed, total})
}

var cellMarks = map[probe.Verdict]string{probe.Allow: ".", probe.Drop: "X", probe.Reject: "R", probe.Error: "E"}

func htmlCellOf(c matrix.Cell) htmlCell {
	expected := probe.FromModel(c.Expected.Verdict)
	hc := htmlCell{From: c.From, To: c.To, Probe: c.Probe.String(), Expected: string(expected),
		Class: strings.ToLower(string(expected)), Mark: cellMarks[expected]}
	title := fmt.Sprintf("%s → %s %s\n%s", c.From, c.To, c.Probe, Explanation(c))
	if len(c.Attempts) > 0 {
		hc.Observed = string(c.Observed())
		title += "\nobserved " + hc.Observed + ", " + attemptsText(c)
		switch {
		case !c.Matches():
			hc.Class += " mismatch"
			hc.Mark = cellMarks[c.Observed()] + "!"
		case c.MatchedOnRetry():
			hc.Class += " retried"
			hc.Mark += "~"
		}
	}
	if c.Expected.Tied() {
		hc.Class += " tied"
		hc.Mark += "?"
		title += "\n? the verdict rests on a tie: rules of equal tier, priority and rule index disagree, and Antrea's choice between them is undefined"
	}
	hc.Title = title
	return hc
}
