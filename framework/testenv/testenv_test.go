package testenv_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/testenv"
)

// The control plane serves the mirror's CRDs, and kwok's nodes are Ready.
func TestControlPlaneWithCRDsAndKwok(t *testing.T) {
	env := testenv.Start(t, testenv.Options{KwokNodes: []string{"kwok-worker", "kwok-worker2"}})
	ctx := context.Background()
	tier := &antreav1beta1.Tier{ObjectMeta: metav1.ObjectMeta{Name: "tp-test"}, Spec: antreav1beta1.TierSpec{Priority: 42}}
	if err := env.Client.Create(ctx, tier); err != nil {
		t.Fatal(err)
	}
	v, err := env.Clientset.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver %s, nodes %v", v.GitVersion, env.Nodes)
}
