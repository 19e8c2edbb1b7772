package agent

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// echoIDFile holds, per container (or per lab host), the next free echo ID.
// A policy change lets an ICMP echo through when conntrack still holds an
// earlier echo of the same source, destination and ID (30 s): each exec's
// agent had taken IDs from its PID, which in a pod's PID namespace differs by
// a few from the previous exec's, and its probes of the next stage reused the
// IDs of the last one — 34 ICMP flows seen allowed after a Reject policy at
// 150 pods. Reserving IDs in this file, under a lock, hands each batch IDs no
// batch of the last 65 536 echo probes in this container used.
var echoIDFile = filepath.Join(os.TempDir(), "tierproof-echo-ids")

// reserveEchoIDs reserves n consecutive echo IDs and returns the first. Where
// the file cannot be used it starts at a random ID, and says why.
func reserveEchoIDs(n int) (first uint32, note string) {
	first, err := reserveInFile(echoIDFile, n)
	if err == nil {
		return first, ""
	}
	var b [2]byte
	_, _ = rand.Read(b[:])
	return uint32(binary.BigEndian.Uint16(b[:])), fmt.Sprintf("echo IDs from a random start (%v)", err)
}

func reserveInFile(path string, n int) (uint32, error) {
	// The agent's image has no /tmp: the container's writable layer gets one.
	if err := os.MkdirAll(filepath.Dir(path), 0o1777); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return 0, err
	}
	data := make([]byte, 16)
	k, _ := f.ReadAt(data, 0)
	next, err := strconv.ParseUint(strings.TrimSpace(string(data[:k])), 10, 16)
	if err != nil {
		var b [2]byte
		_, _ = rand.Read(b[:])
		next = uint64(binary.BigEndian.Uint16(b[:])) // a new file: start anywhere
	}
	after := (next + uint64(n)) & 0xffff
	if err := f.Truncate(0); err != nil {
		return 0, err
	}
	if _, err := f.WriteAt([]byte(strconv.FormatUint(after, 10)+"\n"), 0); err != nil {
		return 0, err
	}
	return uint32(next), nil
}
