// Package report renders matrices for people and tools: text truth tables,
// JSON flow records (and, as the harness grows, JUnit and HTML).
package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
)

// verdictMarks are the truth table's cell symbols.
var verdictMarks = map[model.Verdict]string{model.Allow: ".", model.Drop: "X", model.Reject: "R"}

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
		fmt.Fprintf(b, "%s — expected (model)   . Allow   X Drop   R Reject%s   rows: from, columns: to\n", p, legend)
		fmt.Fprintf(b, "%*s  %-*s", idWidth, "", width, "")
		for to := range x.Endpoints {
			fmt.Fprintf(b, " %*d", cellWidth, to+1)
		}
		b.WriteString("\n")
		for from, name := range x.Endpoints {
			fmt.Fprintf(b, "%*d  %-*s", idWidth, from+1, width, name)
			for to := range x.Endpoints {
				r := x.Expected(pi, from, to)
				fmt.Fprintf(b, " %*s", cellWidth, verdictMarks[r.Verdict]+tieMark(r))
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
			if x.Expected(probe, from, to).Tied() {
				n++
			}
		}
	}
	return n
}

// WriteJSON writes {"flows": [...]}, the simulate contract, one flow per line
// and streamed: a large matrix's output is never built in memory. A matrix has
// few distinct endpoint names, probes and decided sides, so each is encoded
// once, by encoding/json, and every record is assembled from those pieces in
// matrix.Record's field order.
func WriteJSON(w io.Writer, x *matrix.Matrix) error {
	b := bufio.NewWriterSize(w, 256<<10)
	b.WriteString("{\"flows\": [")
	pieces := newJSONPieces()
	first := true
	var err error
	x.EachCell(func(c matrix.Cell) bool {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString("\n")
		err = pieces.writeRecord(b, c)
		return err == nil
	})
	if err != nil {
		return err
	}
	if !first {
		b.WriteString("\n")
	}
	b.WriteString("]}\n")
	return b.Flush()
}

// jsonPieces caches the JSON encoding of a record's parts, by value: typed
// maps, so that looking a piece up allocates nothing.
type jsonPieces struct {
	names    map[string][]byte
	sides    map[model.Decision][]byte
	verdicts map[model.Verdict][]byte
	probes   map[model.Probe][]byte // `"TCP","port":80`: the protocol's value and the port field
}

func newJSONPieces() *jsonPieces {
	return &jsonPieces{names: map[string][]byte{}, sides: map[model.Decision][]byte{},
		verdicts: map[model.Verdict][]byte{}, probes: map[model.Probe][]byte{}}
}

// piece is m[key], encoded from value the first time.
func piece[K comparable, V any](m map[K][]byte, key K, value V) ([]byte, error) {
	data, err := json.Marshal(value)
	if err == nil {
		m[key] = data
	}
	return data, err
}

func (p *jsonPieces) writeRecord(b *bufio.Writer, c matrix.Cell) error {
	// Lookups first: a side's summary is built only the first time it is met.
	var errs [6]error
	from, ok := p.names[c.From]
	if !ok {
		from, errs[0] = piece(p.names, c.From, c.From)
	}
	to, ok := p.names[c.To]
	if !ok {
		to, errs[1] = piece(p.names, c.To, c.To)
	}
	probe, ok := p.probes[c.Probe]
	if !ok {
		if probe, errs[2] = json.Marshal(c.Probe.Protocol.String()); errs[2] == nil {
			probe = fmt.Appendf(probe, `,"port":%d`, c.Probe.Port)
			p.probes[c.Probe] = probe
		}
	}
	verdict, ok := p.verdicts[c.Expected.Verdict]
	if !ok {
		verdict, errs[3] = piece(p.verdicts, c.Expected.Verdict, c.Expected.Verdict)
	}
	ingress, ok := p.sides[c.Expected.Ingress]
	if !ok {
		ingress, errs[4] = piece(p.sides, c.Expected.Ingress, c.Expected.Ingress.Summary())
	}
	egress, ok := p.sides[c.Expected.Egress]
	if !ok {
		egress, errs[5] = piece(p.sides, c.Expected.Egress, c.Expected.Egress.Summary())
	}
	if err := errors.Join(errs[:]...); err != nil {
		return err
	}
	b.WriteString(`{"from":`)
	b.Write(from)
	b.WriteString(`,"to":`)
	b.Write(to)
	b.WriteString(`,"protocol":`)
	b.Write(probe)
	b.WriteString(`,"verdict":`)
	b.Write(verdict)
	b.WriteString(`,"ingress":`)
	b.Write(ingress)
	b.WriteString(`,"egress":`)
	b.Write(egress)
	b.WriteString(`}`)
	return nil
}
