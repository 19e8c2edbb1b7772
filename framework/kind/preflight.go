package kind

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// ErrDockerUnavailable is returned, wrapped, when no Docker engine answers.
var ErrDockerUnavailable = errors.New("Docker is not available")

// CheckDocker makes sure a Docker engine answers: kind runs every cluster node
// as a Docker container. The error says what to do.
func CheckDocker(ctx context.Context) error {
	path, err := exec.LookPath("docker")
	if err != nil {
		return fmt.Errorf("%w: the docker command is not installed. Install Docker Engine "+
			"(https://docs.docker.com/engine/install/), start it, and run make e2e again", ErrDockerUnavailable)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "info", "--format", "{{.ServerVersion}}")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		reason := strings.TrimSpace(stderr.String())
		if reason == "" && err != nil {
			reason = err.Error()
		}
		return fmt.Errorf("%w: the docker command is installed but no Docker engine answers (%s). "+
			"Start the engine (sudo systemctl start docker), make sure your user may use it "+
			"(sudo usermod -aG docker $USER, then log in again), and run make e2e again", ErrDockerUnavailable, firstLine(reason))
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// RunDocker runs the docker command with stdin (nil: none) and returns its
// output; an error carries the first line docker wrote to stderr.
func RunDocker(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("docker %s: %w: %s", args[0], err, firstLine(strings.TrimSpace(stderr.String())))
	}
	return out, nil
}
