// Package cluster is an estate's lifecycle on a kind cluster: Boot checks the
// host and the enforcer, creates (or attaches to) the cluster, installs the
// enforcer, deploys the estate's pods with the probe agent (standing in for
// images no registry serves), runs the canary, starts the external hosts and
// reads the live topology; ClusterPlane applies stages and probes through
// kubelet exec; Finish keeps or removes what Boot made. Antrea and kube-router
// plug in as an Enforcer; generic Kubernetes helpers are in framework/kube.
package cluster
