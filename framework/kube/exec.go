package kube

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/tierproof/tierproof/framework/agent"
)

// PodExecutor runs commands in a container of a pod through the API server's
// exec subresource (WebSocket, with SPDY as the fallback, as kubectl does).
// It is the probe engine's Executor on a cluster; endpoints are "ns/pod".
type PodExecutor struct {
	config    *rest.Config
	client    kubernetes.Interface
	container string
}

// NewPodExecutor execs into container.
func NewPodExecutor(config *rest.Config, client kubernetes.Interface, container string) *PodExecutor {
	return &PodExecutor{config: config, client: client, container: container}
}

// Exec runs command with stdin and returns what it wrote. A non-zero exit is
// an error (client-go's CodeExitError, "command terminated with exit code N");
// stdout and stderr are returned either way, so a caller never has to trust
// the exit status alone.
func (e *PodExecutor) Exec(ctx context.Context, endpoint string, command []string, stdin []byte) ([]byte, []byte, error) {
	namespace, pod, ok := strings.Cut(endpoint, "/")
	if !ok || namespace == "" || pod == "" {
		return nil, nil, fmt.Errorf("endpoint %q is not namespace/pod", endpoint)
	}
	req := e.client.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: e.container, Command: command, Stdin: true, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	websocket, err := remotecommand.NewWebSocketExecutor(e.config, "GET", req.URL().String())
	if err != nil {
		return nil, nil, fmt.Errorf("exec in %s: %w", endpoint, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(e.config, "POST", req.URL())
	if err != nil {
		return nil, nil, fmt.Errorf("exec in %s: %w", endpoint, err)
	}
	executor, err := remotecommand.NewFallbackExecutor(websocket, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("exec in %s: %w", endpoint, err)
	}
	var stderr bytes.Buffer
	stdout := &endWatcher{release: make(chan struct{})}
	var in io.Reader = bytes.NewReader(stdin)
	if len(stdin) > 0 {
		// The agent's stdin stays open until its last result is here.
		in = io.MultiReader(in, heldOpen{stdout.release, ctx.Done()})
	}
	err = executor.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: in, Stdout: stdout, Stderr: &stderr})
	stdout.end()
	if err != nil {
		err = fmt.Errorf("exec in %s (container %s): %w", endpoint, e.container, err)
	}
	return stdout.Bytes(), stderr.Bytes(), err
}

// endWatcher keeps what the command writes and closes release once a line
// is agent.EndOfResults. It has no ReadFrom (the buffer is not embedded):
// client-go's io.Copy would call that instead of Write.
type endWatcher struct {
	buf     bytes.Buffer
	release chan struct{}
	once    sync.Once
}

func (w *endWatcher) Bytes() []byte { return w.buf.Bytes() }

// endLine is agent.EndOfResults as a line of its own.
var endLine = []byte("\n" + agent.EndOfResults + "\n")

func (w *endWatcher) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	// The line starts the output or follows a newline; only the output's
	// end can hold one that this write finished.
	b := w.Bytes()
	from := max(0, len(b)-len(p)-len(endLine))
	if (from == 0 && bytes.HasPrefix(b, endLine[1:])) || bytes.Contains(b[from:], endLine) {
		w.end()
	}
	return n, err
}

func (w *endWatcher) end() { w.once.Do(func() { close(w.release) }) }

// heldOpen is an end of stdin that comes only once released (or done).
type heldOpen struct{ release, done <-chan struct{} }

func (h heldOpen) Read([]byte) (int, error) {
	select {
	case <-h.release:
	case <-h.done:
	}
	return 0, io.EOF
}

// Parallel probing execs into many pods at once; client-go's default rate
// limit (5 QPS, burst 10) would queue them.
const (
	clientQPS   = 100
	clientBurst = 200
)

// WithProbingRateLimits raises a REST config's client-side rate limits.
func WithProbingRateLimits(config *rest.Config) *rest.Config {
	c := rest.CopyConfig(config)
	c.QPS, c.Burst = clientQPS, clientBurst
	return c
}
