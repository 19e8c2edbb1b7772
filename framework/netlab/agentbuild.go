package netlab

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// BuildAgent compiles tierproof-agent (static, no cgo) into dir for a lab.
func BuildAgent(dir string) (string, error) {
	path := filepath.Join(dir, "tierproof-agent")
	cmd := exec.Command("go", "build", "-o", path, "github.com/tierproof/tierproof/cmd/tierproof-agent")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building tierproof-agent: %v\n%s", err, out)
	}
	return path, nil
}
