package cluster_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tierproof/tierproof/framework/testenv"
)

func testScheme(t *testing.T) *runtime.Scheme { return testenv.MustScheme(t) }
