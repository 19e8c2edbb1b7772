package report_test

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/report"
)

// Stages without a verdict are listed in every report, with why, never
// silently left out.
func TestStagesNotPlayedAreListedEverywhere(t *testing.T) {
	run := report.Run{Scenario: "antrea-blog", DataPlane: "lab", NotPlayed: []report.NotPlayed{
		{Stage: "allow-prod-ssh", Why: "an earlier stage (block-all) failed"},
		{Stage: "yelb-microsegmentation", Why: "an earlier stage (block-all) failed"},
	}}
	var junit strings.Builder
	if err := report.WriteJUnit(&junit, run); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Name    string `xml:"name,attr"`
			Skipped int    `xml:"skipped,attr"`
			Cases   []struct {
				Name    string `xml:"name,attr"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(junit.String()), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 2 || len(doc.Suites) != 2 || doc.Suites[1].Name != "antrea-blog/yelb-microsegmentation" || doc.Suites[1].Skipped != 1 ||
		doc.Suites[1].Cases[0].Skipped == nil || doc.Suites[1].Cases[0].Skipped.Message != "an earlier stage (block-all) failed" {
		t.Errorf("JUnit:\n%s", junit.String())
	}
	var tables strings.Builder
	if err := report.WriteObservedTables(&tables, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tables.String(), "== stage allow-prod-ssh: not played (an earlier stage (block-all) failed)") {
		t.Errorf("truth tables:\n%s", tables.String())
	}
	var results strings.Builder
	if err := report.WriteResultsJSON(&results, run); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		NotPlayed []report.NotPlayed `json:"notPlayed"`
	}
	if err := json.Unmarshal([]byte(results.String()), &parsed); err != nil || len(parsed.NotPlayed) != 2 {
		t.Errorf("results JSON: %s (%v)", results.String(), err)
	}
	if got := report.Summary(run, "reports/antrea-blog"); got != "antrea-blog on lab: 0 stage(s) played, 2 not played; 0 flows probed, 0 mismatch(es); reports in reports/antrea-blog" {
		t.Errorf("summary %q", got)
	}
	var html strings.Builder
	if err := report.WriteHTML(&html, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), `<tr class="not-played" data-stage="allow-prod-ssh"><td>allow-prod-ssh</td><td colspan="4" class="why">not played: an earlier stage (block-all) failed</td></tr>`) {
		t.Errorf("the HTML summary does not list the stage as not played")
	}
}
