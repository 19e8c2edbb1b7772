package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

var echoID atomic.Uint32

func init() { echoID.Store(uint32(os.Getpid()) & 0xffff) }

// probeICMP sends one echo request. It prefers a raw socket (which also sees
// the ICMP errors a Reject sends back) and falls back to an unprivileged ping
// socket; the detail says which one worked, or why both failed.
func probeICMP(ctx context.Context, dst net.IP, clk *clock) (Outcome, string) {
	outcome, detail, rawErr := pingRaw(ctx, dst, clk)
	if rawErr == nil {
		return outcome, detail + " (raw socket)"
	}
	outcome, detail, pingErr := pingSocket(ctx, dst, clk)
	if pingErr == nil {
		return outcome, detail + " (ping socket; raw socket: " + rawErr.Error() + ")"
	}
	return Error, fmt.Sprintf("no ICMP socket: raw socket: %v; ping socket: %v (grant CAP_NET_RAW or widen net.ipv4.ping_group_range)", rawErr, pingErr)
}

func echoRequest(id int) ([]byte, error) {
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: 1, Data: []byte(UDPPayload)}}
	return msg.Marshal(nil)
}

// pingRaw returns a non-nil error only when the raw socket cannot be used.
func pingRaw(ctx context.Context, dst net.IP, clk *clock) (Outcome, string, error) {
	conn, err := icmp.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return "", "", err
	}
	defer conn.Close()
	id := int(echoID.Add(1) & 0xffff)
	packet, err := echoRequest(id)
	if err != nil {
		return Error, err.Error(), nil
	}
	clk.sending()
	if _, err := conn.WriteTo(packet, &net.IPAddr{IP: dst}); err != nil {
		o, d := classify(err)
		return o, d, nil
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetReadDeadline(deadline)
	buf := make([]byte, 1500)
	for {
		n, peer, err := conn.ReadFrom(buf)
		if err != nil {
			o, d := classify(err)
			return o, d, nil
		}
		msg, err := icmp.ParseMessage(1, buf[:n])
		if err != nil {
			continue
		}
		switch body := msg.Body.(type) {
		case *icmp.Echo:
			if msg.Type == ipv4.ICMPTypeEchoReply && body.ID == id && peer.(*net.IPAddr).IP.Equal(dst) {
				return Connected, "echo reply", nil
			}
		case *icmp.DstUnreach:
			if quotesOurEcho(body.Data, dst, id) {
				return Rejected, fmt.Sprintf("ICMP destination unreachable, code %d", msg.Code), nil
			}
		}
	}
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
func pingSocket(ctx context.Context, dst net.IP, clk *clock) (Outcome, string, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
	if err != nil {
		return "", "", err
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR, 1); err != nil {
		return "", "", err
	}
	deadline, _ := ctx.Deadline()
	tv := unix.NsecToTimeval(time.Until(deadline).Nanoseconds())
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
	clk.sending()
	if _, err := unix.Write(fd, packet); err != nil {
		o, d := classify(err)
		return o, d, nil
	}
	buf := make([]byte, 1500)
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR) && time.Now().After(deadline):
			return Dropped, "timed out", nil
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

// probeSCTP opens an SCTP association the way a TCP client connects: the
// kernel's one-to-one SCTP sockets behave like stream sockets.
func probeSCTP(ctx context.Context, dst net.IP, port, sourcePort int, clk *clock) (Outcome, string) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_SCTP)
	if err != nil {
		return Error, "SCTP socket: " + err.Error() + " (is the sctp kernel module loaded?)"
	}
	defer unix.Close(fd)
	// Antrea rejects SCTP with ICMP "administratively prohibited", which
	// Linux keeps as a soft error on an SCTP socket — the association would
	// retry its INIT until the timeout and read as a drop — unless the
	// socket asks for ICMP errors (the kernel's sctp_v4_err).
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR, 1); err != nil {
		return Error, "IP_RECVERR: " + err.Error()
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
	if err == nil {
		return Connected, ""
	}
	if !errors.Is(err, unix.EINPROGRESS) {
		return classify(err)
	}
	deadline, _ := ctx.Deadline()
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return Dropped, "timed out"
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(fds, int(wait.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return Error, "poll: " + err.Error()
		}
		if n == 0 {
			return Dropped, "timed out"
		}
		soErr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return Error, "SO_ERROR: " + err.Error()
		}
		if soErr == 0 {
			return Connected, ""
		}
		return classify(unix.Errno(soErr))
	}
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
