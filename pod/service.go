package pod

import (
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// KindService is a Service: a stable address and DNS name in front of the
// ready pods its selector picks, on podunit's pod network.
const KindService = "Service"

// AnnotationNetwork picks a pod's network: "pod" (the default: podunit's pod
// network) or "slirp4netns" (a network namespace of its own behind
// slirp4netns, as podunit ran every pod before it had a pod network).
const (
	AnnotationNetwork = "podunit.io/network"
	NetworkPod        = "pod"
	NetworkSlirp      = "slirp4netns"
)

// NodePortMin and NodePortMax bound nodePort, as Kubernetes' default
// service-node-port-range does.
const (
	NodePortMin = 30000
	NodePortMax = 32767
)

var serviceRules = withMetadata(map[string]rule{
	"spec":                               {support: Honoured},
	"spec.type":                          {support: Honoured, note: "this host is a LoadBalancer's load balancer: its ports are published on this host's ports of those numbers (and on its node ports)"},
	"spec.selector":                      {support: Honoured, subtree: true},
	"spec.ports":                         {support: Honoured},
	"spec.ports[*].name":                 {support: Honoured},
	"spec.ports[*].protocol":             {support: Honoured},
	"spec.ports[*].port":                 {support: Honoured},
	"spec.ports[*].targetPort":           {support: Honoured},
	"spec.ports[*].nodePort":             {support: Honoured},
	"spec.ports[*].appProtocol":          {support: Ignored, note: "the proxy forwards bytes; it does not speak the protocol"},
	"spec.clusterIP":                     {support: Honoured},
	"spec.clusterIPs":                    {support: Honoured},
	"spec.ipFamilies":                    {support: Honoured},
	"spec.ipFamilyPolicy":                {support: Honoured},
	"spec.externalName":                  {support: Honoured},
	"spec.sessionAffinity":               {support: Honoured},
	"spec.sessionAffinityConfig":         {support: Ignored, subtree: true, note: "ClientIP affinity holds while the endpoints do not change; there is no timeout"},
	"spec.publishNotReadyAddresses":      {support: Honoured},
	"spec.externalTrafficPolicy":         {support: Honoured},
	"spec.internalTrafficPolicy":         {support: Honoured},
	"spec.trafficDistribution":           {support: Ignored, note: "one node: every endpoint is as near as any other"},
	"spec.allocateLoadBalancerNodePorts": {support: Ignored, note: "a LoadBalancer Service has node ports: this host's ports of its ports lead to them"},
	"spec.loadBalancerClass":             {support: Ignored, note: "there is no load balancer on one host"},
	"spec.loadBalancerSourceRanges":      {note: "there is no load balancer on one host"},
	"spec.loadBalancerIP":                {note: "there is no load balancer on one host"},
	"spec.externalIPs":                   {note: "podunit does not route external addresses to Services"},
	"spec.healthCheckNodePort":           {note: "there is no load balancer on one host to check it"},
	"status":                             {support: Ignored, subtree: true, note: "output-only"},
})

// Load-time defaults and checks of a Service, as the API server does them.
func defaultService(s *corev1.Service) {
	if s.Spec.Type == "" {
		s.Spec.Type = corev1.ServiceTypeClusterIP
	}
	if s.Spec.SessionAffinity == "" {
		s.Spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	for i := range s.Spec.Ports {
		p := &s.Spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0 && s.Spec.Type != corev1.ServiceTypeExternalName {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if s.Spec.ClusterIP == "" && len(s.Spec.ClusterIPs) > 0 {
		s.Spec.ClusterIP = s.Spec.ClusterIPs[0]
	}
}

// HasNodePorts tells whether a Service is published on the host.
func HasNodePorts(s *corev1.Service) bool {
	return s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer
}

// Headless tells whether a Service has no address of its own: its DNS name
// answers with the addresses of its ready pods.
func Headless(s *corev1.Service) bool { return s.Spec.ClusterIP == corev1.ClusterIPNone }

func validateService(s *corev1.Service) (warns []string, errs field.ErrorList) {
	md := field.NewPath("metadata")
	// A Service's name is a DNS label that starts with a letter (RFC 1035): it
	// is a DNS name and the prefix of environment variables.
	for _, msg := range validation.IsDNS1035Label(s.Name) {
		errs = append(errs, field.Invalid(md.Child("name"), s.Name, msg))
	}
	if s.Name == "" {
		errs = append(errs, field.Required(md.Child("name"), ""))
	}
	for _, msg := range validation.IsDNS1123Label(s.Namespace) {
		errs = append(errs, field.Invalid(md.Child("namespace"), s.Namespace, msg))
	}
	errs = append(errs, validateLabels(s.Labels, md.Child("labels"))...)

	sp := field.NewPath("spec")
	switch s.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
	case corev1.ServiceTypeExternalName:
		if s.Spec.ExternalName == "" {
			errs = append(errs, field.Required(sp.Child("externalName"), "an ExternalName Service needs it"))
		}
		for _, msg := range validation.IsDNS1123Subdomain(strings.TrimSuffix(s.Spec.ExternalName, ".")) {
			if s.Spec.ExternalName != "" {
				errs = append(errs, field.Invalid(sp.Child("externalName"), s.Spec.ExternalName, msg))
			}
		}
		if s.Spec.ClusterIP != "" {
			errs = append(errs, field.Forbidden(sp.Child("clusterIP"), "an ExternalName Service has no address"))
		}
		if len(s.Spec.Selector) > 0 {
			errs = append(errs, field.Forbidden(sp.Child("selector"), "an ExternalName Service selects no pods"))
		}
		return warns, errs
	default:
		errs = append(errs, field.NotSupported(sp.Child("type"), s.Spec.Type, []string{"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}))
	}
	if s.Spec.ExternalName != "" {
		errs = append(errs, field.Forbidden(sp.Child("externalName"), "only an ExternalName Service has one"))
	}
	w, e := validateTrafficPolicies(s, sp)
	warns, errs = append(warns, w...), append(errs, e...)
	for k, v := range s.Spec.Selector {
		p := sp.Child("selector").Key(k)
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(p, k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, field.Invalid(p, v, msg))
		}
	}

	switch ip := s.Spec.ClusterIP; {
	case ip == "", ip == corev1.ClusterIPNone:
	case net.ParseIP(ip) == nil || net.ParseIP(ip).To4() == nil:
		errs = append(errs, field.Invalid(sp.Child("clusterIP"), ip, `must be "None", empty, or an IPv4 address`))
	}
	if len(s.Spec.ClusterIPs) > 1 {
		errs = append(errs, field.TooMany(sp.Child("clusterIPs"), len(s.Spec.ClusterIPs), 1))
	} else if len(s.Spec.ClusterIPs) == 1 && s.Spec.ClusterIPs[0] != s.Spec.ClusterIP {
		errs = append(errs, field.Invalid(sp.Child("clusterIPs").Index(0), s.Spec.ClusterIPs[0], "must match spec.clusterIP"))
	}
	for i, f := range s.Spec.IPFamilies {
		if f != corev1.IPv4Protocol {
			errs = append(errs, field.NotSupported(sp.Child("ipFamilies").Index(i), f, []string{"IPv4"}))
		}
	}
	if p := s.Spec.IPFamilyPolicy; p != nil && *p == corev1.IPFamilyPolicyRequireDualStack {
		errs = append(errs, field.NotSupported(sp.Child("ipFamilyPolicy"), *p, []string{"SingleStack", "PreferDualStack"}))
	}
	switch s.Spec.SessionAffinity {
	case corev1.ServiceAffinityNone, corev1.ServiceAffinityClientIP:
	default:
		errs = append(errs, field.NotSupported(sp.Child("sessionAffinity"), s.Spec.SessionAffinity, []string{"None", "ClientIP"}))
	}

	pp := sp.Child("ports")
	if len(s.Spec.Ports) == 0 && !Headless(s) {
		errs = append(errs, field.Required(pp, "a Service with an address needs at least one port"))
	}
	names := map[string]int{}
	ports := map[string]int{}
	nodePorts := map[int32]int{}
	for i, p := range s.Spec.Ports {
		ip := pp.Index(i)
		if len(s.Spec.Ports) > 1 && p.Name == "" {
			errs = append(errs, field.Required(ip.Child("name"), "each port of a Service with several ports needs a name"))
		}
		if p.Name != "" {
			for _, msg := range validation.IsDNS1123Label(p.Name) {
				errs = append(errs, field.Invalid(ip.Child("name"), p.Name, msg))
			}
			if j, dup := names[p.Name]; dup {
				errs = append(errs, field.Duplicate(ip.Child("name"), fmt.Sprintf("%s (also spec.ports[%d])", p.Name, j)))
			}
			names[p.Name] = i
		}
		switch p.Protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP:
		default:
			errs = append(errs, field.NotSupported(ip.Child("protocol"), p.Protocol, []string{"TCP", "UDP"}))
		}
		for _, msg := range validation.IsValidPortNum(int(p.Port)) {
			errs = append(errs, field.Invalid(ip.Child("port"), p.Port, msg))
		}
		key := fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		if j, dup := ports[key]; dup {
			errs = append(errs, field.Duplicate(ip, fmt.Sprintf("port %s (also spec.ports[%d])", key, j)))
		}
		ports[key] = i
		switch tp := p.TargetPort; tp.Type {
		case intstr.Int:
			for _, msg := range validation.IsValidPortNum(int(tp.IntVal)) {
				errs = append(errs, field.Invalid(ip.Child("targetPort"), tp.IntVal, msg))
			}
		case intstr.String:
			for _, msg := range validation.IsValidPortName(tp.StrVal) {
				errs = append(errs, field.Invalid(ip.Child("targetPort"), tp.StrVal, msg))
			}
		}
		if p.NodePort != 0 {
			switch {
			case !HasNodePorts(s):
				errs = append(errs, field.Forbidden(ip.Child("nodePort"), "only a NodePort or LoadBalancer Service is published on the host"))
			case p.NodePort < NodePortMin || p.NodePort > NodePortMax:
				errs = append(errs, field.Invalid(ip.Child("nodePort"), p.NodePort, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %d-%d", NodePortMin, NodePortMax)))
			}
			if j, dup := nodePorts[p.NodePort]; dup {
				errs = append(errs, field.Duplicate(ip.Child("nodePort"), fmt.Sprintf("%d (also spec.ports[%d])", p.NodePort, j)))
			}
			nodePorts[p.NodePort] = i
		}
	}
	if Headless(s) && HasNodePorts(s) {
		errs = append(errs, field.Invalid(sp.Child("clusterIP"), s.Spec.ClusterIP, "a headless Service cannot be of type "+string(s.Spec.Type)))
	}
	return warns, errs
}

// validateTrafficPolicies checks the traffic policies as the API server
// does. On one node every endpoint is local, so Cluster and Local route
// alike, and kubectl's own output (Cluster) passes without a word; what an
// external Local would add, the client's own address at the pod, the
// userspace proxy does not keep, and a warning says so.
func validateTrafficPolicies(s *corev1.Service, sp *field.Path) (warns []string, errs field.ErrorList) {
	if p := s.Spec.ExternalTrafficPolicy; p != "" {
		fp := sp.Child("externalTrafficPolicy")
		switch {
		case p != corev1.ServiceExternalTrafficPolicyCluster && p != corev1.ServiceExternalTrafficPolicyLocal:
			errs = append(errs, field.NotSupported(fp, string(p), []string{"Cluster", "Local"}))
		case !HasNodePorts(s):
			errs = append(errs, field.Invalid(fp, string(p), "may only be set when type is NodePort or LoadBalancer"))
		case p == corev1.ServiceExternalTrafficPolicyLocal:
			warns = append(warns, fp.String()+": Local: clients reach the pods from the service proxy's address, not their own (one node: Local and Cluster route alike)")
		}
	}
	if p := s.Spec.InternalTrafficPolicy; p != nil && *p != corev1.ServiceInternalTrafficPolicyCluster && *p != corev1.ServiceInternalTrafficPolicyLocal {
		errs = append(errs, field.NotSupported(sp.Child("internalTrafficPolicy"), string(*p), []string{"Cluster", "Local"}))
	}
	return warns, errs
}
