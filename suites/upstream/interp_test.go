package upstream_test

import (
	"fmt"
	"go/ast"
	"go/token"
	"net/netip"
	"reflect"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	api "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// This file reads the upstream conformance tests' Go as the small language
// they are written in — GetPod, GetClusterNetworkPolicy, DeepCopy, rule
// swaps and insertions, namespace and pod relabelling, PokeServer — and
// plays each call against a cluster held in memory (state). A statement
// outside that language stops its test, which is then listed as not read,
// with the statement: nothing is guessed.

// notRead stops a test at a statement the interpreter does not know.
type notRead struct{ why string }

// opaque is a value the tests pass around but the interpreter never needs:
// the suite's clients, timeouts, contexts.
type opaque struct{ what string }

// apiTypes are the network-policy-api types the tests build literals of.
var apiTypes = map[string]reflect.Type{}

func init() {
	for _, v := range []any{api.ClusterNetworkPolicy{}, api.ClusterNetworkPolicyEgressRule{}, api.ClusterNetworkPolicyIngressRule{},
		api.ClusterNetworkPolicyEgressPeer{}, api.ClusterNetworkPolicyIngressPeer{}, api.ClusterNetworkPolicyProtocol{},
		api.ClusterNetworkPolicyProtocolTCP{}, api.ClusterNetworkPolicyProtocolUDP{}, api.ClusterNetworkPolicyProtocolSCTP{},
		api.Port{}, api.PortRange{}, api.NamespacedPod{}, api.CIDR(""), api.DomainName(""), api.ClusterNetworkPolicyRuleAction(""),
		api.ClusterNetworkPolicySubject{}} {
		t := reflect.TypeOf(v)
		apiTypes[t.Name()] = t
	}
}

var apiConstants = map[string]reflect.Value{
	"ClusterNetworkPolicyRuleActionAccept": reflect.ValueOf(api.ClusterNetworkPolicyRuleActionAccept),
	"ClusterNetworkPolicyRuleActionDeny":   reflect.ValueOf(api.ClusterNetworkPolicyRuleActionDeny),
	"ClusterNetworkPolicyRuleActionPass":   reflect.ValueOf(api.ClusterNetworkPolicyRuleActionPass),
	"AdminTier":                            reflect.ValueOf(api.AdminTier),
	"BaselineTier":                         reflect.ValueOf(api.BaselineTier),
}

// interp runs one test's statements.
type interp struct {
	fset     *token.FileSet
	file     string
	state    *state
	consts   map[string]reflect.Value // the file's package-level constants
	vars     map[string]reflect.Value
	cleanups [][]ast.Stmt
	// poke records a PokeServer call and what the model said of it.
	poke func(at string, clientNS, clientPod, protocol, host string, port int32, shouldConnect bool)
}

func (in *interp) at(n ast.Node) string {
	p := in.fset.Position(n.Pos())
	return fmt.Sprintf("%s:%d", in.file, p.Line)
}

func (in *interp) fail(n ast.Node, format string, args ...any) {
	panic(notRead{in.at(n) + ": " + fmt.Sprintf(format, args...)})
}

func (in *interp) block(stmts []ast.Stmt) {
	for _, s := range stmts {
		in.stmt(s)
	}
}

func (in *interp) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		if len(s.Lhs) != len(s.Rhs) {
			if call, ok := s.Rhs[0].(*ast.CallExpr); ok && exprString(call.Fun) == "context.WithTimeout" {
				for _, l := range s.Lhs {
					in.vars[l.(*ast.Ident).Name] = reflect.ValueOf(opaque{"context"})
				}
				return
			}
			in.fail(s, "an assignment of %d values from %d", len(s.Lhs), len(s.Rhs))
		}
		values := make([]reflect.Value, len(s.Rhs))
		for i, r := range s.Rhs {
			values[i] = in.expr(r)
		}
		for i, l := range s.Lhs {
			in.assign(l, values[i], s.Tok == token.DEFINE)
		}
	case *ast.DeclStmt:
		gen, ok := s.Decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.VAR {
			in.fail(s, "a declaration other than var")
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			if exprString(vs.Type) != "string" || len(vs.Values) > 0 {
				in.fail(s, "var of type %s", exprString(vs.Type))
			}
			for _, name := range vs.Names {
				v := reflect.New(reflect.TypeOf("")).Elem()
				in.vars[name.Name] = v
			}
		}
	case *ast.IfStmt:
		if s.Init != nil {
			in.fail(s, "if with an init statement")
		}
		cond := in.expr(s.Cond)
		if cond.Kind() != reflect.Bool {
			in.fail(s, "a condition that is not a bool")
		}
		switch {
		case cond.Bool():
			in.block(s.Body.List)
		case s.Else != nil:
			in.stmt(s.Else)
		}
	case *ast.BlockStmt:
		in.block(s.List)
	case *ast.ExprStmt:
		call, ok := s.X.(*ast.CallExpr)
		if !ok {
			in.fail(s, "an expression statement that is not a call")
		}
		in.call(call)
	case *ast.DeferStmt:
		if exprString(s.Call.Fun) != "cancel" {
			in.fail(s, "defer %s", exprString(s.Call.Fun))
		}
	default:
		in.fail(s, "a %T", s)
	}
}

// assign stores v at l: a variable, a field or a slice element.
func (in *interp) assign(l ast.Expr, v reflect.Value, define bool) {
	if id, ok := l.(*ast.Ident); ok {
		if id.Name == "_" {
			return
		}
		if old, exists := in.vars[id.Name]; exists && !define && old.CanSet() && v.Type().AssignableTo(old.Type()) {
			old.Set(v)
			return
		}
		slot := reflect.New(v.Type()).Elem()
		slot.Set(v)
		in.vars[id.Name] = slot
		return
	}
	target := in.expr(l)
	if !target.CanSet() {
		in.fail(l, "assigning to %s, which cannot be set", exprString(l))
	}
	target.Set(convert(in, l, v, target.Type()))
}

func convert(in *interp, n ast.Node, v reflect.Value, t reflect.Type) reflect.Value {
	switch {
	case v.Type().AssignableTo(t):
		return v
	case v.Type().ConvertibleTo(t) && v.Kind() == t.Kind():
		return v.Convert(t)
	case v.Kind() == reflect.Int && t.Kind() == reflect.Int32:
		return v.Convert(t)
	}
	in.fail(n, "a %s where a %s is wanted", v.Type(), t)
	return reflect.Value{}
}

func (in *interp) expr(e ast.Expr) reflect.Value {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return in.expr(e.X)
	case *ast.BasicLit:
		switch e.Kind {
		case token.INT:
			n, err := strconv.Atoi(e.Value)
			if err != nil {
				in.fail(e, "%v", err)
			}
			return reflect.ValueOf(n)
		case token.STRING:
			s, err := strconv.Unquote(e.Value)
			if err != nil {
				in.fail(e, "%v", err)
			}
			return reflect.ValueOf(s)
		}
		in.fail(e, "a %s literal", e.Kind)
	case *ast.Ident:
		if v, ok := in.vars[e.Name]; ok {
			return v
		}
		if v, ok := in.consts[e.Name]; ok {
			return v
		}
		switch e.Name {
		case "true", "false":
			return reflect.ValueOf(e.Name == "true")
		case "t", "s":
			return reflect.ValueOf(opaque{e.Name})
		}
		in.fail(e, "an unknown name %s", e.Name)
	case *ast.SelectorExpr:
		if pkg, ok := e.X.(*ast.Ident); ok {
			switch pkg.Name {
			case "api":
				if v, ok := apiConstants[e.Sel.Name]; ok {
					return v
				}
				in.fail(e, "api.%s", e.Sel.Name)
			case "s":
				return reflect.ValueOf(opaque{"s." + e.Sel.Name})
			}
		}
		x := in.expr(e.X)
		for x.Kind() == reflect.Pointer || x.Kind() == reflect.Interface {
			x = x.Elem()
		}
		if x.Type() == reflect.TypeOf(opaque{}) {
			return reflect.ValueOf(opaque{exprString(e)})
		}
		if x.Kind() != reflect.Struct {
			in.fail(e, "a field of a %s", x.Type())
		}
		f := x.FieldByName(e.Sel.Name)
		if !f.IsValid() {
			in.fail(e, "no field %s in %s", e.Sel.Name, x.Type())
		}
		return f
	case *ast.IndexExpr:
		x := in.expr(e.X)
		if x.Type() == reflect.TypeOf(opaque{}) {
			in.fail(e, "%s: a value of the suite's own (such as its host-network ports)", exprString(e))
		}
		i := in.expr(e.Index)
		if x.Kind() != reflect.Slice || i.Kind() != reflect.Int || int(i.Int()) >= x.Len() {
			in.fail(e, "indexing %s", exprString(e))
		}
		return x.Index(int(i.Int()))
	case *ast.BinaryExpr:
		a, b := in.expr(e.X), in.expr(e.Y)
		if e.Op == token.ADD && a.Kind() == reflect.String && b.Kind() == reflect.String {
			return reflect.ValueOf(a.String() + b.String())
		}
		in.fail(e, "the operator %s", e.Op)
	case *ast.UnaryExpr:
		if e.Op != token.AND {
			in.fail(e, "the operator %s", e.Op)
		}
		if _, ok := e.X.(*ast.CompositeLit); ok {
			v := in.expr(e.X)
			p := reflect.New(v.Type())
			p.Elem().Set(v)
			return p
		}
		return reflect.ValueOf(opaque{exprString(e)})
	case *ast.CompositeLit:
		return in.literal(e, nil)
	case *ast.CallExpr:
		if v := in.call(e); v.IsValid() {
			return v
		}
		in.fail(e, "%s returns nothing", exprString(e.Fun))
	}
	in.fail(e, "a %T", e)
	return reflect.Value{}
}

// typeOf resolves the type expressions the tests use.
func (in *interp) typeOf(e ast.Expr) reflect.Type {
	switch e := e.(type) {
	case *ast.ArrayType:
		if e.Len == nil {
			return reflect.SliceOf(in.typeOf(e.Elt))
		}
	case *ast.MapType:
		return reflect.MapOf(in.typeOf(e.Key), in.typeOf(e.Value))
	case *ast.Ident:
		if e.Name == "string" {
			return reflect.TypeOf("")
		}
	case *ast.SelectorExpr:
		if pkg, ok := e.X.(*ast.Ident); ok && pkg.Name == "api" {
			if t, ok := apiTypes[e.Sel.Name]; ok {
				return t
			}
		}
		switch exprString(e) {
		case "metav1.LabelSelector":
			return reflect.TypeOf(metav1.LabelSelector{})
		case "networkingv1.NetworkPolicy":
			return reflect.TypeOf(networkingv1.NetworkPolicy{})
		case "client.ObjectKey":
			return reflect.TypeOf(types.NamespacedName{})
		}
	}
	in.fail(e, "the type %s", exprString(e))
	return nil
}

func (in *interp) literal(e *ast.CompositeLit, t reflect.Type) reflect.Value {
	if e.Type != nil {
		t = in.typeOf(e.Type)
	}
	if t == nil {
		in.fail(e, "a literal without a type")
	}
	pointer := t.Kind() == reflect.Pointer
	if pointer {
		t = t.Elem()
	}
	v := reflect.New(t).Elem()
	for _, el := range e.Elts {
		switch t.Kind() {
		case reflect.Slice:
			v = reflect.Append(v, in.element(el, t.Elem()))
		case reflect.Map:
			kv := el.(*ast.KeyValueExpr)
			if v.IsNil() {
				v.Set(reflect.MakeMap(t))
			}
			v.SetMapIndex(convert(in, kv, in.expr(kv.Key), t.Key()), in.element(kv.Value, t.Elem()))
		case reflect.Struct:
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				in.fail(el, "a struct literal without field names")
			}
			f := v.FieldByName(kv.Key.(*ast.Ident).Name)
			if !f.IsValid() {
				in.fail(kv, "no field %s in %s", exprString(kv.Key), t)
			}
			f.Set(in.element(kv.Value, f.Type()))
		default:
			in.fail(e, "a literal of %s", t)
		}
	}
	if pointer {
		p := reflect.New(t)
		p.Elem().Set(v)
		return p
	}
	return v
}

// element is a literal's element of type t: an untyped composite takes t.
func (in *interp) element(e ast.Expr, t reflect.Type) reflect.Value {
	if lit, ok := e.(*ast.CompositeLit); ok && lit.Type == nil {
		return in.literal(lit, t)
	}
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND && t.Kind() == reflect.Pointer {
		if lit, ok := u.X.(*ast.CompositeLit); ok && lit.Type == nil {
			return in.literal(lit, t)
		}
	}
	return convert(in, e, in.expr(e), t)
}

func (in *interp) str(e ast.Expr) string {
	v := in.expr(e)
	if v.Kind() != reflect.String {
		in.fail(e, "a %s where a string is wanted", v.Type())
	}
	return v.String()
}

func (in *interp) call(c *ast.CallExpr) reflect.Value {
	name := exprString(c.Fun)
	arg := func(i int) ast.Expr { return c.Args[i] }
	switch name {
	case "t.Run":
		in.fail(c, "a t.Run inside a subtest")
	case "t.Cleanup":
		fn, ok := arg(0).(*ast.FuncLit)
		if !ok {
			in.fail(c, "t.Cleanup of a named function")
		}
		in.cleanups = append(in.cleanups, fn.Body.List)
		return reflect.Value{}
	case "require.NoError", "require.NoErrorf":
		return reflect.Value{}
	case "kubernetes.GetPod":
		ns, pod := in.str(arg(2)), in.str(arg(3))
		p := in.state.pod(ns, pod)
		if p == nil {
			in.fail(c, "pod %s/%s is not in the estate (host-network pods are not modelled)", ns, pod)
		}
		return reflect.ValueOf(p)
	case "kubernetes.GetNamespace":
		ns := in.state.namespace(in.str(arg(2)))
		if ns == nil {
			in.fail(c, "no namespace %s", in.str(arg(2)))
		}
		return reflect.ValueOf(ns)
	case "kubernetes.GetClusterNetworkPolicy":
		p := in.state.cnp(in.str(arg(2)))
		if p == nil {
			in.fail(c, "no ClusterNetworkPolicy %s", in.str(arg(2)))
		}
		return reflect.ValueOf(p)
	case "kubernetes.PatchClusterNetworkPolicy":
		in.state.putCNP(in.expr(arg(3)).Interface().(*api.ClusterNetworkPolicy))
		return reflect.Value{}
	case "kubernetes.PatchNamespace":
		in.state.putNamespace(in.expr(arg(3)).Interface().(*corev1.Namespace))
		return reflect.Value{}
	case "kubernetes.SetPodLabel", "kubernetes.RemovePodLabel":
		ns, pod, key := in.str(arg(2)), in.str(arg(3)), in.str(arg(4))
		value, set := "", name == "kubernetes.SetPodLabel"
		if set {
			value = in.str(arg(5))
		}
		if !in.state.label(ns, pod, key, value, set) {
			in.fail(c, "pod %s/%s is not in the estate", ns, pod)
		}
		return reflect.Value{}
	case "s.Client.Get":
		key := in.literal(arg(1).(*ast.CompositeLit), nil)
		target := arg(2).(*ast.Ident).Name
		if _, ok := in.vars[target]; !ok {
			in.fail(c, "reading into %s", target)
		}
		ns, n := key.FieldByName("Namespace").String(), key.FieldByName("Name").String()
		in.vars[target] = reflect.ValueOf(opaque{"networkpolicy " + ns + "/" + n})
		return reflect.ValueOf(opaque{"error"})
	case "s.Client.Delete":
		o, ok := in.expr(arg(1)).Interface().(opaque)
		what, found := strings.CutPrefix(o.what, "networkpolicy ")
		if !ok || !found || !in.state.deleteNetworkPolicy(what) {
			in.fail(c, "deleting %s", exprString(arg(1)))
		}
		return reflect.ValueOf(opaque{"error"})
	case "kubernetes.PokeServer":
		port := in.expr(arg(7))
		connect := in.expr(arg(9))
		in.poke(in.at(c), in.str(arg(3)), in.str(arg(4)), in.str(arg(5)), in.str(arg(6)), int32(port.Int()), connect.Bool())
		return reflect.Value{}
	case "net.IsIPv4String", "net.IsIPv6String":
		a, err := netip.ParseAddr(in.str(arg(0)))
		if err != nil {
			return reflect.ValueOf(false)
		}
		return reflect.ValueOf(a.Is4() == (name == "net.IsIPv4String"))
	case "int32", "api.CIDR":
		t := reflect.TypeOf(int32(0))
		if name == "api.CIDR" {
			t = reflect.TypeOf(api.CIDR(""))
		}
		return convert(in, c, in.expr(arg(0)), t)
	case "append":
		s := in.expr(arg(0))
		for i := 1; i < len(c.Args); i++ {
			v := in.expr(arg(i))
			if c.Ellipsis.IsValid() && i == len(c.Args)-1 {
				s = reflect.AppendSlice(s, v)
			} else {
				s = reflect.Append(s, convert(in, arg(i), v, s.Type().Elem()))
			}
		}
		return s
	}
	if sel, ok := c.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "DeepCopy" || sel.Sel.Name == "SetLabels") {
		recv := in.expr(sel.X)
		if recv.Kind() != reflect.Pointer && recv.CanAddr() {
			recv = recv.Addr()
		}
		m := recv.MethodByName(sel.Sel.Name)
		if !m.IsValid() {
			in.fail(c, "%s has no %s", recv.Type(), sel.Sel.Name)
		}
		args := make([]reflect.Value, len(c.Args))
		for i, a := range c.Args {
			args[i] = convert(in, a, in.expr(a), m.Type().In(i))
		}
		if out := m.Call(args); len(out) == 1 {
			return out[0]
		}
		return reflect.Value{}
	}
	in.fail(c, "a call of %s", name)
	return reflect.Value{}
}

// exprString prints short expressions for messages and dispatch.
func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case nil:
		return ""
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.StarExpr:
		return "*" + exprString(e.X)
	case *ast.ArrayType:
		return "[]" + exprString(e.Elt)
	case *ast.IndexExpr:
		return exprString(e.X) + "[" + exprString(e.Index) + "]"
	case *ast.BasicLit:
		return e.Value
	case *ast.CallExpr:
		return exprString(e.Fun) + "(…)"
	case *ast.UnaryExpr:
		return e.Op.String() + exprString(e.X)
	}
	return fmt.Sprintf("%T", e)
}
