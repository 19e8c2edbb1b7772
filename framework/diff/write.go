package diff

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tierproof/tierproof/framework/lint"
	"github.com/tierproof/tierproof/framework/model"
)

// Review is what a pull request's reviewer reads: the diff, and the lint
// findings the change introduces.
type Review struct {
	*Diff
	Introduced []lint.Finding
}

// Introduced are the findings of after that before does not have: the same
// check on the same object and field is the same finding, whatever its file
// (the two sides are two checkouts) and its figures.
func Introduced(before, after []lint.Finding) []lint.Finding {
	type key struct{ check, object, field string }
	had := map[key]bool{}
	for _, f := range before {
		had[key{f.Check, f.Object, f.Field}] = true
	}
	var out []lint.Finding
	for _, f := range after {
		if !had[key{f.Check, f.Object, f.Field}] {
			out = append(out, f)
		}
	}
	return out
}

// examples is how many flows a group shows before "and N more".
const examples = 3

func (r Review) summary() string {
	return fmt.Sprintf("%d flows evaluated (%d probes, %s semantics): %d changed — %d opened, %d closed, %d Drop↔Reject; %d unchanged",
		r.Flows, len(r.Probes), r.Semantics.Name, len(r.Changes), r.Count(Opened), r.Count(Closed), r.Count(DenialKind), r.Flows-len(r.Changes))
}

// WriteText writes the summary, each group with its deciders and a few of
// its flows, then the introduced lint findings.
func WriteText(w io.Writer, r Review) error {
	b := bufio.NewWriter(w)
	fmt.Fprintln(b, r.summary())
	for _, g := range r.Groups() {
		fmt.Fprintf(b, "\n%s: %d flow(s) %s → %s (%s), %s → %s\n  before: %s\n  after:  %s\n", g.Kind(), len(g.Changes), g.From, g.To, probeList(g), g.Before, g.After, g.BeforeBy, g.AfterBy)
		fmt.Fprintf(b, "  e.g. %s\n", flowList(g, func(s string) string { return s }))
	}
	if len(r.Introduced) > 0 {
		fmt.Fprintf(b, "\nlint findings the change introduces:\n")
		for _, f := range r.Introduced {
			fmt.Fprintf(b, "  %s: %s %s [%s]: %s\n", f.Severity, f.Object, f.Field, f.Check, f.Message)
		}
	}
	return b.Flush()
}

// flowList names a group's first flows, and how many more there are.
func flowList(g Group, quote func(string) string) string {
	var names []string
	for i, c := range g.Changes {
		if i == examples {
			names = append(names, fmt.Sprintf("and %d more", len(g.Changes)-examples))
			break
		}
		names = append(names, quote(c.From+" → "+c.To+" "+c.Probe.String()))
	}
	return strings.Join(names, ", ")
}

func probeList(g Group) string {
	names := make([]string, len(g.Probes))
	for i, p := range g.Probes {
		names[i] = p.String()
	}
	return strings.Join(names, " ")
}

// WriteMarkdown writes a pull-request comment: the summary as a table, each
// group in a collapsible section, the introduced lint findings, and whose
// semantics the verdicts follow.
func WriteMarkdown(w io.Writer, r Review) error {
	b := bufio.NewWriter(w)
	code := func(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }
	fmt.Fprintf(b, "### tierproof diff\n\n| flows | |\n|---|---:|\n| opened | %d |\n| closed | %d |\n| Drop ↔ Reject | %d |\n| unchanged | %d |\n| evaluated | %d |\n\n",
		r.Count(Opened), r.Count(Closed), r.Count(DenialKind), r.Flows-len(r.Changes), r.Flows)
	for _, g := range r.Groups() {
		fmt.Fprintf(b, "<details><summary><b>%s</b>: %d flow(s) %s → %s (%s), %s → %s</summary>\n\n", g.Kind(), len(g.Changes), code(g.From), code(g.To), probeList(g), g.Before, g.After)
		fmt.Fprintf(b, "- before: %s\n- after: %s\n- %s\n\n</details>\n\n", g.BeforeBy, g.AfterBy, flowList(g, code))
	}
	if len(r.Introduced) > 0 {
		fmt.Fprintf(b, "**Lint findings the change introduces**\n\n")
		for _, f := range r.Introduced {
			fmt.Fprintf(b, "- %s %s %s [%s]: %s\n", f.Severity, code(f.Object), code(f.Field), f.Check, f.Message)
		}
		fmt.Fprintln(b)
	}
	fmt.Fprintf(b, "_Verdicts of tierproof's model of %s semantics, from the manifests alone: no cluster was asked._\n", r.Semantics.Name)
	return b.Flush()
}

// jsonChange is one changed flow in the JSON output.
type jsonChange struct {
	From     string   `json:"from"`
	To       string   `json:"to"`
	Protocol string   `json:"protocol"`
	Port     int32    `json:"port"`
	Kind     Kind     `json:"kind"`
	Before   jsonSide `json:"before"`
	After    jsonSide `json:"after"`
}

type jsonSide struct {
	Verdict model.Verdict     `json:"verdict"`
	Ingress model.SideSummary `json:"ingress"`
	Egress  model.SideSummary `json:"egress"`
}

// WriteJSON writes the summary, every changed flow (one per line, as it is
// written) and the introduced findings.
func WriteJSON(w io.Writer, r Review) error {
	b := bufio.NewWriter(w)
	head, err := json.Marshal(map[string]any{"flows": r.Flows, "opened": r.Count(Opened), "closed": r.Count(Closed),
		"denialKind": r.Count(DenialKind), "unchanged": r.Flows - len(r.Changes), "semantics": r.Semantics.Name})
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "{\"summary\":%s,\"changes\":[", head)
	for i, c := range r.Changes {
		line, err := json.Marshal(jsonChange{From: c.From, To: c.To, Protocol: c.Probe.Protocol.String(), Port: c.Probe.Port, Kind: c.Kind(),
			Before: jsonSide{c.Before.Verdict, c.Before.Ingress.Summary(), c.Before.Egress.Summary()},
			After:  jsonSide{c.After.Verdict, c.After.Ingress.Summary(), c.After.Egress.Summary()}})
		if err != nil {
			return err
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n")
		b.Write(line)
	}
	findings := r.Introduced
	if findings == nil {
		findings = []lint.Finding{}
	}
	lint, err := json.Marshal(findings)
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "\n],\"lint\":%s}\n", lint)
	return b.Flush()
}
