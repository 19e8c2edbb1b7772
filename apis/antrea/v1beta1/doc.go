// Package v1beta1 is tierproof's typed mirror of the Antrea policy API
// (crd.antrea.io/v1beta1, release v2.7.0): ClusterNetworkPolicy, NetworkPolicy,
// Tier, ClusterGroup, Group and Traceflow.
//
// Antrea's own Go module cannot be fetched where tierproof is developed, so this
// package restates the JSON shape of those kinds, with the validation of
// Antrea's CRDs. Each place accepts exactly the fields Antrea's CRD accepts
// there, so that strict decoding, and the API server given the CRDs generated
// from these types, reject what Antrea's would and nothing more; whether
// tierproof can evaluate a field is decided by the model, not here.
//
// +k8s:deepcopy-gen=package
// +groupName=crd.antrea.io
package v1beta1
