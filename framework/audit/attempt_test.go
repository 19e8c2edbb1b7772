package audit

import (
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/toolprobe"
)

// What a tool printed becomes the engine's attempt; an output no rule
// explains is not turned into a verdict, and BusyBox's ping says it cannot
// tell a Drop from a Reject.
func TestAttempt(t *testing.T) {
	for _, c := range []struct {
		tool    toolprobe.Tool
		out     toolprobe.Output
		verdict probe.Verdict
		known   bool
		detail  string
	}{
		{toolprobe.NcOpenBSD, toolprobe.Output{Exit: 0, Text: "Connection to 10.0.0.2 80 port [tcp/http] succeeded!"}, probe.Allow, true, "nc-openbsd exit 0"},
		{toolprobe.Curl, toolprobe.Output{Exit: 7, Text: "time_connect=0.000000 curl: (7) Failed to connect"}, probe.Reject, true, "curl exit 7"},
		{toolprobe.BashDevTCP, toolprobe.Output{Exit: 124}, probe.Drop, true, "bash-dev-tcp exit 124"},
		{toolprobe.PingBusyBox, toolprobe.Output{Exit: 1, Text: "1 packets transmitted, 0 packets received, 100% packet loss"}, probe.Denied, true, "cannot tell a Drop from a Reject"},
		{toolprobe.NcOpenBSD, toolprobe.Output{Exit: 1, Text: "nc: getaddrinfo: Name or service not known"}, probe.Error, false, "Name or service not known"},
	} {
		a, known := attempt(c.tool, c.out)
		if a.Verdict != c.verdict || known != c.known || !strings.Contains(a.Detail, c.detail) {
			t.Errorf("%s %+v: %+v, %v", c.tool, c.out, a, known)
		}
	}
}
