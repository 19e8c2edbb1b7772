// Package toolprobe probes flows with the tools a container already has —
// ping, curl, wget, nc in their GNU, OpenBSD, traditional and BusyBox
// variants, bash's /dev/tcp — for clusters whose images tierproof may not change: which tools
// a container has (one detection per container), which tool a flow gets, the
// one shell script per source that runs a source's flows at once, and what
// each tool's exit status and message mean. Every meaning is taken from the
// tools' real outputs, recorded by hack/toolprobe/record (testdata/recorded).
package toolprobe

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tierproof/tierproof/framework/model"
)

// Tool is one tool variant.
type Tool string

// The tools, best first within a protocol.
const (
	PingIPutils   Tool = "ping-iputils"
	PingBusyBox   Tool = "busybox-ping"
	NcOpenBSD     Tool = "nc-openbsd"
	Curl          Tool = "curl"
	WgetGNU       Tool = "wget-gnu"
	NcTraditional Tool = "nc-traditional"
	NcBusyBox     Tool = "busybox-nc"
	BashDevTCP    Tool = "bash-dev-tcp"
	WgetBusyBox   Tool = "busybox-wget"
)

// preference is the order tools are chosen in, per protocol. BusyBox's wget
// comes last: it cannot tell a silent drop from a server that holds the
// connection without answering (cannotTell).
var preference = map[model.Protocol][]Tool{
	model.ICMP: {PingIPutils, PingBusyBox},
	model.TCP:  {NcOpenBSD, Curl, WgetGNU, NcTraditional, NcBusyBox, BashDevTCP, WgetBusyBox},
}

// Kit is what one container has, and the command word each tool is run by
// ("nc", or "busybox nc" where only BusyBox's applet is there).
type Kit map[Tool]string

// untranslated starts each script: the tools are read in the words they
// were recorded in, whatever language the container's locale asks for.
const untranslated = "export LC_ALL=C\n"

// DetectScript, run once in a container by /bin/sh, prints one line
// "<tool> <command>" per tool it finds. It reads versions the way the tools
// print them (testdata/recorded/versions.txt).
const DetectScript = untranslated + `has() { command -v "$1" >/dev/null 2>&1; }
if has ping; then
  v=$(ping -V 2>&1)
  case "$v" in *iputils*) echo "ping-iputils ping";; esac
  case "$(ping 2>&1)" in *BusyBox*) echo "busybox-ping ping";; esac
fi
if has nc; then
  h=$(nc -h 2>&1)
  case "$h" in *OpenBSD*) echo "nc-openbsd nc";; *"[v1.10"*) echo "nc-traditional nc";; *BusyBox*) has timeout && echo "busybox-nc timeout 4 nc";; esac
fi
if has busybox; then
  l=$(busybox --list 2>/dev/null)
  printf '%s\n' "$l" | busybox grep -qx ping && echo "busybox-ping busybox ping"
  if printf '%s\n' "$l" | busybox grep -qx timeout; then
    printf '%s\n' "$l" | busybox grep -qx nc && echo "busybox-nc busybox timeout 4 busybox nc"
    printf '%s\n' "$l" | busybox grep -qx wget && echo "busybox-wget busybox timeout 4 busybox wget"
  fi
fi
if has wget; then
  case "$(wget --version 2>&1)" in *"GNU Wget"*) echo "wget-gnu wget";; *BusyBox*) has timeout && echo "busybox-wget timeout 4 wget";; esac
fi
has curl && echo "curl curl"
has bash && has timeout && echo "bash-dev-tcp bash"
true
`

// ParseKit reads DetectScript's output; the first command found for a tool
// is kept.
func ParseKit(out string) Kit {
	kit := Kit{}
	for _, line := range strings.Split(out, "\n") {
		tool, command, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		if _, seen := kit[Tool(tool)]; !seen {
			kit[Tool(tool)] = command
		}
	}
	return kit
}

// Choose picks the tool that probes p best in kit, or says why none can.
// UDP is never chosen: a datagram no one answers looks the same whether a
// policy dropped it or the server ignored it.
func Choose(kit Kit, p model.Probe) (Tool, error) {
	if p.SourcePort != 0 {
		return "", fmt.Errorf("%s pins a client port, which none of these tools can be told to use the same way", p)
	}
	tools, ok := preference[p.Protocol]
	if !ok {
		return "", fmt.Errorf("no tool can tell a %s drop from a server that does not answer", p.Protocol)
	}
	for _, t := range tools {
		if _, ok := kit[t]; ok {
			return t, nil
		}
	}
	var names []string
	for _, t := range tools {
		names = append(names, string(t))
	}
	return "", fmt.Errorf("the container has none of %s for %s", strings.Join(names, ", "), p.Protocol)
}

// TellsDropFromReject says whether the tool's output tells a silent drop
// from a rejection. BusyBox's ping does not: it prints 100% packet loss for
// both (testdata/recorded/busybox-ping).
func TellsDropFromReject(t Tool) bool { return t != PingBusyBox }

// deadline is each tool's connect wait, in seconds. BusyBox's nc, once
// connected, waits for the server to close, which many never do: it runs
// under timeout 4 (DetectScript), and a kill after its connect deadline means
// it had connected. Tools that connect blocking (the
// traditional and BusyBox nc, bash, GNU wget) hear an ICMP rejection only at the
// SYN's first retransmission, one second in (recorded with 1 s, they report
// it as a timeout), so they wait 3. BusyBox's wget has no deadline of its own
// (Debian's build has no -T): timeout 4 is its only one.
var deadline = map[Tool]string{PingIPutils: "1", PingBusyBox: "1", NcOpenBSD: "1", Curl: "1", NcTraditional: "3", NcBusyBox: "3", BashDevTCP: "3", WgetGNU: "3"}

// Command is the shell command that probes ip:port (port unused for ping)
// with tool, as recorded by hack/toolprobe/record. The HTTP clients are told
// to ignore the container's proxy settings (http_proxy): through a proxy
// they would probe the proxy, not the flow. GNU wget follows no redirect, so
// that it connects once, to the destination.
func Command(kit Kit, tool Tool, ip string, port int32) string {
	word, w, p := kit[tool], deadline[tool], strconv.Itoa(int(port))
	switch tool {
	case PingIPutils:
		return word + " -n -c 1 -W " + w + " " + ip
	case PingBusyBox:
		return word + " -c 1 -W " + w + " " + ip
	case NcOpenBSD:
		return word + " -v -z -w " + w + " " + ip + " " + p
	case NcTraditional:
		return word + " -v -n -z -w " + w + " " + ip + " " + p
	case NcBusyBox:
		return word + " -w " + w + " " + ip + " " + p + " </dev/null"
	case Curl:
		return word + ` --noproxy '*' -sS -o /dev/null --connect-timeout ` + w + ` -m 2 -w "time_connect=%{time_connect}\n" http://` + ip + ":" + p + "/"
	case WgetGNU:
		return word + " --no-proxy --max-redirect=0 -O /dev/null -t 1 --connect-timeout=" + w + " --read-timeout=1 http://" + ip + ":" + p + "/"
	case WgetBusyBox:
		return word + " -Y off -O /dev/null http://" + ip + ":" + p + "/"
	case BashDevTCP:
		return "timeout " + w + " " + word + ` -c "exec 3<>/dev/tcp/` + ip + "/" + p + `"`
	}
	return ""
}

// Job is one flow of a source's script.
type Job struct {
	Tool    Tool
	Command string
	To      string // the destination's address, for pacing
}

// perDestinationBurst is how many jobs to one destination start at once.
// A host sends another at most one ICMP error a second after a burst of about
// six (net.ipv4.icmp_ratelimit, per destination): kube-router's REJECT goes
// through that limit, and a rejection it swallows looks like a drop. Later
// jobs to the same destination start a second apart per burst.
const perDestinationBurst = 5

// marker starts each job's line in the script's output.
const marker = "@tierproof-tool"

// Script runs a source's jobs at once and prints one line per job: marker,
// index, exit status, and the tool's output with its lines joined. A job's
// line is written by one printf, shorter than a pipe's atomic write, so
// lines of jobs that end together do not interleave.
func Script(jobs []Job) string {
	var b strings.Builder
	b.WriteString(untranslated)
	seen := map[string]int{}
	for i, j := range jobs {
		wait := ""
		if n := seen[j.To]; n >= perDestinationBurst {
			wait = fmt.Sprintf("sleep %d; ", n/perDestinationBurst)
		}
		seen[j.To]++
		fmt.Fprintf(&b, "( %so=$({ %s; } 2>&1); r=$?; printf '%s %d %%s %%s\\n' \"$r\" \"$(printf '%%s' \"$o\" | tr '\\n' ' ' | cut -c1-400)\" ) &\n", wait, j.Command, marker, i)
	}
	b.WriteString("wait\n")
	return b.String()
}

// Output is what one job printed.
type Output struct {
	Exit int
	Text string // stdout and stderr, lines joined by spaces
}

var line = regexp.MustCompile(`^` + marker + ` (\d+) (\d+) ?(.*)$`)

// ParseScript reads Script's output: each job's output by index; a job with
// no line (its shell was killed) is missing.
func ParseScript(out string) map[int]Output {
	got := map[int]Output{}
	for _, l := range strings.Split(out, "\n") {
		m := line.FindStringSubmatch(strings.TrimRight(l, "\r"))
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		rc, _ := strconv.Atoi(m[2])
		got[i] = Output{Exit: rc, Text: strings.TrimSpace(m[3])}
	}
	return got
}

// Verdict is what a tool's output says of a flow.
type Verdict uint8

// The classifications. Denied is a Drop or a Reject that the tool cannot
// tell apart; Unknown is an output no rule here explains.
const (
	Unknown Verdict = iota
	Allow
	Drop
	Reject
	Denied
)

var verdictNames = [...]string{Unknown: "Unknown", Allow: "Allow", Drop: "Drop", Reject: "Reject", Denied: "Drop or Reject"}

func (v Verdict) String() string { return verdictNames[v] }

var (
	refused     = regexp.MustCompile(`Connection refused|No route to host`)
	icmpRejects = regexp.MustCompile(`Packet filtered|Prohibited|Port Unreachable`)
	curlConnect = regexp.MustCompile(`time_connect=(\d+\.\d+)`)
	// GNU wget's first connection, and how it ended.
	wgetConnect = regexp.MustCompile(`Connecting to \S+\.\.\. (connected\.|failed: Connection timed out\.)`)
)

// Classify says what o, printed by tool, means. The rules are the recorded
// outputs' (testdata/recorded/<tool>/<outcome>.txt; the README's table).
func Classify(tool Tool, o Output) Verdict {
	switch tool {
	case PingIPutils:
		switch {
		case o.Exit == 0:
			return Allow
		case icmpRejects.MatchString(o.Text):
			return Reject
		case strings.Contains(o.Text, "100% packet loss") && !strings.Contains(o.Text, "errors"):
			return Drop
		}
	case PingBusyBox:
		switch {
		case o.Exit == 0:
			return Allow
		case strings.Contains(o.Text, "100% packet loss"):
			return Denied
		}
	case NcOpenBSD, NcTraditional, NcBusyBox, BashDevTCP:
		switch {
		case o.Exit == 0:
			return Allow
		case tool == NcBusyBox && (o.Exit == 124 || o.Exit == 143) && !strings.Contains(o.Text, "timed out"):
			return Allow // connected, then killed while the server held the connection
		case refused.MatchString(o.Text):
			return Reject
		case strings.Contains(o.Text, "timed out") || (tool == BashDevTCP && o.Exit == 124):
			return Drop
		}
	case WgetGNU:
		m := wgetConnect.FindStringSubmatch(o.Text)
		switch {
		case m != nil && m[1] == "connected.":
			return Allow // what the server then said does not matter
		case m != nil:
			return Drop
		case refused.MatchString(o.Text):
			return Reject
		}
	case WgetBusyBox:
		// Its every connection starts a "Connecting to" line; a rejection
		// is read only from a run that tried one (no redirect followed).
		switch {
		case o.Exit == 0 || strings.Contains(o.Text, "server returned error"):
			return Allow
		case strings.Count(o.Text, "Connecting to") == 1 && strings.Contains(o.Text, "can't connect to remote host") && refused.MatchString(o.Text):
			return Reject
		}
	case Curl:
		if m := curlConnect.FindStringSubmatch(o.Text); m != nil {
			if t, err := strconv.ParseFloat(m[1], 64); err == nil && t > 0 {
				return Allow // connected; what the server then said does not matter
			}
		}
		switch o.Exit {
		case 7:
			return Reject
		case 28:
			return Drop
		}
	}
	return Unknown
}
