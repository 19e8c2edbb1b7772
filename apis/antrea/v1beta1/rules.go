package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The rules, peers and appliedTo entries below each have exactly the fields
// Antrea v2.7.0's CRDs give them in their place
// (build/charts/antrea/crds/clusternetworkpolicy.yaml and networkpolicy.yaml):
// a ClusterNetworkPolicy's ingress peer has no fqdn and no
// externalEntitySelector, an egress peer no scope, an Antrea NetworkPolicy
// has no namespaces or serviceAccount peer. Antrea's Go types use one Rule,
// one peer and one appliedTo type everywhere and leave the difference to its
// hand-written CRDs; here the CRDs are generated, so the difference is in
// the types, and strict decoding and the API server both refuse a field out
// of its place. PolicySpec gives back the one shape the model reads.

// RuleAction is what a matching rule does with a flow.
// +kubebuilder:validation:Enum=Allow;Drop;Reject;Pass
type RuleAction string

// The actions a rule may take.
const (
	RuleActionAllow  RuleAction = "Allow"
	RuleActionDrop   RuleAction = "Drop"
	RuleActionReject RuleAction = "Reject"
	RuleActionPass   RuleAction = "Pass"
)

// RuleFields are the fields of every rule, ingress or egress, of an ACNP or
// ANP.
type RuleFields struct {
	Action      *RuleAction             `json:"action"`
	Ports       []NetworkPolicyPort     `json:"ports,omitempty"`
	Protocols   []NetworkPolicyProtocol `json:"protocols,omitempty"`
	L7Protocols []L7Protocol            `json:"l7Protocols,omitempty"`
	Name        string                  `json:"name,omitempty"`
	// +optional
	EnableLogging bool `json:"enableLogging"`
	// +kubebuilder:validation:Pattern=`^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$`
	LogLabel string `json:"logLabel,omitempty"`
}

// ClusterIngressRule is an ingress rule of an ACNP.
type ClusterIngressRule struct {
	RuleFields `json:",inline"`
	From       []ClusterIngressPeer      `json:"from,omitempty"`
	AppliedTo  []ClusterIngressAppliedTo `json:"appliedTo,omitempty"`
}

// ClusterEgressRule is an egress rule of an ACNP.
type ClusterEgressRule struct {
	RuleFields `json:",inline"`
	To         []ClusterEgressPeer      `json:"to,omitempty"`
	ToServices []ClusterPeerService     `json:"toServices,omitempty"`
	AppliedTo  []ClusterEgressAppliedTo `json:"appliedTo,omitempty"`
}

// IngressRule is an ingress rule of an ANP.
type IngressRule struct {
	RuleFields `json:",inline"`
	From       []IngressPeer   `json:"from,omitempty"`
	AppliedTo  []RuleAppliedTo `json:"appliedTo,omitempty"`
}

// EgressRule is an egress rule of an ANP.
type EgressRule struct {
	RuleFields `json:",inline"`
	To         []EgressPeer    `json:"to,omitempty"`
	ToServices []PeerService   `json:"toServices,omitempty"`
	AppliedTo  []RuleAppliedTo `json:"appliedTo,omitempty"`
}

// PeerSelectors are the fields of every peer, from or to, of an ACNP or ANP.
// Entries of a from/to list are alternatives; the fields of one entry narrow
// each other.
type PeerSelectors struct {
	IPBlock           *IPBlock              `json:"ipBlock,omitempty"`
	PodSelector       *metav1.LabelSelector `json:"podSelector,omitempty"`
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	Group             string                `json:"group,omitempty"`
	NodeSelector      *metav1.LabelSelector `json:"nodeSelector,omitempty"`
}

// ClusterIngressPeer is an entry of an ACNP's ingress `from`.
type ClusterIngressPeer struct {
	PeerSelectors  `json:",inline"`
	Namespaces     *PeerNamespaces `json:"namespaces,omitempty"`
	ServiceAccount *NamespacedName `json:"serviceAccount,omitempty"`
	Scope          PeerScope       `json:"scope,omitempty"`
}

// ClusterEgressPeer is an entry of an ACNP's egress `to`.
type ClusterEgressPeer struct {
	PeerSelectors  `json:",inline"`
	Namespaces     *PeerNamespaces `json:"namespaces,omitempty"`
	ServiceAccount *NamespacedName `json:"serviceAccount,omitempty"`
	FQDN           string          `json:"fqdn,omitempty"`
}

// IngressPeer is an entry of an ANP's ingress `from`.
type IngressPeer struct {
	PeerSelectors          `json:",inline"`
	ExternalEntitySelector *metav1.LabelSelector `json:"externalEntitySelector,omitempty"`
	Scope                  PeerScope             `json:"scope,omitempty"`
}

// EgressPeer is an entry of an ANP's egress `to`.
type EgressPeer struct {
	PeerSelectors          `json:",inline"`
	ExternalEntitySelector *metav1.LabelSelector `json:"externalEntitySelector,omitempty"`
	FQDN                   string                `json:"fqdn,omitempty"`
}

// RuleAppliedTo is an entry of an ANP rule's own appliedTo: the fields every
// appliedTo has.
type RuleAppliedTo struct {
	PodSelector *metav1.LabelSelector `json:"podSelector,omitempty"`
	Group       string                `json:"group,omitempty"`
}

// NamespacedAppliedTo is an entry of an ANP's appliedTo.
type NamespacedAppliedTo struct {
	RuleAppliedTo          `json:",inline"`
	ExternalEntitySelector *metav1.LabelSelector `json:"externalEntitySelector,omitempty"`
}

// ClusterEgressAppliedTo is an entry of an ACNP egress rule's own appliedTo.
type ClusterEgressAppliedTo struct {
	RuleAppliedTo     `json:",inline"`
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	ServiceAccount    *NamespacedName       `json:"serviceAccount,omitempty"`
}

// ClusterIngressAppliedTo is an entry of an ACNP ingress rule's own appliedTo.
type ClusterIngressAppliedTo struct {
	ClusterEgressAppliedTo `json:",inline"`
	Service                *NamespacedName `json:"service,omitempty"`
}

// ClusterAppliedTo is an entry of an ACNP's appliedTo.
type ClusterAppliedTo struct {
	ClusterIngressAppliedTo `json:",inline"`
	NodeSelector            *metav1.LabelSelector `json:"nodeSelector,omitempty"`
}

// PeerNamespaces selects namespaces relative to the applied-to pod's namespace.
type PeerNamespaces struct {
	Match      NamespaceMatchType `json:"match,omitempty"`
	SameLabels []string           `json:"sameLabels,omitempty"`
}

// NamespaceMatchType is the strategy of PeerNamespaces.Match.
// +kubebuilder:validation:Enum=Self
type NamespaceMatchType string

// NamespaceMatchSelf selects the applied-to pod's own namespace.
const NamespaceMatchSelf NamespaceMatchType = "Self"

// PeerScope is the reach of a peer's selectors (Antrea multi-cluster).
// +kubebuilder:validation:Enum=Cluster;ClusterSet
type PeerScope string

// The scopes a peer may have.
const (
	ScopeCluster    PeerScope = "Cluster"
	ScopeClusterSet PeerScope = "ClusterSet"
)

// IPBlock is a CIDR minus its exceptions.
type IPBlock struct {
	// +kubebuilder:validation:Format=cidr
	CIDR string `json:"cidr"`
	// +kubebuilder:validation:items:Format=cidr
	Except []string `json:"except,omitempty"`
}

// NetworkPolicyPort matches a protocol and a destination (and source) port range.
type NetworkPolicyPort struct {
	// +kubebuilder:validation:Enum=TCP;UDP;SCTP
	Protocol      *corev1.Protocol    `json:"protocol,omitempty"`
	Port          *intstr.IntOrString `json:"port,omitempty"`
	EndPort       *int32              `json:"endPort,omitempty"`
	SourcePort    *int32              `json:"sourcePort,omitempty"`
	SourceEndPort *int32              `json:"sourceEndPort,omitempty"`
}

// NetworkPolicyProtocol matches protocols that have no ports.
type NetworkPolicyProtocol struct {
	ICMP *ICMPProtocol `json:"icmp,omitempty"`
	IGMP *IGMPProtocol `json:"igmp,omitempty"`
}

// ICMPProtocol matches ICMP by type and code; a missing field matches any value.
type ICMPProtocol struct {
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=255
	ICMPType *int32 `json:"icmpType,omitempty"`
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=255
	ICMPCode *int32 `json:"icmpCode,omitempty"`
}

// IGMPProtocol matches IGMP messages (multicast only).
type IGMPProtocol struct {
	IGMPType     *int32 `json:"igmpType,omitempty"`
	GroupAddress string `json:"groupAddress,omitempty"`
}

// L7Protocol matches application-layer traffic (feature-gated in Antrea).
type L7Protocol struct {
	HTTP *HTTPProtocol `json:"http,omitempty"`
	TLS  *TLSProtocol  `json:"tls,omitempty"`
}

// HTTPProtocol matches HTTP requests.
type HTTPProtocol struct {
	Host string `json:"host,omitempty"`
	// +kubebuilder:validation:Enum=GET;POST;PUT;HEAD;DELETE;TRACE;OPTIONS;CONNECT;PATCH
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
}

// TLSProtocol matches TLS handshakes by SNI.
type TLSProtocol struct {
	SNI string `json:"sni,omitempty"`
}

// NamespacedName names a namespaced object; a policy's serviceAccount and
// service name both fields.
type NamespacedName struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// PeerService names a Service for an ANP's toServices: the policy's
// namespace when the namespace is left out.
type PeerService struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace,omitempty"`
	Scope     PeerScope `json:"scope,omitempty"`
}

// ClusterPeerService names a Service for an ACNP's toServices.
type ClusterPeerService struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"`
	Scope     PeerScope `json:"scope,omitempty"`
}
