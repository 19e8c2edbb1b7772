package hostload

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cgroupTree writes a cgroup v1 cpuacct tree shaped as Docker and a kind node
// lay it out, with each directory's cumulative usage in nanoseconds.
func cgroupTree(t *testing.T, root string, usage map[string]int64) {
	t.Helper()
	for dir, ns := range usage {
		path := filepath.Join(root, "cpuacct", dir)
		if err := os.MkdirAll(path, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(path, "cpuacct.usage"), []byte(strconv.FormatInt(ns, 10)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	node   = "docker/0123abcd"
	pods   = node + "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice"
	apiPod = node + "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod38ccf601_fabb_dc90_b4eb_efca835bc603.slice"
	appPod = pods + "/kubelet-kubepods-besteffort-podb84f6451_d171_492e_98c9_f3966ee34a9f.slice"
	noPod  = pods + "/kubelet-kubepods-besteffort-pode7ebef8a_b8ed_4f53_be3e_0ca956c1742c.slice"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUsageIsCountedByPodServiceProcessAndContainer(t *testing.T) {
	root := t.TempDir()
	s := int64(time.Second)
	before := map[string]int64{
		"":                                     100 * s,
		node:                                   50 * s,
		apiPod:                                 10 * s,
		apiPod + "/cri-containerd-1.scope":     10 * s, // counted with its pod, once
		appPod:                                 5 * s,
		noPod:                                  1 * s,
		node + "/system.slice/kubelet.service": 4 * s,
		node + "/system.slice/containerd.service": 3 * s,
	}
	cgroupTree(t, root, before)
	m, err := Open(root, []Container{{Name: "tierproof-control-plane", ID: "0123abcd"}})
	if err != nil {
		t.Fatal(err)
	}
	// The node's own processes: kubelet and a shim, whose reaped children
	// (an exec'd agent, counted in its pod) do not count with it.
	m.proc = filepath.Join(root, "proc")
	procs := func(kubelet, shim string) {
		writeFile(t, filepath.Join(root, "cpuacct", node, "cgroup.procs"), "101\n202\n303\n")
		writeFile(t, filepath.Join(m.proc, "101", "stat"), "101 (kubelet) S 1 101 101 0 -1 4194560 1 0 0 0 "+kubelet+" 0 0 20 0 12 0 100 0 0\n")
		writeFile(t, filepath.Join(m.proc, "202", "stat"), "202 (containerd-shim) S 1 202 202 0 -1 4194560 1 0 0 0 "+shim+" 20 0 12 0 100 0 0\n")
	}
	procs("100 50 0 0", "10 10 30 0")
	m.PodLabel = func(uid string) string {
		return map[string]string{"38ccf601-fabb-dc90-b4eb-efca835bc603": "kube-apiserver", "b84f6451-d171-492e-98c9-f3966ee34a9f": "estate pods"}[uid]
	}
	r0, err := m.Read()
	if err != nil {
		t.Fatal(err)
	}
	after := map[string]int64{}
	for dir, ns := range before {
		after[dir] = ns
	}
	after[apiPod] += 3 * s
	after[appPod] += 7 * s
	after[noPod] += s / 2
	after[node+"/system.slice/kubelet.service"] += 2 * s
	// kubelet's process 150 ticks more; the shim 40 more of its own and 40
	// of a reaped child's.
	procs("200 100 0 0", "30 30 70 0")
	after[node] += 10*s + s/2 + 2*s + 1500*time.Millisecond.Nanoseconds() + 400*time.Millisecond.Nanoseconds() + s
	cgroupTree(t, root, after)
	r1, err := m.Read()
	if err != nil {
		t.Fatal(err)
	}
	u := r1.Since(r0)
	got := map[string]time.Duration{}
	for _, p := range u.Parts {
		got[p.Label] = p.CPU
	}
	want := map[string]time.Duration{"estate pods": 7 * time.Second, "kube-apiserver": 3 * time.Second, "kubelet": 3500 * time.Millisecond,
		"containerd-shim": 400 * time.Millisecond, "tierproof-control-plane: ended processes (runc, …)": time.Second, "other pods": 500 * time.Millisecond}
	if len(got) != len(want) {
		t.Errorf("parts %v, want %v", got, want)
	}
	for label, d := range want {
		if got[label] != d {
			t.Errorf("%s: %v, want %v", label, got[label], d)
		}
	}
	if u.Parts[0].Label != "estate pods" {
		t.Errorf("the largest part first: got %s", u.Parts[0].Label)
	}
	if line := u.String(); !strings.Contains(line, "estate pods 7s; kubelet 3.5s; kube-apiserver 3s") || !strings.Contains(line, "tierproof ") {
		t.Errorf("line %q: want the parts largest first and this process", line)
	}
}

func TestAContainerOfAnotherMachineIsRefused(t *testing.T) {
	root := t.TempDir()
	cgroupTree(t, root, map[string]int64{"": 1})
	_, err := Open(root, []Container{{Name: "remote-node", ID: "feedbeef"}})
	if err == nil || !strings.Contains(err.Error(), "remote-node") {
		t.Errorf("err %v, want the container named", err)
	}
	if _, err := Open(t.TempDir(), nil); err == nil {
		t.Error("a root with no CPU accounting was accepted")
	}
}

func TestAProcessNameMayHoldSpacesAndParentheses(t *testing.T) {
	comm, ticks, ok := parseStat("7 (tmux: server (1)) S 1 7 7 0 -1 4194560 1 0 0 0 3 4 5 6 20 0 1 0 100 0 0")
	if !ok || comm != "tmux: server (1)" || ticks != 7 {
		t.Errorf("got %q %d %v, want the name whole and its own 7 ticks", comm, ticks, ok)
	}
	if _, _, ok := parseStat("7 (short) S 1"); ok {
		t.Error("a truncated line was read")
	}
}
