// Package topology describes the endpoints tierproof reasons about: namespaces,
// pods, nodes and external hosts. The harness snapshots one from a live cluster;
// users and tests write one by hand (the format is in the README).
package topology

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/tierproof/tierproof/framework/manifest"
	"github.com/tierproof/tierproof/framework/yamlcheck"
)

// NamespaceNameLabel is the label the API server puts on every namespace.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// Topology is the estate: every endpoint a flow can start or end at.
type Topology struct {
	Namespaces []Namespace `json:"namespaces"`
	Pods       []Pod       `json:"pods"`
	Nodes      []Node      `json:"nodes,omitempty"`
	Externals  []External  `json:"externals,omitempty"`
}

// Namespace is a Kubernetes namespace and its labels.
type Namespace struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Pod is a pod with what policies can select it by.
type Pod struct {
	Namespace      string            `json:"namespace"`
	Name           string            `json:"name"`
	Labels         map[string]string `json:"labels,omitempty"`
	IP             string            `json:"ip"`
	Node           string            `json:"node,omitempty"`
	ServiceAccount string            `json:"serviceAccount,omitempty"` // empty means "default"
	Ports          []ContainerPort   `json:"ports,omitempty"`
	// PodName is the live pod's own name where the endpoint is named after
	// its workload (shop/frontend-0 for frontend-7d9c8f-x2x4q); empty: Name.
	PodName string `json:"podName,omitempty"`
	// EphemeralPorts is the range the pod's clients pick their ports from
	// (net.ipv4.ip_local_port_range); nil means Linux's default.
	EphemeralPorts *PortRange `json:"ephemeralPorts,omitempty"`
}

// PortRange is an inclusive range of ports.
type PortRange struct {
	From int32 `json:"from"`
	To   int32 `json:"to"`
}

// DefaultEphemeralPorts is Linux's default net.ipv4.ip_local_port_range.
var DefaultEphemeralPorts = PortRange{From: 32768, To: 60999}

// Ephemeral is an endpoint's client port range: r, or Linux's default.
func Ephemeral(r *PortRange) PortRange {
	if r == nil {
		return DefaultEphemeralPorts
	}
	return *r
}

func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.From, r.To) }

// ContainerPort is a port a pod's containers declare; only named ones matter to
// policies, which may refer to them by name.
type ContainerPort struct {
	Name     string          `json:"name,omitempty"`
	Port     int32           `json:"port"`
	Protocol corev1.Protocol `json:"protocol,omitempty"` // defaults to TCP
}

// Node is a cluster node.
type Node struct {
	Name   string            `json:"name"`
	IP     string            `json:"ip,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// External is an IP-only endpoint outside the cluster.
type External struct {
	Name           string     `json:"name"`
	IP             string     `json:"ip"`
	EphemeralPorts *PortRange `json:"ephemeralPorts,omitempty"` // as a Pod's
}

// EndpointName is how a pod is named in flags, JSON and reports.
func (p Pod) EndpointName() string { return p.Namespace + "/" + p.Name }

// LiveName is the pod's namespace/name on its cluster, to exec into or
// patch: the endpoint's, or its PodName's.
func (p Pod) LiveName() string {
	if p.PodName == "" {
		return p.EndpointName()
	}
	return p.Namespace + "/" + p.PodName
}

// ServiceAccountName is the pod's service account, "default" when unset.
func (p Pod) ServiceAccountName() string {
	if p.ServiceAccount == "" {
		return "default"
	}
	return p.ServiceAccount
}

// EffectiveLabels returns the namespace's labels plus the name label the API
// server adds to every namespace.
func (n Namespace) EffectiveLabels() map[string]string {
	out := make(map[string]string, len(n.Labels)+1)
	for k, v := range n.Labels {
		out[k] = v
	}
	out[NamespaceNameLabel] = n.Name
	return out
}

// Load reads and validates a topology file. Unknown fields are errors.
func Load(path string) (*Topology, error) {
	data, err := manifest.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading topology: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, prefixLines(path, err)
	}
	return t, nil
}

// Parse decodes and validates a topology document.
func Parse(data []byte) (*Topology, error) {
	data, err := manifest.Single(data)
	if err != nil {
		return nil, err
	}
	if err := yamlcheck.Booleans(data); err != nil {
		return nil, err
	}
	var t Topology
	if err := yaml.UnmarshalStrict(data, &t); err != nil {
		// The field check names every problem with its line and path; it
		// parses the document again, so only a document that failed pays.
		if problems := yamlcheck.Fields(data, Topology{}); problems != nil {
			return nil, fmt.Errorf("decoding topology: %w", problems)
		}
		return nil, fmt.Errorf("decoding topology: %w", err)
	}
	if err := t.Validate().ToAggregate(); err != nil {
		return nil, err
	}
	if len(t.Pods) == 0 && len(t.Externals) == 0 {
		// A matrix of nothing would print, and pass, without a question asked.
		return nil, errors.New("the topology has no endpoints: list pods (and externals) to probe between")
	}
	return &t, nil
}

// Marshal renders the topology in its file format.
func (t *Topology) Marshal() ([]byte, error) { return yaml.Marshal(t) }

// Validate checks names, references, addresses and labels. Endpoint names and
// IPs must be unique, because flows and ipBlocks identify endpoints by them.
func (t *Topology) Validate() field.ErrorList {
	var errs field.ErrorList
	namespaces := map[string]bool{}
	for i, ns := range t.Namespaces {
		path := field.NewPath("namespaces").Index(i)
		errs = append(errs, validateDNSLabel(ns.Name, path.Child("name"))...)
		if namespaces[ns.Name] {
			errs = append(errs, field.Duplicate(path.Child("name"), ns.Name))
		}
		namespaces[ns.Name] = true
		errs = append(errs, metav1validation.ValidateLabels(ns.Labels, path.Child("labels"))...)
	}

	endpoints := map[string]bool{}
	ips := map[netip.Addr]string{}
	checkIP := func(owner, ip string, path *field.Path) {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			errs = append(errs, field.Invalid(path, ip, "must be an IP address"))
			return
		}
		if other, taken := ips[addr]; taken {
			errs = append(errs, field.Invalid(path, ip, fmt.Sprintf("already used by %s", other)))
			return
		}
		ips[addr] = owner
	}

	nodes := map[string]bool{}
	for i, n := range t.Nodes {
		path := field.NewPath("nodes").Index(i)
		if n.Name == "" {
			errs = append(errs, field.Required(path.Child("name"), ""))
		}
		if nodes[n.Name] {
			errs = append(errs, field.Duplicate(path.Child("name"), n.Name))
		}
		nodes[n.Name] = true
		if n.IP != "" {
			checkIP("node "+n.Name, n.IP, path.Child("ip"))
		}
		errs = append(errs, metav1validation.ValidateLabels(n.Labels, path.Child("labels"))...)
	}

	for i, p := range t.Pods {
		path := field.NewPath("pods").Index(i)
		if !namespaces[p.Namespace] {
			errs = append(errs, field.NotFound(path.Child("namespace"), p.Namespace))
		}
		errs = append(errs, validateDNSLabel(p.Name, path.Child("name"))...)
		if p.PodName != "" {
			for _, msg := range validation.IsDNS1123Subdomain(p.PodName) {
				errs = append(errs, field.Invalid(path.Child("podName"), p.PodName, msg))
			}
		}
		name := p.EndpointName()
		if endpoints[name] {
			errs = append(errs, field.Duplicate(path.Child("name"), name))
		}
		endpoints[name] = true
		checkIP("pod "+name, p.IP, path.Child("ip"))
		if p.Node != "" && len(t.Nodes) > 0 && !nodes[p.Node] {
			errs = append(errs, field.NotFound(path.Child("node"), p.Node))
		}
		errs = append(errs, metav1validation.ValidateLabels(p.Labels, path.Child("labels"))...)
		errs = append(errs, validatePorts(p.Ports, path.Child("ports"))...)
		errs = append(errs, validateRange(p.EphemeralPorts, path.Child("ephemeralPorts"))...)
	}

	for i, e := range t.Externals {
		path := field.NewPath("externals").Index(i)
		// An external host's name names its container too.
		errs = append(errs, validateDNSLabel(e.Name, path.Child("name"))...)
		if endpoints[e.Name] {
			errs = append(errs, field.Duplicate(path.Child("name"), e.Name))
		}
		endpoints[e.Name] = true
		checkIP("external "+e.Name, e.IP, path.Child("ip"))
		errs = append(errs, validateRange(e.EphemeralPorts, path.Child("ephemeralPorts"))...)
	}
	return errs
}

func validateRange(r *PortRange, path *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(r.From)) {
		errs = append(errs, field.Invalid(path.Child("from"), r.From, msg))
	}
	for _, msg := range validation.IsValidPortNum(int(r.To)) {
		errs = append(errs, field.Invalid(path.Child("to"), r.To, msg))
	}
	if r.To < r.From {
		errs = append(errs, field.Invalid(path.Child("to"), r.To, fmt.Sprintf("must not be below from (%d)", r.From)))
	}
	return errs
}

func validateDNSLabel(name string, path *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	return errs
}

func validatePorts(ports []ContainerPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, port := range ports {
		p := path.Index(i)
		for _, msg := range validation.IsValidPortNum(int(port.Port)) {
			errs = append(errs, field.Invalid(p.Child("port"), port.Port, msg))
		}
		switch port.Protocol {
		case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		default:
			errs = append(errs, field.NotSupported(p.Child("protocol"), port.Protocol, []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}))
		}
		if port.Name == "" {
			continue
		}
		for _, msg := range validation.IsValidPortName(port.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), port.Name, msg))
		}
		if names[port.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
		}
		names[port.Name] = true
	}
	return errs
}

// prefixLines names the file on every problem, one problem per line.
func prefixLines(path string, err error) error {
	var agg utilerrors.Aggregate
	if !errors.As(err, &agg) {
		return fmt.Errorf("%s: %w", path, err)
	}
	var lines []error
	for _, e := range agg.Errors() {
		lines = append(lines, fmt.Errorf("%s: %w", path, e))
	}
	return errors.Join(lines...)
}

// DeepCopy returns a copy that shares no labels, ports or slices with t.
func (t *Topology) DeepCopy() *Topology {
	c := &Topology{
		Namespaces: slices.Clone(t.Namespaces),
		Pods:       slices.Clone(t.Pods),
		Nodes:      slices.Clone(t.Nodes),
		Externals:  slices.Clone(t.Externals),
	}
	for i := range c.Namespaces {
		c.Namespaces[i].Labels = maps.Clone(c.Namespaces[i].Labels)
	}
	for i := range c.Pods {
		c.Pods[i].Labels = maps.Clone(c.Pods[i].Labels)
		c.Pods[i].Ports = slices.Clone(c.Pods[i].Ports)
	}
	for i := range c.Nodes {
		c.Nodes[i].Labels = maps.Clone(c.Nodes[i].Labels)
	}
	return c
}

// Values are the endpoints' addresses as template values: "x/a.ip" for a pod,
// "ext.ip" for an external host.
func (t *Topology) Values() map[string]string {
	values := map[string]string{}
	for _, p := range t.Pods {
		values[p.EndpointName()+".ip"] = p.IP
	}
	for _, e := range t.Externals {
		values[e.Name+".ip"] = e.IP
	}
	return values
}

// LabelChange sets and removes labels of a namespace (Pod empty) or a pod.
type LabelChange struct {
	Namespace string            `json:"namespace"`
	Pod       string            `json:"pod,omitempty"`
	Set       map[string]string `json:"set,omitempty"`
	Remove    []string          `json:"remove,omitempty"`
}

// Target names what the change relabels: "namespace x" or "pod x/a".
func (c LabelChange) Target() string {
	if c.Pod == "" {
		return "namespace " + c.Namespace
	}
	return "pod " + c.Namespace + "/" + c.Pod
}

// Apply changes labels in place, creating the map when needed.
func (c LabelChange) Apply(labels map[string]string) map[string]string {
	if labels == nil {
		labels = map[string]string{}
	}
	for _, k := range c.Remove {
		delete(labels, k)
	}
	maps.Copy(labels, c.Set)
	return labels
}

// Relabel applies changes to t in place. A change naming a namespace or pod
// that t lacks is an error.
func (t *Topology) Relabel(changes []LabelChange) error {
	for _, c := range changes {
		found := false
		for i := range t.Namespaces {
			if c.Pod == "" && t.Namespaces[i].Name == c.Namespace {
				t.Namespaces[i].Labels, found = c.Apply(t.Namespaces[i].Labels), true
			}
		}
		for i := range t.Pods {
			if c.Pod != "" && t.Pods[i].Namespace == c.Namespace && t.Pods[i].Name == c.Pod {
				t.Pods[i].Labels, found = c.Apply(t.Pods[i].Labels), true
			}
		}
		if !found {
			return fmt.Errorf("relabel: no %s in the topology", c.Target())
		}
	}
	return nil
}
