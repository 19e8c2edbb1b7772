package cluster

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tierproof/tierproof/framework/agentimage"
)

// StandIn replaces, in the estate's pods, every application container whose
// image would have to be pulled with the agent serving that container's
// ports: on a machine that reaches no registry (the local node image) Yelb's
// images cannot be had, and what policies see of a pod is its labels,
// address and listening ports, which stay the same. It returns the images it
// replaced, for the log.
func StandIn(objects []runtime.Object) ([]runtime.Object, []string) {
	var replaced []string
	out := make([]runtime.Object, len(objects))
	for i, o := range objects {
		pod, ok := o.(*corev1.Pod)
		if !ok {
			out[i] = o
			continue
		}
		pod = pod.DeepCopy()
		for j, c := range pod.Spec.Containers {
			if c.Image == agentimage.DefaultTag {
				continue
			}
			replaced = append(replaced, c.Image)
			var tcp, udp []string
			for _, p := range c.Ports {
				if p.Protocol == corev1.ProtocolUDP {
					udp = append(udp, strconv.Itoa(int(p.ContainerPort)))
				} else if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
					tcp = append(tcp, strconv.Itoa(int(p.ContainerPort)))
				}
			}
			args := []string{"serve"}
			if len(tcp) > 0 {
				args = append(args, "--tcp", strings.Join(tcp, ","))
			}
			if len(udp) > 0 {
				args = append(args, "--udp", strings.Join(udp, ","))
			}
			c.Image, c.ImagePullPolicy, c.Command, c.Args = agentimage.DefaultTag, corev1.PullNever, nil, args
			c.Env, c.VolumeMounts = nil, nil
			pod.Spec.Containers[j] = c
		}
		out[i] = pod
	}
	return out, replaced
}
