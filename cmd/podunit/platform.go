package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/units"
)

// The oldest podman and systemd podunit is tested on (Debian 12): older ones
// lack what the units rely on (podman's --sdnotify=conmon with --cgroups=split,
// systemd's handling of transient units it re-reads).
const (
	minPodman  = "4.3.0"
	minSystemd = 252
)

// versioner is what tells the platform's versions.
type versioner interface {
	Version(ctx context.Context) (string, error)
}

// warnPlatform says, once per `up`, when podman or systemd is older than
// podunit supports. It never fails the command: the pod may well work.
func warnPlatform(ctx context.Context, w io.Writer, podman, systemd versioner) {
	pv, perr := podman.Version(ctx)
	sv, serr := systemd.Version(ctx)
	for _, msg := range platformWarnings(pv, perr, sv, serr) {
		fmt.Fprintln(w, "warning: "+msg)
	}
}

// platformWarnings compares the versions with the minimums (pure, tested).
func platformWarnings(podman string, perr error, systemd string, serr error) []string {
	var out []string
	switch {
	case perr != nil:
		out = append(out, fmt.Sprintf("could not read podman's version (%v): podunit supports podman %s or newer", perr, minPodman))
	case versionLess(podman, minPodman):
		out = append(out, fmt.Sprintf("podman %s is older than podunit supports (%s or newer): pods may fail to start; see the README's Supported platforms", podman, minPodman))
	}
	switch {
	case serr != nil:
		out = append(out, fmt.Sprintf("could not read systemd's version (%v): podunit supports systemd %d or newer", serr, minSystemd))
	default:
		if v, ok := leadingInt(systemd); ok && v < minSystemd {
			out = append(out, fmt.Sprintf("systemd %s is older than podunit supports (%d or newer): pods may fail to start; see the README's Supported platforms", systemd, minSystemd))
		}
	}
	return out
}

// cgrouper tells the user manager's cgroup.
type cgrouper interface {
	ControlGroup(ctx context.Context) (string, error)
}

// warnLimits says, once per `up`, which resource limits of the pods the
// host cannot enforce: those whose cgroup controller the user manager was
// not given (cgroup v2 delegation). The pods still run, unlimited.
func warnLimits(ctx context.Context, w io.Writer, mgr cgrouper, pods []*corev1.Pod) {
	paths := limitPaths(pods)
	if len(paths) == 0 {
		return
	}
	cg, err := mgr.ControlGroup(ctx)
	if err != nil {
		fmt.Fprintf(w, "warning: could not read the user manager's cgroup (%v): resource limits may not be enforced\n", err)
		return
	}
	if cg == "" {
		cg = "/" // a manager at the root of its cgroup namespace
	}
	data, _ := os.ReadFile(filepath.Join("/sys/fs/cgroup", cg, "cgroup.controllers"))
	for _, msg := range limitWarnings(paths, strings.Fields(string(data)), cg) {
		fmt.Fprintln(w, "warning: "+msg)
	}
}

// limitPaths are the fields of resource limits the pods set, by controller
// ("cpu", "memory"), in the order of the pods and their containers.
func limitPaths(pods []*corev1.Pod) map[string][]string {
	out := map[string][]string{}
	add := func(owner string, rl corev1.ResourceList, at *field.Path) {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := rl[r]; ok {
				// a template's field once, not once per replica
				if f := owner + ": " + at.Child(string(r)).String(); !slices.Contains(out[string(r)], f) {
					out[string(r)] = append(out[string(r)], f)
				}
			}
		}
	}
	for _, p := range pods {
		owner, sp := ownerSpec(p)
		if p.Spec.Resources != nil {
			add(owner, p.Spec.Resources.Limits, sp.Child("resources", "limits"))
		}
		eachContainerField(p, sp, func(c *corev1.Container, at *field.Path) {
			add(owner, c.Resources.Limits, at.Child("resources", "limits"))
		})
	}
	return out
}

// eachContainerField calls f with each of a pod's init and app containers
// and its field path under sp.
func eachContainerField(p *corev1.Pod, sp *field.Path, f func(*corev1.Container, *field.Path)) {
	for i := range p.Spec.InitContainers {
		f(&p.Spec.InitContainers[i], sp.Child("initContainers").Index(i))
	}
	for i := range p.Spec.Containers {
		f(&p.Spec.Containers[i], sp.Child("containers").Index(i))
	}
}

// ownerSpec names what a pod's spec comes from, for a warning: the pod and
// its spec, or a Deployment's, StatefulSet's or DaemonSet's template.
func ownerSpec(p *corev1.Pod) (string, *field.Path) {
	if d := pod.OwnerDeployment(p); d != "" {
		return fmt.Sprintf("deployment %q", d), field.NewPath("spec", "template", "spec")
	}
	if s := pod.OwnerStatefulSet(p); s != "" {
		return fmt.Sprintf("statefulset %q", s), field.NewPath("spec", "template", "spec")
	}
	if ds := pod.OwnerDaemonSet(p); ds != "" {
		return fmt.Sprintf("daemonset %q", ds), field.NewPath("spec", "template", "spec")
	}
	return fmt.Sprintf("pod %q", p.Name), field.NewPath("spec")
}

// seLinuxWarnings say which seLinuxOptions the pods set a host without
// SELinux ignores (as the kubelet does there), a template's field once.
func seLinuxWarnings(pods []*corev1.Pod) []string {
	var out []string
	add := func(owner string, at *field.Path) {
		w := owner + ": " + at.String() + ": ignored: SELinux is not enabled on this host (the kubelet ignores it there too)"
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	for _, p := range pods {
		owner, sp := ownerSpec(p)
		if sc := p.Spec.SecurityContext; sc != nil && sc.SELinuxOptions != nil {
			add(owner, sp.Child("securityContext", "seLinuxOptions"))
		}
		eachContainerField(p, sp, func(c *corev1.Container, at *field.Path) {
			if c.SecurityContext != nil && c.SecurityContext.SELinuxOptions != nil {
				add(owner, at.Child("securityContext", "seLinuxOptions"))
			}
		})
	}
	return out
}

// seLinuxEnabled tells whether the host has SELinux (its filesystem is
// mounted).
func seLinuxEnabled() bool {
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
}

// limitWarnings are the limits (limitPaths) the controllers delegated to the
// manager (the words of its cgroup.controllers) leave unenforced (pure,
// tested).
func limitWarnings(paths map[string][]string, controllers []string, cg string) []string {
	var out []string
	for _, ctl := range []string{"cpu", "memory"} {
		if len(paths[ctl]) == 0 || slices.Contains(controllers, ctl) {
			continue
		}
		more := ""
		if n := len(paths[ctl]) - 1; n > 0 {
			more = fmt.Sprintf(" (and %d more)", n)
		}
		have := strings.Join(controllers, " ")
		if have == "" {
			have = "none"
		}
		out = append(out, fmt.Sprintf("%s%s: not enforced: your systemd user manager has no %s controller (delegated to %s: %s); the containers run without this limit. Delegate it (a drop-in for user@.service with Delegate=cpu cpuset io memory pids) to have it enforced",
			paths[ctl][0], more, ctl, cg, have))
	}
	return out
}

// versionLess compares dotted versions numerically ("4.3.1" < "4.10"); text
// after the numbers ("-rc1", "~deb12u1") is ignored.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = leadingInt(as[i])
		}
		if i < len(bs) {
			y, _ = leadingInt(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func leadingInt(s string) (int, bool) {
	s = strings.Trim(s, `"' v`)
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	v, err := strconv.Atoi(s[:n])
	return v, err == nil
}

// checkShapingHelper: a shaped pod runs behind slirp4netns (its port
// forwarder delivers published ports through the pod's interface, where the
// shaping is; pasta, podman 5's default, splices local connections past it).
// The package asks for slirp4netns or passt; say clearly, before anything is
// created, when a shaped pod needs the one that is missing.
func checkShapingHelper(plans []*units.Plan, lookPath func(string) (string, error)) error {
	for _, pl := range plans {
		if pl.Bandwidth.Empty() || pl.Runtime.HostNetwork {
			continue
		}
		if _, err := lookPath("slirp4netns"); err != nil {
			return fmt.Errorf("pod %q: bandwidth shaping (kubernetes.io/ingress-bandwidth, egress-bandwidth) runs the pod behind slirp4netns, which is not installed: install it (apt install slirp4netns, dnf install slirp4netns)", pl.Pod)
		}
	}
	return nil
}

// findHelper finds a podman helper binary as podman does: in $PATH or in
// podman's default helper_binaries_dir.
func findHelper(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/local/libexec/podman", "/usr/local/lib/podman", "/usr/libexec/podman", "/usr/lib/podman"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not in $PATH nor in podman's helper directories", name)
}

// appArmorEnabled tells whether the kernel enforces AppArmor.
func appArmorEnabled() bool {
	data, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.TrimSpace(string(data)) == "Y"
}

// seccompDir holds the user's seccomp profiles for seccompProfile
// localhostProfile: ~/.config/podunit/seccomp.
func seccompDir() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "podunit", "seccomp")
}

// checkSeccompProfiles makes sure every Localhost seccomp profile a pod names
// is there: a missing one is bad input (exit 2) named by its field, before
// anything is created.
func checkSeccompProfiles(pods []*corev1.Pod, dir string) error {
	var errs []string
	check := func(prof *corev1.SeccompProfile, name string, fp *field.Path) {
		if prof == nil || prof.Type != corev1.SeccompProfileTypeLocalhost || prof.LocalhostProfile == nil {
			return
		}
		file := units.SeccompProfilePath(dir, *prof.LocalhostProfile)
		if _, err := os.Stat(file); err != nil {
			errs = append(errs, fmt.Sprintf("pod %q: %s: %q: no profile %s: %v", name, fp.Child("localhostProfile"), *prof.LocalhostProfile, file, errors.Unwrap(err)))
		}
	}
	for _, p := range pods {
		sp := field.NewPath("spec")
		if sc := p.Spec.SecurityContext; sc != nil {
			check(sc.SeccompProfile, p.Name, sp.Child("securityContext", "seccompProfile"))
		}
		pod.EachContainer(&p.Spec, sp, func(c *corev1.Container, cp *field.Path) {
			if c.SecurityContext != nil {
				check(c.SecurityContext.SeccompProfile, p.Name, cp.Child("securityContext", "seccompProfile"))
			}
		})
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", pod.ErrInvalid, strings.Join(errs, "\n  "))
}

// checkHostPorts: a rootless pod's hostPort is published by podman's
// rootlessport, which cannot bind a port below the host's
// net.ipv4.ip_unprivileged_port_start (1024 unless lowered). Said before
// anything is created, naming each port, instead of the infra failing.
// unprivStart < 0: unknown (no such sysctl), nothing is checked.
func checkHostPorts(pods []*corev1.Pod, unprivStart int) error {
	if unprivStart <= 0 {
		return nil
	}
	var errs []string
	for _, p := range pods {
		if p.Spec.HostNetwork {
			continue // the container binds it itself
		}
		for _, hp := range pod.HostPorts(p) {
			if int(hp.Port) < unprivStart {
				errs = append(errs, fmt.Sprintf("pod %q: %s: %d is below the host's net.ipv4.ip_unprivileged_port_start (%d): a rootless pod cannot publish it; use a port of %d or more, or lower the sysctl (sysctl -w net.ipv4.ip_unprivileged_port_start=%d)",
					p.Name, hp.Path, hp.Port, unprivStart, unprivStart, hp.Port))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: nothing was changed:\n  %s", pod.ErrInvalid, strings.Join(errs, "\n  "))
	}
	return nil
}

// unprivilegedPortStart is the host's net.ipv4.ip_unprivileged_port_start,
// or -1 when it cannot be read.
func unprivilegedPortStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}
