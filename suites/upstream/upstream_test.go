// Package upstream_test holds tierproof's model to a second source of
// expectations: the network-policy-api's own conformance suite
// (sigs.k8s.io/network-policy-api v0.3.0, conformance/tests), read from the
// pinned module. Each upstream test's Go is played against a cluster held in
// memory — its base estate, its manifests, its rule swaps, relabellings and
// deletions — and every PokeServer's expectation (connects or not) is
// compared with the model's verdict on the spec's order. A test the model
// cannot judge (a peer kind it does not evaluate, a host-network pod, a
// statement the reader does not know) is listed as refused, with why.
package upstream_test

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"text/template"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	api "sigs.k8s.io/network-policy-api/apis/v1beta1"
	"sigs.k8s.io/network-policy-api/conformance"

	"github.com/tierproof/tierproof/framework/estate"
	"github.com/tierproof/tierproof/framework/golden"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/topology"
)

// hostNetworkPorts fill the base manifests' template, as the suite's
// -host-network-ports would.
var hostNetworkPorts = []int{34345, 34346, 34347, 34348, 34349, 34350, 34351, 34352}

func render(t *testing.T, path string) []byte {
	t.Helper()
	data, err := fs.ReadFile(conformance.Manifests, path)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.New(path).Parse(string(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, struct{ HostNetworkPorts []int }{hostNetworkPorts}); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out.Bytes()
}

// baseTopology is the suite's estate (base/manifests.yaml): five namespaces,
// two replicas of a StatefulSet in four of them. The host-network pods of
// forbidden-forrest are left out: the model has no host-network pods.
func baseTopology(t *testing.T) *topology.Topology {
	t.Helper()
	var kept []string
	for _, doc := range strings.Split(string(render(t, "base/manifests.yaml")), "\n---\n") {
		if !strings.Contains(doc, "hostNetwork: true") {
			kept = append(kept, doc)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "estate.yaml"), []byte(strings.Join(kept, "\n---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := estate.Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	topo, err := e.Topology(estate.Layout{})
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// state is the cluster one upstream test sees: the base estate and the
// policies its manifests applied, as its calls change them.
type state struct {
	topo  *topology.Topology
	cnps  []*api.ClusterNetworkPolicy
	knps  []*networkingv1.NetworkPolicy
	model *model.Model // nil after a change
	err   error        // why the model refuses the current state
}

func (s *state) podIndex(ns, name string) int {
	for i, p := range s.topo.Pods {
		if p.Namespace == ns && p.Name == name {
			return i
		}
	}
	return -1
}

func (s *state) pod(ns, name string) *corev1.Pod {
	i := s.podIndex(ns, name)
	if i < 0 {
		return nil
	}
	p := s.topo.Pods[i]
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: p.Labels}, Status: corev1.PodStatus{PodIP: p.IP}}
}

func (s *state) namespace(name string) *corev1.Namespace {
	for _, ns := range s.topo.Namespaces {
		if ns.Name == name {
			return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: ns.Labels}}
		}
	}
	return nil
}

func (s *state) putNamespace(ns *corev1.Namespace) {
	for i := range s.topo.Namespaces {
		if s.topo.Namespaces[i].Name == ns.Name {
			s.topo.Namespaces[i].Labels = ns.Labels
		}
	}
	s.model = nil
}

func (s *state) label(ns, pod, key, value string, set bool) bool {
	i := s.podIndex(ns, pod)
	if i < 0 {
		return false
	}
	labels := map[string]string{}
	for k, v := range s.topo.Pods[i].Labels {
		labels[k] = v
	}
	if set {
		labels[key] = value
	} else {
		delete(labels, key)
	}
	s.topo.Pods[i].Labels = labels
	s.model = nil
	return true
}

func (s *state) cnp(name string) *api.ClusterNetworkPolicy {
	for _, p := range s.cnps {
		if p.Name == name {
			return p.DeepCopy()
		}
	}
	return nil
}

func (s *state) putCNP(p *api.ClusterNetworkPolicy) {
	for i := range s.cnps {
		if s.cnps[i].Name == p.Name {
			s.cnps[i] = p.DeepCopy()
		}
	}
	s.model = nil
}

func (s *state) deleteNetworkPolicy(nsName string) bool {
	for i, p := range s.knps {
		if p.Namespace+"/"+p.Name == nsName {
			s.knps = append(s.knps[:i], s.knps[i+1:]...)
			s.model = nil
			return true
		}
	}
	return false
}

// compiled is the model of the current state on semantics.
func (s *state) compiled(semantics model.Semantics) (*model.Model, error) {
	if s.model != nil || s.err != nil {
		return s.model, s.err
	}
	var objects []policy.Object
	for i, p := range s.cnps {
		c := p.DeepCopy()
		c.APIVersion, c.Kind = "policy.networking.k8s.io/v1beta1", "ClusterNetworkPolicy"
		objects = append(objects, policy.Object{Source: policy.Source{File: "cnp", Index: i}, Object: c})
	}
	for i, p := range s.knps {
		objects = append(objects, policy.Object{Source: policy.Source{File: "knp", Index: i}, Object: p})
	}
	set, err := policy.NewSet(objects)
	if err == nil {
		s.model, err = model.CompileFor(s.topo, set, semantics)
	}
	s.err = err
	return s.model, err
}

// upstreamTest is one suite.ConformanceTest of the upstream suite.
type upstreamTest struct {
	name, file string
	manifests  []string
	body       *ast.FuncLit
}

// outcome is what became of one subtest's pokes.
type outcome struct {
	agreed   int
	disagree []string
	refused  string
}

func TestUpstreamConformanceCasesAgree(t *testing.T) {
	fset := token.NewFileSet()
	consts := map[string]reflect.Value{}
	var tests []upstreamTest
	files, err := fs.Glob(conformance.Manifests, "tests/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no upstream tests: %v", err)
	}
	for _, path := range files {
		src, err := fs.ReadFile(conformance.Manifests, path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gen, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gen.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				for i, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok && gen.Tok == token.CONST && lit.Kind == token.STRING {
						consts[vs.Names[i].Name] = reflect.ValueOf(strings.Trim(lit.Value, `"`))
					}
					if ct, ok := v.(*ast.CompositeLit); ok && exprString(ct.Type) == "suite.ConformanceTest" {
						tests = append(tests, parseTest(t, filepath.Base(path), ct))
					}
				}
			}
		}
	}
	base := baseTopology(t)

	var report strings.Builder
	agreed, disagreed, refusedPokes, refusedTests := 0, 0, 0, 0
	sort.Slice(tests, func(i, j int) bool { return tests[i].name < tests[j].name })
	for _, ut := range tests {
		results, order, pokes := playTest(t, fset, consts, base, ut, model.Spec)
		fmt.Fprintf(&report, "%s (%s)\n", ut.name, ut.file)
		refused := false
		for _, name := range order {
			o := results[name]
			switch {
			case o.refused != "":
				refused = true
				fmt.Fprintf(&report, "  refused  %s: %s\n", name, o.refused)
			case len(o.disagree) > 0:
				fmt.Fprintf(&report, "  DISAGREE %s: %d agree, %d disagree\n", name, o.agreed, len(o.disagree))
				for _, d := range o.disagree {
					t.Errorf("%s / %s: %s", ut.name, name, d)
				}
			default:
				fmt.Fprintf(&report, "  agree    %s: %d poke(s)\n", name, o.agreed)
			}
			agreed += o.agreed
			disagreed += len(o.disagree)
		}
		if refused {
			refusedTests++
			refusedPokes += pokes - judged(results)
		}
	}
	fmt.Fprintf(&report, "\n%d upstream tests: %d pokes agree with the model (network-policy-api spec semantics), %d disagree; %d test(s) refused in part or whole (%d pokes not judged)\n",
		len(tests), agreed, disagreed, refusedTests, refusedPokes)
	// The same pokes on Antrea's order: these tests hold no Antrea-native
	// policy and no Baseline Pass, so Antrea must agree with them too.
	antreaAgreed := 0
	for _, ut := range tests {
		results, _, _ := playTest(t, fset, consts, base, ut, model.Antrea)
		for name, o := range results {
			antreaAgreed += o.agreed
			for _, d := range o.disagree {
				t.Errorf("on Antrea's order, %s / %s: %s", ut.name, name, d)
			}
		}
	}
	fmt.Fprintf(&report, "on Antrea 2.7's order (CNP tiers among Antrea's): %d pokes agree\n", antreaAgreed)
	t.Log(report.String())
	golden.Check(t, "testdata/upstream-conformance.txt", []byte(report.String()))
	if agreed < 300 {
		t.Errorf("only %d pokes agreed: the reader no longer reaches most of the upstream suite", agreed)
	}
}

// judged counts the pokes compared with the model, agreeing or not.
func judged(results map[string]*outcome) int {
	n := 0
	for _, o := range results {
		n += o.agreed + len(o.disagree)
	}
	return n
}

func parseTest(t *testing.T, file string, lit *ast.CompositeLit) upstreamTest {
	ut := upstreamTest{file: file}
	for _, el := range lit.Elts {
		kv := el.(*ast.KeyValueExpr)
		switch kv.Key.(*ast.Ident).Name {
		case "ShortName":
			ut.name = strings.Trim(kv.Value.(*ast.BasicLit).Value, `"`)
		case "Manifests":
			for _, m := range kv.Value.(*ast.CompositeLit).Elts {
				ut.manifests = append(ut.manifests, strings.Trim(m.(*ast.BasicLit).Value, `"`))
			}
		case "Test":
			ut.body = kv.Value.(*ast.FuncLit)
		}
	}
	if ut.name == "" || ut.body == nil {
		t.Fatalf("%s: a ConformanceTest without ShortName or Test", file)
	}
	return ut
}

// playTest plays one upstream test on a fresh state: its subtests' outcomes
// in order, and how many pokes the whole test holds.
func playTest(t *testing.T, fset *token.FileSet, consts map[string]reflect.Value, base *topology.Topology, ut upstreamTest, semantics model.Semantics) (map[string]*outcome, []string, int) {
	results := map[string]*outcome{}
	var order []string
	pokes := 0
	ast.Inspect(ut.body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok && exprString(c.Fun) == "kubernetes.PokeServer" {
			pokes++
		}
		return true
	})
	st := &state{topo: copyTopology(base)}
	for _, m := range ut.manifests {
		objects, err := policy.Decode(m, render(t, m))
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		for _, o := range objects {
			switch obj := o.Object.(type) {
			case *api.ClusterNetworkPolicy:
				st.cnps = append(st.cnps, obj)
			case *networkingv1.NetworkPolicy:
				st.knps = append(st.knps, obj)
			default:
				t.Fatalf("%s: a %T", m, o.Object)
			}
		}
	}
	current := "(the test's own statements)"
	in := &interp{fset: fset, file: ut.file, state: st, consts: consts, vars: map[string]reflect.Value{}}
	in.poke = func(at, clientNS, clientPod, protocol, host string, port int32, shouldConnect bool) {
		o := results[current]
		m, err := st.compiled(semantics)
		if err != nil {
			panic(notRead{"the model refuses the policies: " + firstLine(err.Error())})
		}
		from, ok := m.Endpoint(clientNS + "/" + clientPod)
		if !ok {
			panic(notRead{at + ": no client pod " + clientNS + "/" + clientPod})
		}
		to := -1
		for _, p := range st.topo.Pods {
			if p.IP == host {
				to, _ = m.Endpoint(p.EndpointName())
			}
		}
		if to < 0 {
			panic(notRead{at + ": no pod has the address " + host})
		}
		p, err := model.ParseProbe(fmt.Sprintf("%s/%d", protocol, port))
		if err != nil {
			panic(notRead{at + ": " + err.Error()})
		}
		r := m.Evaluate(from, to, p)
		if (r.Verdict == model.Allow) == shouldConnect {
			o.agreed++
			return
		}
		o.disagree = append(o.disagree, fmt.Sprintf("%s: %s/%s → %s %s: upstream expects connect=%v, the model says %s (egress %s; ingress %s)",
			at, clientNS, clientPod, host, p, shouldConnect, r.Verdict, r.Egress.Describe(), r.Ingress.Describe()))
	}
	stopped := ""
	run := func(name string, stmts []ast.Stmt) {
		current = name
		if _, ok := results[name]; !ok {
			results[name] = &outcome{}
			order = append(order, name)
		}
		if stopped != "" {
			results[name].refused = "not played: " + stopped
			return
		}
		defer func() {
			if r := recover(); r != nil {
				nr, ok := r.(notRead)
				if !ok {
					panic(r)
				}
				results[name].refused = nr.why
				stopped = "an earlier part of the test was refused"
			}
		}()
		in.cleanups = nil
		in.block(stmts)
		for _, c := range in.cleanups {
			in.block(c)
		}
	}
	for _, s := range ut.body.Body.List {
		if call, ok := s.(*ast.ExprStmt); ok {
			if c, ok := call.X.(*ast.CallExpr); ok && exprString(c.Fun) == "t.Run" {
				name := strings.Trim(c.Args[0].(*ast.BasicLit).Value, `"`)
				run(name, c.Args[1].(*ast.FuncLit).Body.List)
				continue
			}
		}
		run("(the test's own statements)", []ast.Stmt{s})
	}
	return results, order, pokes
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func copyTopology(t *topology.Topology) *topology.Topology {
	c := *t
	c.Namespaces = append([]topology.Namespace(nil), t.Namespaces...)
	c.Pods = append([]topology.Pod(nil), t.Pods...)
	return &c
}
