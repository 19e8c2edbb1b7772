package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"syscall"
)

// Ports are what Serve listens on.
type Ports struct {
	TCP, UDP, SCTP []int
}

// Union is p with q's ports it lacks added after its own.
func (p Ports) Union(q Ports) Ports {
	add := func(a, b []int) []int {
		out := slices.Clone(a)
		for _, n := range b {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		return out
	}
	return Ports{add(p.TCP, q.TCP), add(p.UDP, q.UDP), add(p.SCTP, q.SCTP)}
}

// Minus is p without q's ports.
func (p Ports) Minus(q Ports) Ports {
	drop := func(a, b []int) []int {
		return slices.DeleteFunc(slices.Clone(a), func(n int) bool { return slices.Contains(b, n) })
	}
	return Ports{drop(p.TCP, q.TCP), drop(p.UDP, q.UDP), drop(p.SCTP, q.SCTP)}
}

// Serve listens on every port until ctx ends. TCP and SCTP accept and close;
// UDP echoes what it receives. A port the pod's application already serves is
// skipped, and logged: the application answers probes there itself.
func Serve(ctx context.Context, ports Ports, logf func(format string, args ...any)) error {
	var stops []func()
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	skip := func(proto string, port int, err error) error {
		if errors.Is(err, syscall.EADDRINUSE) {
			logf("%s/%d is already bound by the application in this pod; not listening there", proto, port)
			return nil
		}
		return fmt.Errorf("listening on %s/%d: %w", proto, port, err)
	}
	for _, port := range ports.TCP {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			if err := skip("tcp", port, err); err != nil {
				return err
			}
			continue
		}
		stops = append(stops, func() { ln.Close() })
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				conn.Close()
			}
		}()
	}
	for _, port := range ports.UDP {
		pc, err := net.ListenPacket("udp", ":"+strconv.Itoa(port))
		if err != nil {
			if err := skip("udp", port, err); err != nil {
				return err
			}
			continue
		}
		stops = append(stops, func() { pc.Close() })
		go func() {
			buf := make([]byte, 512)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				_, _ = pc.WriteTo(buf[:n], from)
			}
		}()
	}
	for _, port := range ports.SCTP {
		stop, err := listenSCTP(port)
		if err != nil {
			if errors.Is(err, syscall.EPROTONOSUPPORT) || errors.Is(err, syscall.ESOCKTNOSUPPORT) {
				logf("sctp/%d: this kernel has no SCTP (%v); not listening", port, err)
				continue
			}
			if err := skip("sctp", port, err); err != nil {
				return err
			}
			continue
		}
		stops = append(stops, stop)
	}
	logf("serving tcp %v, udp %v, sctp %v", ports.TCP, ports.UDP, ports.SCTP)
	<-ctx.Done()
	return nil
}
