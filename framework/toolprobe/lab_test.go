package toolprobe_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/toolprobe"
)

// The whole path with the real tools, in network namespaces: a client with
// one tool at a time on its PATH, a server whose nftables drop and reject
// as policies do; detection, choice, the source's script and the
// classification must give every outcome.
func TestTheRealToolsInNetworkNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	for _, tool := range []string{"ip", "nft", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	id := strconv.Itoa(os.Getpid() % 100000)
	cli, srv := "tpt-c"+id, "tpt-s"+id
	sh := func(script string) {
		t.Helper()
		if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", cli).Run(); exec.Command("ip", "netns", "del", srv).Run() })
	sh(fmt.Sprintf(`ip netns add %[1]s && ip netns add %[2]s &&
ip link add tptc%[3]s netns %[1]s type veth peer name tpts%[3]s netns %[2]s &&
ip -n %[1]s addr add 10.97.0.1/24 dev tptc%[3]s && ip -n %[1]s link set tptc%[3]s up && ip -n %[1]s link set lo up &&
for a in 10.97.0.2 10.97.0.3 10.97.0.4 10.97.0.5; do ip -n %[2]s addr add $a/24 dev tpts%[3]s; done &&
ip -n %[2]s link set tpts%[3]s up && ip -n %[2]s link set lo up &&
ip netns exec %[2]s sysctl -qw net.ipv4.icmp_ratelimit=0`, cli, srv, id))
	nft := exec.Command("ip", "netns", "exec", srv, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(`table inet tpt {
  chain input {
    type filter hook input priority 0;
    tcp dport 81 drop
    tcp dport 82 reject with icmpx admin-prohibited
    tcp dport 83 reject with icmpx port-unreachable
    tcp dport 84 reject with tcp reset
    ip daddr 10.97.0.3 icmp type echo-request drop
    ip daddr 10.97.0.4 icmp type echo-request reject with icmp type admin-prohibited
    ip daddr 10.97.0.5 icmp type echo-request reject with icmp type port-unreachable
  }
}
`)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	// A listener: Go's, so that the test needs no server tool.
	listener := exec.Command("ip", "netns", "exec", srv, os.Args[0])
	listener.Env = append(os.Environ(), "TIERPROOF_LISTEN=10.97.0.2")
	ready, err := listener.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := listener.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Process.Kill(); listener.Wait() })
	if line, err := bufio.NewReader(ready).ReadString('\n'); err != nil || line != "listening\n" {
		t.Fatalf("the listener: %q, %v", line, err)
	}

	tcp := []struct {
		port int32
		want toolprobe.Verdict
	}{{80, toolprobe.Allow}, {86, toolprobe.Allow}, {81, toolprobe.Drop}, {82, toolprobe.Reject}, {83, toolprobe.Reject}, {84, toolprobe.Reject}}
	icmp := []struct {
		ip   string
		want toolprobe.Verdict
	}{{"10.97.0.2", toolprobe.Allow}, {"10.97.0.3", toolprobe.Drop}, {"10.97.0.4", toolprobe.Reject}, {"10.97.0.5", toolprobe.Reject}}
	binaries := map[toolprobe.Tool][]string{
		toolprobe.NcOpenBSD: {"nc.openbsd:nc"}, toolprobe.NcTraditional: {"nc.traditional:nc"}, toolprobe.Curl: {"curl"},
		toolprobe.BashDevTCP: {"bash", "timeout"}, toolprobe.NcBusyBox: {"busybox"}, toolprobe.PingIPutils: {"ping"}, toolprobe.PingBusyBox: {"busybox"},
		toolprobe.WgetGNU: {"wget"}, toolprobe.WgetBusyBox: {"busybox"},
	}
	played := 0
	for tool, bins := range binaries {
		dir := t.TempDir()
		missing := ""
		for _, b := range append(bins, "sh", "tr", "cut", "sleep", "printf") {
			name, link, _ := strings.Cut(b, ":")
			path, err := exec.LookPath(name)
			if err != nil {
				missing = name
				break
			}
			if err := os.Symlink(path, filepath.Join(dir, cmpOr(link, name))); err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
		}
		if missing != "" {
			t.Logf("%s: skipped, %s is not installed here", tool, missing)
			continue
		}
		if tool == toolprobe.PingIPutils && !strings.Contains(run(t, cli, dir, "ping -V"), "iputils") {
			t.Logf("%s: skipped, this ping is not iputils'", tool)
			continue
		}
		kit := toolprobe.ParseKit(run(t, cli, dir, toolprobe.DetectScript))
		if _, ok := kit[tool]; !ok {
			t.Errorf("%s: not detected with %v on the PATH (found %v)", tool, bins, kit)
			continue
		}
		protocol := model.TCP
		if tool == toolprobe.PingIPutils || tool == toolprobe.PingBusyBox {
			protocol = model.ICMP
		}
		only := toolprobe.Kit{tool: kit[tool]}
		var jobs []toolprobe.Job
		var want []toolprobe.Verdict
		if protocol == model.TCP {
			for _, c := range tcp {
				chosen, err := toolprobe.Choose(only, model.Probe{Protocol: model.TCP, Port: c.port})
				if err != nil || chosen != tool {
					t.Fatalf("%s: chose %s, %v", tool, chosen, err)
				}
				jobs = append(jobs, toolprobe.Job{Tool: tool, Command: toolprobe.Command(only, tool, "10.97.0.2", c.port), To: "10.97.0.2"})
				w := c.want
				if tool == toolprobe.WgetBusyBox && (c.port == 80 || c.port == 81) {
					w = toolprobe.Unknown // the silent server and the drop look alike to it
				}
				want = append(want, w)
			}
		} else {
			for _, c := range icmp {
				jobs = append(jobs, toolprobe.Job{Tool: tool, Command: toolprobe.Command(only, tool, c.ip, 0), To: c.ip})
				w := c.want
				if !toolprobe.TellsDropFromReject(tool) && w != toolprobe.Allow {
					w = toolprobe.Denied
				}
				want = append(want, w)
			}
		}
		outputs := toolprobe.ParseScript(run(t, cli, dir, toolprobe.Script(jobs)))
		for i, w := range want {
			if got := toolprobe.Classify(tool, outputs[i]); got != w {
				t.Errorf("%s: %s: %s, want %s (%+v)", tool, jobs[i].Command, got, w, outputs[i])
			}
		}
		played++
	}
	if played == 0 {
		t.Skip("none of the tools is installed here (Debian: netcat-openbsd, netcat-traditional, busybox, iputils-ping, curl, wget)")
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// run runs script by sh in netns with PATH=dir only.
func run(t *testing.T, netns, dir, script string) string {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", netns, filepath.Join(dir, "sh"), "-c", script)
	cmd.Env = []string{"PATH=" + dir}
	out, _ := cmd.CombinedOutput()
	return string(out)
}
