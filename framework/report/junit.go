package report

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/probe"
)

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
