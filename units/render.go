package units

import (
	"fmt"
	"sort"
	"strings"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/netshape"
)

// Render writes the plan as unit files, in start order, as `podunit up --dry-run`
// prints it. Saved as files, each unit would behave as the transient one does:
// "$" and "%" are escaped and arguments quoted as systemd.service(5) requires.
func (p *Plan) Render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# pod %s/%s: %d unit(s)\n", p.Namespace, p.Pod, len(p.Units()))
	for _, img := range p.Images {
		fmt.Fprintf(&b, "# image %s (pull %s) for %s", img.Ref, img.PullPolicy, img.FieldPath)
		if r := p.PullAuth.Registry(img.Ref); r != "" {
			fmt.Fprintf(&b, ", authenticated for %s", r)
		}
		b.WriteString("\n")
	}
	for _, v := range p.Volumes {
		fmt.Fprintf(&b, "# volume %s%s for %s\n", v.Name, renderOptions(v.Options), v.FieldPath)
	}
	for _, c := range p.Claims {
		fmt.Fprintf(&b, "# claim %s/%s: podman volume %s (created if missing, kept when the pod goes) for %s\n", c.Namespace, c.Claim, c.Name, c.FieldPath)
	}
	for _, f := range p.Files {
		what := ShellQuote(string(f.Data))
		if f.Secret {
			what = "(from a Secret, not shown)"
		} else if len(f.Data) > 60 || strings.ContainsAny(string(f.Data), "\n\r") {
			what = "(not shown)"
		}
		fmt.Fprintf(&b, "# file %s/%s mode %04o, %d bytes: %s\n", f.Dir, f.Path, f.Mode, len(f.Data), what)
	}
	if a := p.PullAuth; a != nil {
		fmt.Fprintf(&b, "# image pull credentials from Secret %s for %s (not shown)\n", strings.Join(a.Secrets, ", "), strings.Join(a.Registries, ", "))
	}
	for _, c := range p.NonRootChecks {
		fmt.Fprintf(&b, "# check image %s runs as a non-root user, for %s\n", c.Image, c.FieldPath)
	}
	for _, h := range p.HostPaths {
		t := h.Type
		if t == "" {
			t = "unchecked"
		}
		fmt.Fprintf(&b, "# host path %s (%s) for %s\n", h.Path, t, h.FieldPath)
	}
	if bw := p.Bandwidth; !bw.Empty() {
		b.WriteString("# bandwidth, applied with tc in the pod's network namespace on the default-route interface:\n")
		if bw.EgressRateBitsPerSec > 0 {
			fmt.Fprintf(&b, "#   egress (leaving the pod) %s: tbf rate %d bytes/s, latency %s\n",
				netshape.FormatRate(bw.EgressRateBitsPerSec), bw.EgressRateBitsPerSec/8, netshape.Latency)
		}
		if bw.IngressRateBitsPerSec > 0 {
			fmt.Fprintf(&b, "#   ingress (entering the pod) %s: ingress qdisc, u32 match-all, mirred redirect to %s with tbf rate %d bytes/s, latency %s\n",
				netshape.FormatRate(bw.IngressRateBitsPerSec), netshape.IFBName, bw.IngressRateBitsPerSec/8, netshape.Latency)
		}
		if lp := p.Runtime.Bandwidth.LocalPorts; len(lp) > 0 {
			var ports []string
			for _, x := range lp {
				ports = append(ports, fmt.Sprintf("%d/%s", x.Port, x.Proto))
			}
			fmt.Fprintf(&b, "#   published ports %s (which podman's forwarder reaches over the pod's loopback interface): the same rates with an htb qdisc, its classes and u32 filters on lo\n", strings.Join(ports, ", "))
		}
	}
	specs := map[string]*contract.Container{InfraUnitName(p.Pod): &p.Runtime.InfraSpec}
	for i := range p.Runtime.Containers {
		specs[ContainerUnitName(p.Pod, p.Runtime.Containers[i].Name)] = &p.Runtime.Containers[i]
	}
	for _, u := range p.Units() {
		b.WriteString("\n")
		if c := specs[u.Name]; c != nil {
			b.WriteString(renderSpec(p.Runtime.Podman, c))
		}
		if fg := p.Runtime.FSGroup; fg != nil && u.Name == InfraUnitName(p.Pod) {
			policy := "Always"
			if fg.OnRootMismatch {
				policy = "OnRootMismatch"
			}
			fmt.Fprintf(&b, "#   fsGroup %d (%s) once running, before the containers: group, group permissions and setgid directories on %s\n",
				fg.GID, policy, strings.Join(append(append([]string{}, fg.Volumes...), fg.ReadOnly...), ", "))
		}
		if u.Name == ProberUnitName(p.Pod) {
			b.WriteString("# probes the pod's containers from inside its network namespace (exec probes through podman's API)\n")
		}
		b.WriteString(u.Render())
	}
	return b.String()
}

// renderSpec shows what the unit's helpers run, read from the pod's state
// directory: the exact podman command line (shell-quoted), the environment
// podman passes on, hooks, probes and limits. Header values are not shown:
// they may be credentials.
func renderSpec(podman string, c *contract.Container) string {
	var b strings.Builder
	args := make([]string, 0, len(c.Args)+1)
	for _, a := range append([]string{podman}, c.Args...) {
		args = append(args, ShellQuote(a))
	}
	fmt.Fprintf(&b, "# %s %s runs: %s\n", c.Kind, describeName(c), strings.Join(args, " "))
	for _, e := range c.Env {
		if e.Secret {
			fmt.Fprintf(&b, "#   env %s=(from a Secret, not shown)\n", e.Name)
			continue
		}
		fmt.Fprintf(&b, "#   env %s=%s\n", e.Name, ShellQuote(e.Value))
	}
	if c.PostStart != nil {
		fmt.Fprintf(&b, "#   postStart %s (timeout %s)\n", describeHandler(c.PostStart), c.PostStartTimeout)
	}
	if c.PreStop != nil {
		fmt.Fprintf(&b, "#   preStop %s\n", describeHandler(c.PreStop))
	}
	for _, pr := range c.Probes {
		fmt.Fprintf(&b, "#   %s probe %s: delay %s, period %s, timeout %s, success %d, failure %d",
			pr.Kind, describeHandler(&pr.Handler), pr.InitialDelay, pr.Period, pr.Timeout, pr.SuccessThreshold, pr.FailureThreshold)
		if pr.Grace != nil {
			fmt.Fprintf(&b, ", grace %s", *pr.Grace)
		}
		b.WriteString("\n")
	}
	for _, l := range c.Limits {
		fmt.Fprintf(&b, "#   limit %s=%d once running\n", l.Name, l.Value)
	}
	if c.Retry {
		b.WriteString("#   retried with back-off after a failure\n")
	}
	return b.String()
}

func describeName(c *contract.Container) string {
	if c.Name == "" {
		return "container " + c.Podman
	}
	return "container " + c.Name
}

// describeHandler is a handler on one line: an exec command shell-quoted,
// httpGet headers by name only.
func describeHandler(h *hooks.Handler) string {
	if len(h.Exec) > 0 {
		args := make([]string, len(h.Exec))
		for i, a := range h.Exec {
			args[i] = ShellQuote(a)
		}
		return "exec " + strings.Join(args, " ")
	}
	if h.HTTPGet == nil || len(h.HTTPGet.Headers) == 0 {
		return h.String()
	}
	var names []string
	for _, hd := range h.HTTPGet.Headers {
		names = append(names, hd.Name)
	}
	return h.String() + " with headers " + strings.Join(names, ", ")
}

// ShellQuote quotes one argument as bash reads it, only when it needs it; an
// argument with control characters (a newline) gets $'...' quoting, so it
// stays on one line.
func ShellQuote(a string) string {
	if a != "" && strings.IndexFunc(a, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@+%", r))
	}) < 0 {
		return a
	}
	if strings.IndexFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) < 0 {
		return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for _, r := range a {
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func renderOptions(o map[string]string) string {
	if len(o) == 0 {
		return ""
	}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + o[k]
	}
	return " (" + strings.Join(parts, ",") + ")"
}
