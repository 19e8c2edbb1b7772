package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults for a batch that leaves them out.
const (
	DefaultTimeout  = time.Second
	DefaultParallel = 64
)

// Run probes every request of b concurrently and calls emit once per request,
// from one goroutine, in completion order. It returns by the batch deadline at
// the latest: requests unfinished by then are emitted as errors.
func Run(ctx context.Context, b Batch, emit func(Result)) {
	timeout := b.Timeout.Duration
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	parallel := b.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	deadline := b.Deadline.Duration
	if deadline <= 0 {
		// Enough for every wave of parallel probes, plus slack for scheduling.
		waves := (len(b.Requests) + parallel - 1) / parallel
		deadline = time.Duration(waves)*timeout + time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()

	results := make(chan Result, len(b.Requests))
	raw := sharedPinger{echoes: echoes(b.Requests)} // the batch's one raw ICMP socket, opened by its first echo probe
	slots := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, req := range b.Requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-slots }()
			clk := clock{start: time.Now(), timeout: timeout}
			outcome, detail := probe(ctx, req, &clk, &raw)
			r := Result{ID: req.ID, Outcome: outcome, Detail: detail, Duration: time.Since(clk.start).Milliseconds()}
			if outcome == Dropped {
				r.Late = clk.late(time.Now()).Milliseconds()
				r.Detail = fmt.Sprintf("no answer within %v of the first packet", timeout)
				if r.Late > 0 {
					r.Detail += fmt.Sprintf(" (the agent ran %d ms late; the wait was timed from the packet)", r.Late)
				}
			}
			results <- r
		}()
	}
	go func() { wg.Wait(); raw.close(); close(results) }()

	pending := make(map[string]bool, len(b.Requests))
	for _, req := range b.Requests {
		pending[req.ID] = true
	}
	for {
		select {
		case r, ok := <-results:
			if !ok {
				return
			}
			if pending[r.ID] {
				delete(pending, r.ID)
				emit(r)
			}
		case <-ctx.Done():
			for _, req := range b.Requests {
				if pending[req.ID] {
					emit(Result{ID: req.ID, Outcome: Error, Detail: "batch deadline " + deadline.String() + " passed before this probe finished"})
				}
			}
			return
		}
	}
}

func echoes(requests []Request) int {
	n := 0
	for _, r := range requests {
		if r.Protocol == "ICMP" {
			n++
		}
	}
	return n
}

// clock times one probe: start is its turn, sent when its first packet left
// (zero until then). A probe waits its whole timeout from the first packet,
// however late that left, and a wait that ends looks once more at what the
// kernel queued: a starved agent can delay a verdict, never turn an answer
// into silence.
type clock struct {
	start, sent time.Time
	timeout     time.Duration
}

// sending marks the moment the probe's first packet leaves.
func (c *clock) sending() {
	if c.sent.IsZero() {
		c.sent = time.Now()
	}
}

// deadline is when the probe's wait for an answer ends.
func (c *clock) deadline() time.Time {
	if c.sent.IsZero() {
		return c.start.Add(c.timeout)
	}
	return c.sent.Add(c.timeout)
}

// control is a dialer's Control hook that marks the socket's connect and,
// with a pinned source port, sets SO_REUSEADDR.
func (c *clock) control(sourcePort int) func(string, string, syscall.RawConn) error {
	return func(network, address string, raw syscall.RawConn) error {
		c.sending()
		if sourcePort == 0 {
			return nil
		}
		return reuseAddr(network, address, raw)
	}
}

// late is how long after its turn a probe's first packet left, plus how
// long after its deadline it noticed the wait had ended: the agent's own
// delay, which the verdict does not rest on but which says how starved it was.
func (c *clock) late(end time.Time) time.Duration {
	lost := end.Sub(c.deadline())
	if lost < 0 {
		lost = 0
	}
	if !c.sent.IsZero() {
		lost += c.sent.Sub(c.start)
	}
	return lost
}

func probe(ctx context.Context, req Request, clk *clock, raw *sharedPinger) (Outcome, string) {
	ip := net.ParseIP(req.IP).To4()
	if ip == nil {
		return Error, fmt.Sprintf("ip %q is not an IPv4 address", req.IP)
	}
	if req.Protocol != "ICMP" && (req.Port < 1 || req.Port > 65535) {
		return Error, fmt.Sprintf("port %d out of range", req.Port)
	}
	if req.SourcePort < 0 || req.SourcePort > 65535 || (req.SourcePort != 0 && req.Protocol == "ICMP") {
		return Error, fmt.Sprintf("source port %d: want 1 to 65535, and no source port for ICMP", req.SourcePort)
	}
	switch req.Protocol {
	case "TCP":
		return probeStream(unix.IPPROTO_TCP, ip, req.Port, req.SourcePort, clk)
	case "UDP":
		return probeUDP(ctx, net.JoinHostPort(req.IP, strconv.Itoa(req.Port)), req.SourcePort, clk)
	case "SCTP":
		return probeStream(unix.IPPROTO_SCTP, ip, req.Port, req.SourcePort, clk)
	case "ICMP":
		return probeICMP(ctx, ip, clk, raw)
	}
	return Error, fmt.Sprintf("unknown protocol %q (want TCP, UDP, SCTP or ICMP)", req.Protocol)
}

// probeUDP sends the payload twice within the timeout (UDP has no
// retransmission of its own) and waits for the echo or an ICMP error.
func probeUDP(ctx context.Context, addr string, sourcePort int, clk *clock) (Outcome, string) {
	d := dialer(sourcePort, func() net.Addr { return &net.UDPAddr{Port: sourcePort} }, clk)
	conn, err := d.DialContext(ctx, "udp4", addr)
	if err != nil {
		return classify(err)
	}
	defer conn.Close()
	buf := make([]byte, 64)
	for attempt := 0; attempt < 2; attempt++ {
		if _, err := conn.Write([]byte(UDPPayload)); err != nil {
			return classify(err)
		}
		by := clk.deadline()
		if attempt == 0 {
			by = by.Add(-clk.timeout / 2)
		}
		n, err := readBy(conn, by, buf)
		if err == nil {
			if string(buf[:n]) == UDPPayload {
				return Connected, ""
			}
			return Connected, "reply was not the tierproof echo: another server answers on this port"
		}
		if outcome, detail := classify(err); outcome != Dropped || attempt == 1 {
			return outcome, detail
		}
	}
	return Dropped, ""
}

// readBy reads until by and, if nothing came, looks once more at what the
// kernel queued: Go reports a passed deadline without reading, and a starved
// agent may reach its read after the deadline with the answer waiting.
func readBy(conn net.Conn, by time.Time, buf []byte) (int, error) {
	_ = conn.SetReadDeadline(by)
	n, err := conn.Read(buf)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		n, err = conn.Read(buf)
	}
	return n, err
}

// dialer binds to sourcePort when it is set. SO_REUSEADDR lets probes of one
// batch share the pinned port towards different destinations: each
// connection's 4-tuple stays unique. clk is marked as the socket connects.
func dialer(sourcePort int, local func() net.Addr, clk *clock) *net.Dialer {
	d := &net.Dialer{Control: clk.control(sourcePort)}
	if sourcePort != 0 {
		d.LocalAddr = local()
	}
	return d
}
