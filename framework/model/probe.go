package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Protocol is a probe's transport.
type Protocol uint8

// The protocols tierproof probes.
const (
	TCP Protocol = iota + 1
	UDP
	SCTP
	ICMP
)

var protocolNames = map[Protocol]string{TCP: "TCP", UDP: "UDP", SCTP: "SCTP", ICMP: "ICMP"}

func (p Protocol) String() string { return protocolNames[p] }

// ParseProtocol reads a protocol name in any case.
func ParseProtocol(s string) (Protocol, error) {
	for p, name := range protocolNames {
		if strings.EqualFold(s, name) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown protocol %q (want tcp, udp, sctp or icmp)", s)
}

// ICMP echo request, the only ICMP message tierproof probes with.
const (
	icmpEchoType = 8
	icmpEchoCode = 0
)

// Probe is the traffic of one flow: a protocol and destination port (0 for
// ICMP). SourcePort is 0 unless the probe pins its client port, which only
// matters to rules that match source ports.
type Probe struct {
	Protocol   Protocol
	Port       int32
	SourcePort int32
}

// ParseProbe reads "tcp/80", "udp/53", "sctp/80", "icmp", or a port probe with a
// pinned client port: "tcp/80,sourcePort=40000".
func ParseProbe(s string) (Probe, error) {
	spec, options, _ := strings.Cut(s, ",")
	protoName, portText, hasPort := strings.Cut(spec, "/")
	proto, err := ParseProtocol(protoName)
	if err != nil {
		return Probe{}, fmt.Errorf("probe %q: %w", s, err)
	}
	p := Probe{Protocol: proto}
	if proto == ICMP {
		if hasPort || options != "" {
			return Probe{}, fmt.Errorf("probe %q: icmp takes no port", s)
		}
		return p, nil
	}
	if !hasPort {
		return Probe{}, fmt.Errorf("probe %q: %s needs a port, e.g. %s/80", s, protoName, strings.ToLower(protoName))
	}
	if p.Port, err = parsePort(portText); err != nil {
		return Probe{}, fmt.Errorf("probe %q: %w", s, err)
	}
	if options != "" {
		key, value, _ := strings.Cut(options, "=")
		if key != "sourcePort" {
			return Probe{}, fmt.Errorf("probe %q: unknown option %q (only sourcePort=N)", s, key)
		}
		if p.SourcePort, err = parsePort(value); err != nil {
			return Probe{}, fmt.Errorf("probe %q: sourcePort: %w", s, err)
		}
	}
	return p, nil
}

func parsePort(s string) (int32, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	return int32(n), nil
}

// String renders the probe the way ParseProbe reads it.
func (p Probe) String() string {
	if p.Protocol == ICMP {
		return "icmp"
	}
	s := fmt.Sprintf("%s/%d", strings.ToLower(p.Protocol.String()), p.Port)
	if p.SourcePort != 0 {
		s += fmt.Sprintf(",sourcePort=%d", p.SourcePort)
	}
	return s
}
