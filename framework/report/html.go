package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
)

//go:embed report.html.tmpl
var htmlTemplate string

var reportTemplate = template.Must(template.New("report").Parse(htmlTemplate))

type htmlPage struct {
	Scenario, DataPlane string
	Stages              []htmlStage
	NotPlayed           []NotPlayed
	Mismatches          []htmlFlow
	// Explanations are the model's distinct reasons; cells refer to them by
	// index (data-e), so that the page carries each once.
	Explanations template.JS
}

type htmlStage struct {
	Name       string
	ID         string
	Flows      int
	Mismatches int
	Retried    int
	Probes     []htmlProbe
	// Previous is the stage compared with ("" for the first), Changes the
	// cells whose expected verdict differs from it.
	Previous string
	Changes  []htmlFlow
}

type htmlProbe struct {
	Name    string
	Columns []string // destinations
	Rows    []htmlRow
}

type htmlRow struct {
	Endpoint string
	Cells    []htmlCell
}

// htmlCell is one matrix cell. Only the cells a reader is sent to (mismatched,
// matched on retry, changed since the previous stage) carry their flow in
// attributes; the page's script reads the others' flow off their row and
// column when clicked. Every cell is addressed as #c<stage>-<probe>-<from>-<to>
// (indexes), which the script resolves by position: no cell needs an id.
type htmlCell struct {
	Class, Mark string
	Flow        *htmlFlow
	Explanation int // index into the page's explanations
}

// htmlFlow is a cell spelled out, for the mismatch list, a stage's changes
// and the attributes of the cells they link to.
type htmlFlow struct {
	Stage, CellID      string
	From, To, Probe    string
	Expected, Observed string
	Before             string // the previous stage's expected verdict, in a stage's changes
	Attempts           string
	Explanation        string
	ExplanationIndex   int // into the page's explanations: change rows carry only this
	Trace              string
}

// WriteHTML writes a single self-contained page: a summary of every stage;
// the flows that differ from the model, each with the model's reason on both
// sides, its attempts and any trace, linked to its cell; then per stage what
// it changed since the previous one and per probe a colour matrix of what the
// model expected, marked where the data plane did otherwise. Clicking a cell
// opens its explanation in a panel that stays.
func WriteHTML(w io.Writer, run Run) error {
	page := htmlPage{Scenario: run.Scenario, DataPlane: run.DataPlane, NotPlayed: run.NotPlayed}
	explanations := map[string]int{}
	var texts []string
	explain := func(c matrix.Cell) int {
		text := Explanation(c)
		if c.Expected.Tied() {
			text += "; ? the verdict rests on a tie: rules of equal tier, priority and rule index disagree, and Antrea's choice between them is undefined"
		}
		i, ok := explanations[text]
		if !ok {
			i = len(texts)
			explanations[text] = i
			texts = append(texts, text)
		}
		return i
	}
	for si, st := range run.Stages {
		hs := htmlStage{Name: st.Name, ID: "stage-" + st.Name}
		var previous *matrix.Matrix
		if si > 0 {
			previous, hs.Previous = run.Stages[si-1].Matrix, run.Stages[si-1].Name
		}
		x := st.Matrix
		for pi, p := range x.Probes {
			hp := htmlProbe{Name: p.String(), Columns: x.Endpoints}
			for from, fromName := range x.Endpoints {
				row := htmlRow{Endpoint: fromName}
				for to, toName := range x.Endpoints {
					c := matrix.Cell{From: fromName, To: toName, Probe: p, Expected: x.Expected(pi, from, to)}
					c.Attempts = x.Attempts(pi, from, to)
					hc := htmlCellOf(c)
					hc.Explanation = explain(c)
					flow := func() *htmlFlow {
						if hc.Flow == nil {
							hc.Flow = flowOf(st, fmt.Sprintf("c%d-%d-%d-%d", si, pi, from, to), c)
						}
						return hc.Flow
					}
					if len(c.Attempts) > 0 {
						hs.Flows++
						switch {
						case !c.Matches():
							hs.Mismatches++
							page.Mismatches = append(page.Mismatches, *flow())
						case c.MatchedOnRetry():
							hs.Retried++
							flow()
						}
					}
					if before, ok := expectedIn(previous, p, fromName, toName); ok && before != c.Expected.Verdict {
						change := *flow()
						change.Before, change.ExplanationIndex = string(probe.FromModel(before)), hc.Explanation
						hs.Changes = append(hs.Changes, change)
					}
					row.Cells = append(row.Cells, hc)
				}
				hp.Rows = append(hp.Rows, row)
			}
			hs.Probes = append(hs.Probes, hp)
		}
		page.Stages = append(page.Stages, hs)
	}
	data, err := json.Marshal(texts)
	if err != nil {
		return err
	}
	page.Explanations = template.JS(data)
	return reportTemplate.Execute(w, page)
}

// expectedIn is the verdict the matrix x expected for the flow, if x has it.
func expectedIn(x *matrix.Matrix, p model.Probe, from, to string) (model.Verdict, bool) {
	if x == nil {
		return 0, false
	}
	pi, fi, ti := index(x.Probes, p), index(x.Endpoints, from), index(x.Endpoints, to)
	if pi < 0 || fi < 0 || ti < 0 {
		return 0, false
	}
	return x.Expected(pi, fi, ti).Verdict, true
}

func index[T comparable](list []T, v T) int {
	for i, e := range list {
		if e == v {
			return i
		}
	}
	return -1
}

var cellMarks = map[probe.Verdict]string{probe.Allow: ".", probe.Drop: "X", probe.Reject: "R", probe.Error: "E"}

func htmlCellOf(c matrix.Cell) htmlCell {
	expected := probe.FromModel(c.Expected.Verdict)
	hc := htmlCell{Class: strings.ToLower(string(expected)), Mark: cellMarks[expected]}
	if len(c.Attempts) > 0 {
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
	}
	return hc
}

func flowOf(st Stage, id string, c matrix.Cell) *htmlFlow {
	f := &htmlFlow{Stage: st.Name, CellID: id, From: c.From, To: c.To, Probe: c.Probe.String(),
		Expected: string(probe.FromModel(c.Expected.Verdict)), Explanation: Explanation(c),
		Trace: st.Traces[CaseName(st.Name, c)]}
	if len(c.Attempts) > 0 {
		f.Observed, f.Attempts = string(c.Observed()), attemptsText(c)
	}
	return f
}
