package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"iter"
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
	reasons             *reasons
}

// ExplanationsJS are the model's distinct reasons, as a JSON list; cells refer
// to them by index (data-e), so that the page carries each once. The template
// calls it last, once every matrix row has been rendered.
func (p *htmlPage) ExplanationsJS() (template.JS, error) {
	data, err := json.Marshal(p.reasons.texts)
	return template.JS(data), err
}

// reasons numbers the distinct explanations of a page's cells.
type reasons struct {
	index map[string]int
	texts []string
}

func (r *reasons) of(c matrix.Cell) int {
	text := Explanation(c)
	if c.Expected.Tied() {
		text += "; ? the verdict rests on a tie: rules of equal tier, priority and rule index disagree, and Antrea's choice between them is undefined"
	}
	i, ok := r.index[text]
	if !ok {
		i = len(r.texts)
		r.index[text] = i
		r.texts = append(r.texts, text)
	}
	return i
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
	Rows    iter.Seq[htmlRow]
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
// opens its explanation in a panel that stays. The matrices are rendered a
// row at a time as the page is written; only the flagged flows are gathered
// first, for the lists above them.
func WriteHTML(w io.Writer, run Run) error {
	page := &htmlPage{Scenario: run.Scenario, DataPlane: run.DataPlane, NotPlayed: run.NotPlayed,
		reasons: &reasons{index: map[string]int{}}}
	for si, st := range run.Stages {
		sc := newStageCells(run, si)
		hs := htmlStage{Name: st.Name, ID: "stage-" + st.Name, Previous: sc.previousName}
		x := st.Matrix
		for pi, p := range x.Probes {
			for from := range x.Endpoints {
				for to := range x.Endpoints {
					c, before, changed := sc.cell(pi, from, to)
					if len(c.Attempts) > 0 {
						hs.Flows++
						switch {
						case !c.Matches():
							hs.Mismatches++
							page.Mismatches = append(page.Mismatches, *sc.flow(pi, from, to, c))
						case c.MatchedOnRetry():
							hs.Retried++
						}
					}
					if changed {
						change := *sc.flow(pi, from, to, c)
						change.Before, change.ExplanationIndex = string(probe.FromModel(before)), page.reasons.of(c)
						hs.Changes = append(hs.Changes, change)
					}
				}
			}
			hs.Probes = append(hs.Probes, htmlProbe{Name: p.String(), Columns: x.Endpoints, Rows: sc.rows(pi, page.reasons)})
		}
		page.Stages = append(page.Stages, hs)
	}
	return reportTemplate.Execute(w, page)
}

// stageCells reads one stage's cells, with the previous stage's verdict for
// the same flow where that stage had it.
type stageCells struct {
	index        int
	stage        Stage
	previous     *matrix.Matrix
	previousName string
	probes       map[model.Probe]int // of the previous stage
	endpoints    map[string]int      // of the previous stage
}

func newStageCells(run Run, i int) *stageCells {
	sc := &stageCells{index: i, stage: run.Stages[i]}
	if i == 0 {
		return sc
	}
	prev := run.Stages[i-1]
	sc.previous, sc.previousName = prev.Matrix, prev.Name
	sc.probes, sc.endpoints = map[model.Probe]int{}, map[string]int{}
	for pi, p := range prev.Matrix.Probes {
		sc.probes[p] = pi
	}
	for ei, e := range prev.Matrix.Endpoints {
		sc.endpoints[e] = ei
	}
	return sc
}

// cell is a cell of the stage and, when it changed since the previous stage,
// the verdict that stage expected.
func (sc *stageCells) cell(pi, from, to int) (c matrix.Cell, before model.Verdict, changed bool) {
	x := sc.stage.Matrix
	c = matrix.Cell{From: x.Endpoints[from], To: x.Endpoints[to], Probe: x.Probes[pi], Expected: x.Expected(pi, from, to), Attempts: x.Attempts(pi, from, to)}
	if sc.previous == nil {
		return c, 0, false
	}
	ppi, ok1 := sc.probes[c.Probe]
	pf, ok2 := sc.endpoints[c.From]
	pt, ok3 := sc.endpoints[c.To]
	if !ok1 || !ok2 || !ok3 {
		return c, 0, false
	}
	before = sc.previous.Expected(ppi, pf, pt).Verdict
	return c, before, before != c.Expected.Verdict
}

func (sc *stageCells) flow(pi, from, to int, c matrix.Cell) *htmlFlow {
	return flowOf(sc.stage, fmt.Sprintf("c%d-%d-%d-%d", sc.index, pi, from, to), c)
}

// rows renders probe pi's matrix a row at a time, as the template asks.
func (sc *stageCells) rows(pi int, reasons *reasons) iter.Seq[htmlRow] {
	return func(yield func(htmlRow) bool) {
		x := sc.stage.Matrix
		for from, name := range x.Endpoints {
			row := htmlRow{Endpoint: name, Cells: make([]htmlCell, 0, len(x.Endpoints))}
			for to := range x.Endpoints {
				c, _, changed := sc.cell(pi, from, to)
				hc := htmlCellOf(c)
				hc.Explanation = reasons.of(c)
				if changed || (len(c.Attempts) > 0 && (!c.Matches() || c.MatchedOnRetry())) {
					hc.Flow = sc.flow(pi, from, to, c)
				}
				row.Cells = append(row.Cells, hc)
			}
			if !yield(row) {
				return
			}
		}
	}
}

var cellMarks = map[probe.Verdict]string{probe.Allow: ".", probe.Drop: "X", probe.Reject: "R", probe.Error: "E"}

func htmlCellOf(c matrix.Cell) htmlCell {
	expected := probe.FromModel(c.Expected.Verdict)
	hc := htmlCell{Class: strings.ToLower(string(expected)), Mark: cellMarks[expected]}
	if len(c.Attempts) == 0 {
		hc.Class += " unprobed" // e.g. SCTP where the kernel lacks it: the panel says so
	} else {
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
