package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// pinger is the one raw ICMP socket a batch's echo probes share. The kernel
// gives a raw socket every ICMP packet of its network namespace, so a socket
// per probe copied each packet to every probe in flight and, on a starved
// agent, filled their buffers until answers were lost. One reader demuxes
// the replies and errors by echo ID.
type pinger struct {
	conn    *net.IPConn
	mu      sync.Mutex
	waiting map[int]waiter
	// drained is closed, and replaced, whenever the reader finds the
	// socket's queue empty — after a packet, or idle: a probe whose wait
	// ended waits for it to look once more at what the kernel queued.
	drained chan struct{}
	raw     syscall.RawConn
	// nextID counts up from the batch's reserved echo IDs (reserveEchoIDs);
	// note says why they were not reserved, if they were not.
	nextID atomic.Uint32
	note   string
	done   chan struct{}
}

type waiter struct {
	dst    net.IP
	answer chan answer
}

type answer struct {
	outcome Outcome
	detail  string
}

// echoAnswers is the raw socket's filter: echo replies, and destination
// unreachables that quote an ICMP packet. Not the echo requests other pods
// send this one, nor the unreachables a Reject sends for this pod's TCP and
// UDP probes — thousands in a stage, which filled the socket's buffer while
// a starved agent could not read, and lost echo answers (at 150 pods, about
// one flow in 100 000).
var echoAnswers = mustAssemble(
	bpf.LoadMemShift{Off: 0},          // X: the IPv4 header's length
	bpf.LoadIndirect{Off: 0, Size: 1}, // the ICMP type
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(ipv4.ICMPTypeEchoReply), SkipFalse: 1},
	bpf.RetConstant{Val: 0xffff},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(ipv4.ICMPTypeDestinationUnreachable), SkipTrue: 1},
	bpf.RetConstant{Val: 0},
	bpf.LoadIndirect{Off: 8 + 9, Size: 1}, // the quoted IPv4 header's protocol
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.IPPROTO_ICMP, SkipFalse: 1},
	bpf.RetConstant{Val: 0xffff},
	bpf.RetConstant{Val: 0},
)

func mustAssemble(program ...bpf.Instruction) []bpf.RawInstruction {
	raw, err := bpf.Assemble(program)
	if err != nil {
		panic(err)
	}
	return raw
}

// pingerBuffer is the raw socket's receive buffer: room for the answers of
// thousands of probes while the reader waits for CPU.
const pingerBuffer = 4 << 20

func openPinger(echoes int) (*pinger, error) {
	c, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return nil, err
	}
	conn := c.(*net.IPConn) // Go strips the IPv4 header from what it reads
	if err := ipv4.NewPacketConn(conn).SetBPF(echoAnswers); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ICMP socket filter: %w", err)
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, err
	}
	p := &pinger{conn: conn, raw: raw, waiting: map[int]waiter{}, drained: make(chan struct{}), done: make(chan struct{})}
	first, note := reserveEchoIDs(echoes)
	p.nextID.Store(first - 1)
	p.note = note
	_ = raw.Control(func(fd uintptr) {
		// As root the limit of net.core.rmem_max does not apply.
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, pingerBuffer) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, pingerBuffer)
		}
	})
	go p.read()
	return p, nil
}

func (p *pinger) close() {
	p.conn.Close()
	<-p.done
}

// read hands each answer to the probe waiting for it.
func (p *pinger) read() {
	defer close(p.done)
	buf := make([]byte, 1500)
	for {
		_ = p.conn.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		n, peer, err := p.conn.ReadFrom(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			p.signalDrained()
			continue
		}
		if err != nil {
			return // closed
		}
		p.handle(buf[:n], peer)
		// A steady stream of answers leaves no idle moment to signal.
		p.signalDrained()
	}
}

// signalDrained tells the probes whose wait ended that the queue is empty,
// if it still is: the look is taken under the lock a probe takes its
// channel with, so it is never older than the probe's wait (a reader
// starved between an empty read and this signal would otherwise vouch for
// a queue an answer has reached since).
func (p *pinger) signalDrained() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queueEmpty() {
		close(p.drained)
		p.drained = make(chan struct{})
	}
}

// queueEmpty asks the kernel whether a datagram waits on the socket.
func (p *pinger) queueEmpty() bool {
	queued := 1
	_ = p.raw.Control(func(fd uintptr) {
		if n, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ); err == nil {
			queued = n
		}
	})
	return queued == 0
}

// handle gives an answer to the probe waiting for it.
func (p *pinger) handle(packet []byte, peer net.Addr) {
	msg, err := icmp.ParseMessage(1, packet)
	if err != nil {
		return
	}
	var w waiter
	var ok bool
	var a answer
	switch body := msg.Body.(type) {
	case *icmp.Echo:
		if msg.Type != ipv4.ICMPTypeEchoReply {
			return
		}
		w, ok = p.waiter(body.ID)
		if !ok || !peer.(*net.IPAddr).IP.Equal(w.dst) {
			return
		}
		a = answer{Connected, "echo reply"}
	case *icmp.DstUnreach:
		id := quotedEchoID(body.Data)
		if id < 0 {
			return
		}
		w, ok = p.waiter(id)
		if !ok || !quotesOurEcho(body.Data, w.dst, id) {
			return
		}
		a = answer{Rejected, fmt.Sprintf("ICMP destination unreachable, code %d", msg.Code)}
	default:
		return
	}
	select {
	case w.answer <- a:
	default: // answered already
	}
}

func (p *pinger) waiter(id int) (waiter, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.waiting[id]
	return w, ok
}

// ping sends one echo request to dst and waits for its answer until the
// clock's deadline, then until the reader has emptied the queue once more —
// however long a starved reader takes, within the batch's deadline (ctx).
func (p *pinger) ping(ctx context.Context, dst net.IP, clk *clock) (Outcome, string) {
	w := waiter{dst: dst, answer: make(chan answer, 1)}
	p.mu.Lock()
	id := -1
	for range 1 << 16 {
		if candidate := int(p.nextID.Add(1) & 0xffff); p.waiting[candidate].answer == nil {
			id = candidate
			break
		}
	}
	if id >= 0 {
		p.waiting[id] = w
	}
	p.mu.Unlock()
	if id < 0 {
		return Error, "every echo ID is in flight"
	}
	defer func() {
		p.mu.Lock()
		delete(p.waiting, id)
		p.mu.Unlock()
	}()
	packet, err := echoRequest(id)
	if err != nil {
		return Error, err.Error()
	}
	if _, err := p.conn.WriteTo(packet, &net.IPAddr{IP: dst}); err != nil {
		return classify(err)
	}
	// Timed from when the echo has left: a starved agent can be held up
	// between taking the time and the send — at 150 pods, 2 s, which
	// turned 21 echoes into drops before their packets had gone.
	clk.sending()
	timer := time.NewTimer(time.Until(clk.deadline()))
	defer timer.Stop()
	select {
	case a := <-w.answer:
		return a.outcome, a.detail
	case <-timer.C:
	}
	p.mu.Lock()
	drained := p.drained
	p.mu.Unlock()
	select {
	case a := <-w.answer:
		return a.outcome, a.detail
	case <-drained:
	case <-ctx.Done():
		return Error, "the batch deadline passed before the answers queued for this probe were read"
	}
	select {
	case a := <-w.answer:
		return a.outcome, a.detail
	default:
		return Dropped, ""
	}
}

// sharedPinger opens a batch's pinger on first use, once, for its echoes
// echo probes.
type sharedPinger struct {
	echoes int
	once   sync.Once
	pinger *pinger
	err    error
}

func (s *sharedPinger) get() (*pinger, error) {
	s.once.Do(func() { s.pinger, s.err = openPinger(s.echoes) })
	return s.pinger, s.err
}

func (s *sharedPinger) close() {
	if s.pinger != nil {
		s.pinger.close()
	}
}

// quotedEchoID is the echo ID an ICMP error quotes, or -1.
func quotedEchoID(quoted []byte) int {
	if len(quoted) < 20 {
		return -1
	}
	headerLen := int(quoted[0]&0x0f) * 4
	if len(quoted) < headerLen+8 || quoted[headerLen] != byte(ipv4.ICMPTypeEcho) {
		return -1
	}
	return int(quoted[headerLen+4])<<8 | int(quoted[headerLen+5])
}
