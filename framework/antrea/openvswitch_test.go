package antrea_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/antrea"
	"github.com/tierproof/tierproof/framework/testenv"
)

// Antrea's agent loads the module itself when the running kernel has it in
// /lib/modules (kind mounts it into the nodes); only a host where it can be
// neither found loaded, built in nor installed is refused.
func TestCheckOpenVSwitchAcceptsWhatAntreaCanLoadAndRefusesTheRest(t *testing.T) {
	const modules = "lib/modules/6.8.0-test/"
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string // "" accepted, else a part of the error
		log   string // a part of what is logged
	}{
		{"loaded", map[string]string{"sys/module/openvswitch/refcnt": "1"}, "", ""},
		{"built in", map[string]string{modules + "modules.builtin": "kernel/net/bridge/bridge.ko\nkernel/net/openvswitch/openvswitch.ko\n"}, "", ""},
		{"installed, compressed", map[string]string{modules + "modules.dep": "kernel/net/openvswitch/openvswitch.ko.zst: kernel/net/nsh/nsh.ko.zst\n"}, "", "Antrea's agent loads it"},
		{"installed", map[string]string{modules + "modules.dep": "kernel/net/openvswitch/openvswitch.ko: kernel/net/nsh/nsh.ko\n"}, "", "Antrea's agent loads it"},
		{"absent", map[string]string{modules + "modules.dep": "kernel/net/openvswitch/vport-vxlan.ko: kernel/net/openvswitch/openvswitch.kox\n"},
			"sudo apt-get install linux-modules-extra-6.8.0-test", ""},
		{"no modules directory", map[string]string{"lib/": ""}, "has no /lib/modules/6.8.0-test", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logged strings.Builder
			err := antrea.CheckOpenVSwitch(testenv.HostRoot(t, c.files), func(f string, a ...any) { fmt.Fprintf(&logged, f, a...) })
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "modprobe openvswitch")):
				t.Errorf("error %v, want one saying %q and what to run", err, c.want)
			case !strings.Contains(logged.String(), c.log):
				t.Errorf("logged %q, want %q", logged.String(), c.log)
			}
		})
	}
}
