// Package scenario loads staged policy walkthroughs kept as data: a directory
// with scenario.yaml (name, fixtures, probes, ordered stages with assertions)
// and one sub-directory of manifests per stage. Manifests may refer to values
// known only at run time — `{{ value "ssh-server.ip" }}` — which scenario.yaml
// gives placeholders for offline runs. Everything is validated when loading.
package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/tierproof/tierproof/framework/estate"
	"github.com/tierproof/tierproof/framework/manifest"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/topology"
	"github.com/tierproof/tierproof/framework/yamlcheck"
)

// FileName is the scenario description in a scenario directory.
const FileName = "scenario.yaml"

type file struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	placeFile
	Stages []stageFile `json:"stages"`
}

// placeFile is where a scenario plays, and what it probes: a scenario's,
// and the catalog's for its cases.
type placeFile struct {
	// Estate is the directory of the scenario's own workloads; Topology
	// instead, a topology file for offline-only runs.
	Estate    string            `json:"estate,omitempty"`
	Externals []externalFile    `json:"externals,omitempty"`
	Nodes     []string          `json:"nodes,omitempty"` // the workers, with an estate
	CoreDNS   bool              `json:"coreDNS,omitempty"`
	Topology  string            `json:"topology,omitempty"`
	Values    map[string]string `json:"values,omitempty"`
	Probes    []string          `json:"probes,omitempty"`
}

type externalFile struct {
	Name    string   `json:"name"`
	Ports   []string `json:"ports,omitempty"`
	Clients int      `json:"clients,omitempty"`
}

type stageFile struct {
	Name        string                 `json:"name"`
	Description string                 `json:"description,omitempty"`
	Manifests   string                 `json:"manifests,omitempty"` // directory, relative to the scenario
	Objects     []json.RawMessage      `json:"objects,omitempty"`   // manifests written inline
	Relabel     []topology.LabelChange `json:"relabel,omitempty"`
	Assertions  []assertionFile        `json:"assertions,omitempty"`
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
	Feature     string             // the catalog feature a conformance case covers
	Labels      []string           // the case's labels, for selecting cases
	Topology    *topology.Topology // offline runs' estate: derived from Estate, or the file scenario.yaml names
	// Estate is the scenario's own workloads (nil for a topology-only
	// scenario), Externals the hosts outside the cluster beside them.
	Estate    *estate.Estate
	Externals []External
	// CoreDNS makes the cluster's DNS a probe target (offline, one pod in
	// kube-system; on a cluster, its replicas).
	CoreDNS bool
	Values  map[string]string // placeholders for offline runs, besides the topology's addresses
	Probes  []model.Probe
	Stages  []Stage
	// Derived says what was derived from the estate and why, a line each,
	// for the commands to print.
	Derived []string
}

// External is a host outside the cluster: a server with the ports it
// serves, or a pool of Clients client hosts (the blog's load balancer),
// named NAME-client-1, NAME-client-2, … in NAME-pool.cidr.
type External struct {
	Name    string
	Ports   []model.Probe
	Clients int
}

// Stage adds manifests to what the earlier stages applied; an object with the
// kind, namespace and name of an earlier one replaces it. A stage may also
// change labels of namespaces and pods before its policies are applied.
type Stage struct {
	Name        string
	Description string
	Manifests   []Manifest
	Relabel     []topology.LabelChange
	Assertions  []Assertion
}

// Manifest is one manifest file (or inline object) of a stage, unrendered.
type Manifest struct {
	File     string // the file, or the file and the object's place in it
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
	var f file
	if err := readStrict(path, &f); err != nil {
		return nil, err
	}
	return build(path, dir, nil, f)
}

// readStrict decodes a YAML file, refusing unknown keys and YAML 1.1 booleans.
func readStrict(path string, into any) error {
	data, err := manifest.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading scenario: %w", err)
	}
	if data, err = manifest.Single(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := yamlcheck.Booleans(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// build validates f, read from path; root is where f sits in that file (nil:
// the whole file). Manifest directories are relative to dir.
func build(path, dir string, root *field.Path, f file) (*Scenario, error) {
	s := &Scenario{Dir: dir, Name: f.Name, Description: f.Description, Values: f.Values, CoreDNS: f.CoreDNS}
	var errs field.ErrorList
	if f.Name == "" {
		errs = append(errs, field.Required(root.Child("name"), ""))
	}
	// The name names the scenario's (or case's) reports directory.
	for _, msg := range validation.IsDNS1123Label(f.Name) {
		if f.Name != "" {
			errs = append(errs, field.Invalid(root.Child("name"), f.Name, msg))
		}
	}
	switch {
	case f.Estate != "" && f.Topology != "":
		errs = append(errs, field.Invalid(root.Child("topology"), f.Topology, "set estate or topology, not both"))
	case f.Estate == "" && f.Topology == "":
		errs = append(errs, field.Required(root.Child("estate"), "the directory of the scenario's workloads (or topology: a topology file, for offline-only scenarios)"))
	case f.Estate == "" && (len(f.Externals)+len(f.Nodes) > 0 || f.CoreDNS):
		errs = append(errs, field.Forbidden(root.Child("externals"), "externals, nodes and coreDNS come with an estate; a topology file lists its own"))
	}
	var xErrs field.ErrorList
	s.Externals, xErrs = parseExternals(f.Externals, root.Child("externals"))
	errs = append(errs, xErrs...)
	for i, n := range f.Nodes {
		for _, msg := range validation.IsDNS1123Subdomain(n) {
			errs = append(errs, field.Invalid(root.Child("nodes").Index(i), n, msg))
		}
	}
	for i, p := range f.Probes {
		probe, err := model.ParseProbe(p)
		if err != nil {
			errs = append(errs, field.Invalid(root.Child("probes").Index(i), p, err.Error()))
			continue
		}
		s.Probes = append(s.Probes, probe)
	}
	if len(f.Probes) == 0 && f.Estate == "" {
		errs = append(errs, field.Required(root.Child("probes"), "e.g. [icmp, tcp/80] (a scenario with an estate derives them)"))
	}
	names := map[string]bool{}
	for i, sf := range f.Stages {
		sp := root.Child("stages").Index(i)
		st, stErrs := s.loadStage(path, sf, sp)
		errs = append(errs, stErrs...)
		if names[sf.Name] {
			errs = append(errs, field.Duplicate(sp.Child("name"), sf.Name))
		}
		names[sf.Name] = true
		s.Stages = append(s.Stages, st)
	}
	if len(f.Stages) == 0 {
		errs = append(errs, field.Required(root.Child("stages"), ""))
	}
	if len(errs) > 0 {
		var lines []error
		for _, e := range errs {
			lines = append(lines, fmt.Errorf("%s: %w", path, e))
		}
		return nil, errors.Join(lines...)
	}
	topo, err := s.loadTopology(path, root, f)
	if err != nil {
		return nil, err
	}
	s.Topology = topo
	// Every manifest must render with the topology's values and decode
	// strictly, and every label change must name something it has.
	sets, err := s.StagePolicies(s.ValuesFor(topo))
	if err != nil {
		return nil, err
	}
	if len(s.Probes) == 0 {
		s.deriveProbes(sets)
	}
	for i := range s.Stages {
		if _, err := s.TopologyAt(i, topo); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return s, nil
}

func (s *Scenario) loadStage(path string, sf stageFile, sp *field.Path) (Stage, field.ErrorList) {
	st := Stage{Name: sf.Name, Description: sf.Description, Relabel: sf.Relabel}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(sf.Name) {
		errs = append(errs, field.Invalid(sp.Child("name"), sf.Name, msg))
	}
	parse := func(name string, text []byte, fp *field.Path, value string) {
		tmpl, err := template.New(name).Option("missingkey=error").Funcs(template.FuncMap{"value": noValue}).Parse(string(text))
		if err == nil {
			err = onlyValues(tmpl)
		}
		if err != nil {
			errs = append(errs, field.Invalid(fp, value, err.Error()))
			return
		}
		st.Manifests = append(st.Manifests, Manifest{File: name, template: tmpl})
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
			data, err := manifest.ReadFile(file)
			if err != nil {
				errs = append(errs, field.Invalid(sp.Child("manifests"), sf.Manifests, err.Error()))
				continue
			}
			parse(file, data, sp.Child("manifests"), sf.Manifests)
		}
	}
	for j, raw := range sf.Objects {
		// Back to YAML, so that a template's quotes inside a string value
		// are not JSON-escaped.
		op := sp.Child("objects").Index(j)
		text, err := yaml.JSONToYAML(raw)
		if err != nil {
			errs = append(errs, field.Invalid(op, "", err.Error()))
			continue
		}
		parse(path+": "+op.String(), text, op, "")
	}
	for j, c := range sf.Relabel {
		cp := sp.Child("relabel").Index(j)
		if c.Namespace == "" {
			errs = append(errs, field.Required(cp.Child("namespace"), "the namespace, or the pod's namespace"))
		}
		if len(c.Set) == 0 && len(c.Remove) == 0 {
			errs = append(errs, field.Required(cp, "set or remove labels"))
		}
		for k, v := range c.Set {
			for _, msg := range validation.IsQualifiedName(k) {
				errs = append(errs, field.Invalid(cp.Child("set").Key(k), k, msg))
			}
			for _, msg := range validation.IsValidLabelValue(v) {
				errs = append(errs, field.Invalid(cp.Child("set").Key(k), v, msg))
			}
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

// onlyValues refuses a template that does anything but insert values: text
// and {{ value "NAME" }} only. A range, an if, a define or a variable could
// make a manifest — even a YAML comment in it — take the machine's memory
// or never end; with values only, the output is as long as the text and
// the values it names.
func onlyValues(t *template.Template) error {
	if len(t.Templates()) > 1 {
		return fmt.Errorf(`%s: templates may hold only {{ value "NAME" }}: {{define}} and {{block}} are refused`, t.Name())
	}
	for _, n := range t.Tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode, *parse.CommentNode:
		case *parse.ActionNode:
			if !isValueCall(n.Pipe) {
				return fmt.Errorf(`%s: line %d: %s: templates may hold only {{ value "NAME" }}`, t.Name(), lineOf(t, n), n)
			}
		default:
			return fmt.Errorf(`%s: line %d: %s: templates may hold only {{ value "NAME" }}`, t.Name(), lineOf(t, n), n)
		}
	}
	return nil
}

func isValueCall(p *parse.PipeNode) bool {
	if len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 2 {
		return false
	}
	ident, ok := p.Cmds[0].Args[0].(*parse.IdentifierNode)
	_, isString := p.Cmds[0].Args[1].(*parse.StringNode)
	return ok && ident.Ident == "value" && isString
}

func lineOf(t *template.Template, n parse.Node) int {
	location, _ := t.ErrorContext(n) // "name:line:column"
	rest, _, _ := cutLast(location, ":")
	_, line, _ := cutLast(rest, ":")
	l, _ := strconv.Atoi(line)
	return l
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// ValuesFor is what the scenario's templates see on topo: every endpoint's
// address ("x/a.ip", "ext.ip"), then the scenario's own values, which win.
func (s *Scenario) ValuesFor(topo *topology.Topology) map[string]string {
	values := topo.Values()
	maps.Copy(values, s.Values)
	return values
}

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

// HoldUpstreamCNPs says whether a stage of any of the scenarios applies a
// network-policy-api ClusterNetworkPolicy (their templates filled in with
// the offline values): Antrea's feature gate for them is then turned on for
// the whole run, and a Tier at the CNP Admin tier's priority anywhere in it
// is refused up front (Antrea's webhook would refuse it mid-run).
func HoldUpstreamCNPs(scenarios []*Scenario) (bool, error) {
	held := false
	var tiers []string
	for _, s := range scenarios {
		sets, err := s.StagePolicies(s.ValuesFor(s.Topology))
		if err != nil {
			return false, err
		}
		for _, set := range sets {
			held = held || len(set.UpstreamCNPs) > 0
			for _, t := range set.Tiers {
				if t.Object.Spec.Priority == model.CNPAdminTierPriority {
					tiers = append(tiers, fmt.Sprintf("%s: Tier/%s: spec.priority: Invalid value: %d", t.Source, t.Object.Name, model.CNPAdminTierPriority))
				}
			}
		}
	}
	if held && len(tiers) > 0 {
		slices.Sort(tiers)
		return true, fmt.Errorf("%s: reserved by Antrea 2.7 for the ClusterNetworkPolicy Admin tier, and these scenarios hold ClusterNetworkPolicies, so the run turns its gate on; choose another priority", strings.Join(slices.Compact(tiers), "; "))
	}
	return held, nil
}

// Policies returns what is applied once stage (an index) is: the manifests of
// every stage up to it, rendered with values and decoded strictly. An object
// a later stage applies again (same kind, namespace and name) replaces the
// earlier one, as server-side apply does on a cluster.
func (s *Scenario) Policies(stage int, values map[string]string) (*policy.Set, error) {
	var set *policy.Set
	err := s.eachStagePolicies(stage, values, func(_ int, stageSet *policy.Set) { set = stageSet })
	return set, err
}

// StagePolicies is Policies for every stage, each manifest rendered and
// decoded once.
func (s *Scenario) StagePolicies(values map[string]string) ([]*policy.Set, error) {
	var sets []*policy.Set
	err := s.eachStagePolicies(len(s.Stages)-1, values, func(_ int, set *policy.Set) { sets = append(sets, set) })
	return sets, err
}

// eachStagePolicies calls fn with what is applied once each stage up to last
// is, rendering and decoding every manifest once.
func (s *Scenario) eachStagePolicies(last int, values map[string]string, fn func(stage int, set *policy.Set)) error {
	var objects []policy.Object
	for i, st := range s.Stages[:last+1] {
		var added []policy.Object
		for _, m := range st.Manifests {
			data, err := m.Render(values)
			if err != nil {
				return err
			}
			decoded, err := policy.Decode(m.File, data)
			if err != nil {
				return err
			}
			added = append(added, decoded...)
		}
		objects = slices.DeleteFunc(objects, func(o policy.Object) bool {
			return slices.ContainsFunc(added, func(a policy.Object) bool { return sameObject(o, a) })
		})
		objects = append(objects, added...)
		set, err := policy.NewSet(objects)
		if err != nil {
			return err
		}
		fn(i, set)
	}
	return nil
}

func sameObject(a, b policy.Object) bool {
	ka, kb := a.Object.GetObjectKind().GroupVersionKind(), b.Object.GetObjectKind().GroupVersionKind()
	ma, errA := meta.Accessor(a.Object)
	mb, errB := meta.Accessor(b.Object)
	return errA == nil && errB == nil && ka.GroupKind() == kb.GroupKind() &&
		ma.GetNamespace() == mb.GetNamespace() && ma.GetName() == mb.GetName()
}

// TopologyAt is base with the label changes of every stage up to stage (an
// index) applied; base itself is left as it is. A change naming a namespace
// or pod that base lacks is an error.
func (s *Scenario) TopologyAt(stage int, base *topology.Topology) (*topology.Topology, error) {
	t := base.DeepCopy()
	for _, st := range s.Stages[:stage+1] {
		if err := t.Relabel(st.Relabel); err != nil {
			return nil, fmt.Errorf("scenario %s, stage %s: %w", s.Name, st.Name, err)
		}
	}
	return t, nil
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
