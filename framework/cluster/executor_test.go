package cluster_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/kube"
)

func TestPodExecutorRefusesEndpointsThatAreNotPods(t *testing.T) {
	e := kube.NewPodExecutor(&rest.Config{Host: "https://127.0.0.1:1"}, fake.NewSimpleClientset(), cluster.AgentContainer)
	for _, endpoint := range []string{"ssh-server", "/pod", "ns/"} {
		if _, _, err := e.Exec(context.Background(), endpoint, []string{"true"}, nil); err == nil || !strings.Contains(err.Error(), "is not namespace/pod") {
			t.Errorf("%q: error %v", endpoint, err)
		}
	}
	if c := kube.WithProbingRateLimits(&rest.Config{QPS: 5, Burst: 10}); c.QPS < 50 || c.Burst < 100 {
		t.Errorf("rate limits %v/%d not raised for parallel probing", c.QPS, c.Burst)
	}
}
