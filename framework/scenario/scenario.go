// Package scenario loads staged policy walkthroughs kept as data: a directory
// with scenario.yaml (name, fixtures, probes, ordered stages with assertions)
// and one sub-directory of manifests per stage. Manifests may refer to values
// known only at run time — `{{ value "ssh-server.ip" }}` — which scenario.yaml
// gives placeholders for offline runs. Everything is validated when loading.
package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/yamlcheck"
)

// FileName is the scenario description in a scenario directory.
const FileName = "scenario.yaml"

type file struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Topology    string            `json:"topology"` // the offline topology fixture
	Values      map[string]string `json:"values,omitempty"`
	Probes      []string          `json:"probes"`
	Stages      []stageFile       `json:"stages"`
}

type stageFile struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Manifests   string          `json:"manifests,omitempty"` // directory, relative to the scenario
	Assertions  []assertionFile `json:"assertions,omitempty"`
}

type assertionFile struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Probe   string `json:"probe"`
	Verdict string `json:"verdict"`
	Why     string `json:"why,omitempty"`
}

// Scenario is a loaded, validated walkthrough.
type Scenario struct {
	Dir         string
	Name        string
	Description string
	Topology    string
	Values      map[string]string // placeholders for offline runs
	Probes      []model.Probe
	Stages      []Stage
}

// Stage adds manifests to what the earlier stages applied.
type Stage struct {
	Name        string
	Description string
	Manifests   []Manifest
	Assertions  []Assertion
}

// Manifest is one manifest file of a stage, unrendered.
type Manifest struct {
	File     string
	template *template.Template
}

// Assertion is an observation the stage must show, besides the model's matrix.
type Assertion struct {
	From, To string
	Probe    model.Probe
	Verdict  model.Verdict
	Why      string
}

// Load reads and validates a scenario directory: unknown keys, bad probes and
// verdicts, duplicate stage names, missing manifest directories, templates that
// do not parse or refer to unknown values, and manifests that do not decode.
func Load(dir string) (*Scenario, error) {
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	if err := yamlcheck.Booleans(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var f file
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &Scenario{Dir: dir, Name: f.Name, Description: f.Description, Topology: f.Topology, Values: f.Values}
	var errs field.ErrorList
	if f.Name == "" {
		errs = append(errs, field.Required(field.NewPath("name"), ""))
	}
	if f.Topology == "" {
		errs = append(errs, field.Required(field.NewPath("topology"), "the offline topology fixture, e.g. antrea-blog"))
	}
	for i, p := range f.Probes {
		probe, err := model.ParseProbe(p)
		if err != nil {
			errs = append(errs, field.Invalid(field.NewPath("probes").Index(i), p, err.Error()))
			continue
		}
		s.Probes = append(s.Probes, probe)
	}
	if len(f.Probes) == 0 {
		errs = append(errs, field.Required(field.NewPath("probes"), "e.g. [icmp, tcp/80]"))
	}
	names := map[string]bool{}
	for i, sf := range f.Stages {
		sp := field.NewPath("stages").Index(i)
		st, stErrs := s.loadStage(sf, sp)
		errs = append(errs, stErrs...)
		if names[sf.Name] {
			errs = append(errs, field.Duplicate(sp.Child("name"), sf.Name))
		}
		names[sf.Name] = true
		s.Stages = append(s.Stages, st)
	}
	if len(f.Stages) == 0 {
		errs = append(errs, field.Required(field.NewPath("stages"), ""))
	}
	if len(errs) > 0 {
		var lines []error
		for _, e := range errs {
			lines = append(lines, fmt.Errorf("%s: %w", path, e))
		}
		return nil, errors.Join(lines...)
	}
	// Every manifest must render with the placeholders and decode strictly.
	for i := range s.Stages {
		if _, err := s.Policies(i, s.Values); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Scenario) loadStage(sf stageFile, sp *field.Path) (Stage, field.ErrorList) {
	st := Stage{Name: sf.Name, Description: sf.Description}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(sf.Name) {
		errs = append(errs, field.Invalid(sp.Child("name"), sf.Name, msg))
	}
	if sf.Manifests != "" {
		dir := filepath.Join(s.Dir, sf.Manifests)
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		more, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
		files = append(files, more...)
		sort.Strings(files)
		if len(files) == 0 {
			errs = append(errs, field.Invalid(sp.Child("manifests"), sf.Manifests, "no *.yaml files in "+dir))
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				errs = append(errs, field.Invalid(sp.Child("manifests"), sf.Manifests, err.Error()))
				continue
			}
			tmpl, err := template.New(file).Option("missingkey=error").Funcs(template.FuncMap{"value": noValue}).Parse(string(data))
			if err != nil {
				errs = append(errs, field.Invalid(sp.Child("manifests"), sf.Manifests, err.Error()))
				continue
			}
			st.Manifests = append(st.Manifests, Manifest{File: file, template: tmpl})
		}
	}
	for j, a := range sf.Assertions {
		ap := sp.Child("assertions").Index(j)
		probe, err := model.ParseProbe(a.Probe)
		if err != nil {
			errs = append(errs, field.Invalid(ap.Child("probe"), a.Probe, err.Error()))
		}
		var verdict model.Verdict
		if err := verdict.UnmarshalText([]byte(a.Verdict)); err != nil {
			errs = append(errs, field.NotSupported(ap.Child("verdict"), a.Verdict, []string{"Allow", "Drop", "Reject"}))
		}
		if a.From == "" || a.To == "" {
			errs = append(errs, field.Required(ap, "from and to name endpoints"))
		}
		st.Assertions = append(st.Assertions, Assertion{From: a.From, To: a.To, Probe: probe, Verdict: verdict, Why: a.Why})
	}
	return st, errs
}

func noValue(string) (string, error) { return "", errors.New("value called without values") }

// Render renders a manifest with values; an unknown value is an error naming it.
func (m Manifest) Render(values map[string]string) ([]byte, error) {
	known := make([]string, 0, len(values))
	for k := range values {
		known = append(known, k)
	}
	sort.Strings(known)
	tmpl, err := m.template.Clone()
	if err != nil {
		return nil, err
	}
	tmpl.Funcs(template.FuncMap{"value": func(key string) (string, error) {
		v, ok := values[key]
		if !ok {
			return "", fmt.Errorf("unknown template value %q (known: %s)", key, strings.Join(known, ", "))
		}
		return v, nil
	}})
	var out bytes.Buffer
	if err := tmpl.Execute(&out, nil); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", m.File, err)
	}
	return out.Bytes(), nil
}

// Policies returns what is applied once stage (an index) is: the manifests of
// every stage up to it, rendered with values and decoded strictly.
func (s *Scenario) Policies(stage int, values map[string]string) (*policy.Set, error) {
	var objects []policy.Object
	for _, st := range s.Stages[:stage+1] {
		for _, m := range st.Manifests {
			data, err := m.Render(values)
			if err != nil {
				return nil, err
			}
			decoded, err := policy.Decode(m.File, data)
			if err != nil {
				return nil, err
			}
			objects = append(objects, decoded...)
		}
	}
	return policy.NewSet(objects)
}

// MatchesEndpoint says whether an assertion's endpoint pattern names endpoint:
// a name, or a prefix ending in * (kube-system/coredns* for every CoreDNS
// replica, whatever names their Deployment gives them).
func MatchesEndpoint(pattern, endpoint string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(endpoint, prefix)
	}
	return pattern == endpoint
}
