package cluster

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/tierproof/tierproof/framework/hostload"
	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/kube"
)

// MeterLoad reads where this machine's CPU goes while the cluster works: the
// kind nodes' containers (each Kubernetes component, kubelet and containerd,
// the estate's pods together) and the external hosts. It fails when the
// nodes are not containers of this machine's Docker.
func (p *ClusterPlane) MeterLoad(ctx context.Context) (*hostload.Meter, error) {
	var nodes corev1.NodeList
	if err := p.Client.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("listing the nodes: %w", err)
	}
	names := make([]string, 0, len(nodes.Items))
	for _, n := range nodes.Items {
		names = append(names, n.Name)
	}
	out, err := kind.RunDocker(ctx, nil, append([]string{"inspect", "--format", "{{.Name}} {{.Id}}"}, names...)...)
	if err != nil {
		return nil, err
	}
	if p.Externals.Run != "" {
		ext, err := kind.RunDocker(ctx, nil, "ps", "--format", "/{{.Names}} {{.ID}}", "--no-trunc", "--filter", "label="+kube.OwnerLabel+"="+p.Externals.Run)
		if err != nil {
			return nil, err
		}
		out = append(out, ext...)
	}
	var containers []hostload.Container
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if name, id, ok := strings.Cut(line, " "); ok {
			containers = append(containers, hostload.Container{Name: strings.TrimPrefix(name, "/"), ID: id})
		}
	}
	m, err := hostload.Open("", containers)
	if err != nil {
		return nil, err
	}
	var pods corev1.PodList
	if err := p.Client.List(ctx, &pods); err != nil {
		return nil, fmt.Errorf("listing the pods: %w", err)
	}
	labels := map[string]string{}
	for _, pod := range pods.Items {
		labels[string(pod.UID)] = podPart(pod)
	}
	m.PodLabel = func(uid string) string { return labels[uid] }
	return m, nil
}

// podPart is the part a pod's CPU counts to: the estate's pods together (their
// agents probe and answer), each of kind's system components by its name.
func podPart(pod corev1.Pod) string {
	if pod.Namespace != "kube-system" && pod.Namespace != "local-path-storage" {
		return "estate pods"
	}
	for _, key := range []string{"component", "k8s-app", "app"} {
		if v := pod.Labels[key]; v != "" {
			return v
		}
	}
	return pod.Name
}
