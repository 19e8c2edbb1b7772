package agent

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"
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
			clk := clock{start: time.Now()}
			outcome, detail := probe(ctx, req, timeout, &clk)
			r := Result{ID: req.ID, Outcome: outcome, Detail: detail, Duration: time.Since(clk.start).Milliseconds()}
			if outcome == Dropped {
				r.Late = clk.late(timeout, time.Now()).Milliseconds()
				if time.Duration(r.Late)*time.Millisecond >= LateLimit(timeout) {
					r.Detail += fmt.Sprintf(", %d ms late (the agent was short of CPU): the probe did not get its whole timeout", r.Late)
				}
			}
			results <- r
		}()
	}
	go func() { wg.Wait(); close(results) }()

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

// clock times one probe: start is its turn, sent when its first packet left
// (zero until then).
type clock struct{ start, sent time.Time }

// sending marks the moment the probe's first packet leaves.
func (c *clock) sending() {
	if c.sent.IsZero() {
		c.sent = time.Now()
	}
}

// control is a dialer's Control hook that marks the socket's connect (or
// first send) and, with a pinned source port, sets SO_REUSEADDR.
func (c *clock) control(sourcePort int) func(string, string, syscall.RawConn) error {
	return func(network, address string, raw syscall.RawConn) error {
		c.sending()
		if sourcePort == 0 {
			return nil
		}
		return reuseAddr(network, address, raw)
	}
}

// late is how much of its timeout a timed-out probe lost to a starved
// process: the wait before its first packet left, plus how long after the
// timeout it noticed it. A punctual probe loses a few milliseconds at most.
func (c *clock) late(timeout time.Duration, end time.Time) time.Duration {
	lost := end.Sub(c.start.Add(timeout))
	if lost < 0 {
		lost = 0
	}
	if !c.sent.IsZero() {
		lost += c.sent.Sub(c.start)
	}
	return lost
}

// LateLimit is the lateness from which a timed-out probe is no evidence of a
// drop: a tenth of its timeout.
func LateLimit(timeout time.Duration) time.Duration { return timeout / 10 }

func probe(ctx context.Context, req Request, timeout time.Duration, clk *clock) (Outcome, string) {
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
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(req.IP, strconv.Itoa(req.Port))
	switch req.Protocol {
	case "TCP":
		d := dialer(req.SourcePort, func() net.Addr { return &net.TCPAddr{Port: req.SourcePort} }, clk)
		conn, err := d.DialContext(ctx, "tcp4", addr)
		if err != nil {
			return classify(err)
		}
		if req.SourcePort != 0 {
			// Close with a reset: no TIME_WAIT holds the pinned 4-tuple,
			// so a retry of the same cell can connect again at once.
			_ = conn.(*net.TCPConn).SetLinger(0)
		}
		conn.Close()
		return Connected, ""
	case "UDP":
		return probeUDP(ctx, addr, req.SourcePort, timeout, clk)
	case "SCTP":
		return probeSCTP(ctx, ip, req.Port, req.SourcePort, clk)
	case "ICMP":
		return probeICMP(ctx, ip, clk)
	}
	return Error, fmt.Sprintf("unknown protocol %q (want TCP, UDP, SCTP or ICMP)", req.Protocol)
}

// probeUDP sends the payload twice within the timeout (UDP has no
// retransmission of its own) and waits for the echo or an ICMP error.
func probeUDP(ctx context.Context, addr string, sourcePort int, timeout time.Duration, clk *clock) (Outcome, string) {
	d := dialer(sourcePort, func() net.Addr { return &net.UDPAddr{Port: sourcePort} }, clk)
	conn, err := d.DialContext(ctx, "udp4", addr)
	if err != nil {
		return classify(err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	buf := make([]byte, 64)
	for attempt := 0; attempt < 2; attempt++ {
		if _, err := conn.Write([]byte(UDPPayload)); err != nil {
			return classify(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(timeout / 2))
		if attempt == 1 {
			_ = conn.SetReadDeadline(deadline)
		}
		n, err := conn.Read(buf)
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
	return Dropped, "timed out"
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
