package pod

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// KindNetworkPolicy is a NetworkPolicy: which traffic the pods it selects
// may receive and send. podunit enforces it in each selected pod's network
// namespace (nftables, with connection tracking) and in the service proxy
// for what reaches pods through a Service, the cluster DNS or an Ingress.
const KindNetworkPolicy = "NetworkPolicy"

// NetworkPolicyAPIVersion is the NetworkPolicy's group and version.
const NetworkPolicyAPIVersion = "networking.k8s.io/v1"

var netpolPeer = map[string]rule{
	"podSelector":       {support: Honoured, subtree: true},
	"namespaceSelector": {support: Honoured, subtree: true, note: "a namespace's labels are those of its Namespace document, and kubernetes.io/metadata.name"},
	"ipBlock":           {support: Honoured},
	"ipBlock.cidr":      {support: Honoured},
	"ipBlock.except":    {support: Honoured},
}

var netpolPort = map[string]rule{
	"protocol": {support: Honoured},
	"port":     {support: Honoured, note: "a name is the container port's of the pod the traffic goes to"},
	"endPort":  {support: Honoured},
}

var networkPolicyRules = func() map[string]rule {
	r := map[string]rule{
		"spec":                  {support: Honoured},
		"spec.podSelector":      {support: Honoured, subtree: true},
		"spec.policyTypes":      {support: Honoured},
		"spec.ingress":          {support: Honoured},
		"spec.egress":           {support: Honoured},
		"spec.ingress[*].from":  {support: Honoured},
		"spec.ingress[*].ports": {support: Honoured},
		"spec.egress[*].to":     {support: Honoured},
		"spec.egress[*].ports":  {support: Honoured},
		"status":                {support: Ignored, subtree: true, note: "output-only"},
	}
	for k, v := range netpolPeer {
		r["spec.ingress[*].from[*]."+k] = v
		r["spec.egress[*].to[*]."+k] = v
	}
	for k, v := range netpolPort {
		r["spec.ingress[*].ports[*]."+k] = v
		r["spec.egress[*].ports[*]."+k] = v
	}
	return withMetadata(r)
}()

// loadNetworkPolicy decodes, defaults and validates a NetworkPolicy as the
// API server does.
func loadNetworkPolicy(generic any, js []byte, o *Objects) ([]string, field.ErrorList) {
	var np networkingv1.NetworkPolicy
	warns, errs := decodeStrict(generic, js, &np, networkPolicyRules)
	DefaultNetworkPolicy(&np)
	o.NetworkPolicies = append(o.NetworkPolicies, &np)
	errs = append(errs, validateObjectMeta(np.Name, np.Namespace, np.Labels)...)
	errs = append(errs, validateNetworkPolicy(&np)...)
	if len(errs) > 0 {
		return nil, errs
	}
	return warns, nil
}

// DefaultNetworkPolicy sets what the API server defaults: the policy types
// (Ingress, and Egress where there are egress rules) and each port's
// protocol (TCP).
func DefaultNetworkPolicy(np *networkingv1.NetworkPolicy) {
	if len(np.Spec.PolicyTypes) == 0 {
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) > 0 {
			np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
	tcp := corev1.ProtocolTCP
	for i := range np.Spec.Ingress {
		for j := range np.Spec.Ingress[i].Ports {
			if np.Spec.Ingress[i].Ports[j].Protocol == nil {
				np.Spec.Ingress[i].Ports[j].Protocol = &tcp
			}
		}
	}
	for i := range np.Spec.Egress {
		for j := range np.Spec.Egress[i].Ports {
			if np.Spec.Egress[i].Ports[j].Protocol == nil {
				np.Spec.Egress[i].Ports[j].Protocol = &tcp
			}
		}
	}
}

func validateNetworkPolicy(np *networkingv1.NetworkPolicy) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	errs = append(errs, validateSelector(&np.Spec.PodSelector, sp.Child("podSelector"))...)
	if len(np.Spec.PolicyTypes) > 2 {
		errs = append(errs, field.TooMany(sp.Child("policyTypes"), len(np.Spec.PolicyTypes), 2))
	}
	seen := map[networkingv1.PolicyType]bool{}
	for i, t := range np.Spec.PolicyTypes {
		p := sp.Child("policyTypes").Index(i)
		switch {
		case t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress:
			errs = append(errs, field.NotSupported(p, string(t), []string{string(networkingv1.PolicyTypeIngress), string(networkingv1.PolicyTypeEgress)}))
		case seen[t]:
			errs = append(errs, field.Duplicate(p, string(t)))
		}
		seen[t] = true
	}
	for i, r := range np.Spec.Ingress {
		p := sp.Child("ingress").Index(i)
		errs = append(errs, validatePolicyPorts(r.Ports, p.Child("ports"))...)
		for j := range r.From {
			errs = append(errs, validatePolicyPeer(&r.From[j], p.Child("from").Index(j))...)
		}
	}
	for i, r := range np.Spec.Egress {
		p := sp.Child("egress").Index(i)
		errs = append(errs, validatePolicyPorts(r.Ports, p.Child("ports"))...)
		for j := range r.To {
			errs = append(errs, validatePolicyPeer(&r.To[j], p.Child("to").Index(j))...)
		}
	}
	return errs
}

func validateSelector(sel *metav1.LabelSelector, p *field.Path) field.ErrorList {
	if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
		return field.ErrorList{field.Invalid(p, "", err.Error())}
	}
	return nil
}

func validatePolicyPorts(ports []networkingv1.NetworkPolicyPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, port := range ports {
		pp := p.Index(i)
		if pr := port.Protocol; pr != nil && *pr != corev1.ProtocolTCP && *pr != corev1.ProtocolUDP && *pr != corev1.ProtocolSCTP {
			errs = append(errs, field.NotSupported(pp.Child("protocol"), string(*pr), []string{string(corev1.ProtocolTCP), string(corev1.ProtocolUDP), string(corev1.ProtocolSCTP)}))
		}
		if port.Port == nil {
			if port.EndPort != nil {
				errs = append(errs, field.Forbidden(pp.Child("endPort"), "may not be specified when `port` is not specified"))
			}
			continue
		}
		if port.Port.Type == intstr.String {
			for _, msg := range validation.IsValidPortName(port.Port.StrVal) {
				errs = append(errs, field.Invalid(pp.Child("port"), port.Port.StrVal, msg))
			}
			if port.EndPort != nil {
				errs = append(errs, field.Forbidden(pp.Child("endPort"), "may not be specified when `port` is non-numeric"))
			}
			continue
		}
		for _, msg := range validation.IsValidPortNum(int(port.Port.IntVal)) {
			errs = append(errs, field.Invalid(pp.Child("port"), port.Port.IntVal, msg))
		}
		if e := port.EndPort; e != nil {
			switch {
			case *e < port.Port.IntVal:
				errs = append(errs, field.Invalid(pp.Child("endPort"), *e, "must be greater than or equal to `port`"))
			case len(validation.IsValidPortNum(int(*e))) > 0:
				errs = append(errs, field.Invalid(pp.Child("endPort"), *e, validation.IsValidPortNum(int(*e))[0]))
			}
		}
	}
	return errs
}

func validatePolicyPeer(peer *networkingv1.NetworkPolicyPeer, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if peer.PodSelector != nil {
		n++
		errs = append(errs, validateSelector(peer.PodSelector, p.Child("podSelector"))...)
	}
	if peer.NamespaceSelector != nil {
		n++
		errs = append(errs, validateSelector(peer.NamespaceSelector, p.Child("namespaceSelector"))...)
	}
	if b := peer.IPBlock; b != nil {
		n++
		if peer.PodSelector != nil || peer.NamespaceSelector != nil {
			errs = append(errs, field.Forbidden(p, "may not specify both ipBlock and another peer"))
		}
		cidr, err := netip.ParsePrefix(b.CIDR)
		switch {
		case b.CIDR == "":
			errs = append(errs, field.Required(p.Child("ipBlock", "cidr"), ""))
		case err != nil:
			errs = append(errs, field.Invalid(p.Child("ipBlock", "cidr"), b.CIDR, "must be a valid CIDR (e.g. 10.0.0.0/8 or 2001:db8::/32)"))
		}
		for i, ex := range b.Except {
			ep := p.Child("ipBlock", "except").Index(i)
			e, err := netip.ParsePrefix(ex)
			switch {
			case err != nil:
				errs = append(errs, field.Invalid(ep, ex, "must be a valid CIDR"))
			case cidr.IsValid() && (e.Addr().Is4() != cidr.Addr().Is4() || e.Bits() <= cidr.Bits() || !cidr.Contains(e.Addr())):
				errs = append(errs, field.Invalid(ep, ex, fmt.Sprintf("must be a strict subset of `cidr` (%s)", b.CIDR)))
			}
		}
	}
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a peer"))
	}
	return errs
}

// PolicySelects tells whether a NetworkPolicy applies to a pod: the pod is
// in its namespace and its podSelector matches the pod's labels.
func PolicySelects(np *networkingv1.NetworkPolicy, p *corev1.Pod) bool {
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	return np.Namespace == p.Namespace && err == nil && sel.Matches(labels.Set(p.Labels))
}

// NetworkPolicyWarnings are the pods that a policy selects but that are off
// the pod network by their own annotation (slirp4netns): their traffic
// cannot be limited. (hostNetwork pods are not, as on a cluster.)
func NetworkPolicyWarnings(pods []*corev1.Pod, all *Objects) []string {
	var out []string
	for _, p := range pods {
		if p.Annotations[AnnotationNetwork] != NetworkSlirp || p.Spec.HostNetwork {
			continue
		}
		for _, np := range all.NetworkPolicies {
			if PolicySelects(np, p) {
				out = append(out, fmt.Sprintf("pod %q: networkpolicy %q selects it, but it runs on slirp4netns (%s): not enforced", p.Name, np.Name, AnnotationNetwork))
			}
		}
	}
	return out
}
