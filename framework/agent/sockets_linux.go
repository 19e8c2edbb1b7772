package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// probeICMP sends one echo request. It prefers the batch's raw socket (which
// also sees the ICMP errors a Reject sends back) and falls back to an
// unprivileged ping socket; the detail says which one worked, or why both
// failed.
func probeICMP(ctx context.Context, dst net.IP, clk *clock, raw *sharedPinger) (Outcome, string) {
	p, rawErr := raw.get()
	if rawErr == nil {
		outcome, detail := p.ping(ctx, dst, clk)
		if p.note != "" {
			return outcome, detail + " (raw socket; " + p.note + ")"
		}
		return outcome, detail + " (raw socket)"
	}
	outcome, detail, pingErr := pingSocket(dst, clk)
	if pingErr == nil {
		return outcome, detail + " (ping socket; raw socket: " + rawErr.Error() + ")"
	}
	return Error, fmt.Sprintf("no ICMP socket: raw socket: %v; ping socket: %v (grant CAP_NET_RAW or widen net.ipv4.ping_group_range)", rawErr, pingErr)
}

func echoRequest(id int) ([]byte, error) {
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: 1, Data: []byte(UDPPayload)}}
	return msg.Marshal(nil)
}

// quotesOurEcho checks that an ICMP error quotes our echo request: the
// original IPv4 header (its destination) and the first bytes of the echo (its ID).
func quotesOurEcho(quoted []byte, dst net.IP, id int) bool {
	if len(quoted) < 20 {
		return false
	}
	headerLen := int(quoted[0]&0x0f) * 4
	if len(quoted) < headerLen+8 || !net.IP(quoted[16:20]).Equal(dst) {
		return false
	}
	echo := quoted[headerLen:]
	return echo[0] == byte(ipv4.ICMPTypeEcho) && int(echo[4])<<8|int(echo[5]) == id
}

// pingSocket uses a connected unprivileged ICMP socket with IP_RECVERR, so ICMP
// errors come back as socket errors. A non-nil error means it cannot be used.
func pingSocket(dst net.IP, clk *clock) (Outcome, string, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
	if err != nil {
		return "", "", err
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR, 1); err != nil {
		return "", "", err
	}
	// The kernel times each read: a read reached late still finds an answer
	// that waits in the queue.
	tv := unix.NsecToTimeval(clk.timeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return "", "", err
	}
	sa := &unix.SockaddrInet4{}
	copy(sa.Addr[:], dst.To4())
	if err := unix.Connect(fd, sa); err != nil {
		o, d := classify(err)
		return o, d, nil
	}
	packet, err := echoRequest(0) // the kernel sets the ID
	if err != nil {
		return Error, err.Error(), nil
	}
	if _, err := unix.Write(fd, packet); err != nil {
		o, d := classify(err)
		return o, d, nil
	}
	clk.sending() // timed from when the echo has left, as the raw socket's
	buf := make([]byte, 1500)
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR) && time.Now().After(clk.deadline()):
			return Dropped, "", nil
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			o, d := classify(err)
			return o, d, nil
		}
		if msg, err := icmp.ParseMessage(1, buf[:n]); err == nil && msg.Type == ipv4.ICMPTypeEchoReply {
			return Connected, "echo reply", nil
		}
	}
}

// probeStream connects a TCP or SCTP client (the kernel's one-to-one SCTP
// sockets behave like stream sockets) and waits for the handshake in poll:
// the kernel times the wait from the first packet, so an answer that came in
// time counts even when the agent runs late. A pinned source port's
// connection is closed with a reset: no TIME_WAIT holds the 4-tuple, so a
// retry of the same cell can connect again at once.
func probeStream(proto int, dst net.IP, port, sourcePort int, clk *clock) (Outcome, string) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		if proto == unix.IPPROTO_SCTP {
			return Error, "SCTP socket: " + err.Error() + " (is the sctp kernel module loaded?)"
		}
		return Error, "socket: " + err.Error()
	}
	defer unix.Close(fd)
	if proto == unix.IPPROTO_SCTP {
		// Antrea rejects SCTP with ICMP "administratively prohibited", which
		// Linux keeps as a soft error on an SCTP socket — the association
		// would retry its INIT until the timeout and read as a drop — unless
		// the socket asks for ICMP errors (the kernel's sctp_v4_err).
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR, 1); err != nil {
			return Error, "IP_RECVERR: " + err.Error()
		}
	}
	if sourcePort != 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return Error, "SO_REUSEADDR: " + err.Error()
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: sourcePort}); err != nil {
			return Error, fmt.Sprintf("binding source port %d: %v", sourcePort, err)
		}
	}
	sa := &unix.SockaddrInet4{Port: port}
	copy(sa.Addr[:], dst.To4())
	clk.sending()
	err = unix.Connect(fd, sa)
	if err != nil && !errors.Is(err, unix.EINPROGRESS) {
		return classify(err)
	}
	for err != nil {
		// A wait already past its deadline polls once without waiting.
		wait := max(0, time.Until(clk.deadline()))
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, perr := unix.Poll(fds, int((wait+time.Millisecond-1)/time.Millisecond))
		if errors.Is(perr, unix.EINTR) {
			continue
		}
		if perr != nil {
			return Error, "poll: " + perr.Error()
		}
		if n == 0 {
			return Dropped, ""
		}
		soErr, serr := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if serr != nil {
			return Error, "SO_ERROR: " + serr.Error()
		}
		if soErr != 0 {
			return classify(unix.Errno(soErr))
		}
		err = nil
	}
	if sourcePort != 0 {
		_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	return Connected, ""
}

// listenSCTP binds an SCTP listener; accept completes associations and closes them.
func listenSCTP(port int) (stop func(), err error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_SCTP)
	if err != nil {
		return nil, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.Listen(fd, 128); err != nil {
		unix.Close(fd)
		return nil, err
	}
	go func() {
		for {
			conn, _, err := unix.Accept(fd)
			if err != nil {
				return
			}
			unix.Close(conn)
		}
	}()
	return func() { _ = unix.Shutdown(fd, unix.SHUT_RDWR); unix.Close(fd) }, nil
}

// reuseAddr sets SO_REUSEADDR on a socket about to be bound.
func reuseAddr(_, _ string, c syscall.RawConn) error {
	var sockErr error
	if err := c.Control(func(fd uintptr) {
		sockErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	}); err != nil {
		return err
	}
	return sockErr
}
