// Package kube holds the Kubernetes helpers every cluster step uses, with no
// knowledge of estates, scenarios or enforcers: server-side apply of a stage
// that applies completely or not at all (Applier), dependency order and
// ownership labels, manifest installs, readiness waits, and exec in a pod's
// container through the API server.
package kube
