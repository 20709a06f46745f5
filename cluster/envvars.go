package cluster

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/pod"
)

// EnvVars are the service environment variables the kubelet gives every
// container of a pod: for each Service with an address (not headless, not
// ExternalName) among services, in the order given, the
// <NAME>_SERVICE_HOST/_SERVICE_PORT family and the Docker-link family
// <NAME>_PORT, <NAME>_PORT_<port>_<PROTO>{,_PROTO,_PORT,_ADDR}, with the
// kubelet's names and values (pkg/kubelet/envvars).
func EnvVars(services []*corev1.Service) []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, s := range services {
		if s.Spec.ClusterIP == "" || pod.Headless(s) || s.Spec.Type == corev1.ServiceTypeExternalName || len(s.Spec.Ports) == 0 {
			continue
		}
		prefix := envName(s.Name)
		ip := s.Spec.ClusterIP
		out = append(out,
			corev1.EnvVar{Name: prefix + "_SERVICE_HOST", Value: ip},
			corev1.EnvVar{Name: prefix + "_SERVICE_PORT", Value: strconv.Itoa(int(s.Spec.Ports[0].Port))})
		for _, p := range s.Spec.Ports {
			if p.Name != "" {
				out = append(out, corev1.EnvVar{Name: prefix + "_SERVICE_PORT_" + envName(p.Name), Value: strconv.Itoa(int(p.Port))})
			}
		}
		for i, p := range s.Spec.Ports {
			proto := string(p.Protocol)
			if proto == "" {
				proto = string(corev1.ProtocolTCP)
			}
			url := fmt.Sprintf("%s://%s", strings.ToLower(proto), net.JoinHostPort(ip, strconv.Itoa(int(p.Port))))
			if i == 0 {
				out = append(out, corev1.EnvVar{Name: prefix + "_PORT", Value: url})
			}
			pp := fmt.Sprintf("%s_PORT_%d_%s", prefix, p.Port, strings.ToUpper(proto))
			out = append(out,
				corev1.EnvVar{Name: pp, Value: url},
				corev1.EnvVar{Name: pp + "_PROTO", Value: strings.ToLower(proto)},
				corev1.EnvVar{Name: pp + "_PORT", Value: strconv.Itoa(int(p.Port))},
				corev1.EnvVar{Name: pp + "_ADDR", Value: ip})
		}
	}
	return out
}

func envName(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "-", "_")) }
