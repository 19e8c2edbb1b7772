package netlab_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/netlab"
)

// A lab whose process dies without closing it (SIGKILL here; a broken pipe or
// a panic alike) loses its agents with it, and the next lab removes the
// namespaces it left — those of that lab only.
func TestADeadLabsLeftoversAreRemoved(t *testing.T) {
	if os.Getenv("TIERPROOF_LAB_CHILD") != "" {
		lab, err := netlab.New(context.Background(), netlab.Config{Endpoints: []string{"a", "b"}, AgentBinary: agentBinary})
		if err != nil {
			fmt.Println("error", err)
			return
		}
		fmt.Println("lab", lab.ID())
		time.Sleep(time.Minute)
		return
	}
	if err := netlab.Available(); err != nil {
		t.Skip(err.Error())
	}
	live := newLab(t, []string{"x"}, eightProbePorts) // another run's lab, which must survive
	cmd := exec.Command(os.Args[0], "-test.run=^TestADeadLabsLeftoversAreRemoved$")
	cmd.Env = append(os.Environ(), "TIERPROOF_LAB_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	id, ok := strings.CutPrefix(strings.TrimSpace(line), "lab ")
	if !ok {
		cmd.Process.Kill()
		t.Fatalf("the child lab did not start: %q", line)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	left, _ := filepath.Glob("/run/netns/tplab-" + id + "-*")
	if len(left) != 3 {
		t.Fatalf("the dead lab left %d namespaces, want its 2 endpoints and hub: %v", len(left), left)
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, ns := range left {
		for {
			pids, _ := exec.Command("ip", "netns", "pids", filepath.Base(ns)).Output()
			if strings.TrimSpace(string(pids)) == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("processes outlived the lab in %s: %s", ns, pids)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	removed, err := netlab.RemoveStale()
	if err != nil || removed != 3 {
		t.Fatalf("removed %d, %v; want the dead lab's 3 namespaces", removed, err)
	}
	if left, _ := filepath.Glob("/run/netns/tplab-" + id + "-*"); len(left) != 0 {
		t.Errorf("still there: %v", left)
	}
	if mine, _ := filepath.Glob("/run/netns/tplab-" + live.ID() + "-*"); len(mine) != 2 {
		t.Errorf("the live lab lost namespaces: %v", mine)
	}
}
