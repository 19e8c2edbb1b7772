package cluster

import (
	"fmt"
	"path/filepath"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/scenario"
)

// EstateSpec is what a cluster run deploys besides its enforcer: the
// scenarios' estate, to which Boot gives the agent, and the hosts outside
// the cluster.
type EstateSpec struct {
	Dir     string           // where the estate was read
	Objects []runtime.Object // its manifests, as written, in file order
	// Namespaces hold the estate's workloads: the pods that run the agent.
	Namespaces []string
	Externals  []scenario.External
	// Probed is what every agent serves: every port the scenarios probe.
	Probed agent.Ports
	// CoreDNS makes CoreDNS a probe target (TCP and UDP 53).
	CoreDNS bool
}

// EstateFor is the estate the scenarios of one run play on: they must share
// it (one directory) and their hosts outside the cluster; the agents serve
// every port any of them probes.
func EstateFor(scenarios ...*scenario.Scenario) (EstateSpec, error) {
	if len(scenarios) == 0 {
		return EstateSpec{}, fmt.Errorf("no scenario to play")
	}
	first := scenarios[0]
	if first.Estate == nil {
		return EstateSpec{}, fmt.Errorf("scenario %s has a topology file and no estate: a cluster run deploys a scenario's estate (estate: in scenario.yaml); play it offline or in the lab", first.Name)
	}
	dir, err := filepath.Abs(first.Estate.Dir)
	if err != nil {
		return EstateSpec{}, err
	}
	spec := EstateSpec{Dir: first.Estate.Dir, Externals: first.Externals, CoreDNS: first.CoreDNS}
	for _, ns := range first.Estate.Namespaces {
		if ns.Implied && ns.Name != corev1.NamespaceDefault {
			spec.Objects = append(spec.Objects, &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: ns.Name}})
		}
	}
	for _, o := range first.Estate.Objects {
		spec.Objects = append(spec.Objects, o.Object)
	}
	for _, w := range first.Estate.Workloads {
		if !slices.Contains(spec.Namespaces, w.Namespace) {
			spec.Namespaces = append(spec.Namespaces, w.Namespace)
		}
	}
	for _, s := range scenarios {
		other := ""
		if s.Estate != nil {
			other, _ = filepath.Abs(s.Estate.Dir)
		}
		if other != dir || !slices.EqualFunc(s.Externals, first.Externals, sameExternal) || s.CoreDNS != first.CoreDNS {
			return EstateSpec{}, fmt.Errorf("scenarios %s and %s play on different estates (estate, externals or coreDNS in scenario.yaml): one run boots one; run them one at a time", first.Name, s.Name)
		}
		spec.Probed = spec.Probed.Union(probe.AgentPorts(s.Probes))
	}
	return spec, nil
}

func sameExternal(a, b scenario.External) bool {
	return a.Name == b.Name && a.Clients == b.Clients && slices.Equal(a.Ports, b.Ports)
}

// servers and pool split the externals as PlanExternals places them.
func (s EstateSpec) servers() (servers []string, pool string, clients int) {
	for _, x := range s.Externals {
		if x.Clients > 0 {
			pool, clients = x.Name, x.Clients
			continue
		}
		servers = append(servers, x.Name)
	}
	return servers, pool, clients
}

// withServiceAccounts adds a ServiceAccount for each one a pod template
// names that the estate does not create: the API server refuses pods of an
// account that does not exist.
func withServiceAccounts(objects []runtime.Object) []runtime.Object {
	have := map[string]bool{}
	for _, o := range objects {
		if sa, ok := o.(*corev1.ServiceAccount); ok {
			have[sa.Namespace+"/"+sa.Name] = true
		}
	}
	out := slices.Clone(objects)
	for _, o := range objects {
		_, spec := podSpecOf(o)
		if spec == nil || spec.ServiceAccountName == "" || spec.ServiceAccountName == "default" {
			continue
		}
		ns := o.(metav1.Object).GetNamespace()
		if key := ns + "/" + spec.ServiceAccountName; !have[key] {
			have[key] = true
			out = append(out, &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: spec.ServiceAccountName}})
		}
	}
	return out
}

// workloadsReady are the readiness checks of the estate's controllers.
func workloadsReady(objects []runtime.Object) []kube.Readiness {
	var checks []kube.Readiness
	for _, o := range objects {
		switch w := o.(type) {
		case *appsv1.Deployment:
			checks = append(checks, kube.DeploymentReady(w.Namespace, w.Name))
		case *appsv1.StatefulSet:
			checks = append(checks, kube.StatefulSetReady(w.Namespace, w.Name))
		case *appsv1.DaemonSet:
			checks = append(checks, kube.DaemonSetReady(w.Namespace, w.Name))
		case *appsv1.ReplicaSet:
			checks = append(checks, kube.ReplicaSetReady(w.Namespace, w.Name))
		}
	}
	return checks
}
