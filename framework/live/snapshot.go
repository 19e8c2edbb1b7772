package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/topology"
)

// The files a snapshot writes, which simulate, explain and lint read.
const (
	TopologyFile = "topology.yaml"
	PoliciesFile = "policies.yaml"
)

// Snapshot is a live cluster as the offline commands read it.
type Snapshot struct {
	Topology *topology.Topology
	Policies []*unstructured.Unstructured
	// Notes say what was left out and why, a line each.
	Notes []string
}

// Read takes a snapshot of the cluster cfg reaches, through a read-only
// client (ReadOnly). With namespaces, only their pods and namespaced
// policies are read; every namespace is kept, as policies select them.
func Read(ctx context.Context, cfg *rest.Config, namespaces []string) (*Snapshot, error) {
	cfg = ReadOnly(cfg)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: policy.Scheme()})
	if err != nil {
		return nil, err
	}
	var keep func(corev1.Pod) bool
	if len(namespaces) > 0 {
		keep = func(p corev1.Pod) bool { return slices.Contains(namespaces, p.Namespace) }
	}
	topo, err := Topology(ctx, cs, nil, keep)
	if err != nil {
		return nil, err
	}
	policies, notes, err := Policies(ctx, c, namespaces)
	if err != nil {
		return nil, err
	}
	return &Snapshot{Topology: topo, Policies: policies, Notes: notes}, nil
}

// Write writes the snapshot into dir, which must not exist or be empty: a
// snapshot never overwrites files.
func (s *Snapshot) Write(dir string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: a snapshot goes into a new directory", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	topo, err := s.Topology.Marshal()
	if err != nil {
		return err
	}
	policies, err := s.policiesYAML()
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{TopologyFile: topo, PoliciesFile: policies} {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		_, werr := f.Write(data)
		if err := errors.Join(werr, f.Close()); err != nil {
			return err
		}
	}
	return nil
}

// policiesYAML is the policies as the manifests a user would write.
func (s *Snapshot) policiesYAML() ([]byte, error) {
	var policies bytes.Buffer
	policies.WriteString("# Policies read from a live cluster by tierproof snapshot (status and server-set fields left out).\n")
	for _, p := range s.Policies {
		data, err := yaml.Marshal(p.Object)
		if err != nil {
			return nil, err
		}
		policies.WriteString("---\n")
		policies.Write(data)
	}
	return policies.Bytes(), nil
}

// PolicySet reads the policies as tierproof reads a policies.yaml the
// snapshot wrote: strictly, every problem naming the object.
func (s *Snapshot) PolicySet() (*policy.Set, error) {
	data, err := s.policiesYAML()
	if err != nil {
		return nil, err
	}
	objects, err := policy.Decode("the cluster's policies", data)
	if err != nil {
		return nil, err
	}
	return policy.NewSet(objects)
}
