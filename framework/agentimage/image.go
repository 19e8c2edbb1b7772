// Package agentimage builds the tierproof-agent container image from a built
// agent binary with go-containerregistry: no Docker daemon is needed to build
// it. The cluster code loads the resulting archive into kind's nodes.
package agentimage

import (
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/imagebuild"
)

// DefaultTag names the image in the archive and in pod specs.
const DefaultTag = "tierproof.local/agent:dev"

// SearchPath is the image's PATH: the agent's directory and the usual ones,
// so that `kubectl exec POD -c tierproof-agent -- tierproof-agent …` works too.
var SearchPath = agent.Dir + ":/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"

// Build makes a one-layer image holding the static agent binary at agent.Path;
// the image's entrypoint is the agent and its architecture the binary's. The
// same binary always gives the same image digest.
func Build(agentBinary string) (v1.Image, error) {
	data, err := os.ReadFile(agentBinary)
	if err != nil {
		return nil, fmt.Errorf("reading the agent binary: %w", err)
	}
	arch, err := imagebuild.Architecture(agentBinary)
	if err != nil {
		return nil, fmt.Errorf("the agent binary: %w: build it with make agent", err)
	}
	layer, err := imagebuild.Layer([]imagebuild.File{{Path: agent.Path, Mode: 0o755, Data: data}})
	if err != nil {
		return nil, fmt.Errorf("agent layer: %w", err)
	}
	return imagebuild.Image(arch, v1.Config{Env: []string{"PATH=" + SearchPath}, Entrypoint: []string{agent.Path}, Cmd: []string{"serve"}}, layer)
}
