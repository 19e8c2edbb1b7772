package scenario_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/scenario"
)

const blog = "../../scenarios/antrea-blog"

func TestLoadTheBlogScenario(t *testing.T) {
	s, err := scenario.Load(blog)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Stages) != 7 || s.Stages[0].Name != "no-policy" || s.Stages[6].Name != "yelb-microsegmentation" || len(s.Probes) != 8 {
		t.Fatalf("stages %d, probes %d", len(s.Stages), len(s.Probes))
	}
	set, err := s.Policies(4, map[string]string{"ssh-server.ip": "172.18.255.225", "lb-pool.cidr": "172.18.255.240/28"})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.ClusterNetworkPolicies) != 5 || len(set.NetworkPolicies) != 1 {
		t.Fatalf("stage 4 applies %d ACNPs and %d ANPs, want 5 and 1 (stages stack)", len(set.ClusterNetworkPolicies), len(set.NetworkPolicies))
	}
	if got := set.NetworkPolicies[0].Object.Spec.Egress[0].To[1].IPBlock.CIDR; got != "172.18.255.225/32" {
		t.Errorf("rendered ssh-server CIDR %q, want the run's value", got)
	}
	if _, err := s.Policies(5, map[string]string{"ssh-server.ip": "172.18.255.225"}); err == nil || !strings.Contains(err.Error(), `unknown template value "lb-pool.cidr"`) {
		t.Errorf("missing value: %v", err)
	}
}

// copyBlog makes a scenario to break, from the blog's.
func copyBlog(t *testing.T) string { return copyScenario(t, blog) }

// copyScenario copies the scenario in from, to break.
func copyScenario(t *testing.T, from string) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.Walk(from, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s lacks %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadValidatesEverythingUpFront(t *testing.T) {
	cases := map[string]struct {
		file, old, new, want string
	}{
		"unknown key":       {"scenario.yaml", "estate: estate", "estate: estate\nfixture: x", `unknown field "fixture"`},
		"bad probe":         {"scenario.yaml", "tcp/6379]", "tcp/http]", `probes[7]: Invalid value: "tcp/http"`},
		"bad verdict":       {"scenario.yaml", "probe: udp/53, verdict: Allow,", "probe: udp/53, verdict: Permit,", `stages[2].assertions[0].verdict: Unsupported value: "Permit"`},
		"missing manifests": {"scenario.yaml", "manifests: 03-block-all", "manifests: 03-nothing", `stages[3].manifests: Invalid value: "03-nothing": no *.yaml files`},
		"duplicate stage":   {"scenario.yaml", "name: allow-core-dns", "name: block-all", `stages[3].name: Duplicate value: "block-all"`},
		"unknown value":     {"05-allow-yelb-frontend/allow-yelb-frontend.yaml", `value "lb-pool.cidr"`, `value "lb-pool"`, `unknown template value "lb-pool"`},
		"broken template":   {"04-allow-prod-ssh/allow-prod-env-ssh.yaml", `{{ value "ssh-server.ip" }}`, `{{ value "ssh-server.ip" }`, "allow-prod-env-ssh.yaml"},
		"bad manifest":      {"02-allow-core-dns/allow-core-dns.yaml", "priority: 10", "priority: 10\n  prio: 3", `line 8: spec.prio: unknown field`},
		"unquoted boolean":  {"scenario.yaml", "name: antrea-blog", "name: antrea-blog\ndescription: no", "unquoted no"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := copyBlog(t)
			edit(t, filepath.Join(dir, tc.file), tc.old, tc.new)
			_, err := scenario.Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMatchesEndpoint(t *testing.T) {
	for _, tc := range []struct {
		pattern, endpoint string
		want              bool
	}{
		{"kube-system/coredns*", "kube-system/coredns-7db6d8ff4d-x2xkq", true},
		{"kube-system/coredns*", "kube-system/coredns", true},
		{"kube-system/coredns*", "kube-system/etcd", false},
		{"yelb/yelb-ui", "yelb/yelb-ui", true},
		{"yelb/yelb-ui", "yelb/yelb-ui-2", false},
	} {
		if got := scenario.MatchesEndpoint(tc.pattern, tc.endpoint); got != tc.want {
			t.Errorf("MatchesEndpoint(%q, %q) = %v", tc.pattern, tc.endpoint, got)
		}
	}
}

// A scenario's name names its reports directory: ".." would write beside it.
func TestAScenarioNameMustBeADNSLabel(t *testing.T) {
	dir := copyBlog(t)
	path := filepath.Join(dir, "scenario.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), "name: antrea-blog", `name: ".."`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := scenario.Load(dir); err == nil || !strings.Contains(err.Error(), `name: Invalid value: ".."`) {
		t.Errorf("a scenario named ..: %v", err)
	}
}

// A template may only insert values: a range in a YAML comment would take
// gigabytes at load, and one with no output would never end.
func TestTemplatesMayOnlyInsertValues(t *testing.T) {
	for _, bad := range []string{
		"# {{range 100000}}{{range 100000}}x{{end}}{{end}}",
		"# {{range 1000000000}}{{end}}",
		`# {{define "t"}}x{{end}}`,
		"# {{if true}}x{{end}}",
		`# {{ $v := value "x/a.ip" }}`,
		"# {{ . }}",
		`# {{ printf "%s" "x" }}`,
	} {
		t.Run(bad, func(t *testing.T) {
			dir := copyBlog(t)
			file := filepath.Join(dir, "03-block-all", "block-all-whitelist.yaml")
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, append(data, []byte("\n"+bad+"\n")...), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = scenario.Load(dir)
			if err == nil || !strings.Contains(err.Error(), `templates may hold only {{ value "NAME" }}`) || !strings.Contains(err.Error(), "block-all-whitelist.yaml") {
				t.Errorf("%s: %v", bad, err)
			}
		})
	}
}
