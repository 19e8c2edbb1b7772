package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
)

// WriteJSON writes {"flows": [...]}, the simulate contract, one flow per line
// and streamed: a large matrix's output is never built in memory. A matrix has
// few distinct endpoint names, probes and decided sides, so each is encoded
// once, by encoding/json, and every record is assembled from those pieces in
// matrix.Record's field order.
func WriteJSON(w io.Writer, x *matrix.Matrix) error {
	b := bufio.NewWriterSize(w, 256<<10)
	semantics, err := json.Marshal(x.Semantics)
	if err != nil {
		return err
	}
	b.WriteString("{\"semantics\": " + string(semantics) + ", \"flows\": [")
	pieces := newJSONPieces()
	first := true
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
