package live

import (
	"fmt"
	"net/http"

	"k8s.io/client-go/rest"
)

// ReadOnly is cfg whose every client refuses, before it is sent, any
// request but a read (GET: get, list and watch; HEAD and OPTIONS): a
// command built on it cannot change the cluster, whatever its code asks.
func ReadOnly(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Wrap(func(next http.RoundTripper) http.RoundTripper { return readOnly{next} })
	return c
}

type readOnly struct{ next http.RoundTripper }

func (r readOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return r.next.RoundTrip(req)
	}
	return nil, fmt.Errorf("read-only: refused %s %s (tierproof reads this cluster and never changes it)", req.Method, req.URL.Path)
}
