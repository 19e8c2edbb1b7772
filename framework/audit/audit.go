// Package audit checks a live cluster against its own policies without
// changing it: a read-only snapshot, the model's matrix, the flows probed from
// inside the source pods with the tools their images already have
// (framework/toolprobe) — or, opted into, with tierproof's agent added as an
// ephemeral container — and the comparison. Its client refuses every write
// but a pod's exec (live.ReadOnly with live.PodsExec), and adding an
// ephemeral container with the agent prober (live.PodsEphemeralContainers).
package audit

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/live"
	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/toolprobe"
	"github.com/tierproof/tierproof/framework/topology"
)

// Options say what to audit and how.
type Options struct {
	// Config reaches the cluster; the audit only ever uses it read-only,
	// with exec into pods.
	Config     *rest.Config
	Namespaces []string // the source and destination pods' namespaces; none: all
	// Probes are the probes to judge; none: ICMP and every TCP port a pod
	// of the audited namespaces declares.
	Probes    []model.Probe
	Semantics model.Semantics
	// MaxFlows caps the flows probed (0: all) with a sample that still holds
	// a flow of every rule that decides one, even where those are more.
	MaxFlows           int
	MaxConcurrentExecs int // 0: 8
	// Probe is false for a dry run: the snapshot, the model and the choice
	// of tools, no probe sent.
	Probe bool
	// AgentImage, when set, probes with tierproof's agent from this image,
	// added to each source pod as an ephemeral container (which stays in the
	// pod's spec until the pod is replaced), instead of the pods' own tools.
	AgentImage string
	Logf       func(format string, args ...any)
}

// NotProbed is a flow the audit judged but could not probe, and why.
type NotProbed struct {
	Flow probe.Flow
	Why  string
}

// Result is an audit's outcome.
type Result struct {
	Snapshot *live.Snapshot
	Matrix   *matrix.Matrix
	// Flows is every flow between the audited pods the probes cover (a
	// destination serving the port); Sampled those chosen to probe.
	Flows, Sampled int
	Probed         []probe.Observation
	NotProbed      []NotProbed
	Execs          int
	Took           time.Duration
}

// Mismatches are the probed cells whose verdict differs from the model's.
func (r *Result) Mismatches() []matrix.Cell { return r.Matrix.Mismatches() }

// Run audits the cluster.
func Run(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	snap, err := live.Read(ctx, o.Config, o.Namespaces)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster: %w", err)
	}
	for _, n := range snap.Notes {
		logf("%s", n)
	}
	set, err := snap.PolicySet()
	if err != nil {
		return nil, err
	}
	m, err := model.CompileContext(ctx, snap.Topology, set, o.Semantics)
	if err != nil {
		return nil, fmt.Errorf("the cluster's policies: %w", err)
	}
	probes := o.Probes
	if len(probes) == 0 {
		probes = declaredProbes(snap.Topology)
	}
	x, err := matrix.ExpectedContext(ctx, m, probes)
	if err != nil {
		return nil, err
	}
	flows := candidateFlows(snap.Topology, probes)
	sampled := sample(flows, x, o.MaxFlows)
	logf("%d pods, %d policies, %d probes: %d flows between pods that serve the port; %d to probe", len(snap.Topology.Pods), len(snap.Policies), len(probes), len(flows), len(sampled))
	r := &Result{Snapshot: snap, Matrix: x, Flows: len(flows), Sampled: len(sampled)}
	if err := probeFlows(ctx, o, snap.Topology, sampled, r, logf); err != nil {
		return nil, err
	}
	if err := x.Observe(r.Probed); err != nil {
		return nil, err
	}
	r.Took = time.Since(start)
	return r, nil
}

// declaredProbes are ICMP and every TCP port a pod declares, in port order.
func declaredProbes(t *topology.Topology) []model.Probe {
	ports := map[int32]bool{}
	for _, p := range t.Pods {
		for _, cp := range p.Ports {
			if cp.Protocol == "" || cp.Protocol == corev1.ProtocolTCP {
				ports[cp.Port] = true
			}
		}
	}
	probes := []model.Probe{{Protocol: model.ICMP}}
	for _, port := range slices.Sorted(maps.Keys(ports)) {
		probes = append(probes, model.Probe{Protocol: model.TCP, Port: port})
	}
	return probes
}

// serves says whether pod answers p: ICMP always, a port only when declared.
func serves(pod topology.Pod, p model.Probe) bool {
	if p.Protocol == model.ICMP {
		return true
	}
	for _, cp := range pod.Ports {
		protocol := model.ProtocolOf(cmp.Or(cp.Protocol, corev1.ProtocolTCP))
		if cp.Port == p.Port && protocol == p.Protocol {
			return true
		}
	}
	return false
}

// candidateFlows are the flows between two different pods whose destination
// serves the probe: a refusal then is the policy's, not a closed port's.
func candidateFlows(t *topology.Topology, probes []model.Probe) []probe.Flow {
	var flows []probe.Flow
	for _, p := range probes {
		for _, from := range t.Pods {
			for _, to := range t.Pods {
				if from.EndpointName() != to.EndpointName() && serves(to, p) {
					flows = append(flows, probe.Flow{From: from.EndpointName(), To: to.EndpointName(), ToIP: to.IP, Probe: p})
				}
			}
		}
	}
	return flows
}

// sample keeps at most max flows: first one flow of every rule that decides
// some flow (either side), then the rest in an order fixed by each flow's
// name, so the same cluster gives the same sample.
func sample(flows []probe.Flow, x *matrix.Matrix, max int) []probe.Flow {
	if max <= 0 || len(flows) <= max {
		return flows
	}
	key := func(f probe.Flow) uint64 {
		h := fnv.New64a()
		h.Write([]byte(f.String()))
		return h.Sum64()
	}
	ordered := slices.Clone(flows)
	sort.SliceStable(ordered, func(i, j int) bool { return key(ordered[i]) < key(ordered[j]) })
	endpoints, probes := map[string]int{}, map[model.Probe]int{}
	for i, e := range x.Endpoints {
		endpoints[e] = i
	}
	for i, p := range x.Probes {
		probes[p] = i
	}
	decided := map[*model.RuleInfo]bool{}
	chosen := map[int]bool{}
	var out []probe.Flow
	for i, f := range ordered {
		r := x.Expected(probes[f.Probe], endpoints[f.From], endpoints[f.To])
		for _, rule := range []*model.RuleInfo{r.Egress.Rule, r.Ingress.Rule} {
			if rule != nil && !decided[rule] {
				decided[rule] = true
				if !chosen[i] {
					chosen[i] = true
					out = append(out, f)
				}
			}
		}
	}
	for i, f := range ordered {
		if len(out) >= max {
			break
		}
		if !chosen[i] {
			out = append(out, f)
		}
	}
	return out
}

// probeFlows finds each source pod's tools (one exec per container), then
// probes with the probe engine: one exec of a toolprobe script per source,
// the flows no tool of the source can judge left out with why.
func probeFlows(ctx context.Context, o Options, t *topology.Topology, flows []probe.Flow, r *Result, logf func(string, ...any)) error {
	permits := []live.Permit{live.PodsExec}
	prepare := detect
	if o.AgentImage != "" {
		permits = append(permits, live.PodsEphemeralContainers)
		prepare = func(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, p topology.Pod) (livePod, int, string) {
			return injectAgent(ctx, cs, p, o.AgentImage)
		}
	}
	cfg := kube.WithProbingRateLimits(live.ReadOnly(o.Config, permits...))
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if !o.Probe {
		for _, f := range flows {
			r.NotProbed = append(r.NotProbed, NotProbed{f, "a dry run: nothing probed"})
		}
		return nil
	}
	sources := map[string]bool{}
	for _, f := range flows {
		sources[f.From] = true
	}
	x := &sourceExec{cfg: cfg, cs: cs, pods: map[string]livePod{}}
	limit := cmp.Or(o.MaxConcurrentExecs, 8)
	sem := make(chan struct{}, limit)
	var mu sync.Mutex
	var wg sync.WaitGroup
	why := map[string]string{} // the sources without tools
	for _, p := range t.Pods {
		if !sources[p.EndpointName()] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			lp, execs, reason := prepare(ctx, cfg, cs, p)
			mu.Lock()
			defer mu.Unlock()
			r.Execs += execs
			if reason != "" {
				why[p.EndpointName()] = reason
				return
			}
			x.pods[p.EndpointName()] = lp
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	var probed []probe.Flow
	for _, f := range flows {
		if reason, ok := why[f.From]; ok {
			r.NotProbed = append(r.NotProbed, NotProbed{f, reason})
		} else if err := probeable(o, x.pods[f.From], f); err != nil {
			r.NotProbed = append(r.NotProbed, NotProbed{f, err.Error()})
		} else {
			probed = append(probed, f)
		}
	}
	// A second look at a cell that failed or disagreed: a mismatch reported
	// is one the cluster gave twice.
	engine := probe.NewEngine(x, probe.Config{Parallel: limit, Retries: 1,
		Probers: func(source string) probe.Prober {
			if x.pods[source].kit == nil {
				return nil // the agent
			}
			return toolprobe.Prober{Kit: x.pods[source].kit}
		}})
	obs, stats := engine.Run(ctx, probed, r.Matrix.Expectation())
	if err := ctx.Err(); err != nil {
		return err
	}
	r.Execs += int(stats.Execs)
	for _, ob := range obs {
		if ob.Verdict() == probe.Error {
			// Neither a pass nor a mismatch: the exec failed, or the tool said
			// something the classification was not taught (testdata/recorded).
			r.NotProbed = append(r.NotProbed, NotProbed{ob.Flow, ob.Attempts[len(ob.Attempts)-1].Detail})
			continue
		}
		r.Probed = append(r.Probed, ob)
	}
	sort.Slice(r.NotProbed, func(i, j int) bool { return r.NotProbed[i].Flow.String() < r.NotProbed[j].Flow.String() })
	logf("probed %d flows in %d execs; %d not probed", len(r.Probed), r.Execs, len(r.NotProbed))
	return nil
}

// probeable says why f cannot be judged from its source (nil: it can): with
// the pod's tools, when none of them fits; with the agent, when it is not
// ICMP or TCP (a UDP or SCTP server that is not the agent's may answer
// nothing, which looks like a drop).
func probeable(o Options, p livePod, f probe.Flow) error {
	if o.AgentImage == "" {
		_, err := toolprobe.Choose(p.kit, f.Probe)
		return err
	}
	if f.Probe.Protocol != model.ICMP && f.Probe.Protocol != model.TCP {
		return fmt.Errorf("the agent tells a %s drop from a server's silence only with its own servers", f.Probe.Protocol)
	}
	return nil
}

// livePod is a source pod as the audit execs into it: its live name and the
// container that probes, with its tools (none: the agent's container).
type livePod struct {
	name, container string
	kit             toolprobe.Kit
}

// sourceExec runs the probe engine's commands in each source's probing
// container: the one with its tools, or the agent's ephemeral one.
type sourceExec struct {
	cfg  *rest.Config
	cs   kubernetes.Interface
	pods map[string]livePod // by endpoint name; written before the engine runs
}

func (x *sourceExec) Exec(ctx context.Context, endpoint string, command []string, stdin []byte) ([]byte, []byte, error) {
	p := x.pods[endpoint]
	return kube.NewPodExecutor(x.cfg, x.cs, p.container).Exec(ctx, p.name, command, stdin)
}

// detect finds the container of pod with the most tools: one exec of
// DetectScript per container. reason says why none can probe.
func detect(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, pod topology.Pod) (p livePod, execs int, reason string) {
	name := cmp.Or(pod.PodName, pod.Name)
	p.name = pod.Namespace + "/" + name
	running, err := cs.CoreV1().Pods(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return p, 0, "reading the source pod: " + err.Error()
	}
	var errs []string
	for _, c := range running.Spec.Containers {
		execs++
		xctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out, stderr, err := kube.NewPodExecutor(cfg, cs, c.Name).Exec(xctx, p.name, []string{toolprobe.Shell, "-c", toolprobe.DetectScript}, nil)
		cancel()
		if err != nil {
			why := strings.TrimSpace(err.Error() + ": " + string(stderr))
			if strings.Contains(why, toolprobe.Shell+": no such file or directory") {
				why = "no " + toolprobe.Shell + " in it" // the common case: an image of one static binary
			}
			errs = append(errs, c.Name+": "+why)
			continue
		}
		if k := toolprobe.ParseKit(string(out)); len(k) > len(p.kit) {
			p.container, p.kit = c.Name, k
		}
	}
	if p.kit == nil {
		reason = "no container of the source pod has a shell with ping, curl, wget, nc or bash"
		if len(errs) > 0 {
			reason += " (" + strings.Join(errs, "; ") + ")"
		}
	}
	return p, execs, reason
}

// agentContainer names the agent's ephemeral container after its image, so
// that a later audit with the same image finds it and adds no other.
func agentContainer(image string) string {
	h := fnv.New32a()
	h.Write([]byte(image))
	return fmt.Sprintf("tierproof-audit-%08x", h.Sum32())
}

// injectAgent adds the agent to pod as an ephemeral container running until
// the pod ends, or finds the one an earlier audit added, and waits until it
// runs. Ephemeral containers cannot be removed: it stays in the pod's spec.
func injectAgent(ctx context.Context, cs kubernetes.Interface, pod topology.Pod, image string) (p livePod, execs int, reason string) {
	name := cmp.Or(pod.PodName, pod.Name)
	p.name, p.container = pod.Namespace+"/"+name, agentContainer(image)
	pods := cs.CoreV1().Pods(pod.Namespace)
	running, err := pods.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return p, 0, "reading the source pod: " + err.Error()
	}
	if !slices.ContainsFunc(running.Spec.EphemeralContainers, func(c corev1.EphemeralContainer) bool { return c.Name == p.container }) {
		running.Spec.EphemeralContainers = append(running.Spec.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: p.container, Image: image, Command: []string{agent.Path, "serve"},
				SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_RAW"}}}}})
		if _, err := pods.UpdateEphemeralContainers(ctx, name, running, metav1.UpdateOptions{}); err != nil {
			return p, 0, "adding the agent as an ephemeral container: " + err.Error()
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		running, err = pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return p, 0, "reading the source pod: " + err.Error()
		}
		for _, s := range running.Status.EphemeralContainerStatuses {
			switch {
			case s.Name != p.container:
			case s.State.Running != nil:
				return p, 0, ""
			case s.State.Terminated != nil:
				return p, 0, fmt.Sprintf("the agent's ephemeral container %s ended: %s %s", p.container, s.State.Terminated.Reason, s.State.Terminated.Message)
			case s.State.Waiting != nil && s.State.Waiting.Reason != "ContainerCreating" && s.State.Waiting.Reason != "":
				if time.Now().After(deadline) || strings.Contains(s.State.Waiting.Reason, "Err") {
					return p, 0, fmt.Sprintf("the agent's ephemeral container %s does not start: %s %s", p.container, s.State.Waiting.Reason, s.State.Waiting.Message)
				}
			}
		}
		if time.Now().After(deadline) {
			return p, 0, "the agent's ephemeral container " + p.container + " did not start in 90 s"
		}
		select {
		case <-ctx.Done():
			return p, 0, ctx.Err().Error()
		case <-time.After(time.Second):
		}
	}
}
