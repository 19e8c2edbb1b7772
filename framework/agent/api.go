// Package agent is the in-pod probe agent: it serves the probed ports so that
// every probe meets a listener, and it runs batches of probes, classifying each
// as connected, rejected, dropped or error. cmd/tierproof-agent wraps it; the
// probe engine speaks to it through JSON on stdin and stdout.
package agent

import "time"

// Request is one probe the agent runs: a TCP, UDP or SCTP connection to IP:Port,
// or an ICMP echo to IP. SourcePort, when set, pins the client's port: the
// socket is bound to it before connecting.
type Request struct {
	ID         string `json:"id"`
	IP         string `json:"ip"`
	Protocol   string `json:"protocol"` // TCP, UDP, SCTP or ICMP
	Port       int    `json:"port,omitempty"`
	SourcePort int    `json:"sourcePort,omitempty"`
}

// Outcome classifies what the network did with a probe.
type Outcome string

// The outcomes a probe can have.
const (
	// Connected: a TCP/SCTP handshake completed, a UDP reply or ICMP echo reply came back.
	Connected Outcome = "connected"
	// Rejected: a TCP RST or an ICMP destination-unreachable came back.
	Rejected Outcome = "rejected"
	// Dropped: nothing came back before the timeout.
	Dropped Outcome = "dropped"
	// Error: the probe could not be run; Detail says why.
	Error Outcome = "error"
)

// Result is the outcome of one Request.
type Result struct {
	ID       string  `json:"id"`
	Outcome  Outcome `json:"outcome"`
	Detail   string  `json:"detail,omitempty"`
	Duration int64   `json:"durationMillis"`
	// Late, for a dropped probe, is how late the agent ran: its first packet
	// left that long after its turn, or it noticed the end of its wait late.
	// The wait itself is timed from the packet (see Run).
	Late int64 `json:"lateMillis,omitempty"`
}

// EndOfResults is the line `tierproof-agent probe` writes after its last
// result. It then waits, a while at most (HoldForEOF), until its stdin is
// closed: a client that closes stdin only once it has read this line gets
// every result before the process ends. Exec streams can lose the end of a
// process's output when it exits (kubernetes/kubernetes#124571): at 150 pods
// under load, one exec in 151 came back 370 results short, without error.
const EndOfResults = `{"end":true}`

// HoldForEOF bounds the agent's wait for the client to close its stdin after
// EndOfResults; a client that closed it with the batch ends the wait at once.
const HoldForEOF = 10 * time.Second

// Batch is what `tierproof-agent probe` reads on stdin.
type Batch struct {
	// Timeout bounds each probe; Deadline bounds the whole batch.
	Timeout  Duration  `json:"timeout"`
	Deadline Duration  `json:"deadline"`
	Parallel int       `json:"parallel,omitempty"`
	Requests []Request `json:"requests"`
}

// Duration is a time.Duration written as "1s" in JSON.
type Duration struct{ time.Duration }

// MarshalText writes the duration as Go prints it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "1s", "250ms".
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	d.Duration = v
	return err
}

// UDPPayload is what the prober sends and the server echoes, so a reply is
// known to come from a tierproof listener.
const UDPPayload = "tierproof-probe"
