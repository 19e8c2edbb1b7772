package agent

import (
	"testing"

	"golang.org/x/net/bpf"
)

// ipv4Packet is an IPv4 header of 20 bytes carrying proto, then payload.
func ipv4Packet(proto byte, payload ...byte) []byte {
	header := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	return append(header, payload...)
}

func TestTheRawSocketTakesOnlyAnswersToEchoes(t *testing.T) {
	vm, err := bpf.NewVM(mustDisassemble(t))
	if err != nil {
		t.Fatal(err)
	}
	unreachable := func(quoted byte) []byte {
		return ipv4Packet(1, append([]byte{3, 3, 0, 0, 0, 0, 0, 0}, ipv4Packet(quoted, 8, 0, 0, 0, 0x12, 0x34, 0, 1)...)...)
	}
	for _, tc := range []struct {
		name   string
		packet []byte
		want   bool
	}{
		{"echo reply", ipv4Packet(1, 0, 0, 0, 0, 0x12, 0x34, 0, 1), true},
		{"unreachable quoting an echo", unreachable(1), true},
		{"unreachable quoting TCP", unreachable(6), false},
		{"unreachable quoting UDP", unreachable(17), false},
		{"echo request from another pod", ipv4Packet(1, 8, 0, 0, 0, 0x12, 0x34, 0, 1), false},
		{"time exceeded", ipv4Packet(1, 11, 0, 0, 0, 0, 0, 0, 0), false},
	} {
		n, err := vm.Run(tc.packet)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := n > 0; got != tc.want {
			t.Errorf("%s: taken %v, want %v", tc.name, got, tc.want)
		}
	}
}

func mustDisassemble(t *testing.T) []bpf.Instruction {
	program, ok := bpf.Disassemble(echoAnswers)
	if !ok {
		t.Fatal("the filter does not disassemble")
	}
	return program
}
