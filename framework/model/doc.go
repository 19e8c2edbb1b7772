// Package model is tierproof's expected model: a pure evaluator that computes,
// from a topology and the very manifests applied to a cluster, what Antrea must
// do with each flow — Allow, Drop or Reject — and which tier, policy and rule
// decided it on the egress side (at the source pod) and the ingress side (at the
// destination pod).
//
// The semantics follow Antrea's documentation and agent (see the README's "How
// the model decides"): on each side, the Antrea-native tiers other than baseline
// — with the network-policy-api's ClusterNetworkPolicy Admin tier at tier
// priority 220 among them — are tried in (tier priority, policy priority, rule
// index) order, then Kubernetes NetworkPolicies, then the baseline tier and the
// ClusterNetworkPolicy Baseline tier, then the default Allow. Semantics choose
// the data plane's reading, the network-policy-api spec's order among them.
//
// Compile does all label and address matching once; Evaluate then only walks
// short per-endpoint rule lists and tests bits, so it allocates nothing.
package model
