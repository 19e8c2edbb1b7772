package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/klient"
	kindlog "sigs.k8s.io/kind/pkg/log"

	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/agentimage"
	"github.com/tierproof/tierproof/framework/imagebuild"
	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/live"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/toolprobe"
	"github.com/tierproof/tierproof/framework/topology"
)

// BootOptions configure Boot.
type BootOptions struct {
	ClusterName string // kind cluster name
	NodeImage   string // kind node image; empty: kind.NodeImage
	// WorkDir holds the kubeconfig and the agent image archive: credentials
	// and build outputs, never published with the reports.
	WorkDir string
	// ReportsDir receives the estate's topology.yaml, a report (empty: WorkDir).
	ReportsDir string
	// Enforcer is the NetworkPolicy implementation installed: Antrea
	// (antrea.Enforcer), or kube-router (kuberouter.Enforcer) where Antrea
	// cannot run.
	Enforcer    Enforcer
	AgentBinary string // the static tierproof-agent
	// Kubeconfig selects an existing kind cluster instead of creating one;
	// any other cluster is refused: the agent image and the external hosts
	// can only be brought to kind's nodes and their Docker network.
	Kubeconfig string
	// HostRoot is where the host's /sys and /lib/modules are read (tests);
	// empty: "/".
	HostRoot string
	Estate   EstateSpec
	// DataPlane names the data plane (antrea, kube-router), recorded on the
	// nodes of a cluster Boot creates: a kept one is reused only for the same.
	DataPlane string
	// StandIns replaces application containers by the agent serving their
	// ports, where no registry is reachable (see StandIn).
	StandIns bool
	// Tools, when set, are the tools images' archives by tag
	// (toolsimage.Build): every pod then also runs one of them
	// (ToolsContainer, the images in turn) and probes with its tools — as the
	// blog does by hand — while the agent still serves the ports.
	Tools map[string]string
	Logf  func(format string, args ...any)
}

// snapshotted keeps the estate's pods, and CoreDNS when it is a target.
func snapshotted(s EstateSpec) func(corev1.Pod) bool {
	return func(p corev1.Pod) bool {
		return slices.Contains(s.Namespaces, p.Namespace) || (s.CoreDNS && isCoreDNS(p))
	}
}

// Estate is a booted estate: the cluster, its pods with the agent, the
// external hosts, and the steps that undo them (Finish).
type Estate struct {
	Client   klient.Client
	Topology *topology.Topology
	Values   map[string]string // template values: external IPs, the LB pool CIDR
	Kind     *kind.Cluster     // nil in existing-cluster mode
	Created  bool              // the cluster was created by this run
	spec     EstateSpec
	enforcer Enforcer
	docker   ExternalHosts
	// ephemeral is each agent endpoint's client port range, read at boot.
	ephemeral map[string]topology.PortRange
	// kits are the tools of each pod that probes with its own (BootOptions.Tools).
	kits map[string]toolprobe.Kit
	undo []step
	logf func(string, ...any)
}

type step struct {
	what string
	do   func(context.Context) error
}

// Boot brings up everything the walkthrough runs on. Everything that can
// refuse the run without a cluster (the host, the Antrea manifest and its
// checksum, the agent image) is checked first, so that a refused run leaves
// nothing behind. It always returns the Estate, even with an error, so that
// the caller can keep it for debugging or undo it (Finish).
func Boot(ctx context.Context, o BootOptions) (*Estate, error) {
	e := &Estate{logf: o.Logf, spec: o.Estate}
	registerAntreaTypes()
	// An existing cluster is a kind cluster on this host too: the same checks.
	e.logf("checking the host")
	if err := kind.CheckDocker(ctx); err != nil {
		return e, err
	}
	nodeImage := o.NodeImage
	if nodeImage == "" {
		nodeImage = kind.NodeImage
	}
	if err := o.Enforcer.Prepare(ctx, PrepareEnv{HostRoot: o.HostRoot, NodeImage: nodeImage, Logf: e.logf}); err != nil {
		return e, err
	}
	img, err := agentimage.Build(o.AgentBinary)
	if err != nil {
		return e, fmt.Errorf("%w (build it with make agent)", err)
	}
	imageID, err := img.ConfigName()
	if err != nil {
		return e, err
	}
	if err := os.MkdirAll(o.WorkDir, 0o700); err != nil {
		return e, err
	}
	archive := filepath.Join(o.WorkDir, "tierproof-agent-image.tar")
	if err := imagebuild.WriteArchive(img, agentimage.DefaultTag, archive); err != nil {
		return e, err
	}
	objects, agents := WithAgent(withServiceAccounts(o.Estate.Objects), o.Estate.Probed, o.StandIns)
	e.logf("estate %s: %d objects; the agent in every pod (%s)", o.Estate.Dir, len(objects), map[bool]string{true: "no registry: standing in for the applications' containers", false: "beside the applications' containers"}[o.StandIns])
	for _, line := range agents {
		e.logf("  %s", line)
	}
	toolTags := slices.Sorted(maps.Keys(o.Tools))
	if len(toolTags) > 0 {
		var lines []string
		objects, lines = WithTools(objects, toolTags)
		e.logf("probing with the pods' own tools: a tools container in every pod")
		for _, line := range lines {
			e.logf("  %s", line)
		}
	}
	fingerprints, err := Fingerprint(objects, imageID.String())
	if err != nil {
		return e, err
	}

	kubeconfig := o.Kubeconfig
	if kubeconfig == "" {
		kubeconfig = filepath.Join(o.WorkDir, "kubeconfig")
		if e.Kind, err = kind.New(o.ClusterName, kubeconfig, kindlog.NoopLogger{}); err != nil {
			return e, err
		}
		e.Kind.NodeImage = nodeImage
		e.Kind.Labels = map[string]string{kind.OwnerLabel: o.ClusterName, kind.DataPlaneLabel: o.DataPlane}
		e.logf("creating kind cluster %s (or reusing it)", o.ClusterName)
		if e.Created, err = e.Kind.Up(ctx); err != nil {
			return e, err
		}
		e.logf("kind cluster %s %s, nodes on Docker network %s (%s)", o.ClusterName, map[bool]string{true: "created", false: "reused"}[e.Created], e.Kind.Network.Name, e.Kind.Network.Subnet)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return e, fmt.Errorf("reading kubeconfig %s: %w", kubeconfig, err)
	}
	cfg = kube.WithProbingRateLimits(cfg)
	if e.Client, err = klient.New(cfg); err != nil {
		return e, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return e, err
	}
	if e.Kind == nil {
		if e.Kind, err = kind.Attach(ctx, cs, o.Kubeconfig, cfg.Host); err != nil {
			return e, err
		}
		e.logf("using existing kind cluster %s (nodes on Docker network %s)", e.Kind.Name, e.Kind.Network.Name)
	}
	crc := e.Client.Resources().GetControllerRuntimeClient()
	docker := ExternalHosts{Run: o.ClusterName, Network: e.Kind.Network.Name}
	e.docker = docker
	if !e.Created {
		if err := e.startFresh(ctx, crc, cs, docker, fingerprints); err != nil {
			return e, err
		}
	}

	e.enforcer = o.Enforcer
	e.logf("installing %s", o.Enforcer.Name())
	if err := o.Enforcer.Install(ctx, Installation{Client: crc, Clientset: cs, Getter: e.Client.Resources(), Kind: e.Kind, Logf: e.logf}); err != nil {
		return e, err
	}
	if err := kube.LabelNamespace(ctx, crc, "kube-system", "ns", "kube-system"); err != nil {
		return e, err
	}
	e.push("remove the ns label from kube-system", func(ctx context.Context) error { return kube.UnlabelNamespace(ctx, crc, "kube-system") })

	e.logf("loading the agent image %s into the nodes", imageID)
	open := func() (io.ReadCloser, error) { return os.Open(archive) }
	if err := e.Kind.LoadImageArchive(open); err != nil {
		return e, err
	}

	for _, tag := range toolTags {
		e.logf("loading the tools image %s into the nodes", tag)
		if err := e.Kind.LoadImageArchive(func() (io.ReadCloser, error) { return os.Open(o.Tools[tag]) }); err != nil {
			return e, err
		}
	}

	e.logf("deploying the estate")
	e.Kind.Preload(ctx, estateImages(objects), e.logf)
	applier := kube.NewApplier(crc, o.ClusterName)
	if err := applier.ApplyStage(ctx, "estate", objects); err != nil {
		return e, err
	}
	e.push("delete the estate", applier.Cleanup)
	if err := kube.WaitReady(ctx, e.Client.Resources(), 2*time.Second, 5*time.Minute, workloadsReady(objects)...); err != nil {
		return e, fmt.Errorf("the estate's workloads: %w", err)
	}
	if err := kube.WaitPodsReady(ctx, cs, o.Estate.Namespaces, 2*time.Second, 5*time.Minute); err != nil {
		return e, err
	}
	if err := e.canary(ctx, cfg, cs, crc, o.ClusterName); err != nil {
		return e, err
	}

	externals, err := e.startExternals(ctx, cs, docker, archive)
	if err != nil {
		return e, err
	}
	if e.Topology, err = live.Topology(ctx, cs, externals, snapshotted(o.Estate)); err != nil {
		return e, err
	}
	exec := endpointExec{kube.NewPodExecutor(cfg, cs, AgentContainer), docker, e.Topology}
	if e.ephemeral, err = readEphemeralPorts(ctx, exec.Exec, e.agentEndpoints()); err != nil {
		return e, err
	}
	withEphemeralPorts(e.Topology, e.ephemeral)
	if len(toolTags) > 0 {
		tools := kube.NewPodExecutor(cfg, cs, ToolsContainer)
		if e.kits, err = detectTools(ctx, tools, e.Topology, e.spec.Namespaces); err != nil {
			return e, err
		}
	}
	data, err := e.Topology.Marshal()
	if err != nil {
		return e, err
	}
	reports := o.ReportsDir
	if reports == "" {
		reports = o.WorkDir
	}
	f, err := report.CreateFile(filepath.Join(reports, "topology.yaml"))
	if err != nil {
		return e, err
	}
	_, err = f.Write(data)
	return e, errors.Join(err, f.Close())
}

// canary proves the enforcer enforces before any stage runs (see Canary).
func (e *Estate) canary(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, crc client.Client, run string) error {
	var pods []corev1.Pod
	for _, ns := range e.spec.Namespaces {
		list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		pods = append(pods, list.Items...)
	}
	from, to, port, err := canaryPair(pods)
	if err != nil {
		return err
	}
	c := Canary{Exec: kube.NewPodExecutor(cfg, cs, AgentContainer), Applier: kube.NewApplier(crc, run),
		Denial: e.enforcer.Semantics().K8sDenial, Logf: e.logf}
	return c.Check(ctx, from, to, port)
}

// startFresh brings a cluster this run did not create to the state a new one
// has: an earlier run that failed and kept its cluster left its external
// hosts (whose names this run's would clash with), its policies (which would
// be in force at the first stage) and pods made by its build of tierproof
// (another agent image or pod spec: see EstateAnnotation).
func (e *Estate) startFresh(ctx context.Context, c client.Client, cs kubernetes.Interface, d ExternalHosts, fingerprints map[string]string) error {
	removed, err := d.RemoveExternals(ctx)
	if err != nil {
		return err
	}
	if removed > 0 {
		e.logf("reused cluster: removed %d external host containers an earlier run left", removed)
	}
	policies, err := RemoveLeftoverPolicies(ctx, c)
	if err != nil {
		return fmt.Errorf("reused cluster: removing an earlier run's policies: %w", err)
	}
	if len(policies) > 0 {
		e.logf("reused cluster: removed %d policies, groups and Tiers an earlier run applied: %s", len(policies), joinRefs(policies))
	}
	pods, err := RecreateStalePods(ctx, cs, e.spec.Namespaces, fingerprints, 2*time.Minute)
	if err != nil {
		return fmt.Errorf("reused cluster: %w", err)
	}
	if len(pods) > 0 {
		e.logf("reused cluster: deleted %d pods made by another build of the agent or the estate, to be recreated: %s", len(pods), strings.Join(pods, ", "))
	}
	if removed == 0 && len(policies) == 0 && len(pods) == 0 {
		e.logf("reused cluster: nothing left from an earlier run")
	}
	return nil
}

func joinRefs(refs []kube.ObjectRef) string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

func isCoreDNS(p corev1.Pod) bool {
	return p.Namespace == "kube-system" && p.Labels["k8s-app"] == "kube-dns"
}

// agentEndpoints are the endpoints running the agent: the estate's pods and
// the external hosts.
func (e *Estate) agentEndpoints() []string {
	var out []string
	for _, pod := range e.Topology.Pods {
		if slices.Contains(e.spec.Namespaces, pod.Namespace) {
			out = append(out, pod.EndpointName())
		}
	}
	for _, ext := range e.Topology.Externals {
		out = append(out, ext.Name)
	}
	return out
}

// Plane is the estate as a walkthrough data plane: its enforcer on this
// cluster, probing from the pods and the external hosts Boot started. The
// policies it applies, labelled as run's, are deleted at Teardown, before the
// estate.
func (e *Estate) Plane(run string) (*ClusterPlane, error) {
	cfg := e.Client.RESTConfig()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	crc := e.Client.Resources().GetControllerRuntimeClient()
	p := &ClusterPlane{Enforcer: e.enforcer, Client: crc, Applier: kube.NewApplier(crc, run),
		Pods: kube.NewPodExecutor(cfg, cs, AgentContainer), Externals: e.docker, Topology: e.Topology,
		Agents: map[string]bool{}, DNS: map[string]bool{}}
	externals := e.Topology.Externals
	p.ReadEstate = func(ctx context.Context) (*topology.Topology, error) {
		topo, err := live.Topology(ctx, cs, externals, snapshotted(e.spec))
		if err != nil {
			return nil, err
		}
		return withEphemeralPorts(topo, e.ephemeral), nil
	}
	for _, ep := range e.agentEndpoints() {
		p.Agents[ep] = true
	}
	if len(e.kits) > 0 {
		p.Tools, p.ToolsPods = e.kits, kube.NewPodExecutor(cfg, cs, ToolsContainer)
	}
	for _, pod := range e.Topology.Pods {
		if !p.Agents[pod.EndpointName()] {
			p.DNS[pod.EndpointName()] = true
		}
	}
	e.push("delete the walkthrough's policies", p.Applier.Cleanup)
	return p, nil
}

func (e *Estate) push(what string, do func(context.Context) error) {
	e.undo = append(e.undo, step{what, do})
}

// Finish keeps everything for inspection, or undoes it: Teardown, then the
// cluster itself if this run created it. Cleanup gets its own deadline, so it
// also runs after Ctrl-C has cancelled ctx.
func (e *Estate) Finish(ctx context.Context, keep bool) error {
	if keep {
		if e.Kind != nil {
			e.logf("kept kind cluster %s (KUBECONFIG=%s); remove it with: kind delete cluster --name %s", e.Kind.Name, e.Kind.KubeconfigPath, e.Kind.Name)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
	defer cancel()
	err := e.Teardown(ctx)
	if e.Created {
		err = errors.Join(err, e.Kind.Down(ctx))
	}
	return err
}

// Teardown undoes Boot's steps, newest first; the cluster itself is the
// caller's to delete (see Kind.Down).
func (e *Estate) Teardown(ctx context.Context) error {
	var errs []error
	for i := len(e.undo) - 1; i >= 0; i-- {
		if err := e.undo[i].do(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.undo[i].what, err))
		}
	}
	e.undo = nil
	return errors.Join(errs...)
}

// estateImages lists the application images of the estate's pod templates.
func estateImages(objects []runtime.Object) []string {
	var images []string
	for _, o := range objects {
		_, spec := podSpecOf(o)
		if spec == nil {
			continue
		}
		for _, c := range spec.Containers {
			if c.Image != agentimage.DefaultTag && c.Name != ToolsContainer && !slices.Contains(images, c.Image) {
				images = append(images, c.Image)
			}
		}
	}
	return images
}

func (e *Estate) startExternals(ctx context.Context, cs kubernetes.Interface, d ExternalHosts, archive string) ([]topology.External, error) {
	if _, err := kind.RunDocker(ctx, nil, "load", "-i", archive); err != nil {
		return nil, fmt.Errorf("loading the agent image into Docker for the external hosts: %w", err)
	}
	servers, pool, clients := e.spec.servers()
	plan, err := PlanExternals(e.Kind.Network.Subnet, servers, pool, clients)
	if err != nil {
		return nil, fmt.Errorf("Docker network %s: %w", e.Kind.Network.Name, err)
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	routes, err := PodRoutes(nodes.Items)
	if err != nil {
		return nil, err
	}
	e.push("remove the external hosts", func(ctx context.Context) error { _, err := d.RemoveExternals(ctx); return err })
	e.logf("starting external hosts %v on Docker network %s", plan.Values, d.Network)
	if err := d.StartExternals(ctx, plan, e.spec.Probed, routes); err != nil {
		if !e.Kind.Network.Owned {
			err = fmt.Errorf("%w (Docker before 29.0.4 gives fixed addresses only on networks created with a subnet, and network %s was not made by tierproof: delete the cluster with kind delete cluster --name %s and let tierproof create it)", err, d.Network, e.Kind.Name)
		}
		return nil, err
	}
	e.Values = plan.Values
	return plan.Hosts, nil
}

var registerAntrea sync.Once

// registerAntreaTypes adds the Antrea type mirror and the network-policy-api's
// ClusterNetworkPolicy to client-go's scheme, which e2e-framework's klient
// uses, so typed policy objects work everywhere.
func registerAntreaTypes() {
	registerAntrea.Do(func() {
		// Registering known types into a scheme cannot fail.
		_ = antreav1beta1.AddToScheme(clientgoscheme.Scheme)
		_ = npav1alpha2.Install(clientgoscheme.Scheme)
	})
}
