package toolprobe_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/toolprobe"
)

// The engine's view of the tools: the Prober's command, run by a shell,
// gives each flow its attempt, classified from the recorded outputs; a
// BusyBox ping's loss is Denied, which satisfies either denial; an output no
// rule explains is an Error that says so, never a verdict; the tools speak
// as recorded whatever the container's locale.
func TestProberRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs /bin/sh")
	}
	dir := t.TempDir()
	// Stand-ins print, for the destination they are given, what the real
	// tool printed in testdata/recorded: one per outcome — in English only
	// when the locale says so, as gettext's tools do.
	tool := func(name, script string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	nc := tool("nc", `[ "$LC_ALL" = C ] || { echo "Verbindung zu 10.0.0.1 80 Port [tcp/http] erfolgreich!" >&2; exit 0; }
case "$*" in
*10.0.0.1*) echo "Connection to 10.0.0.1 80 port [tcp/http] succeeded!" >&2; exit 0;;
*10.0.0.2*) echo "nc.openbsd: connect to 10.0.0.2 port 80 (tcp) timed out: Operation now in progress" >&2; exit 1;;
*10.0.0.3*) echo "nc.openbsd: connect to 10.0.0.3 port 80 (tcp) failed: Connection refused" >&2; exit 1;;
*) echo "nc: getaddrinfo: Name or service not known" >&2; exit 1;;
esac`)
	ping := tool("ping", `echo "1 packets transmitted, 0 packets received, 100% packet loss"; exit 1`)
	p := toolprobe.Prober{Kit: toolprobe.Kit{toolprobe.NcOpenBSD: nc, toolprobe.PingBusyBox: ping}}
	tcp := model.Probe{Protocol: model.TCP, Port: 80}
	flows := []probe.Flow{
		{From: "a", To: "b", ToIP: "10.0.0.1", Probe: tcp},
		{From: "a", To: "c", ToIP: "10.0.0.2", Probe: tcp},
		{From: "a", To: "d", ToIP: "10.0.0.3", Probe: tcp},
		{From: "a", To: "e", ToIP: "10.0.0.4", Probe: tcp},
		{From: "a", To: "b", ToIP: "10.0.0.1", Probe: model.Probe{Protocol: model.ICMP}},
	}
	command, stdin, deadline, err := p.Command(flows, time.Second, 8)
	if err != nil || stdin != nil || command[0] != toolprobe.Shell {
		t.Fatalf("command %q, stdin %q, %v", command, stdin, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	run := exec.CommandContext(ctx, "sh", command[1:]...)
	run.Env = append(os.Environ(), "LC_ALL=de_DE.UTF-8", "LANG=de_DE.UTF-8") // the container's locale
	out, err := run.Output()
	if err != nil {
		t.Fatal(err)
	}
	got := p.Read(flows, out)
	want := []probe.Verdict{probe.Allow, probe.Drop, probe.Reject, probe.Error, probe.Denied}
	for i, v := range want {
		if got[i].Verdict != v {
			t.Errorf("%s: %s (%s), want %s", flows[i], got[i].Verdict, got[i].Detail, v)
		}
	}
	if !strings.HasPrefix(got[3].Detail, toolprobe.Unread) || !strings.Contains(got[4].Detail, "cannot tell a Drop from a Reject") {
		t.Errorf("details: %q, %q", got[3].Detail, got[4].Detail)
	}
	if !probe.Denied.Satisfies(probe.Drop) || !probe.Denied.Satisfies(probe.Reject) || probe.Denied.Satisfies(probe.Allow) {
		t.Error("Denied must satisfy exactly the two denials")
	}
	// A flow no tool of the kit can judge is refused, not guessed.
	if _, _, _, err := p.Command([]probe.Flow{{ToIP: "10.0.0.1", Probe: model.Probe{Protocol: model.UDP, Port: 53}}}, time.Second, 1); err == nil {
		t.Error("a UDP flow got a command")
	}
}

// Twelve flows to one destination start in bursts of five a second apart
// (ICMP errors are rate-limited per destination): the exec's deadline
// covers the two seconds of pacing.
func TestProberDeadlineCoversPacing(t *testing.T) {
	p := toolprobe.Prober{Kit: toolprobe.Kit{toolprobe.NcOpenBSD: "nc"}}
	var flows []probe.Flow
	for port := int32(1); port <= 12; port++ {
		flows = append(flows, probe.Flow{ToIP: "10.0.0.1", Probe: model.Probe{Protocol: model.TCP, Port: port}})
	}
	_, _, one, _ := p.Command(flows[:1], time.Second, 1)
	_, _, twelve, _ := p.Command(flows, time.Second, 1)
	if twelve-one != 2*time.Second {
		t.Errorf("deadline for 1 flow %v, for 12 %v: want 2 s more", one, twelve)
	}
}
