package pod

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// KindIngress is an Ingress: HTTP and HTTPS routes, by host and path, from
// this host's ingress ports to Services. The service proxy is this host's
// ingress controller: it serves every Ingress, whatever its class.
const KindIngress = "Ingress"

// IngressAPIVersion is the Ingress's group and version.
const IngressAPIVersion = "networking.k8s.io/v1"

var ingressRules = withMetadata(map[string]rule{
	"spec":                                         {support: Honoured},
	"spec.ingressClassName":                        {support: Honoured, note: "the service proxy is this host's only ingress controller: it serves every Ingress, whatever its class"},
	"spec.defaultBackend":                          {support: Honoured},
	"spec.defaultBackend.service":                  {support: Honoured, subtree: true},
	"spec.defaultBackend.resource":                 {note: "a backend is a Service on this host"},
	"spec.rules":                                   {support: Honoured},
	"spec.rules[*].host":                           {support: Honoured},
	"spec.rules[*].http":                           {support: Honoured},
	"spec.rules[*].http.paths":                     {support: Honoured},
	"spec.rules[*].http.paths[*].path":             {support: Honoured},
	"spec.rules[*].http.paths[*].pathType":         {support: Honoured, note: "ImplementationSpecific matches as Prefix"},
	"spec.rules[*].http.paths[*].backend":          {support: Honoured},
	"spec.rules[*].http.paths[*].backend.service":  {support: Honoured, subtree: true},
	"spec.rules[*].http.paths[*].backend.resource": {note: "a backend is a Service on this host"},
	"spec.tls":                                     {support: Honoured},
	"spec.tls[*].hosts":                            {support: Honoured},
	"spec.tls[*].secretName":                       {support: Honoured},
	"status":                                       {support: Ignored, subtree: true, note: "output-only"},
})

// loadIngress decodes and validates an Ingress as the API server does.
func loadIngress(generic any, js []byte, o *Objects) ([]string, field.ErrorList) {
	var in networkingv1.Ingress
	warns, errs := decodeStrict(generic, js, &in, ingressRules)
	in.Status = networkingv1.IngressStatus{}
	for i := range in.Spec.Rules {
		if h := in.Spec.Rules[i].HTTP; h != nil {
			for j := range h.Paths {
				if h.Paths[j].Path == "" && h.Paths[j].PathType != nil && *h.Paths[j].PathType != networkingv1.PathTypeExact {
					// what the API server's default is for a Prefix path
					h.Paths[j].Path = "/"
				}
			}
		}
	}
	o.Ingresses = append(o.Ingresses, &in)
	errs = append(errs, validateObjectMeta(in.Name, in.Namespace, in.Labels)...)
	errs = append(errs, validateIngress(&in)...)
	if len(errs) > 0 {
		return nil, errs
	}
	var other []string
	for _, k := range sortedStringKeys(in.Annotations) {
		if strings.Contains(k, "ingress.kubernetes.io/") || strings.HasPrefix(k, "cert-manager.io/") {
			other = append(other, k)
		}
	}
	if len(other) > 0 {
		warns = append(warns, fmt.Sprintf("metadata.annotations: ignored: %s: another ingress controller's (or cert-manager's) settings; podunit's routes by the spec alone (no rewrites, redirects or issued certificates)", strings.Join(other, ", ")))
	}
	return warns, nil
}

func validateIngress(in *networkingv1.Ingress) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	if c := in.Spec.IngressClassName; c != nil {
		for _, msg := range validation.IsDNS1123Subdomain(*c) {
			errs = append(errs, field.Invalid(sp.Child("ingressClassName"), *c, msg))
		}
	}
	if in.Spec.DefaultBackend == nil && len(in.Spec.Rules) == 0 {
		errs = append(errs, field.Invalid(sp.Child("rules"), in.Spec.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if b := in.Spec.DefaultBackend; b != nil {
		errs = append(errs, validateBackend(b, sp.Child("defaultBackend"))...)
	}
	for i, r := range in.Spec.Rules {
		rp := sp.Child("rules").Index(i)
		if r.Host != "" {
			errs = append(errs, validateIngressHost(r.Host, rp.Child("host"))...)
		}
		if r.HTTP == nil {
			// a rule without http routes nothing (the API server takes it)
			continue
		}
		if len(r.HTTP.Paths) == 0 {
			errs = append(errs, field.Required(rp.Child("http", "paths"), ""))
		}
		for j, p := range r.HTTP.Paths {
			pp := rp.Child("http", "paths").Index(j)
			switch {
			case p.PathType == nil:
				errs = append(errs, field.Required(pp.Child("pathType"), "pathType must be specified"))
			case *p.PathType != networkingv1.PathTypeExact && *p.PathType != networkingv1.PathTypePrefix && *p.PathType != networkingv1.PathTypeImplementationSpecific:
				errs = append(errs, field.NotSupported(pp.Child("pathType"), *p.PathType, []string{"Exact", "Prefix", "ImplementationSpecific"}))
			}
			if !strings.HasPrefix(p.Path, "/") {
				errs = append(errs, field.Invalid(pp.Child("path"), p.Path, "must be an absolute path"))
			} else if p.PathType != nil && *p.PathType != networkingv1.PathTypeImplementationSpecific {
				for _, bad := range []string{"//", "/./", "/../", "%2f", "%2F"} {
					if strings.Contains(p.Path, bad) {
						errs = append(errs, field.Invalid(pp.Child("path"), p.Path, "must not contain '"+bad+"'"))
					}
				}
				for _, bad := range []string{"/..", "/."} {
					if strings.HasSuffix(p.Path, bad) {
						errs = append(errs, field.Invalid(pp.Child("path"), p.Path, "cannot end with '"+bad+"'"))
					}
				}
			}
			errs = append(errs, validateBackend(&p.Backend, pp.Child("backend"))...)
		}
	}
	for i, t := range in.Spec.TLS {
		tp := sp.Child("tls").Index(i)
		for j, h := range t.Hosts {
			errs = append(errs, validateIngressHost(h, tp.Child("hosts").Index(j))...)
		}
		if t.SecretName != "" {
			for _, msg := range validation.IsDNS1123Subdomain(t.SecretName) {
				errs = append(errs, field.Invalid(tp.Child("secretName"), t.SecretName, msg))
			}
		}
	}
	return errs
}

func validateIngressHost(h string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if strings.Contains(h, "*") {
		for _, msg := range validation.IsWildcardDNS1123Subdomain(h) {
			errs = append(errs, field.Invalid(p, h, msg))
		}
		return errs
	}
	for _, msg := range validation.IsDNS1123Subdomain(h) {
		errs = append(errs, field.Invalid(p, h, msg))
	}
	if validation.IsValidIP(p, h) == nil {
		errs = append(errs, field.Invalid(p, h, "must be a DNS name, not an IP address"))
	}
	return errs
}

func validateBackend(b *networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if b.Resource != nil {
		// refused by its rule already
		return nil
	}
	s := b.Service
	if s == nil {
		return field.ErrorList{field.Required(p.Child("service"), "a backend is a Service")}
	}
	sp := p.Child("service")
	for _, msg := range validation.IsDNS1035Label(s.Name) {
		errs = append(errs, field.Invalid(sp.Child("name"), s.Name, msg))
	}
	switch pp := sp.Child("port"); {
	case s.Port.Name != "" && s.Port.Number != 0:
		errs = append(errs, field.Invalid(pp, s.Port, "cannot set both port name & port number"))
	case s.Port.Name != "":
		for _, msg := range validation.IsValidPortName(s.Port.Name) {
			errs = append(errs, field.Invalid(pp.Child("name"), s.Port.Name, msg))
		}
	case s.Port.Number != 0:
		for _, msg := range validation.IsValidPortNum(int(s.Port.Number)) {
			errs = append(errs, field.Invalid(pp.Child("number"), s.Port.Number, msg))
		}
	default:
		errs = append(errs, field.Required(pp, "port name or number is required"))
	}
	return errs
}

// IngressWarnings are what an Ingress refers to that is not there: a
// backend's Service (its requests get 503 until it exists) or a TLS
// Secret that is missing or holds no certificate (its hosts get the proxy's
// own self-signed one). all are the objects known once the manifest is
// applied.
func IngressWarnings(in *networkingv1.Ingress, all *Objects) []string {
	var warns []string
	check := func(b *networkingv1.IngressBackend, p *field.Path) {
		if b == nil || b.Service == nil {
			return
		}
		svc := all.Service(in.Namespace, b.Service.Name)
		if svc == nil {
			warns = append(warns, fmt.Sprintf("ingress %q: %s: service %q not found: its requests get 503 until it exists", in.Name, p.Child("service", "name"), b.Service.Name))
			return
		}
		if svc.Spec.Type == corev1.ServiceTypeExternalName && b.Service.Port.Number != 0 {
			return // the external name's port: the Service need not list it
		}
		if n := b.Service.Port.Name; n != "" {
			for _, sp := range svc.Spec.Ports {
				if sp.Name == n {
					return
				}
			}
			warns = append(warns, fmt.Sprintf("ingress %q: %s: service %q has no port named %q: its requests get 503", in.Name, p.Child("service", "port", "name"), svc.Name, n))
		} else if b.Service.Port.Number != 0 {
			for _, sp := range svc.Spec.Ports {
				if sp.Port == b.Service.Port.Number {
					return
				}
			}
			warns = append(warns, fmt.Sprintf("ingress %q: %s: service %q has no port %d: its requests get 503", in.Name, p.Child("service", "port", "number"), svc.Name, b.Service.Port.Number))
		}
	}
	sp := field.NewPath("spec")
	check(in.Spec.DefaultBackend, sp.Child("defaultBackend"))
	for i, r := range in.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for j := range r.HTTP.Paths {
			check(&r.HTTP.Paths[j].Backend, sp.Child("rules").Index(i).Child("http", "paths").Index(j).Child("backend"))
		}
	}
	for i, t := range in.Spec.TLS {
		if t.SecretName == "" {
			continue
		}
		p := sp.Child("tls").Index(i).Child("secretName")
		s := all.Secret(in.Namespace, t.SecretName)
		switch {
		case s == nil:
			warns = append(warns, fmt.Sprintf("ingress %q: %s: secret %q not found: its hosts get a self-signed certificate until it exists", in.Name, p, t.SecretName))
		case len(s.Data["tls.crt"]) == 0 || len(s.Data["tls.key"]) == 0:
			warns = append(warns, fmt.Sprintf("ingress %q: %s: secret %q holds no tls.crt and tls.key: its hosts get a self-signed certificate", in.Name, p, t.SecretName))
		}
	}
	return warns
}
