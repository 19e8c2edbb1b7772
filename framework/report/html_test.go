package report_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
)

var (
	flipped = probe.Flow{From: "dev-app/ubuntu-16-04", To: "prod-app/ubuntu-20-04", Probe: model.Probe{Protocol: model.ICMP}}
	retried = probe.Flow{From: "dev-app/ubuntu-16-04", To: "dev-app/ubuntu-20-04", Probe: model.Probe{Protocol: model.ICMP}}
)

// simulatedRun is the blog's allow-core-dns and block-all stages "observed"
// as the model expects, except, when faulty, one block-all cell observed Allow
// instead of Drop; one block-all cell matched only on its second attempt.
func simulatedRun(t *testing.T, faulty bool) report.Run {
	t.Helper()
	s, err := scenario.Load("../../scenarios/antrea-blog")
	if err != nil {
		t.Fatal(err)
	}
	topo := s.Topology
	run := report.Run{Scenario: s.Name, DataPlane: "simulated data plane (test)"}
	for _, stage := range []int{2, 3} {
		set, err := s.Policies(stage, s.Values)
		if err != nil {
			t.Fatal(err)
		}
		m, err := model.Compile(topo, set)
		if err != nil {
			t.Fatal(err)
		}
		x, err := matrix.Expected(m, s.Probes)
		if err != nil {
			t.Fatal(err)
		}
		var obs []probe.Observation
		for _, c := range x.Cells() {
			f := probe.Flow{From: c.From, To: c.To, Probe: c.Probe}
			attempt := probe.Attempt{Verdict: probe.FromModel(c.Expected.Verdict), Duration: time.Millisecond}
			o := probe.Observation{Flow: f, Attempts: []probe.Attempt{attempt}}
			switch {
			case stage != 3:
			case faulty && f == flipped:
				o.Attempts = []probe.Attempt{{Verdict: probe.Allow, Detail: "connected"}, {Verdict: probe.Allow, Detail: "connected"}}
			case f == retried:
				o.Attempts = []probe.Attempt{{Verdict: probe.Drop, Detail: "timed out"}, attempt}
			}
			obs = append(obs, o)
		}
		if err := x.Observe(obs); err != nil {
			t.Fatal(err)
		}
		run.Stages = append(run.Stages, report.Stage{Name: s.Stages[stage].Name, Matrix: x})
	}
	return run
}

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("no Chromium here: apt-get install chromium (CI installs it)")
	return ""
}

// render runs headless Chromium on the report with extra arguments.
func render(t *testing.T, browser, page string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, browser, append(append(base, args...), "file://"+page)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return out
}

func writePage(t *testing.T, run report.Run) string {
	t.Helper()
	page := filepath.Join(t.TempDir(), "report.html")
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, run); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return page
}

func TestHTMLReportInChromium(t *testing.T) {
	browser := chromium(t)
	run := simulatedRun(t, true)
	page := writePage(t, run)
	dom := string(render(t, browser, page, "--dump-dom"))

	if !strings.Contains(dom, `id="verdict">1 flow(s) differ from the model`) {
		t.Error("the summary verdict does not report one mismatching flow")
	}
	if !regexp.MustCompile(`<tr class="failed" data-stage="block-all">.*?<td class="mismatches">1</td><td>1</td>`).MatchString(dom) {
		t.Error("the summary row of block-all does not show 1 mismatch and 1 cell matched on retry")
	}
	cell := regexp.MustCompile(`<td class="([^"]*)" data-from="dev-app/ubuntu-16-04" data-to="prod-app/ubuntu-20-04" data-probe="icmp" data-expected="Drop" data-observed="Allow" data-a="([^"]*)" data-e="\d+">([^<]*)</td>`).FindStringSubmatch(dom)
	if cell == nil {
		t.Fatal("no cell for the flipped flow in the DOM")
	}
	if cell[1] != "drop mismatch" || cell[3] != ".!" || !strings.Contains(cell[2], "2 attempt(s)") {
		t.Errorf("flipped cell: class %q mark %q attempts %q, want \"drop mismatch\", \".!\" and 2 attempts", cell[1], cell[3], cell[2])
	}
	if !strings.Contains(dom, `<td class="allow retried" data-from="dev-app/ubuntu-16-04" data-to="dev-app/ubuntu-20-04" data-probe="icmp"`) {
		t.Error("the cell that matched on retry is not marked")
	}
	if got := strings.Count(dom, "mismatch\" data-from"); got != 1 {
		t.Errorf("%d cells marked as mismatches, want 1", got)
	}
	if !strings.Contains(dom, "simulated data plane (test)") {
		t.Error("the page does not name its data plane")
	}
	if !strings.Contains(dom, "<thead><tr><th></th><th>dev-app/ubuntu-16-04</th>") {
		t.Error("the matrices' columns are not headed by endpoint names")
	}

	// At the top, the mismatch list: the flow, its attempts and the model's
	// reason on both sides, linked to its cell.
	item := regexp.MustCompile(`<tr data-cell="(c1-\d+-\d+-\d+)"><td>block-all</td><td><a href="#c1-\d+-\d+-\d+">dev-app/ubuntu-16-04 → prod-app/ubuntu-20-04</a></td><td>icmp</td><td>Drop</td><td>Allow</td><td>2 attempt\(s\)[^<]*</td><td class="why">([^<]*)</td></tr>`).FindStringSubmatch(dom)
	if item == nil {
		t.Fatal("the mismatch list has no row for the flipped flow")
	}
	if !strings.Contains(item[2], "ClusterNetworkPolicy/isolate-prod-env ingress[0]") || !strings.Contains(item[2], "egress:") {
		t.Errorf("the mismatch list's reason %q does not give both sides", item[2])
	}
	if strings.Index(dom, `id="mismatch-list"`) > strings.Index(dom, `<table class="matrix"`) {
		t.Error("the mismatch list is not above the matrices")
	}

	// Its link opens the explanation panel on that cell.
	panel := string(render(t, browser, page+"#"+item[1], "--dump-dom"))
	for _, want := range []string{`<h2 id="panel-flow">block-all: dev-app/ubuntu-16-04 → prod-app/ubuntu-20-04 icmp</h2>`,
		"expected Drop, observed Allow", "ClusterNetworkPolicy/isolate-prod-env ingress[0]", "2 attempt(s)"} {
		if !strings.Contains(panel, want) {
			t.Errorf("the panel opened by #%s lacks %q", item[1], want)
		}
	}
	if strings.Contains(panel, `<aside id="panel" hidden`) {
		t.Error("the panel stays hidden")
	}
	// Any cell opens it, also one the page spells out nowhere: the first
	// stage's first ICMP cell, dev-app/ubuntu-16-04 to itself.
	plain := string(render(t, browser, page+"#c0-0-0-0", "--dump-dom"))
	if !strings.Contains(plain, `<h2 id="panel-flow">allow-core-dns: dev-app/ubuntu-16-04 → dev-app/ubuntu-16-04 `+run.Stages[0].Matrix.Probes[0].String()+`</h2>`) ||
		!strings.Contains(plain, "expected Allow, observed as expected") || !strings.Contains(plain, "a pod reaching itself") {
		t.Errorf("the panel of a plain cell:\n%s", between(plain, `<aside id="panel"`, "</aside>"))
	}

	// Per stage, what it changed since the stage before: every flow whose
	// expected verdict differs, counted here from the two matrices.
	before, after := run.Stages[0].Matrix, run.Stages[1].Matrix
	changed := 0
	for pi := range after.Probes {
		for from := range after.Endpoints {
			for to := range after.Endpoints {
				if before.Expected(pi, from, to).Verdict != after.Expected(pi, from, to).Verdict {
					changed++
				}
			}
		}
	}
	if changed == 0 {
		t.Fatal("block-all changes nothing since allow-core-dns: the test would check nothing")
	}
	if !strings.Contains(dom, fmt.Sprintf(`<details class="changes" data-changes="%d"`, changed)) ||
		!strings.Contains(dom, fmt.Sprintf("%d flow(s) changed since stage allow-core-dns", changed)) {
		t.Errorf("block-all's section does not list its %d changed flows", changed)
	}
	if got := strings.Count(between(dom, `<section class="stage" id="stage-block-all"`, `<table class="matrix"`), "<tr data-cell="); got != changed {
		t.Errorf("block-all lists %d changes, want %d", got, changed)
	}

	// What a person sees: the failed report has the red of a mismatch, the clean one none.
	if red := redPixels(t, browser, page); red == 0 {
		t.Error("the screenshot of a failed report shows no red")
	}
	if red := redPixels(t, browser, writePage(t, simulatedRun(t, false))); red != 0 {
		t.Errorf("the screenshot of a clean report shows %d red pixels", red)
	}
}

// between is the part of s from the first start to the next end after it.
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		return s[i:]
	}
	return s[i : i+j]
}

func redPixels(t *testing.T, browser, page string) int {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "shot.png")
	render(t, browser, page, "--screenshot="+shot, "--window-size=1400,1000", "--hide-scrollbars")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 180 && g>>8 < 60 && bl>>8 < 60 { // #d00000, the mismatch colour
				count++
			}
		}
	}
	return count
}
