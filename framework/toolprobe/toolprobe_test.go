package toolprobe_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/toolprobe"
)

// recorded reads a recording of hack/toolprobe/record: the exit status and
// the output, stdout and stderr joined as the script joins them.
func recorded(t *testing.T, path string) toolprobe.Output {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, _ := strings.Cut(string(data), "\n--- stdout\n")
	stdout, stderr, _ := strings.Cut(rest, "--- stderr\n")
	rc, err := strconv.Atoi(strings.TrimPrefix(head, "exit: "))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	text := strings.Join(strings.Fields(stdout+" "+stderr), " ")
	return toolprobe.Output{Exit: rc, Text: text}
}

// Every recording of every tool classifies as the outcome it was recorded
// for: the closed port and every rejection as Reject (a probed port is a
// served one, so a refusal is the policy's), the silent drop as Drop —
// except where the tool cannot tell them apart, which it then says.
func TestClassifyTheRecordedOutputs(t *testing.T) {
	want := map[string]toolprobe.Verdict{"allow": toolprobe.Allow, "closed": toolprobe.Reject, "drop": toolprobe.Drop,
		"reject-admin-prohibited": toolprobe.Reject, "reject-port-unreachable": toolprobe.Reject, "reject-reset": toolprobe.Reject}
	files, _ := filepath.Glob("testdata/recorded/*/*.txt")
	if len(files) < 30 {
		t.Fatalf("%d recordings: run hack/toolprobe/record", len(files))
	}
	for _, f := range files {
		tool := toolprobe.Tool(filepath.Base(filepath.Dir(f)))
		outcome := strings.TrimSuffix(filepath.Base(f), ".txt")
		w := want[outcome]
		if !toolprobe.TellsDropFromReject(tool) && w != toolprobe.Allow {
			w = toolprobe.Denied
		}
		if got := toolprobe.Classify(tool, recorded(t, f)); got != w {
			t.Errorf("%s %s: %s, want %s (%+v)", tool, outcome, got, w, recorded(t, f))
		}
	}
	if got := toolprobe.Classify(toolprobe.NcOpenBSD, toolprobe.Output{Exit: 1, Text: "nc: getaddrinfo: Name or service not known"}); got != toolprobe.Unknown {
		t.Errorf("an unexplained failure: %s", got)
	}
}

// fakeTool writes an executable that prints what the real tool prints for
// its version (testdata/recorded/versions.txt).
func fakeTool(t *testing.T, dir, name, script string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestDetectReadsWhatTheContainerHas(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("needs /bin/sh")
	}
	run := func(dir string) toolprobe.Kit {
		cmd := exec.Command(sh, "-c", toolprobe.DetectScript)
		cmd.Env = []string{"PATH=" + dir}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("detect: %v", err)
		}
		return toolprobe.ParseKit(string(out))
	}
	debian := t.TempDir()
	fakeTool(t, debian, "ping", `[ "$1" = -V ] && echo "ping from iputils 20221126"; exit 2`)
	fakeTool(t, debian, "nc", `echo "OpenBSD netcat (Debian patchlevel 1.219-1)" >&2; exit 1`)
	fakeTool(t, debian, "curl", `exit 0`)
	kit := run(debian)
	if len(kit) != 3 || kit[toolprobe.PingIPutils] != "ping" || kit[toolprobe.NcOpenBSD] != "nc" || kit[toolprobe.Curl] != "curl" {
		t.Errorf("a Debian image: %v", kit)
	}
	traditional := t.TempDir()
	fakeTool(t, traditional, "nc", `echo "[v1.10-47]"; exit 1`)
	if kit := run(traditional); len(kit) != 1 || kit[toolprobe.NcTraditional] != "nc" {
		t.Errorf("netcat-traditional: %v", kit)
	}
	if kit := run(t.TempDir()); len(kit) != 0 {
		t.Errorf("an image with none: %v", kit)
	}
}

func TestChoose(t *testing.T) {
	probe := func(s string) model.Probe {
		p, err := model.ParseProbe(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	kit := toolprobe.Kit{toolprobe.PingBusyBox: "busybox ping", toolprobe.BashDevTCP: "bash", toolprobe.Curl: "curl"}
	for _, c := range []struct {
		probe, tool, err string
	}{
		{"tcp/80", "curl", ""},
		{"icmp", "busybox-ping", ""},
		{"udp/53", "", "no tool can tell a UDP drop from a server that does not answer"},
		{"sctp/80", "", "no tool can tell a SCTP drop"},
		{"tcp/80,sourcePort=4000", "", "pins a client port"},
	} {
		tool, err := toolprobe.Choose(kit, probe(c.probe))
		if string(tool) != c.tool || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: %s, %v", c.probe, tool, err)
		}
	}
	if _, err := toolprobe.Choose(toolprobe.Kit{toolprobe.Curl: "curl"}, probe("icmp")); err == nil || !strings.Contains(err.Error(), "none of ping-iputils, busybox-ping for ICMP") {
		t.Errorf("no ping: %v", err)
	}
}

// A source's jobs run at once in one shell, and each comes back by index
// with its exit status and its output on one line.
func TestScriptRunsJobsAtOnceAndParses(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("needs /bin/sh")
	}
	jobs := []toolprobe.Job{
		{Command: `sleep 1; echo "Connection to 10.0.0.1 80 port [tcp/http] succeeded!" >&2`},
		{Command: `sleep 1; printf 'line one\nline two'; exit 7`},
		{Command: `sh -c 'kill -9 $$'`},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, sh, "-c", toolprobe.Script(jobs)).Output()
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 1900*time.Millisecond {
		t.Errorf("two 1 s jobs took %v: not run at once", took)
	}
	got := toolprobe.ParseScript(string(out))
	if got[0] != (toolprobe.Output{Exit: 0, Text: "Connection to 10.0.0.1 80 port [tcp/http] succeeded!"}) ||
		got[1] != (toolprobe.Output{Exit: 7, Text: "line one line two"}) || got[2].Exit != 137 {
		t.Errorf("parsed: %+v\nfrom:\n%s", got, out)
	}
}

// TestMain doubles as the lab test's TCP server, run in the server's
// namespace as a child process (TIERPROOF_LISTEN set): it accepts and holds
// connections, as many servers do.
func TestMain(m *testing.M) {
	addr := os.Getenv("TIERPROOF_LISTEN")
	if addr == "" {
		os.Exit(m.Run())
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		os.Exit(1)
	}
	fmt.Println("listening")
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(0)
		}
		go io.Copy(io.Discard, c) // held open until the client closes
	}
}
