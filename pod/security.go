package pod

import (
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxGroupID is the largest group id the API takes (fsGroup,
// supplementalGroups): a 31-bit value, as Linux ids are in practice.
const maxGroupID = 2147483647

// validateSecurity checks the security fields that reach past one
// container: the pod's host namespaces and user namespace, fsGroup and its
// policies, AppArmor profiles and seccomp's localhost profiles, procMount.
func validateSecurity(s *corev1.PodSpec, sp *field.Path) field.ErrorList {
	var errs field.ErrorList
	hostUsers := s.HostUsers == nil || *s.HostUsers
	if !hostUsers {
		// The API server's rule: a pod with a user namespace of its own
		// cannot share the host's namespaces.
		for _, f := range []struct {
			set  bool
			name string
		}{{s.HostNetwork, "hostNetwork"}, {s.HostPID, "hostPID"}, {s.HostIPC, "hostIPC"}} {
			if f.set {
				errs = append(errs, field.Forbidden(sp.Child(f.name), "may not be true when `hostUsers` is false"))
			}
		}
		for i := range s.Volumes {
			// podman maps the pod's own ids, not the user's: what podunit
			// writes or podman creates for a volume would show as nobody's
			errs = append(errs, field.Forbidden(sp.Child("volumes").Index(i),
				"not supported by podunit with hostUsers: false (its volumes would belong to ids the pod's user namespace does not map)"))
		}
	}
	if s.HostPID && s.ShareProcessNamespace != nil && *s.ShareProcessNamespace {
		errs = append(errs, field.Invalid(sp.Child("shareProcessNamespace"), true, "ShareProcessNamespace and HostPID cannot both be enabled"))
	}
	if sc := s.SecurityContext; sc != nil {
		scp := sp.Child("securityContext")
		if g := sc.FSGroup; g != nil && (*g < 0 || *g > maxGroupID) {
			errs = append(errs, field.Invalid(scp.Child("fsGroup"), *g, "must be between 0 and 2147483647, inclusive"))
		}
		for i, g := range sc.SupplementalGroups {
			if g > maxGroupID {
				errs = append(errs, field.Invalid(scp.Child("supplementalGroups").Index(i), g, "must be between 0 and 2147483647, inclusive"))
			}
		}
		if p := sc.FSGroupChangePolicy; p != nil {
			switch *p {
			case corev1.FSGroupChangeAlways, corev1.FSGroupChangeOnRootMismatch:
			default:
				errs = append(errs, field.NotSupported(scp.Child("fsGroupChangePolicy"), *p, []string{"Always", "OnRootMismatch"}))
			}
		}
		if p := sc.SupplementalGroupsPolicy; p != nil {
			switch *p {
			case corev1.SupplementalGroupsPolicyMerge:
			case corev1.SupplementalGroupsPolicyStrict:
				errs = append(errs, strictGroups(s, sp)...)
			default:
				errs = append(errs, field.NotSupported(scp.Child("supplementalGroupsPolicy"), *p, []string{"Merge", "Strict"}))
			}
		}
		errs = append(errs, validateAppArmor(sc.AppArmorProfile, scp.Child("appArmorProfile"))...)
	}
	each := func(c *corev1.Container, cp *field.Path) {
		sc := c.SecurityContext
		if sc == nil {
			return
		}
		scp := cp.Child("securityContext")
		errs = append(errs, validateAppArmor(sc.AppArmorProfile, scp.Child("appArmorProfile"))...)
		if pm := sc.ProcMount; pm != nil {
			switch *pm {
			case corev1.DefaultProcMount:
			case corev1.UnmaskedProcMount:
				if hostUsers {
					errs = append(errs, field.Invalid(scp.Child("procMount"), *pm, "`hostUsers` must be false to use `Unmasked`"))
				}
			default:
				errs = append(errs, field.NotSupported(scp.Child("procMount"), *pm, []string{"Default", "Unmasked"}))
			}
		}
	}
	EachContainer(s, sp, each)
	return errs
}

// EachContainer calls f for every init and app container, with its path
// below sp.
func EachContainer(s *corev1.PodSpec, sp *field.Path, f func(*corev1.Container, *field.Path)) {
	for i := range s.InitContainers {
		f(&s.InitContainers[i], sp.Child("initContainers").Index(i))
	}
	for i := range s.Containers {
		f(&s.Containers[i], sp.Child("containers").Index(i))
	}
}

// strictGroups: under supplementalGroupsPolicy Strict no group comes from the
// image's /etc/group. podman adds those whenever the user is given without a
// group, so podunit needs both ids of every container.
func strictGroups(s *corev1.PodSpec, sp *field.Path) field.ErrorList {
	var errs field.ErrorList
	var pu, pg *int64
	if sc := s.SecurityContext; sc != nil {
		pu, pg = sc.RunAsUser, sc.RunAsGroup
	}
	each := func(c *corev1.Container, cp *field.Path) {
		u, g := pu, pg
		if sc := c.SecurityContext; sc != nil {
			if sc.RunAsUser != nil {
				u = sc.RunAsUser
			}
			if sc.RunAsGroup != nil {
				g = sc.RunAsGroup
			}
		}
		if u == nil || g == nil {
			errs = append(errs, field.Required(cp.Child("securityContext", "runAsGroup"),
				"podunit needs runAsUser and runAsGroup (the container's or the pod's) with supplementalGroupsPolicy: Strict: "+
					"without both, podman merges the groups of the image's /etc/group"))
		}
	}
	EachContainer(s, sp, each)
	return errs
}

// validateAppArmor applies the API server's rules: a Localhost profile
// names its profile, the others name none.
func validateAppArmor(p *corev1.AppArmorProfile, fp *field.Path) field.ErrorList {
	if p == nil {
		return nil
	}
	var errs field.ErrorList
	switch p.Type {
	case corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined:
		if p.LocalhostProfile != nil {
			errs = append(errs, field.Invalid(fp.Child("localhostProfile"), *p.LocalhostProfile, "can only be set when `type` is Localhost"))
		}
	case corev1.AppArmorProfileTypeLocalhost:
		switch {
		case p.LocalhostProfile == nil:
			errs = append(errs, field.Required(fp.Child("localhostProfile"), "must be set when AppArmor type is Localhost"))
		case strings.TrimSpace(*p.LocalhostProfile) != *p.LocalhostProfile || *p.LocalhostProfile == "":
			errs = append(errs, field.Invalid(fp.Child("localhostProfile"), *p.LocalhostProfile, "must not be padded with whitespace"))
		case len(*p.LocalhostProfile) > 4095:
			errs = append(errs, field.TooLong(fp.Child("localhostProfile"), "", 4095))
		}
	default:
		errs = append(errs, field.NotSupported(fp.Child("type"), p.Type, []string{"Localhost", "RuntimeDefault", "Unconfined"}))
	}
	return errs
}

// validateSeccomp: RuntimeDefault and Unconfined as the runtime has them; a
// Localhost profile is a file under the user's seccomp directory
// (~/.config/podunit/seccomp), named by a relative path.
func validateSeccomp(p *corev1.SeccompProfile, fp *field.Path) field.ErrorList {
	if p == nil {
		return nil
	}
	switch p.Type {
	case corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined:
		if p.LocalhostProfile != nil {
			return field.ErrorList{field.Invalid(fp.Child("localhostProfile"), *p.LocalhostProfile, "can only be set when `type` is Localhost")}
		}
		return nil
	case corev1.SeccompProfileTypeLocalhost:
		lp := p.LocalhostProfile
		switch {
		case lp == nil:
			return field.ErrorList{field.Required(fp.Child("localhostProfile"), "must be set when seccomp type is Localhost")}
		case *lp == "" || path.IsAbs(*lp) || strings.Split(*lp, "/")[0] == ".." || strings.Contains(*lp, "/../") || strings.HasSuffix(*lp, "/.."):
			return field.ErrorList{field.Invalid(fp.Child("localhostProfile"), *lp, "must be a relative path without '..' (under ~/.config/podunit/seccomp)")}
		}
		return nil
	}
	return field.ErrorList{field.NotSupported(fp.Child("type"), p.Type, []string{"Localhost", "RuntimeDefault", "Unconfined"})}
}
