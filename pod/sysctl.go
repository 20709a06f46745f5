package pod

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// SafeSysctls are the sysctls the kubelet allows by default: namespaced,
// and isolated from other pods and the host.
var SafeSysctls = []string{
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem",
}

var sysctlName = regexp.MustCompile(`^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`)

// SysctlName is a sysctl's name with '.' as the separator (the API allows
// '/' too).
func SysctlName(n string) string {
	if strings.Contains(n, "/") && !strings.HasPrefix(n, "/") {
		// a name with '/' separators keeps its dots as part of a component;
		// the kernel's dotted form swaps the two
		return strings.Map(func(r rune) rune {
			switch r {
			case '/':
				return '.'
			case '.':
				return '/'
			}
			return r
		}, n)
	}
	return n
}

// validateSysctls refuses what the API server refuses (names, duplicates)
// and, as the kubelet does with its default allowlist, every sysctl outside
// the safe set, with the kubelet's message; net.* with the host's network.
func validateSysctls(s *corev1.PodSpec, sp *field.Path) field.ErrorList {
	if s.SecurityContext == nil {
		return nil
	}
	var errs field.ErrorList
	seen := map[string]int{}
	for i, sc := range s.SecurityContext.Sysctls {
		fp := sp.Child("securityContext", "sysctls").Index(i)
		if sc.Name == "" {
			errs = append(errs, field.Required(fp.Child("name"), ""))
			continue
		}
		if len(sc.Name) > 253 || !sysctlName.MatchString(sc.Name) {
			errs = append(errs, field.Invalid(fp.Child("name"), sc.Name, "must have at most 253 characters and match regex "+sysctlName.String()))
			continue
		}
		name := SysctlName(sc.Name)
		if j, dup := seen[name]; dup {
			errs = append(errs, field.Duplicate(fp.Child("name"), fmt.Sprintf("%s (also sysctls[%d])", sc.Name, j)))
		}
		seen[name] = i
		safe := false
		for _, ok := range SafeSysctls {
			safe = safe || ok == name
		}
		switch {
		case !safe:
			errs = append(errs, field.Forbidden(fp.Child("name"), fmt.Sprintf("forbidden sysctl: %q not allowlisted", name)))
		case s.HostNetwork && strings.HasPrefix(name, "net."):
			errs = append(errs, field.Forbidden(fp.Child("name"), fmt.Sprintf("sysctl %q not allowed with host net enabled", name)))
		}
	}
	return errs
}
