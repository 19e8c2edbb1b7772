// Package antrea is Antrea as the data plane of a kind cluster: its release
// manifest (verified against a recorded or published checksum, cached), the
// openvswitch check its agent needs, its install and readiness, the
// realization of each policy it reports, and Traceflow for flows that differ
// from the model. Its policy types are mirrored in antrea/v1beta1.
package antrea
