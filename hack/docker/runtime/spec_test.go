package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
)

func TestCapabilitiesOutsideTheBoundingSetAreDropped(t *testing.T) {
	held := map[string]bool{"CAP_NET_ADMIN": true, "CAP_SYS_ADMIN": true}
	config := `{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0},"capabilities":{
		"bounding":["CAP_NET_ADMIN","CAP_SYS_RESOURCE","CAP_SYS_ADMIN"],
		"effective":["CAP_SYS_RESOURCE"],"permitted":["CAP_NET_ADMIN"]},"oomScoreAdj":-999},
		"linux":{"maskedPaths":[],"resources":{"memory":{"limit":1234567890123}}}}`
	out, changed, err := dropFromSpec([]byte(config), held)
	if err != nil || !changed {
		t.Fatalf("changed %v, %v", changed, err)
	}
	var doc struct {
		Process struct {
			Capabilities map[string][]string
			OOMScoreAdj  int `json:"oomScoreAdj"`
		}
		Linux struct {
			Resources struct{ Memory struct{ Limit int64 } }
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Process.Capabilities["bounding"]; !slices.Equal(got, []string{"CAP_NET_ADMIN", "CAP_SYS_ADMIN"}) {
		t.Errorf("bounding %v", got)
	}
	if got := doc.Process.Capabilities["effective"]; len(got) != 0 {
		t.Errorf("effective %v, want none", got)
	}
	if doc.Process.OOMScoreAdj != -999 || doc.Linux.Resources.Memory.Limit != 1234567890123 {
		t.Errorf("other fields changed: %s", out)
	}
	// An exec's process.json is the process itself.
	out, changed, err = dropFromSpec([]byte(`{"args":["sh"],"capabilities":{"bounding":["CAP_SYS_RESOURCE"]}}`), held)
	if err != nil || !changed || string(out) != `{"args":["sh"],"capabilities":{"bounding":[]}}` {
		t.Errorf("process.json: %s %v %v", out, changed, err)
	}
	if _, changed, _ := dropFromSpec([]byte(`{"process":{"capabilities":{"bounding":["CAP_NET_ADMIN"]}}}`), held); changed {
		t.Error("a spec within the bounding set was rewritten")
	}
}

func TestTheSpecFileFollowsTheRuncCommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--root", "/run/runc", "--log", "x.log", "create", "--bundle", "/b", "--pid-file", "p", "id"}, filepath.Join("/b", "config.json")},
		{[]string{"run", "-b=/c", "id"}, filepath.Join("/c", "config.json")},
		{[]string{"exec", "--process", "/tmp/p.json", "--detach", "id"}, "/tmp/p.json"},
		{[]string{"--root", "/run/runc", "start", "id"}, ""},
		{[]string{"--root", "/run/runc", "delete", "--force", "id"}, ""},
	} {
		if got := specFile(c.args); got != c.want {
			t.Errorf("%v: %q, want %q", c.args, got, c.want)
		}
	}
}
