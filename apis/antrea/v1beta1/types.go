package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	Priority  float64              `json:"priority"`
	AppliedTo []ClusterAppliedTo   `json:"appliedTo,omitempty"`
	Ingress   []ClusterIngressRule `json:"ingress,omitempty"`
	Egress    []ClusterEgressRule  `json:"egress,omitempty"`
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

// NetworkPolicySpec is the desired state of an ANP: an ACNP's, less what
// only a cluster-wide policy may select (namespaceSelector, serviceAccount,
// service and nodeSelector in appliedTo; namespaces and serviceAccount
// peers), plus external entities.
type NetworkPolicySpec struct {
	Tier string `json:"tier,omitempty"`
	// Priority orders the policy within its tier, as Antrea's CRD bounds it.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Priority  float64               `json:"priority"`
	AppliedTo []NamespacedAppliedTo `json:"appliedTo,omitempty"`
	Ingress   []IngressRule         `json:"ingress,omitempty"`
	Egress    []EgressRule          `json:"egress,omitempty"`
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
	ServiceReference       *ServiceReference       `json:"serviceReference,omitempty"`
	ExternalEntitySelector *metav1.LabelSelector   `json:"externalEntitySelector,omitempty"`
	ChildGroups            []ClusterGroupReference `json:"childGroups,omitempty"`
}

// ServiceReference names a group's Service; unlike a policy's, neither field
// is required.
type ServiceReference struct {
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
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
