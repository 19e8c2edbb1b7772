package cluster_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/cluster"
)

func TestStandInServesTheApplicationsPorts(t *testing.T) {
	objects, err := fixtures.Estate("antrea-blog")
	if err != nil {
		t.Fatal(err)
	}
	out, replaced := cluster.StandIn(objects)
	if len(replaced) != 4 || !strings.Contains(strings.Join(replaced, " "), "mreferre/yelb-ui:0.10") {
		t.Fatalf("replaced %v", replaced)
	}
	var ui *corev1.Pod
	for _, o := range out {
		if p, ok := o.(*corev1.Pod); ok && p.Name == "yelb-ui" {
			ui = p
		}
	}
	if ui == nil {
		t.Fatal("no yelb-ui pod")
	}
	app := ui.Spec.Containers[0]
	if app.Image != "tierproof.local/agent:dev" || app.ImagePullPolicy != corev1.PullNever ||
		strings.Join(app.Args, " ") != "serve --tcp 80" || app.Ports[0].ContainerPort != 80 || app.ReadinessProbe == nil {
		t.Errorf("yelb-ui's stand-in: %+v", app)
	}
	for _, o := range objects { // the fixture itself is left as it was
		if p, ok := o.(*corev1.Pod); ok && p.Name == "yelb-ui" && p.Spec.Containers[0].Image != "mreferre/yelb-ui:0.10" {
			t.Error("StandIn changed its input")
		}
	}
}
