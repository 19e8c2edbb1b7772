package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/toolprobe"
	"github.com/tierproof/tierproof/framework/topology"
)

// k8sPolicySettle is how long a stage with K8s NetworkPolicies waits before
// probing: they report no status, so there is nothing to wait for; Antrea's own
// e2e sleeps likewise, and the probe engine's retries cover the rest.
const k8sPolicySettle = 2 * time.Second

// ClusterPlane is the cluster's enforcer as a walkthrough data plane.
type ClusterPlane struct {
	Enforcer  Enforcer
	Client    client.Client
	Applier   *kube.Applier
	Pods      *kube.PodExecutor
	Externals ExternalHosts
	Topology  *topology.Topology
	// Agents are the endpoints running the agent (fixture pods, external
	// hosts): probes start there and may target them on any probed port.
	Agents map[string]bool
	// DNS are the CoreDNS pods: targets on TCP and UDP 53 only.
	DNS map[string]bool
	// Tools are the network tools of each pod that probes with its own
	// (BootOptions.Tools), exec'd in its ToolsContainer; others probe with
	// the agent.
	Tools     map[string]toolprobe.Kit
	ToolsPods *kube.PodExecutor
	// ReadEstate reads the live estate (nil: Topology stays as it is).
	ReadEstate func(ctx context.Context) (*topology.Topology, error)
	// AfterApply, when set, runs once a stage is applied: a test's change
	// behind the scenario's back (-tierproof.out-of-band).
	AfterApply func(ctx context.Context, stage int) error
	// relabelled holds each label Relabel changed, with its first value (nil: absent).
	relabelled map[labelKey]*string
}

// Snapshot re-reads the estate after a stage is applied, so the model sees the
// labels and addresses of that moment.
func (p *ClusterPlane) Snapshot(ctx context.Context) (*topology.Topology, error) {
	if p.ReadEstate != nil {
		topo, err := p.ReadEstate(ctx)
		if err != nil {
			return nil, err
		}
		p.Topology = topo
	}
	return p.Topology, nil
}

// Probeable says why a flow cannot be probed on the cluster (nil: it can).
func (p *ClusterPlane) Probeable(f probe.Flow) error {
	switch {
	case !p.Agents[f.From]:
		return errors.New("the source runs no prober (CoreDNS)")
	case p.DNS[f.To] && !(f.Probe.Port == 53 && (f.Probe.Protocol == model.TCP || f.Probe.Protocol == model.UDP)):
		return errors.New("CoreDNS serves TCP and UDP 53 only")
	case !p.Agents[f.To] && !p.DNS[f.To]:
		return errors.New("the destination serves nothing to probe")
	}
	if kit, ok := p.Tools[f.From]; ok {
		if _, err := toolprobe.Choose(kit, f.Probe); err != nil {
			return fmt.Errorf("the pod's own tools: %w", err)
		}
	}
	return nil
}

// Prober is a source's prober: its own tools where it has them, else the agent.
func (p *ClusterPlane) Prober(source string) probe.Prober {
	if kit, ok := p.Tools[source]; ok {
		return toolprobe.Prober{Kit: kit}
	}
	return nil
}

// Name says what answers the probes, and with what.
func (p *ClusterPlane) Name() string {
	if len(p.Tools) > 0 {
		return p.Enforcer.Name() + ", probed from the pods with their own ping, curl and nc"
	}
	return p.Enforcer.Name()
}

// Semantics are the enforcer's.
func (p *ClusterPlane) Semantics() model.Semantics { return p.Enforcer.Semantics() }

// Apply server-side applies everything the stages so far hold — unchanged
// objects are left as they are, changed ones are updated — and waits until
// the enforcer says they are in force (Antrea: realized).
func (p *ClusterPlane) Apply(ctx context.Context, stage int, policies *policy.Set) error {
	if err := p.Applier.ApplyStage(ctx, fmt.Sprintf("#%d", stage), policies.Objects()); err != nil {
		return err
	}
	if err := p.Enforcer.Enforced(ctx, policies); err != nil {
		return err
	}
	if p.AfterApply != nil {
		if err := p.AfterApply(ctx, stage); err != nil {
			return err
		}
	}
	if len(policies.K8sNetworkPolicies) > 0 || p.AfterApply != nil {
		select {
		case <-time.After(k8sPolicySettle):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// IP is the endpoint's address in the snapshot.
func (p *ClusterPlane) IP(endpoint string) string {
	for _, pod := range p.Topology.Pods {
		if pod.EndpointName() == endpoint {
			return pod.IP
		}
	}
	for _, e := range p.Topology.Externals {
		if e.Name == endpoint {
			return e.IP
		}
	}
	return ""
}

// Exec runs in a pod's agent sidecar ("ns/pod") or an external host's container.
func (p *ClusterPlane) Exec(ctx context.Context, endpoint string, command []string, stdin []byte) ([]byte, []byte, error) {
	if _, ok := p.Tools[endpoint]; ok && len(command) > 0 && command[0] == toolprobe.Shell {
		// A tools script (Prober) runs where the tools are.
		return p.ToolsPods.Exec(ctx, liveName(p.Topology, endpoint), command, stdin)
	}
	return endpointExec{p.Pods, p.Externals, p.Topology}.Exec(ctx, endpoint, command, stdin)
}

// Relabel merge-patches the labels of namespaces and pods, remembering each
// label's first value so that Reset can put it back.
func (p *ClusterPlane) Relabel(ctx context.Context, changes []topology.LabelChange) error {
	for _, c := range changes {
		obj := p.relabelTarget(c)
		if err := p.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return fmt.Errorf("relabel %s: %w", c.Target(), err)
		}
		if p.relabelled == nil {
			p.relabelled = map[labelKey]*string{}
		}
		patch := map[string]*string{}
		remember := func(key string, to *string) {
			k := labelKey{c.Namespace, c.Pod, key}
			if _, seen := p.relabelled[k]; !seen {
				if old, ok := obj.GetLabels()[key]; ok {
					p.relabelled[k] = &old
				} else {
					p.relabelled[k] = nil
				}
			}
			patch[key] = to
		}
		for _, key := range c.Remove {
			remember(key, nil)
		}
		for key, value := range c.Set {
			remember(key, &value)
		}
		if err := p.patchLabels(ctx, obj, patch); err != nil {
			return fmt.Errorf("relabel %s: %w", c.Target(), err)
		}
	}
	return nil
}

// Reset deletes the policies applied so far and puts relabelled labels back,
// so that the next scenario starts from the estate as booted.
func (p *ClusterPlane) Reset(ctx context.Context) error {
	err := p.Applier.Cleanup(ctx)
	type target struct{ namespace, pod string }
	byTarget := map[target]map[string]*string{}
	for k, old := range p.relabelled {
		t := target{k.namespace, k.pod}
		if byTarget[t] == nil {
			byTarget[t] = map[string]*string{}
		}
		byTarget[t][k.key] = old
	}
	for t, patch := range byTarget {
		c := topology.LabelChange{Namespace: t.namespace, Pod: t.pod}
		if perr := p.patchLabels(ctx, p.relabelTarget(c), patch); perr != nil {
			err = errors.Join(err, fmt.Errorf("restoring the labels of %s: %w", c.Target(), perr))
		}
	}
	p.relabelled = nil
	return err
}

// labelKey is one label of a namespace (pod empty) or pod.
type labelKey struct{ namespace, pod, key string }

// relabelTarget is the namespace or the live pod a label change names.
func (p *ClusterPlane) relabelTarget(c topology.LabelChange) client.Object {
	if c.Pod == "" {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: c.Namespace}}
	}
	_, pod, _ := strings.Cut(liveName(p.Topology, c.Namespace+"/"+c.Pod), "/")
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: pod}}
}

// patchLabels sets labels (nil values remove them) with a JSON merge patch:
// server-side apply could not remove labels the estate's manager owns.
func (p *ClusterPlane) patchLabels(ctx context.Context, obj client.Object, labels map[string]*string) error {
	data, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if err != nil {
		return err
	}
	return p.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, data))
}
