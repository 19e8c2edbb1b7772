package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Priorities of the tiers Antrea creates at start-up.
const (
	DefaultTierPriority  = int32(250) // application: the last tier before K8s NetworkPolicies
	BaselineTierPriority = int32(253) // baseline: after K8s NetworkPolicies
)

// +genclient
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=tr
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Tier orders Antrea-native policies: lower priority values are enforced first.
type Tier struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              TierSpec `json:"spec"`
}

// TierSpec is the desired state of a Tier.
type TierSpec struct {
	Priority    int32  `json:"priority"`
	Description string `json:"description,omitempty"`
}

// +kubebuilder:object:root=true
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// TierList is a list of Tiers.
type TierList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Tier `json:"items"`
}

// +genclient
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=acnp
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ClusterNetworkPolicy is Antrea's cluster-scoped policy (ACNP).
type ClusterNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ClusterNetworkPolicySpec `json:"spec"`
	// Antrea writes the status; manifests leave it out.
	// +optional
	Status NetworkPolicyStatus `json:"status"`
}

// ClusterNetworkPolicySpec is the desired state of an ACNP.
type ClusterNetworkPolicySpec struct {
	// Tier names a Tier object; empty means the application tier. The static
	// tiers may also be named with a capital letter (SecurityOps).
	Tier string `json:"tier,omitempty"`
	// Priority orders the policy within its tier, as Antrea's CRD bounds it.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Priority  float64     `json:"priority"`
	AppliedTo []AppliedTo `json:"appliedTo,omitempty"`
	Ingress   []Rule      `json:"ingress,omitempty"`
	Egress    []Rule      `json:"egress,omitempty"`
}

// +kubebuilder:object:root=true
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ClusterNetworkPolicyList is a list of ACNPs.
type ClusterNetworkPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterNetworkPolicy `json:"items"`
}

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=anp;annp
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NetworkPolicy is Antrea's namespaced policy (ANP, also written ANNP).
type NetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              NetworkPolicySpec `json:"spec"`
	// Antrea writes the status; manifests leave it out.
	// +optional
	Status NetworkPolicyStatus `json:"status"`
}

// NetworkPolicySpec is the desired state of an ANP. It has the ACNP's shape;
// the API server's schema forbids namespaceSelector in its appliedTo and the
// namespaces peer, which the model refuses as Antrea's admission would.
type NetworkPolicySpec struct {
	Tier string `json:"tier,omitempty"`
	// Priority orders the policy within its tier, as Antrea's CRD bounds it.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Priority  float64     `json:"priority"`
	AppliedTo []AppliedTo `json:"appliedTo,omitempty"`
	Ingress   []Rule      `json:"ingress,omitempty"`
	Egress    []Rule      `json:"egress,omitempty"`
}

// +kubebuilder:object:root=true
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NetworkPolicyList is a list of ANPs.
type NetworkPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NetworkPolicy `json:"items"`
}

// NetworkPolicyPhase summarises how far Antrea has realized a policy.
type NetworkPolicyPhase string

// The phases Antrea reports.
const (
	NetworkPolicyPending   NetworkPolicyPhase = "Pending"
	NetworkPolicyRealizing NetworkPolicyPhase = "Realizing"
	NetworkPolicyRealized  NetworkPolicyPhase = "Realized"
	NetworkPolicyFailed    NetworkPolicyPhase = "Failed"
)

// NetworkPolicyStatus is what Antrea's controller reports about a policy.
// Every field is optional in Antrea's CRD: a new policy has no status yet.
type NetworkPolicyStatus struct {
	// +optional
	Phase NetworkPolicyPhase `json:"phase"`
	// +optional
	ObservedGeneration int64 `json:"observedGeneration"`
	// +optional
	CurrentNodesRealized int32 `json:"currentNodesRealized"`
	// +optional
	DesiredNodesRealized int32 `json:"desiredNodesRealized"`
	// +optional
	Conditions []NetworkPolicyCondition `json:"conditions"`
}

// NetworkPolicyCondition is one condition of a policy (Realizable, RealizationFailure).
type NetworkPolicyCondition struct {
	Type               string                 `json:"type"`
	Status             metav1.ConditionStatus `json:"status"`
	LastTransitionTime metav1.Time            `json:"lastTransitionTime,omitempty"`
	Reason             string                 `json:"reason,omitempty"`
	Message            string                 `json:"message,omitempty"`
}

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

// Rule is one ingress or egress rule of an ACNP or ANP.
type Rule struct {
	Action        *RuleAction             `json:"action"`
	Ports         []NetworkPolicyPort     `json:"ports,omitempty"`
	Protocols     []NetworkPolicyProtocol `json:"protocols,omitempty"`
	L7Protocols   []L7Protocol            `json:"l7Protocols,omitempty"`
	From          []NetworkPolicyPeer     `json:"from,omitempty"`
	To            []NetworkPolicyPeer     `json:"to,omitempty"`
	ToServices    []PeerService           `json:"toServices,omitempty"`
	Name          string                  `json:"name,omitempty"`
	EnableLogging bool                    `json:"enableLogging"`
	LogLabel      string                  `json:"logLabel,omitempty"`
	AppliedTo     []AppliedTo             `json:"appliedTo,omitempty"`
}

// NetworkPolicyPeer selects the other end of a flow. Entries of a from/to list
// are alternatives; the fields of one entry narrow each other.
type NetworkPolicyPeer struct {
	IPBlock                *IPBlock              `json:"ipBlock,omitempty"`
	PodSelector            *metav1.LabelSelector `json:"podSelector,omitempty"`
	NamespaceSelector      *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	Namespaces             *PeerNamespaces       `json:"namespaces,omitempty"`
	ExternalEntitySelector *metav1.LabelSelector `json:"externalEntitySelector,omitempty"`
	Group                  string                `json:"group,omitempty"`
	FQDN                   string                `json:"fqdn,omitempty"`
	ServiceAccount         *NamespacedName       `json:"serviceAccount,omitempty"`
	NodeSelector           *metav1.LabelSelector `json:"nodeSelector,omitempty"`
	Scope                  PeerScope             `json:"scope,omitempty"`
}

// AppliedTo selects the pods a policy or rule is enforced on.
type AppliedTo struct {
	PodSelector            *metav1.LabelSelector `json:"podSelector,omitempty"`
	NamespaceSelector      *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	ExternalEntitySelector *metav1.LabelSelector `json:"externalEntitySelector,omitempty"`
	Group                  string                `json:"group,omitempty"`
	ServiceAccount         *NamespacedName       `json:"serviceAccount,omitempty"`
	Service                *NamespacedName       `json:"service,omitempty"`
	NodeSelector           *metav1.LabelSelector `json:"nodeSelector,omitempty"`
}

// PeerNamespaces selects namespaces relative to the applied-to pod's namespace.
type PeerNamespaces struct {
	Match      NamespaceMatchType `json:"match,omitempty"`
	SameLabels []string           `json:"sameLabels,omitempty"`
}

// NamespaceMatchType is the strategy of PeerNamespaces.Match.
type NamespaceMatchType string

// NamespaceMatchSelf selects the applied-to pod's own namespace.
const NamespaceMatchSelf NamespaceMatchType = "Self"

// PeerScope is the reach of a peer's selectors (Antrea multi-cluster).
type PeerScope string

// The scopes a peer may have.
const (
	ScopeCluster    PeerScope = "Cluster"
	ScopeClusterSet PeerScope = "ClusterSet"
)

// IPBlock is a CIDR minus its exceptions.
type IPBlock struct {
	CIDR   string   `json:"cidr"`
	Except []string `json:"except,omitempty"`
}

// NetworkPolicyPort matches a protocol and a destination (and source) port range.
type NetworkPolicyPort struct {
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
	ICMPType *int32 `json:"icmpType,omitempty"`
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
	Host   string `json:"host,omitempty"`
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
}

// TLSProtocol matches TLS handshakes by SNI.
type TLSProtocol struct {
	SNI string `json:"sni,omitempty"`
}

// NamespacedName names a namespaced object.
type NamespacedName struct {
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// PeerService names a Service for toServices.
type PeerService struct {
	Name      string    `json:"name,omitempty"`
	Namespace string    `json:"namespace,omitempty"`
	Scope     PeerScope `json:"scope,omitempty"`
}

// +genclient
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cg
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ClusterGroup is a cluster-scoped set of workloads or addresses, used by ACNPs.
type ClusterGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              GroupSpec `json:"spec"`
	// Antrea writes the status; manifests leave it out.
	// +optional
	Status GroupStatus `json:"status"`
}

// +kubebuilder:object:root=true
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ClusterGroupList is a list of ClusterGroups.
type ClusterGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterGroup `json:"items,omitempty"`
}

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=grp
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Group is a namespaced set of workloads or addresses, used by ANPs.
type Group struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              GroupSpec `json:"spec"`
	// Antrea writes the status; manifests leave it out.
	// +optional
	Status GroupStatus `json:"status"`
}

// +kubebuilder:object:root=true
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// GroupList is a list of Groups.
type GroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Group `json:"items,omitempty"`
}

// GroupSpec holds exactly one way of choosing members: selectors, ipBlocks,
// a Service reference or child groups.
type GroupSpec struct {
	PodSelector            *metav1.LabelSelector   `json:"podSelector,omitempty"`
	NamespaceSelector      *metav1.LabelSelector   `json:"namespaceSelector,omitempty"`
	NodeSelector           *metav1.LabelSelector   `json:"nodeSelector,omitempty"`
	IPBlocks               []IPBlock               `json:"ipBlocks,omitempty"`
	ServiceReference       *NamespacedName         `json:"serviceReference,omitempty"`
	ExternalEntitySelector *metav1.LabelSelector   `json:"externalEntitySelector,omitempty"`
	ChildGroups            []ClusterGroupReference `json:"childGroups,omitempty"`
}

// ClusterGroupReference names a child group.
type ClusterGroupReference string

// GroupStatus is what Antrea reports about a group.
type GroupStatus struct {
	Conditions []GroupCondition `json:"conditions,omitempty"`
}

// GroupCondition is one condition of a group (GroupMembersComputed).
type GroupCondition struct {
	Type               string                 `json:"type"`
	Status             corev1.ConditionStatus `json:"status"`
	LastTransitionTime metav1.Time            `json:"lastTransitionTime,omitempty"`
}

// +genclient
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=tf
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Traceflow asks Antrea to trace one packet through the data plane.
type Traceflow struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              TraceflowSpec   `json:"spec,omitempty"`
	Status            TraceflowStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// TraceflowList is a list of Traceflows.
type TraceflowList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Traceflow `json:"items"`
}

// TraceflowSpec describes the packet to trace.
type TraceflowSpec struct {
	Source      TraceflowSource      `json:"source,omitempty"`
	Destination TraceflowDestination `json:"destination,omitempty"`
	Packet      TraceflowPacket      `json:"packet,omitempty"`
	LiveTraffic bool                 `json:"liveTraffic,omitempty"`
	DroppedOnly bool                 `json:"droppedOnly,omitempty"`
	Timeout     int32                `json:"timeout,omitempty"`
}

// TraceflowSource is where the traced packet starts.
type TraceflowSource struct {
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	IP        string `json:"ip,omitempty"`
}

// TraceflowDestination is where the traced packet goes.
type TraceflowDestination struct {
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	Service   string `json:"service,omitempty"`
	IP        string `json:"ip,omitempty"`
}

// TraceflowPacket holds the traced packet's headers.
type TraceflowPacket struct {
	SrcIP           string                   `json:"srcIP,omitempty"`
	DstIP           string                   `json:"dstIP,omitempty"`
	Length          int32                    `json:"length,omitempty"`
	IPHeader        *TraceflowIPHeader       `json:"ipHeader,omitempty"`
	IPv6Header      *TraceflowIPv6Header     `json:"ipv6Header,omitempty"`
	TransportHeader TraceflowTransportHeader `json:"transportHeader,omitempty"`
}

// TraceflowIPHeader is the IPv4 header; Protocol is 1 ICMP, 6 TCP, 17 UDP, 132 SCTP.
type TraceflowIPHeader struct {
	Protocol int32 `json:"protocol,omitempty"`
	TTL      int32 `json:"ttl,omitempty"`
	Flags    int32 `json:"flags,omitempty"`
}

// TraceflowIPv6Header is the IPv6 header.
type TraceflowIPv6Header struct {
	NextHeader *int32 `json:"nextHeader,omitempty"`
	HopLimit   int32  `json:"hopLimit,omitempty"`
}

// TraceflowTransportHeader holds one of the transport headers.
type TraceflowTransportHeader struct {
	ICMP *TraceflowICMPEchoHeader `json:"icmp,omitempty"`
	UDP  *TraceflowUDPHeader      `json:"udp,omitempty"`
	TCP  *TraceflowTCPHeader      `json:"tcp,omitempty"`
}

// TraceflowICMPEchoHeader is an ICMP echo request header.
type TraceflowICMPEchoHeader struct {
	ID       int32 `json:"id,omitempty"`
	Sequence int32 `json:"sequence,omitempty"`
}

// TraceflowUDPHeader is a UDP header.
type TraceflowUDPHeader struct {
	SrcPort int32 `json:"srcPort,omitempty"`
	DstPort int32 `json:"dstPort,omitempty"`
}

// TraceflowTCPHeader is a TCP header.
type TraceflowTCPHeader struct {
	SrcPort int32  `json:"srcPort,omitempty"`
	DstPort int32  `json:"dstPort,omitempty"`
	Flags   *int32 `json:"flags,omitempty"`
}

// TraceflowPhase is the progress of a Traceflow.
type TraceflowPhase string

// The phases of a Traceflow.
const (
	TraceflowRunning   TraceflowPhase = "Running"
	TraceflowSucceeded TraceflowPhase = "Succeeded"
	TraceflowFailed    TraceflowPhase = "Failed"
)

// TraceflowStatus holds the observations of a finished trace.
type TraceflowStatus struct {
	Phase          TraceflowPhase        `json:"phase,omitempty"`
	Reason         string                `json:"reason,omitempty"`
	StartTime      *metav1.Time          `json:"startTime,omitempty"`
	DataplaneTag   int8                  `json:"dataplaneTag,omitempty"`
	Results        []TraceflowNodeResult `json:"results,omitempty"`
	CapturedPacket *TraceflowPacket      `json:"capturedPacket,omitempty"`
}

// TraceflowNodeResult is what one node observed.
type TraceflowNodeResult struct {
	Node         string                 `json:"node,omitempty"`
	Role         string                 `json:"role,omitempty"`
	Timestamp    int64                  `json:"timestamp,omitempty"`
	Observations []TraceflowObservation `json:"observations,omitempty"`
}

// TraceflowObservation is one step of the trace, e.g. a NetworkPolicy drop.
type TraceflowObservation struct {
	Component         string `json:"component,omitempty"`
	ComponentInfo     string `json:"componentInfo,omitempty"`
	Action            string `json:"action,omitempty"`
	Pod               string `json:"pod,omitempty"`
	DstMAC            string `json:"dstMAC,omitempty"`
	NetworkPolicy     string `json:"networkPolicy,omitempty"`
	NetworkPolicyRule string `json:"networkPolicyRule,omitempty"`
	Egress            string `json:"egress,omitempty"`
	TTL               int32  `json:"ttl,omitempty"`
	TranslatedSrcIP   string `json:"translatedSrcIP,omitempty"`
	TranslatedDstIP   string `json:"translatedDstIP,omitempty"`
	TunnelDstIP       string `json:"tunnelDstIP,omitempty"`
	EgressIP          string `json:"egressIP,omitempty"`
	EgressNode        string `json:"egressNode,omitempty"`
	SrcPodIP          string `json:"srcPodIP,omitempty"`
}
