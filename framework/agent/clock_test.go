package agent

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestTheWaitIsTimedFromTheFirstPacket(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	c := clock{start: t0, timeout: time.Second}
	if c.deadline() != t0.Add(time.Second) {
		t.Errorf("before sending: deadline %v, want a timeout after the turn", c.deadline())
	}
	c.sent = t0.Add(300 * ms)
	if c.deadline() != t0.Add(1300*ms) {
		t.Errorf("sent 300 ms late: deadline %v, want a whole timeout after the packet", c.deadline())
	}
	for _, tc := range []struct {
		name      string
		sent, end time.Duration // after the probe's turn
		want      time.Duration
	}{
		{"punctual", 1 * ms, 1002 * ms, 2 * ms},
		{"first packet late", 300 * ms, 1300 * ms, 300 * ms},
		{"end noticed late", 0, 1450 * ms, 450 * ms},
		{"both", 200 * ms, 1300 * ms, 300 * ms},
	} {
		c := clock{start: t0, sent: t0.Add(tc.sent), timeout: time.Second}
		if got := c.late(t0.Add(tc.end)); got != tc.want {
			t.Errorf("%s: late %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A starved agent reaches its wait after the deadline: the answer the
// kernel holds still counts.
func TestAnAnswerWaitingPastTheDeadlineCounts(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	past := time.Now().Add(-5 * time.Second)
	c := clock{start: past, sent: past, timeout: time.Second}
	if o, d := probeStream(unix.IPPROTO_TCP, net.IPv4(127, 0, 0, 1), port, 0, &c); o != Connected {
		t.Errorf("TCP with the deadline passed: %s %s, want connected", o, d)
	}

	server, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	conn, err := net.Dial("udp4", server.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := server.WriteTo([]byte("queued"), conn.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the datagram is in conn's queue
	buf := make([]byte, 16)
	if n, err := readBy(conn, past, buf); err != nil || string(buf[:n]) != "queued" {
		t.Errorf("UDP with the deadline passed: %q, %v; want the queued datagram", buf[:n], err)
	}
	if _, err := readBy(conn, past, buf); err == nil {
		t.Error("an empty queue past the deadline read something")
	}
}
