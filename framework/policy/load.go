// Package policy reads policy manifests — Antrea's crd.antrea.io/v1beta1 kinds,
// Kubernetes NetworkPolicies and the network-policy-api's ClusterNetworkPolicy —
// strictly into typed objects, remembering the file
// and document each object came from so that every later error can point there.
package policy

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	npav1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/manifest"
)

// Source locates a document in a file.
type Source = manifest.Source

// Object is a decoded manifest and where it came from.
type Object = manifest.Object

// Scheme knows exactly the kinds a policy input may contain.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	// The registrations only add types to a fresh scheme; they cannot fail.
	_ = antreav1beta1.AddToScheme(s)
	_ = networkingv1.AddToScheme(s)
	_ = npav1alpha2.Install(s)
	_ = npav1beta1.Install(s)
	return s
}

var (
	scheme  = Scheme()
	decoder = manifest.NewDecoder(scheme, describeKinds()).Refusing(refusal)
)

// ReadPath reads a multi-document YAML file, or every *.yaml and *.yml file of a
// directory in lexical order.
func ReadPath(ctx context.Context, path string) ([]Object, error) { return decoder.ReadPath(ctx, path) }

// Decode decodes the YAML documents of data strictly.
func Decode(file string, data []byte) ([]Object, error) { return decoder.Decode(file, data) }
