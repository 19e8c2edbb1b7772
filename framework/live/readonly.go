package live

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"k8s.io/client-go/rest"
)

// Permit is one kind of request a read-only client may send besides reads.
type Permit string

// The permits: running a command in a pod (the audit's probes), and adding
// an ephemeral container to one (its agent prober).
const (
	PodsExec                Permit = "pods/exec"
	PodsEphemeralContainers Permit = "pods/ephemeralcontainers"
)

// ReadOnly is cfg whose every client refuses, before it is sent, any
// request but a read (GET: get, list and watch; HEAD and OPTIONS) and the
// permitted ones: a command built on it cannot change the cluster, whatever
// its code asks. A GET to a pod's exec, attach, portforward or proxy
// subresource is no read (a WebSocket exec is a GET) and needs its permit.
func ReadOnly(cfg *rest.Config, permits ...Permit) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Wrap(func(next http.RoundTripper) http.RoundTripper { return readOnly{next, permits} })
	return c
}

type readOnly struct {
	next    http.RoundTripper
	permits []Permit
}

// actions are the pod subresources that act rather than read.
var actions = []string{"exec", "attach", "portforward", "proxy", "ephemeralcontainers", "eviction", "binding"}

func (r readOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	sub := podSubresource(req.URL.Path)
	if sub != "" && slices.Contains(r.permits, Permit("pods/"+sub)) {
		return r.next.RoundTrip(req)
	}
	read := req.Method == http.MethodGet || req.Method == http.MethodHead || req.Method == http.MethodOptions
	if read && !slices.Contains(actions, sub) {
		return r.next.RoundTrip(req)
	}
	return nil, fmt.Errorf("read-only: refused %s %s (tierproof reads this cluster and never changes it)", req.Method, req.URL.Path)
}

// podSubresource is "exec" for /api/v1/namespaces/NS/pods/NAME/exec, and ""
// for any other path.
func podSubresource(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	n := len(parts)
	if n >= 7 && parts[n-5] == "namespaces" && parts[n-3] == "pods" && parts[0] == "api" {
		return parts[n-1]
	}
	return ""
}
