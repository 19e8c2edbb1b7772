package report

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/probe"
)

// Stage is one played stage: its name, its probed matrix and, for some
// mismatched flows, what the data plane's own tracing saw (by case name).
type Stage struct {
	Name   string
	Matrix *matrix.Matrix
	Traces map[string]string
}

// Run is a played scenario. DataPlane says what answered the probes — "Antrea
// v2.7.0 on kind", or "lab data plane (network namespaces, not Antrea)" — and
// every report repeats it.
type Run struct {
	Scenario  string
	DataPlane string
	Stages    []Stage
	// NotPlayed are the scenario's stages that have no verdict, and why:
	// after a failed stage, filtered out, or failed before probing.
	NotPlayed []NotPlayed
}

// NotPlayed is a stage without a verdict.
type NotPlayed struct {
	Stage string `json:"stage"`
	Why   string `json:"why"`
}

// CaseName names a flow's test case: stage/from→to/probe.
func CaseName(stage string, c matrix.Cell) string {
	return stage + "/" + c.From + "→" + c.To + "/" + c.Probe.String()
}

// Explanation is the model's reason for a cell, both sides.
func Explanation(c matrix.Cell) string {
	return fmt.Sprintf("model: %s (egress: %s; ingress: %s)", c.Expected.Verdict, c.Expected.Egress.Describe(), c.Expected.Ingress.Describe())
}

func attemptsText(c matrix.Cell) string {
	var parts []string
	for i, a := range c.Attempts {
		s := fmt.Sprintf("#%d %s", i+1, a.Verdict)
		if a.Detail != "" {
			s += " (" + a.Detail + ")"
		}
		parts = append(parts, s)
	}
	return fmt.Sprintf("%d attempt(s): %s", len(c.Attempts), strings.Join(parts, ", "))
}

// junitSuite is a not-played stage's suite; played ones are streamed.
type junitSuite struct {
	XMLName    xml.Name        `xml:"testsuite"`
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes one test case per probed flow and stage, streamed: the
// totals come from a counting pass, then every case is encoded as it is met.
func WriteJUnit(w io.Writer, run Run) error {
	b := bufio.NewWriterSize(w, 64<<10)
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(b)
	enc.Indent("", "  ")
	total := tallyRun(run)
	root := xml.StartElement{Name: xml.Name{Local: "testsuites"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "name"}, Value: "tierproof " + run.Scenario + " — " + run.DataPlane},
		{Name: xml.Name{Local: "tests"}, Value: strconv.Itoa(total.probed + len(run.NotPlayed))},
		{Name: xml.Name{Local: "failures"}, Value: strconv.Itoa(total.mismatches)}}}
	if err := enc.EncodeToken(root); err != nil {
		return err
	}
	properties := []junitProperty{{Name: "data-plane", Value: run.DataPlane}}
	for _, st := range run.Stages {
		t := tallyStage(st)
		suite := xml.StartElement{Name: xml.Name{Local: "testsuite"}, Attr: []xml.Attr{
			{Name: xml.Name{Local: "name"}, Value: run.Scenario + "/" + st.Name},
			{Name: xml.Name{Local: "tests"}, Value: strconv.Itoa(t.probed)},
			{Name: xml.Name{Local: "failures"}, Value: strconv.Itoa(t.mismatches)}}}
		if err := enc.EncodeToken(suite); err != nil {
			return err
		}
		if err := enc.EncodeElement(junitProperties{properties}, xml.StartElement{Name: xml.Name{Local: "properties"}}); err != nil {
			return err
		}
		var err error
		st.Matrix.EachCell(func(c matrix.Cell) bool {
			if len(c.Attempts) > 0 {
				err = enc.EncodeElement(junitCaseOf(run, st, c), xml.StartElement{Name: xml.Name{Local: "testcase"}})
			}
			return err == nil
		})
		if err != nil {
			return err
		}
		if err := enc.EncodeToken(suite.End()); err != nil {
			return err
		}
	}
	for _, np := range run.NotPlayed {
		if err := enc.Encode(junitSuite{Name: run.Scenario + "/" + np.Stage, Tests: 1, Skipped: 1, Properties: properties,
			Cases: []junitCase{{Name: np.Stage + " (not played)", ClassName: run.Scenario + "." + np.Stage, Time: "0",
				Skipped: &junitSkipped{Message: np.Why}}}}); err != nil {
			return err
		}
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return err
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	b.WriteString("\n")
	return b.Flush()
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

// junitCaseOf is a probed flow as a test case: a failure when the data plane
// did otherwise, a note when it matched only on retry.
func junitCaseOf(run Run, st Stage, c matrix.Cell) junitCase {
	var seconds float64
	for _, a := range c.Attempts {
		seconds += a.Duration.Seconds()
	}
	tc := junitCase{Name: CaseName(st.Name, c), ClassName: run.Scenario + "." + st.Name, Time: fmt.Sprintf("%.3f", seconds)}
	switch {
	case !c.Matches():
		text := Explanation(c) + "\n" + attemptsText(c) + "\ndata plane: " + run.DataPlane
		if trace := st.Traces[tc.Name]; trace != "" {
			text += "\n" + trace
		}
		tc.Failure = &junitFailure{Type: "mismatch", Message: fmt.Sprintf("expected %s, observed %s", probe.FromModel(c.Expected.Verdict), c.Observed()), Text: text}
	case c.MatchedOnRetry():
		tc.SystemOut = "matched only on retry: " + attemptsText(c)
	}
	return tc
}

// resultRecord is a flow as the results JSON writes it.
type resultRecord struct {
	matrix.Record
	Stage    string          `json:"stage"`
	Observed probe.Verdict   `json:"observed"`
	Matches  bool            `json:"matches"`
	Attempts []probe.Attempt `json:"attempts"`
}

// WriteResultsJSON writes every probed flow with its expectation and attempts.
func WriteResultsJSON(w io.Writer, run Run) error {
	b := bufio.NewWriterSize(w, 64<<10)
	head, err := json.Marshal(struct {
		Scenario  string `json:"scenario"`
		DataPlane string `json:"dataPlane"`
	}{run.Scenario, run.DataPlane})
	if err != nil {
		return err
	}
	// Streamed, a flow per line: the header's fields, then the flows as met.
	b.Write(head[:len(head)-1])
	b.WriteString(`,"flows":[`)
	first := true
	for _, st := range run.Stages {
		st.Matrix.EachCell(func(c matrix.Cell) bool {
			if len(c.Attempts) == 0 {
				return true
			}
			var record []byte
			record, err = json.Marshal(resultRecord{Record: c.Record(), Stage: st.Name, Observed: c.Observed(), Matches: c.Matches(), Attempts: c.Attempts})
			if err != nil {
				return false
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.WriteString("\n")
			b.Write(record)
			return true
		})
		if err != nil {
			return err
		}
	}
	b.WriteString("\n]")
	if len(run.NotPlayed) > 0 {
		notPlayed, err := json.Marshal(run.NotPlayed)
		if err != nil {
			return err
		}
		b.WriteString(`,"notPlayed":`)
		b.Write(notPlayed)
	}
	b.WriteString("}\n")
	return b.Flush()
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
