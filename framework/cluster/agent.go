package cluster

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/agentimage"
)

// WithAgent gives every pod template of the estate the probe agent, in a
// container of its own (AgentContainer, which the probes exec into) that
// serves every probed port no application container of the pod declares:
// two processes cannot bind one port. With standIns (no registry reaches
// the application's images, or the user asked), every application
// container is replaced by the agent serving that container's ports, its
// HTTP and exec probes made TCP probes on the same ports, and what only the
// application needed (init containers, volumes, environment) is dropped.
// A template that already runs the agent is left as it is: its author made
// the agent the workload. objects is left as it was; the lines say what was
// done, a workload each.
func WithAgent(objects []runtime.Object, probed agent.Ports, standIns bool) ([]runtime.Object, []string) {
	out := make([]runtime.Object, len(objects))
	var lines []string
	for i, o := range objects {
		o = o.DeepCopyObject()
		out[i] = o
		ref, spec := podSpecOf(o)
		if spec == nil {
			continue
		}
		if slices.ContainsFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == AgentContainer }) {
			lines = append(lines, ref+": runs the agent itself")
			continue
		}
		var replaced []string
		if standIns {
			replaced = standIn(spec)
			if set, ok := o.(*appsv1.StatefulSet); ok {
				set.Spec.VolumeClaimTemplates = nil // a stand-in stores nothing
			}
		}
		sidecar := agentContainer(probed.Minus(declared(spec.Containers)))
		spec.Containers = append(spec.Containers, sidecar)
		switch {
		case len(replaced) > 0:
			lines = append(lines, fmt.Sprintf("%s: the agent stands in for %s (no registry), and serves %s", ref, strings.Join(replaced, ", "), describe(sidecar.Args)))
		default:
			lines = append(lines, fmt.Sprintf("%s: the agent as a sidecar, serving %s", ref, describe(sidecar.Args)))
		}
	}
	return out, lines
}

// podSpecOf is the pod spec of a workload's template (a Pod's own), and how
// messages name the workload.
func podSpecOf(o runtime.Object) (string, *corev1.PodSpec) {
	kind, _, spec := podOf(o)
	if spec == nil {
		return "", nil
	}
	m := o.(metav1.Object)
	return kind + "/" + m.GetNamespace() + "/" + m.GetName(), spec
}

// podOf is a Pod's kind, metadata and spec, or a workload's kind and pod
// template's.
func podOf(o runtime.Object) (string, *metav1.ObjectMeta, *corev1.PodSpec) {
	var t *corev1.PodTemplateSpec
	var kind string
	switch w := o.(type) {
	case *corev1.Pod:
		return "Pod", &w.ObjectMeta, &w.Spec
	case *appsv1.Deployment:
		kind, t = "Deployment", &w.Spec.Template
	case *appsv1.StatefulSet:
		kind, t = "StatefulSet", &w.Spec.Template
	case *appsv1.DaemonSet:
		kind, t = "DaemonSet", &w.Spec.Template
	case *appsv1.ReplicaSet:
		kind, t = "ReplicaSet", &w.Spec.Template
	default:
		return "", nil, nil
	}
	return kind, &t.ObjectMeta, &t.Spec
}

// declared are the ports a pod's containers declare.
func declared(containers []corev1.Container) agent.Ports {
	var p agent.Ports
	for _, c := range containers {
		p = p.Union(containerPorts(c))
	}
	return p
}

func containerPorts(c corev1.Container) agent.Ports {
	var p agent.Ports
	for _, port := range c.Ports {
		n := int(port.ContainerPort)
		switch port.Protocol {
		case corev1.ProtocolUDP:
			p.UDP = append(p.UDP, n)
		case corev1.ProtocolSCTP:
			p.SCTP = append(p.SCTP, n)
		default:
			p.TCP = append(p.TCP, n)
		}
	}
	return p
}

// agentContainer is the agent serving ports, ready once it listens on its
// first TCP port.
func agentContainer(ports agent.Ports) corev1.Container {
	c := corev1.Container{Name: AgentContainer, Image: agentimage.DefaultTag, ImagePullPolicy: corev1.PullNever, Args: serveArgs(ports),
		SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_RAW"}}}}
	if len(ports.TCP) > 0 {
		c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(ports.TCP[0]))}}, PeriodSeconds: 1}
	}
	return c
}

func serveArgs(p agent.Ports) []string {
	args := []string{"serve"}
	for _, l := range []struct {
		flag  string
		ports []int
	}{{"--tcp", p.TCP}, {"--udp", p.UDP}, {"--sctp", p.SCTP}} {
		if len(l.ports) == 0 {
			continue
		}
		s := make([]string, len(l.ports))
		for i, n := range l.ports {
			s[i] = strconv.Itoa(n)
		}
		args = append(args, l.flag, strings.Join(s, ","))
	}
	return args
}

// describe says what serve args serve: "tcp 22,53; udp 53", or "no port".
func describe(args []string) string {
	var parts []string
	for i := 1; i+1 < len(args); i += 2 {
		parts = append(parts, strings.TrimPrefix(args[i], "--")+" "+args[i+1])
	}
	if len(parts) == 0 {
		return "no port (it probes from the pod)"
	}
	return strings.Join(parts, "; ")
}

// standIn replaces each application container of spec by the agent serving
// the container's ports, and returns the images it replaced.
func standIn(spec *corev1.PodSpec) []string {
	var replaced []string
	for i, c := range spec.Containers {
		replaced = append(replaced, c.Image)
		s := corev1.Container{Name: c.Name, Image: agentimage.DefaultTag, ImagePullPolicy: corev1.PullNever, Args: serveArgs(containerPorts(c)),
			Ports: c.Ports, ReadinessProbe: tcpProbe(c.ReadinessProbe, c), LivenessProbe: tcpProbe(c.LivenessProbe, c), StartupProbe: tcpProbe(c.StartupProbe, c)}
		spec.Containers[i] = s
	}
	spec.InitContainers, spec.Volumes, spec.SecurityContext = nil, nil, nil
	return replaced
}

// tcpProbe is p checking that the stand-in listens where the application
// would: an HTTP or gRPC probe's port, an exec probe's the container's
// first TCP port (none: no probe).
func tcpProbe(p *corev1.Probe, c corev1.Container) *corev1.Probe {
	if p == nil {
		return nil
	}
	var port intstr.IntOrString
	switch {
	case p.TCPSocket != nil:
		port = p.TCPSocket.Port
	case p.HTTPGet != nil:
		port = p.HTTPGet.Port
	case p.GRPC != nil:
		port = intstr.FromInt32(p.GRPC.Port)
	default:
		tcp := containerPorts(c).TCP
		if len(tcp) == 0 {
			return nil
		}
		port = intstr.FromInt32(int32(tcp[0]))
	}
	out := p.DeepCopy()
	out.ProbeHandler = corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}
	return out
}

// ToolsContainer is the container of the pods' own network tools, when the
// run probes with them (BootOptions.Tools).
const ToolsContainer = "tierproof-tools"

// WithTools gives every pod template a ToolsContainer, its image taken from
// images in turn, so that each image probes from some of the pods. objects
// is left as it was; the lines say which workload has which.
func WithTools(objects []runtime.Object, images []string) ([]runtime.Object, []string) {
	out := make([]runtime.Object, len(objects))
	var lines []string
	n := 0
	for i, o := range objects {
		o = o.DeepCopyObject()
		out[i] = o
		ref, spec := podSpecOf(o)
		if spec == nil || slices.ContainsFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == ToolsContainer }) {
			continue
		}
		image := images[n%len(images)]
		n++
		spec.Containers = append(spec.Containers, corev1.Container{Name: ToolsContainer, Image: image, ImagePullPolicy: corev1.PullNever,
			SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_RAW"}}}})
		lines = append(lines, ref+": "+image)
	}
	return out, lines
}
