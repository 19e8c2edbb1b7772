// Package model is tierproof's expected model: a pure evaluator that computes,
// from a topology and the very manifests applied to a cluster, what Antrea must
// do with each flow — Allow, Drop or Reject — and which tier, policy and rule
// decided it on the egress side (at the source pod) and the ingress side (at the
// destination pod).
//
// The semantics follow Antrea's documentation and agent (see the README's "How
// the model decides"): on each side, the Antrea-native tiers other than baseline
// are tried in (tier priority, policy priority, rule index) order, then
// Kubernetes NetworkPolicies, then the baseline tier, then the default Allow.
//
// Compile does all label and address matching once; Evaluate then only walks
// short per-endpoint rule lists and tests bits, so it allocates nothing.
package model
