package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/tierproof/tierproof/framework/estate"
	"github.com/tierproof/tierproof/framework/manifest"
)

// Start is what Create writes a scenario from: a user's own manifests.
type Start struct {
	Estate string // a directory of workload manifests, or one file
	// Policies are files and directories of policy manifests; each file
	// becomes a stage, in the order given (a directory's in lexical order).
	Policies  []string
	Externals []External
	// Origin says what wrote the scenario, for its header; empty: init,
	// from the estate and policies given.
	Origin string
}

// Create writes a new scenario into dir from what the user has: the estate's
// files copied into dir/estate, a no-policy stage, then one stage per policy
// file, each on top of the earlier ones. The scenario is loaded before it
// takes dir's place, so a scenario Create returns loads as it is; dir must
// not exist, or be empty.
func Create(ctx context.Context, dir string, st Start) (*Scenario, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty: init writes a new scenario; choose another directory", dir)
	}
	if _, err := estate.Load(ctx, st.Estate); err != nil {
		return nil, err
	}
	policies, err := policyFiles(st.Policies)
	if err != nil {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	// Written beside dir and moved into place once it loads: an error
	// leaves nothing half-written.
	tmp, err := os.MkdirTemp(parent, ".tierproof-init-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var text strings.Builder
	origin := st.Origin
	if origin == "" {
		origin = "tierproof init from " + st.Estate + " and " + strings.Join(st.Policies, ", ")
	}
	fmt.Fprintf(&text, "# Written by %s: edit freely.\n", origin)
	text.WriteString("# Each stage adds its manifests to what the earlier stages applied, and every\n" +
		"# flow is checked against the model. Add assertions to a stage for the flows\n" +
		"# you care about (examples/shop has some), externals for hosts outside the\n" +
		"# cluster, probes to choose your own.\n")
	fmt.Fprintf(&text, "name: %s\ndescription: %s\nestate: estate\n", dnsLabel(filepath.Base(filepath.Clean(dir)), "my-scenario"), "Your estate, stage by stage")
	if len(st.Externals) > 0 {
		text.WriteString("externals:\n")
	}
	for _, x := range st.Externals {
		if x.Clients > 0 {
			fmt.Fprintf(&text, "  - {name: %s, clients: %d}\n", x.Name, x.Clients)
			continue
		}
		var ports []string
		for _, p := range x.Ports {
			ports = append(ports, p.String())
		}
		fmt.Fprintf(&text, "  - {name: %s, ports: [%s]}\n", x.Name, strings.Join(ports, ", "))
	}
	text.WriteString("stages:\n  - name: no-policy\n    description: Nothing applied; every flow is allowed.\n")
	if err := copyFiles(st.Estate, filepath.Join(tmp, "estate")); err != nil {
		return nil, err
	}
	used := map[string]bool{"no-policy": true}
	for i, p := range policies {
		stage := dnsLabel(strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)), "stage")
		for n := 2; used[stage]; n++ {
			stage = fmt.Sprintf("%s-%d", strings.TrimRight(stage[:min(len(stage), 60)], "-"), n)
		}
		used[stage] = true
		sub := fmt.Sprintf("%02d-%s", i+1, stage)
		if err := copyFiles(p, filepath.Join(tmp, sub)); err != nil {
			return nil, err
		}
		fmt.Fprintf(&text, "  - name: %s\n    description: %s\n    manifests: %s\n", stage, quote("Applies "+filepath.Base(p)+"."), sub)
	}
	if err := os.WriteFile(filepath.Join(tmp, FileName), []byte(text.String()), 0o644); err != nil {
		return nil, err
	}
	if _, err := Load(tmp); err != nil {
		return nil, fmt.Errorf("the scenario init would write does not load: %w", err)
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	return Load(dir)
}

// policyFiles lists the files of paths in order, a directory's *.yaml and
// *.yml in lexical order.
func policyFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("--policies: %w", err)
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		inDir, err := yamlFiles(p)
		if err != nil {
			return nil, err
		}
		if len(inDir) == 0 {
			return nil, fmt.Errorf("--policies %s: no *.yaml or *.yml files", p)
		}
		files = append(files, inDir...)
	}
	return files, nil
}

func yamlFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	return files, nil
}

// copyFiles copies a file, or a directory's YAML files, into the directory to.
func copyFiles(from, to string) error {
	files := []string{from}
	if info, err := os.Stat(from); err != nil {
		return err
	} else if info.IsDir() {
		if files, err = yamlFiles(from); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		data, err := manifest.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// quote is s as a YAML scalar on one line.
func quote(s string) string {
	data, _ := json.Marshal(s) // a JSON string is a YAML scalar
	return string(data)
}

var notInLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsLabel makes a stage or scenario name of s: lower case, other
// characters as dashes, at most 63 long; fallback when nothing is left.
func dnsLabel(s, fallback string) string {
	s = notInLabel.ReplaceAllString(strings.ToLower(s), "-")
	s = strings.Trim(s[:min(len(s), 63)], "-")
	if s == "" {
		return fallback
	}
	return s
}
