package agent_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/agent"
)

// freePort finds a loopback port nothing listens on.
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func serve(t *testing.T, ports agent.Ports) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := make(chan string, 16)
	done := make(chan error, 1)
	go func() {
		done <- agent.Serve(ctx, ports, func(format string, args ...any) {
			logs <- strings.TrimSpace(strings.ReplaceAll(format, "%", "%%"))
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	var lines []string
	for {
		select {
		case l := <-logs:
			lines = append(lines, l)
			if strings.HasPrefix(l, "serving") {
				return lines
			}
		case err := <-done:
			t.Fatalf("Serve returned early: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("Serve never said it was serving")
		}
	}
}

func run(t *testing.T, b agent.Batch) map[string]agent.Result {
	t.Helper()
	got := map[string]agent.Result{}
	agent.Run(context.Background(), b, func(r agent.Result) {
		if _, dup := got[r.ID]; dup {
			t.Errorf("result %s emitted twice", r.ID)
		}
		got[r.ID] = r
	})
	if len(got) != len(b.Requests) {
		t.Fatalf("%d results for %d requests", len(got), len(b.Requests))
	}
	return got
}

func TestTCPAndUDPOnLoopback(t *testing.T) {
	tcpOpen, udpOpen := freePort(t, "tcp"), freePort(t, "udp")
	tcpClosed, udpClosed := freePort(t, "tcp"), freePort(t, "udp")
	serve(t, agent.Ports{TCP: []int{tcpOpen}, UDP: []int{udpOpen}})
	got := run(t, agent.Batch{Timeout: agent.Duration{Duration: time.Second}, Requests: []agent.Request{
		{ID: "tcp-open", IP: "127.0.0.1", Protocol: "TCP", Port: tcpOpen},
		{ID: "tcp-closed", IP: "127.0.0.1", Protocol: "TCP", Port: tcpClosed},
		{ID: "udp-open", IP: "127.0.0.1", Protocol: "UDP", Port: udpOpen},
		{ID: "udp-closed", IP: "127.0.0.1", Protocol: "UDP", Port: udpClosed},
		{ID: "bad-ip", IP: "not-an-ip", Protocol: "TCP", Port: 80},
		{ID: "bad-proto", IP: "127.0.0.1", Protocol: "GRE", Port: 80},
	}})
	want := map[string]agent.Outcome{"tcp-open": agent.Connected, "tcp-closed": agent.Rejected, "udp-open": agent.Connected,
		"udp-closed": agent.Rejected, "bad-ip": agent.Error, "bad-proto": agent.Error}
	for id, outcome := range want {
		if got[id].Outcome != outcome {
			t.Errorf("%s: %s (%s), want %s", id, got[id].Outcome, got[id].Detail, outcome)
		}
	}
}

func TestServeSkipsPortsTheApplicationAlreadyServes(t *testing.T) {
	app, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	taken := app.Addr().(*net.TCPAddr).Port
	logs := serve(t, agent.Ports{TCP: []int{taken}})
	if !strings.Contains(strings.Join(logs, "\n"), "already bound by the application") {
		t.Errorf("no word about the taken port in %q", logs)
	}
}

func TestTheBatchDeadlineBoundsTheRunAndReportsTheRest(t *testing.T) {
	// A UDP socket that reads but never answers: its probes can only end by
	// their timeout, which is longer than the batch deadline.
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	port := silent.LocalAddr().(*net.UDPAddr).Port
	var reqs []agent.Request
	for i := 0; i < 12; i++ {
		reqs = append(reqs, agent.Request{ID: strconv.Itoa(i), IP: "127.0.0.1", Protocol: "UDP", Port: port})
	}
	start := time.Now()
	got := run(t, agent.Batch{Timeout: agent.Duration{Duration: 5 * time.Second}, Deadline: agent.Duration{Duration: 500 * time.Millisecond}, Parallel: 4, Requests: reqs})
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the batch took %v, past its 500ms deadline", took)
	}
	for id, r := range got {
		if r.Outcome != agent.Error || !strings.Contains(r.Detail, "deadline") {
			t.Errorf("probe %s: %s (%s), want an error naming the batch deadline", id, r.Outcome, r.Detail)
		}
	}
}

func TestICMPSaysWhichSocketWorked(t *testing.T) {
	got := run(t, agent.Batch{Requests: []agent.Request{{ID: "lo", IP: "127.0.0.1", Protocol: "ICMP"}}})["lo"]
	switch {
	case got.Outcome == agent.Connected && os.Geteuid() == 0 && !strings.Contains(got.Detail, "raw socket"):
		t.Errorf("as root the raw socket should answer: %q", got.Detail)
	case got.Outcome == agent.Error && !strings.Contains(got.Detail, "raw socket") && !strings.Contains(got.Detail, "ping socket"):
		t.Errorf("an ICMP failure must name both sockets: %q", got.Detail)
	case got.Outcome != agent.Connected && got.Outcome != agent.Error:
		t.Errorf("loopback echo: %s (%s)", got.Outcome, got.Detail)
	}
}

// A batch's echo probes share one raw socket: each answer reaches its own
// probe, among hundreds in flight to several addresses.
func TestManyEchoProbesShareOneRawSocket(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a raw ICMP socket")
	}
	var b agent.Batch
	b.Parallel = 150
	for i := range 600 {
		b.Requests = append(b.Requests, agent.Request{ID: strconv.Itoa(i), IP: fmt.Sprintf("127.0.0.%d", 1+i%3), Protocol: "ICMP"})
	}
	got := run(t, b)
	if len(got) != 600 {
		t.Fatalf("%d results, want 600", len(got))
	}
	for id, r := range got {
		if r.Outcome != agent.Connected || !strings.Contains(r.Detail, "raw socket") {
			t.Fatalf("probe %s: %s (%s), want an echo reply on the raw socket", id, r.Outcome, r.Detail)
		}
	}
}

// A pinned client port is the one the server sees, for TCP and UDP, again on
// an immediate retry (no TIME_WAIT holds the 4-tuple) and towards two servers
// at once (the port is shared, the 4-tuples differ).
func TestAPinnedSourcePortIsTheOneTheServerSees(t *testing.T) {
	seen := make(chan int, 16)
	var tcpPorts []int
	for i := 0; i < 2; i++ {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				seen <- conn.RemoteAddr().(*net.TCPAddr).Port
				conn.Close()
			}
		}()
		tcpPorts = append(tcpPorts, ln.Addr().(*net.TCPAddr).Port)
	}
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := udp.ReadFrom(buf)
			if err != nil {
				return
			}
			seen <- from.(*net.UDPAddr).Port
			udp.WriteTo(buf[:n], from)
		}
	}()
	udpPort := udp.LocalAddr().(*net.UDPAddr).Port
	pinned := freePort(t, "tcp")

	for round := 0; round < 2; round++ {
		got := run(t, agent.Batch{Timeout: agent.Duration{Duration: time.Second}, Requests: []agent.Request{
			{ID: "tcp-1", IP: "127.0.0.1", Protocol: "TCP", Port: tcpPorts[0], SourcePort: pinned},
			{ID: "tcp-2", IP: "127.0.0.1", Protocol: "TCP", Port: tcpPorts[1], SourcePort: pinned},
			{ID: "udp", IP: "127.0.0.1", Protocol: "UDP", Port: udpPort, SourcePort: pinned},
		}})
		for id, r := range got {
			if r.Outcome != agent.Connected {
				t.Fatalf("round %d, %s: %s (%s), want connected", round, id, r.Outcome, r.Detail)
			}
		}
		for i := 0; i < 3; i++ {
			select {
			case port := <-seen:
				if port != pinned {
					t.Errorf("round %d: a server saw client port %d, want the pinned %d", round, port, pinned)
				}
			case <-time.After(time.Second):
				t.Fatalf("round %d: only %d of 3 connections reached the servers", round, i)
			}
		}
	}
	if got := run(t, agent.Batch{Requests: []agent.Request{{ID: "icmp", IP: "127.0.0.1", Protocol: "ICMP", SourcePort: pinned}}})["icmp"]; got.Outcome != agent.Error {
		t.Errorf("ICMP with a source port: %s, want an error", got.Outcome)
	}
}

func TestEphemeralPortsAreReadAsTheKernelWritesThem(t *testing.T) {
	from, to, err := agent.ParseEphemeralPorts("32768\t60999\n")
	if err != nil || from != 32768 || to != 60999 {
		t.Errorf("ParseEphemeralPorts(kernel format) = %d, %d, %v", from, to, err)
	}
	for _, bad := range []string{"", "32768", "60999 32768", "0 10", "1 70000", "a b"} {
		if _, _, err := agent.ParseEphemeralPorts(bad); err == nil {
			t.Errorf("ParseEphemeralPorts(%q) accepted", bad)
		}
	}
	if _, _, err := agent.EphemeralPorts(); err != nil {
		t.Errorf("reading this namespace's range: %v", err)
	}
}
