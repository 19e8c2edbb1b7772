package agent

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// EphemeralPortsFile is the kernel's client port range of the network
// namespace the agent runs in (net.ipv4.ip_local_port_range).
const EphemeralPortsFile = "/proc/sys/net/ipv4/ip_local_port_range"

// ParseEphemeralPorts reads the range as the kernel writes it: "FROM\tTO".
func ParseEphemeralPorts(text string) (from, to int, err error) {
	fields := strings.Fields(text)
	if len(fields) != 2 {
		return 0, 0, fmt.Errorf("ephemeral port range %q: want two numbers", text)
	}
	if from, err = strconv.Atoi(fields[0]); err == nil {
		to, err = strconv.Atoi(fields[1])
	}
	if err != nil || from < 1 || to > 65535 || to < from {
		return 0, 0, fmt.Errorf("ephemeral port range %q: want FROM TO with 1 ≤ FROM ≤ TO ≤ 65535", text)
	}
	return from, to, nil
}

// EphemeralPorts reads this network namespace's client port range.
func EphemeralPorts() (from, to int, err error) {
	data, err := os.ReadFile(EphemeralPortsFile)
	if err != nil {
		return 0, 0, err
	}
	return ParseEphemeralPorts(string(data))
}
