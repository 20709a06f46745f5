package pod

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// KindEndpoints and KindEndpointSlice are the endpoints a user writes for a
// Service without a selector ("Services without selectors" in Kubernetes'
// documentation): a database on the LAN, a process on this host, a pod of
// another manifest, behind a Service name and address that pods use as any
// other. The service proxy forwards to them and the cluster DNS answers
// with them (headless); a Service with a selector has its pods instead.
const (
	KindEndpoints     = "Endpoints"
	KindEndpointSlice = "EndpointSlice"
)

// EndpointSliceAPIVersion is the EndpointSlice's group and version.
const EndpointSliceAPIVersion = "discovery.k8s.io/v1"

// LabelServiceName names the Service an EndpointSlice belongs to.
const LabelServiceName = discoveryv1.LabelServiceName

// ServiceRange holds the Services' and the cluster DNS's addresses on the
// pod network (the lower half of 10.96.0.0/16; pods have the upper half).
var ServiceRange = netip.MustParsePrefix("10.96.0.0/17")

var endpointPortRules = map[string]rule{
	"name":        {support: Honoured, note: "the Service port of the same name leads to it"},
	"port":        {support: Honoured},
	"protocol":    {support: Honoured},
	"appProtocol": {support: Ignored, note: "the proxy forwards bytes; it does not speak the protocol"},
}

var endpointAddressRules = map[string]rule{
	"ip":        {support: Honoured},
	"hostname":  {support: Honoured, note: "HOSTNAME.SERVICE.NAMESPACE.svc.cluster.local answers with the address, for a headless Service"},
	"nodeName":  {support: Ignored, note: "there is one node"},
	"targetRef": {support: Ignored, subtree: true, note: "informational: the address is what the proxy uses"},
}

var endpointsRules = func() map[string]rule {
	r := map[string]rule{
		"subsets":                      {support: Honoured},
		"subsets[*].addresses":         {support: Honoured},
		"subsets[*].notReadyAddresses": {support: Honoured, note: "used only by a Service that publishes not ready addresses"},
		"subsets[*].ports":             {support: Honoured},
	}
	for k, v := range endpointAddressRules {
		r["subsets[*].addresses[*]."+k] = v
		r["subsets[*].notReadyAddresses[*]."+k] = v
	}
	for k, v := range endpointPortRules {
		r["subsets[*].ports[*]."+k] = v
	}
	return withMetadata(r)
}()

var endpointSliceRules = func() map[string]rule {
	r := map[string]rule{
		"addressType":                         {support: Honoured, note: "IPv4: the pod network has no IPv6, and FQDN is not routed (an ExternalName Service is)"},
		"endpoints":                           {support: Honoured},
		"endpoints[*].addresses":              {support: Honoured, note: "the first is used, as the API allows consumers to"},
		"endpoints[*].conditions":             {support: Honoured},
		"endpoints[*].conditions.ready":       {support: Honoured, note: "unset is ready"},
		"endpoints[*].conditions.serving":     {support: Ignored, note: "ready decides"},
		"endpoints[*].conditions.terminating": {support: Ignored, note: "ready decides"},
		"endpoints[*].hostname":               endpointAddressRules["hostname"],
		"endpoints[*].nodeName":               endpointAddressRules["nodeName"],
		"endpoints[*].targetRef":              endpointAddressRules["targetRef"],
		"endpoints[*].zone":                   {support: Ignored, note: "there is one node"},
		"endpoints[*].hints":                  {support: Ignored, subtree: true, note: "one node: every endpoint is as near as any other"},
		"endpoints[*].deprecatedTopology":     {support: Ignored, subtree: true, note: "there is one node"},
		"ports":                               {support: Honoured},
	}
	for k, v := range endpointPortRules {
		r["ports[*]."+k] = v
	}
	return withMetadata(r)
}()

// loadEndpoints decodes and validates an Endpoints object as the API server
// does, with the addresses the pod network can reach.
func loadEndpoints(generic any, js []byte, o *Objects) ([]string, field.ErrorList) {
	var ep corev1.Endpoints
	warns, errs := decodeStrict(generic, js, &ep, endpointsRules)
	for i := range ep.Subsets {
		defaultEndpointPorts(ep.Subsets[i].Ports)
	}
	o.Endpoints = append(o.Endpoints, &ep)
	errs = append(errs, validateObjectMeta(ep.Name, ep.Namespace, ep.Labels)...)
	for _, msg := range validation.IsDNS1035Label(ep.Name) {
		if ep.Name != "" {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), ep.Name, "the name of the Service it is the endpoints of: "+msg))
		}
	}
	for i, s := range ep.Subsets {
		sp := field.NewPath("subsets").Index(i)
		if len(s.Addresses)+len(s.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(sp.Child("addresses"), "a subset needs an address"))
		}
		for j, a := range s.Addresses {
			ap := sp.Child("addresses").Index(j)
			errs = append(errs, validateEndpointAddress(a.IP, ap.Child("ip"), a.Hostname, ap.Child("hostname"))...)
		}
		for j, a := range s.NotReadyAddresses {
			ap := sp.Child("notReadyAddresses").Index(j)
			errs = append(errs, validateEndpointAddress(a.IP, ap.Child("ip"), a.Hostname, ap.Child("hostname"))...)
		}
		if len(s.Ports) == 0 {
			errs = append(errs, field.Required(sp.Child("ports"), "a subset needs a port"))
		}
		errs = append(errs, validateEndpointPorts(s.Ports, sp.Child("ports"))...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return warns, nil
}

// loadEndpointSlice decodes and validates an EndpointSlice: of an IPv4
// address type, labelled with the Service it belongs to.
func loadEndpointSlice(generic any, js []byte, o *Objects) ([]string, field.ErrorList) {
	var es discoveryv1.EndpointSlice
	warns, errs := decodeStrict(generic, js, &es, endpointSliceRules)
	for i := range es.Ports {
		if es.Ports[i].Protocol == nil {
			tcp := corev1.ProtocolTCP
			es.Ports[i].Protocol = &tcp
		}
		if es.Ports[i].Name == nil {
			empty := ""
			es.Ports[i].Name = &empty
		}
	}
	o.EndpointSlices = append(o.EndpointSlices, &es)
	md := field.NewPath("metadata")
	errs = append(errs, validateObjectMeta(es.Name, es.Namespace, es.Labels)...)
	if svc := es.Labels[LabelServiceName]; svc == "" {
		errs = append(errs, field.Required(md.Child("labels").Key(LabelServiceName), "the name of the Service the slice's endpoints are for"))
	} else {
		for _, msg := range validation.IsDNS1035Label(svc) {
			errs = append(errs, field.Invalid(md.Child("labels").Key(LabelServiceName), svc, msg))
		}
	}
	switch es.AddressType {
	case discoveryv1.AddressTypeIPv4:
	case "":
		errs = append(errs, field.Required(field.NewPath("addressType"), "IPv4"))
	default:
		errs = append(errs, field.NotSupported(field.NewPath("addressType"), string(es.AddressType), []string{string(discoveryv1.AddressTypeIPv4)}))
	}
	if len(es.Endpoints) > 1000 {
		errs = append(errs, field.TooMany(field.NewPath("endpoints"), len(es.Endpoints), 1000))
	}
	for i, e := range es.Endpoints {
		ep := field.NewPath("endpoints").Index(i)
		switch n := len(e.Addresses); {
		case n == 0:
			errs = append(errs, field.Required(ep.Child("addresses"), "an endpoint needs an address"))
		case n > 100:
			errs = append(errs, field.TooMany(ep.Child("addresses"), n, 100))
		}
		var hostname string
		if e.Hostname != nil {
			hostname = *e.Hostname
			if hostname == "" {
				errs = append(errs, field.Invalid(ep.Child("hostname"), hostname, "must not be empty when set"))
			}
		}
		for j, a := range e.Addresses {
			errs = append(errs, validateEndpointAddress(a, ep.Child("addresses").Index(j), hostname, ep.Child("hostname"))...)
			hostname = "" // checked once
		}
	}
	if len(es.Ports) > 100 {
		errs = append(errs, field.TooMany(field.NewPath("ports"), len(es.Ports), 100))
	}
	ports := make([]corev1.EndpointPort, len(es.Ports))
	for i, p := range es.Ports {
		pp := field.NewPath("ports").Index(i)
		ports[i] = corev1.EndpointPort{Name: *p.Name, Port: 1, Protocol: *p.Protocol} // 1: checked here
		if p.Port == nil {
			errs = append(errs, field.Required(pp.Child("port"), "podunit routes a Service port to one port of the endpoints"))
		} else {
			ports[i].Port = *p.Port
		}
	}
	errs = append(errs, validateEndpointPorts(ports, field.NewPath("ports"))...)
	if len(errs) > 0 {
		return nil, errs
	}
	return warns, nil
}

func defaultEndpointPorts(ports []corev1.EndpointPort) {
	for i := range ports {
		if ports[i].Protocol == "" {
			ports[i].Protocol = corev1.ProtocolTCP
		}
	}
}

// validateEndpointAddress checks an endpoint's address (at ipPath) as the
// API server does (no unspecified, loopback, link-local or multicast
// address), and that the pod network reaches it: IPv4, not a Service's
// address (the proxy would send a Service's traffic back to itself); and
// its hostname (at hostPath), when it has one.
func validateEndpointAddress(ip string, ipPath *field.Path, hostname string, hostPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	a, err := netip.ParseAddr(ip)
	switch {
	case ip == "":
		errs = append(errs, field.Required(ipPath, "an IPv4 address"))
	case err != nil:
		errs = append(errs, field.Invalid(ipPath, ip, "must be a valid IP address"))
	case !a.Is4():
		errs = append(errs, field.Invalid(ipPath, ip, "must be an IPv4 address: the pod network has no IPv6"))
	case a.IsUnspecified():
		errs = append(errs, field.Invalid(ipPath, ip, "may not be unspecified (0.0.0.0)"))
	case a.IsLoopback():
		errs = append(errs, field.Invalid(ipPath, ip, "may not be in the loopback range (127.0.0.0/8): for a process on this host, use the host's own address"))
	case a.IsLinkLocalUnicast():
		errs = append(errs, field.Invalid(ipPath, ip, "may not be in the link-local range (169.254.0.0/16)"))
	case a.IsMulticast():
		errs = append(errs, field.Invalid(ipPath, ip, "may not be a multicast address"))
	case ServiceRange.Contains(a):
		errs = append(errs, field.Invalid(ipPath, ip, fmt.Sprintf("may not be in the Services' range (%s): a Service's address is not an endpoint", ServiceRange)))
	}
	if hostname != "" {
		for _, msg := range validation.IsDNS1123Label(hostname) {
			errs = append(errs, field.Invalid(hostPath, hostname, msg))
		}
	}
	return errs
}

func validateEndpointPorts(ports []corev1.EndpointPort, pp *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]int{}
	for i, p := range ports {
		ip := pp.Index(i)
		if len(ports) > 1 && p.Name == "" {
			errs = append(errs, field.Required(ip.Child("name"), "each of several ports needs a name (that of the Service port it is for)"))
		}
		if p.Name != "" {
			for _, msg := range validation.IsDNS1123Label(p.Name) {
				errs = append(errs, field.Invalid(ip.Child("name"), p.Name, msg))
			}
		}
		if j, dup := names[p.Name]; dup && p.Name != "" {
			errs = append(errs, field.Duplicate(ip.Child("name"), fmt.Sprintf("%s (also %s)", p.Name, pp.Index(j))))
		}
		names[p.Name] = i
		for _, msg := range validation.IsValidPortNum(int(p.Port)) {
			errs = append(errs, field.Invalid(ip.Child("port"), p.Port, msg))
		}
		switch p.Protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP:
		default:
			errs = append(errs, field.NotSupported(ip.Child("protocol"), string(p.Protocol), []string{"TCP", "UDP"}))
		}
	}
	return errs
}

// EndpointsWarnings are what a manifest's Endpoints and EndpointSlices do not
// do, with all the objects known (the manifest's over the stored): no
// Service of their name (yet), a Service with a selector (its pods are its
// endpoints) or an ExternalName one, a Service port no port of theirs is
// named for.
func EndpointsWarnings(m, all *Objects) []string {
	var warns []string
	check := func(what, ns, svcName string, ports []corev1.EndpointPort) {
		svc := all.Service(ns, svcName)
		switch {
		case svc == nil:
			warns = append(warns, fmt.Sprintf("%s: service %q not found: nothing routes to these addresses until a Service of that name without a selector exists", what, svcName))
			return
		case svc.Spec.Type == corev1.ServiceTypeExternalName:
			warns = append(warns, fmt.Sprintf("%s: service %q is an ExternalName Service: its name leads to %s, and these addresses are not used", what, svcName, svc.Spec.ExternalName))
			return
		case len(svc.Spec.Selector) > 0:
			warns = append(warns, fmt.Sprintf("%s: service %q has a selector: its endpoints are the pods it selects, and these addresses are not used", what, svcName))
			return
		}
		for _, sp := range svc.Spec.Ports {
			found := false
			for _, p := range ports {
				found = found || (p.Name == sp.Name && p.Protocol == sp.Protocol)
			}
			if !found {
				warns = append(warns, fmt.Sprintf("%s: no %s port named %q, as service %q's port %d has: its connections find no endpoint", what, sp.Protocol, sp.Name, svcName, sp.Port))
			}
		}
	}
	for _, ep := range m.Endpoints {
		var ports []corev1.EndpointPort
		for _, s := range ep.Subsets {
			ports = append(ports, s.Ports...)
		}
		check(fmt.Sprintf("endpoints %q", ep.Name), ep.Namespace, ep.Name, ports)
	}
	for _, es := range m.EndpointSlices {
		check(fmt.Sprintf("endpointslice %q", es.Name), es.Namespace, es.Labels[LabelServiceName], SlicePorts(es))
	}
	return warns
}

// SlicePorts are an EndpointSlice's ports as an Endpoints object has them: a
// port without a number is left out, an unnamed one is named "", TCP is the
// protocol where none is given.
func SlicePorts(es *discoveryv1.EndpointSlice) []corev1.EndpointPort {
	ports := make([]corev1.EndpointPort, 0, len(es.Ports))
	for _, p := range es.Ports {
		if p.Port == nil {
			continue
		}
		pt := corev1.EndpointPort{Port: *p.Port, Protocol: corev1.ProtocolTCP}
		if p.Name != nil {
			pt.Name = *p.Name
		}
		if p.Protocol != nil {
			pt.Protocol = *p.Protocol
		}
		ports = append(ports, pt)
	}
	return ports
}
