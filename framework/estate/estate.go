// Package estate reads a user's own workloads — the Namespaces, Deployments,
// StatefulSets, DaemonSets, ReplicaSets, Pods and Services of a directory of
// manifests — and derives from them the topology the model reasons about:
// every replica a pod with its template's labels, service account and ports,
// named by its workload so that reports stay stable from run to run.
package estate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tierproof/tierproof/framework/manifest"
	"github.com/tierproof/tierproof/framework/policy"
)

// Estate is what a directory of manifests runs: its namespaces, workloads and
// Services, and the objects it passed over.
type Estate struct {
	Dir        string
	Namespaces []Namespace
	Workloads  []Workload
	Services   []Located[*corev1.Service]
	// Objects are the estate's Kubernetes objects as read, for a cluster to
	// apply (the pod templates without tierproof's agent).
	Objects []manifest.Object
	// Skipped counts the documents of other kinds by kind ("ConfigMap": 2):
	// neither deployed nor probed (a Job's pods come and go).
	Skipped map[string]int
	// Implied lists what was assumed, for the summary a command prints:
	// namespaces no Namespace object declares, objects without a namespace.
	Implied []string
}

// Located is an object and where it was read.
type Located[T any] struct {
	Source manifest.Source
	Object T
}

// Namespace is a namespace of the estate, declared or implied by a workload.
type Namespace struct {
	Name   string
	Labels map[string]string
	// Implied: no Namespace object declares it; a cluster run creates it.
	Implied bool
}

// Workload is a set of pods from one pod template: a Deployment, StatefulSet,
// DaemonSet or ReplicaSet, or a bare Pod (one replica, its own name).
type Workload struct {
	Source    manifest.Source
	Kind      string
	Namespace string
	Name      string
	// Replicas is the pod count (a DaemonSet's is set per node when the
	// topology is derived).
	Replicas int
	Template corev1.PodTemplateSpec
	// template is where the template sits in the object, for messages:
	// spec.template, or the Pod itself (nil).
	template *field.Path
}

// field is the path of a template's field: spec.template.metadata.labels in
// a Deployment, metadata.labels in a Pod.
func (w Workload) field(name string, more ...string) *field.Path {
	if w.template == nil {
		return field.NewPath(name, more...)
	}
	return w.template.Child(name, more...)
}

// Ref is how messages name the workload: Deployment/shop/frontend.
func (w Workload) Ref() string { return w.Kind + "/" + w.Namespace + "/" + w.Name }

// scheme holds the kinds an estate is made of (and the rest of core/v1,
// whose kinds are passed over); any other group is passed over too.
func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	// Both registrations only add types to a fresh scheme; they cannot fail.
	_ = corev1.AddToScheme(s)
	_ = appsv1.AddToScheme(s)
	return s
}

var decoder = manifest.NewDecoder(scheme(), "v1 Namespace, Pod and Service; apps/v1 Deployment, StatefulSet, DaemonSet and ReplicaSet").
	Lenient().Refusing(func(gvk schema.GroupVersionKind) string {
	if _, ok := policy.KindOf(gvk.GroupKind()); ok {
		return misplacedPolicy
	}
	return ""
})

const misplacedPolicy = "a policy in the estate: the estate holds the workloads, and policies go in a stage's manifests (scenario.yaml stages), where they are applied and checked one stage at a time"

// Load reads the estate in dir (every *.yaml and *.yml file, in lexical
// order; List documents unwrapped) and checks it. Every problem is one line
// naming file, object and field.
func Load(ctx context.Context, dir string) (*Estate, error) {
	objects, err := decoder.ReadPath(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("estate %s: %w", dir, err)
	}
	e := &Estate{Dir: dir, Skipped: map[string]int{}}
	var errs []error
	fail := func(src manifest.Source, object string, err *field.Error) {
		errs = append(errs, fmt.Errorf("%s: %s: %w", src, object, err))
	}
	declared := map[string]bool{}
	for _, o := range objects {
		if o.Object == nil {
			e.Skipped[kindOf(o.Skipped)]++
			continue
		}
		w, ok, err := workloadOf(o)
		switch {
		case err != nil:
			fail(o.Source, w.Ref(), err)
			continue
		case ok:
			e.Workloads = append(e.Workloads, w)
			e.Objects = append(e.Objects, o)
			continue
		}
		switch obj := o.Object.(type) {
		case *corev1.Namespace:
			e.Namespaces = append(e.Namespaces, Namespace{Name: obj.Name, Labels: obj.Labels})
			declared[obj.Name] = true
			e.Objects = append(e.Objects, o)
		case *corev1.ServiceAccount:
			if obj.Namespace == "" {
				obj.Namespace = corev1.NamespaceDefault
			}
			e.Objects = append(e.Objects, o) // a pod template may name it
		case *corev1.Service:
			if obj.Namespace == "" {
				obj.Namespace = corev1.NamespaceDefault
			}
			e.Services = append(e.Services, Located[*corev1.Service]{o.Source, obj})
			e.Objects = append(e.Objects, o)
		default:
			e.Skipped[o.Object.GetObjectKind().GroupVersionKind().Kind]++
		}
	}
	for _, w := range e.Workloads {
		if !declared[w.Namespace] {
			declared[w.Namespace] = true
			e.Namespaces = append(e.Namespaces, Namespace{Name: w.Namespace, Implied: true})
			e.Implied = append(e.Implied, fmt.Sprintf("namespace %s (no Namespace object declares it: it has no labels but kubernetes.io/metadata.name)", w.Namespace))
		}
	}
	errs = append(errs, e.check()...)
	if len(e.Workloads) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("estate %s: no workload (Deployment, StatefulSet, DaemonSet, ReplicaSet or Pod): nothing to probe", dir))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return e, nil
}

// kindOf reads the kind from a Skipped note ("ConfigMap settings").
func kindOf(skipped string) string {
	kind, _, _ := strings.Cut(skipped, " ")
	return kind
}

// workloadOf reads o as a workload; ok is false for other kinds.
func workloadOf(o manifest.Object) (w Workload, ok bool, err *field.Error) {
	spec := field.NewPath("spec")
	var selector *metav1.LabelSelector
	switch obj := o.Object.(type) {
	case *corev1.Pod:
		w = Workload{Kind: "Pod", Namespace: obj.Namespace, Name: obj.Name, Replicas: 1,
			Template: corev1.PodTemplateSpec{ObjectMeta: obj.ObjectMeta, Spec: obj.Spec}}
	case *appsv1.Deployment:
		w = Workload{Kind: "Deployment", Namespace: obj.Namespace, Name: obj.Name, Replicas: replicas(obj.Spec.Replicas), Template: obj.Spec.Template}
		selector = obj.Spec.Selector
	case *appsv1.StatefulSet:
		w = Workload{Kind: "StatefulSet", Namespace: obj.Namespace, Name: obj.Name, Replicas: replicas(obj.Spec.Replicas), Template: obj.Spec.Template}
		selector = obj.Spec.Selector
	case *appsv1.ReplicaSet:
		w = Workload{Kind: "ReplicaSet", Namespace: obj.Namespace, Name: obj.Name, Replicas: replicas(obj.Spec.Replicas), Template: obj.Spec.Template}
		selector = obj.Spec.Selector
	case *appsv1.DaemonSet:
		w = Workload{Kind: "DaemonSet", Namespace: obj.Namespace, Name: obj.Name, Template: obj.Spec.Template}
		selector = obj.Spec.Selector
	default:
		return Workload{}, false, nil
	}
	w.Source = o.Source
	if w.Namespace == "" {
		// As kubectl would apply it, with no namespace in the kubeconfig.
		w.Namespace = corev1.NamespaceDefault
		o.Object.(metav1.Object).SetNamespace(w.Namespace)
	}
	if w.Kind != "Pod" {
		w.template = spec.Child("template")
	}
	labelsPath := w.field("metadata", "labels")
	if len(w.Template.Labels) == 0 {
		return w, true, field.Required(labelsPath, "a workload without labels: no policy can select its pods by label")
	}
	if w.Kind != "Pod" {
		// The API server refuses a selector that does not select the template (apps/v1 validation).
		sel, serr := metav1.LabelSelectorAsSelector(selector)
		switch {
		case selector == nil:
			return w, true, field.Required(spec.Child("selector"), "apps/v1 requires a selector")
		case serr != nil:
			return w, true, field.Invalid(spec.Child("selector"), selector, serr.Error())
		case !sel.Matches(labels.Set(w.Template.Labels)):
			return w, true, field.Invalid(labelsPath, w.Template.Labels, "`selector` does not match template `labels`")
		}
	}
	return w, true, nil
}

func replicas(n *int32) int {
	if n == nil {
		return 1 // the API server's default
	}
	return int(*n)
}

// check finds what the API server would accept but makes the estate
// meaningless to probe: a port declared twice in a pod, a Service that
// selects no pod, two workloads whose pods would share names.
func (e *Estate) check() []error {
	var errs []error
	for _, w := range e.Workloads {
		errs = append(errs, w.checkPorts()...)
	}
	for _, s := range e.Services {
		if len(s.Object.Spec.Selector) == 0 {
			continue // ExternalName, or endpoints kept by hand
		}
		sel := labels.SelectorFromSet(s.Object.Spec.Selector)
		if !slices.ContainsFunc(e.Workloads, func(w Workload) bool {
			return w.Namespace == s.Object.Namespace && sel.Matches(labels.Set(w.Template.Labels))
		}) {
			errs = append(errs, fmt.Errorf("%s: Service/%s/%s: spec.selector: Invalid value: %v: selects no pod of the estate in namespace %s",
				s.Source, s.Object.Namespace, s.Object.Name, s.Object.Spec.Selector, s.Object.Namespace))
		}
	}
	return errs
}

// checkPorts refuses a port number and protocol, or a port name, declared
// twice among a pod's containers: a named port policies refer to must mean
// one port, and two containers cannot serve one.
func (w Workload) checkPorts() []error {
	var errs []error
	type key struct {
		port     int32
		protocol corev1.Protocol
	}
	numbers := map[key]*field.Path{}
	names := map[string]*field.Path{}
	containers := w.field("spec", "containers")
	for i, c := range w.Template.Spec.Containers {
		for j, p := range c.Ports {
			path := containers.Index(i).Child("ports").Index(j)
			k := key{p.ContainerPort, protocolOf(p.Protocol)}
			if first, dup := numbers[k]; dup {
				errs = append(errs, fmt.Errorf("%s: %s: %w", w.Source, w.Ref(), field.Duplicate(path.Child("containerPort"),
					fmt.Sprintf("%d/%s, also at %s", p.ContainerPort, k.protocol, first))))
			}
			numbers[k] = path
			if p.Name == "" {
				continue
			}
			if first, dup := names[p.Name]; dup {
				errs = append(errs, fmt.Errorf("%s: %s: %w", w.Source, w.Ref(), field.Duplicate(path.Child("name"), p.Name+", also at "+first.String())))
			}
			names[p.Name] = path
		}
	}
	return errs
}

func protocolOf(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// Summary is what Load read, a line each, for the commands to print.
func (e *Estate) Summary() []string {
	pods := 0
	for _, w := range e.Workloads {
		pods += w.Replicas
	}
	lines := []string{fmt.Sprintf("estate %s: %d namespaces, %d workloads, %d Services", e.Dir, len(e.Namespaces), len(e.Workloads), len(e.Services))}
	lines = append(lines, e.Implied...)
	kinds := make([]string, 0, len(e.Skipped))
	for k, n := range e.Skipped {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(kinds)
	if len(kinds) > 0 {
		lines = append(lines, "passed over (not workloads tierproof deploys and probes): "+strings.Join(kinds, ", "))
	}
	return lines
}
