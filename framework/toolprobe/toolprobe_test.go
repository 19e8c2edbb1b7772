package toolprobe_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
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
// for: a server that holds the connection or answers (HTTP 200 or 404) as
// Allow, the closed port and every rejection as Reject (a probed port is a
// served one, so a refusal is the policy's), the silent drop as Drop —
// except where the tool cannot tell them apart, which it then says: a
// BusyBox ping's Drop or Reject, a BusyBox wget's silent server or drop.
func TestClassifyTheRecordedOutputs(t *testing.T) {
	want := map[string]toolprobe.Verdict{"allow": toolprobe.Allow, "allow-http": toolprobe.Allow, "allow-http-404": toolprobe.Allow,
		"closed": toolprobe.Reject, "drop": toolprobe.Drop,
		"reject-admin-prohibited": toolprobe.Reject, "reject-port-unreachable": toolprobe.Reject, "reject-reset": toolprobe.Reject}
	// BusyBox's wget, killed by its timeout, printed only "Connecting to"
	// for the server that holds the connection and for the drop alike.
	alike := map[string]bool{"busybox-wget/allow.txt": true, "busybox-wget/drop.txt": true}
	files, _ := filepath.Glob("testdata/recorded/*/*.txt")
	if len(files) < 64 {
		t.Fatalf("%d recordings: run hack/toolprobe/record", len(files))
	}
	for _, f := range files {
		tool := toolprobe.Tool(filepath.Base(filepath.Dir(f)))
		outcome := strings.TrimSuffix(filepath.Base(f), ".txt")
		w, ok := want[outcome]
		if !ok {
			t.Fatalf("%s: an outcome this test does not know", f)
		}
		if !toolprobe.TellsDropFromReject(tool) && w != toolprobe.Allow {
			w = toolprobe.Denied
		}
		o := recorded(t, f)
		if alike[string(tool)+"/"+outcome+".txt"] {
			w = toolprobe.Unknown
			if a := toolprobe.Attempt(tool, o); a.Verdict != probe.Error || !strings.Contains(a.Detail, "look the same") || strings.Contains(a.Detail, "10.99") {
				t.Errorf("%s %s: %+v, want an Error that says the outcomes look the same, and names no address", tool, outcome, a)
			}
		}
		if got := toolprobe.Classify(tool, o); got != w {
			t.Errorf("%s %s: %s, want %s (%+v)", tool, outcome, got, w, o)
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
	fakeTool(t, traditional, "wget", `[ "$1" = --version ] && echo "GNU Wget 1.21.3 built on linux-gnu."`)
	if kit := run(traditional); len(kit) != 2 || kit[toolprobe.NcTraditional] != "nc" || kit[toolprobe.WgetGNU] != "wget" {
		t.Errorf("netcat-traditional and GNU wget: %v", kit)
	}
	// BusyBox's applets as links of their own: wget is used only where
	// timeout can stop it.
	applets := t.TempDir()
	fakeTool(t, applets, "wget", `echo "wget: unrecognized option '--version'" >&2; echo "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary." >&2; exit 1`)
	if kit := run(applets); len(kit) != 0 {
		t.Errorf("BusyBox wget without timeout: %v", kit)
	}
	fakeTool(t, applets, "timeout", `exit 0`)
	if kit := run(applets); len(kit) != 1 || kit[toolprobe.WgetBusyBox] != "timeout 4 wget" {
		t.Errorf("BusyBox wget: %v", kit)
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

// TestMain doubles as the lab test's TCP servers, run in the server's
// namespace as a child process (TIERPROOF_LISTEN set to an address): port
// 80 accepts and holds connections without a word, as many servers do;
// port 86 answers as an HTTP server does.
func TestMain(m *testing.M) {
	ip := os.Getenv("TIERPROOF_LISTEN")
	if ip == "" {
		os.Exit(m.Run())
	}
	holder, err := net.Listen("tcp", net.JoinHostPort(ip, "80"))
	if err != nil {
		os.Exit(1)
	}
	answerer, err := net.Listen("tcp", net.JoinHostPort(ip, "86"))
	if err != nil {
		os.Exit(1)
	}
	go http.Serve(answerer, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	fmt.Println("listening")
	for {
		c, err := holder.Accept()
		if err != nil {
			os.Exit(0)
		}
		go io.Copy(io.Discard, c) // held open until the client closes
	}
}
