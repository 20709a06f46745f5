package units

import (
	"strings"
	"time"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/helper/contract"
)

// The service proxy: a container on the pod network that holds the cluster
// DNS's and the Services' addresses (podman gives it none of them: the
// proxy puts them on its interface), and the helper that serves them from
// inside its network namespace. Their names hold a dot, which no pod name
// has, so they never collide with a pod's units.
const (
	ServicesUnit = "podunit.services.service"
	ProxyUnit    = "podunit.proxy.service"
)

// Services is the service proxy as podunit starts it: its two units and the
// podman command line of its container (Run, podman's path first), kept in
// podunit's state (podstate.SaveServicesRun), where the services unit's
// helper reads it. The units are the same whatever node ports the container
// publishes, so a change of them is a restart of the units as they are:
// systemd keeps a stopped unit loaded while others refer to it (the pods'
// units are ordered after these), and a loaded unit's properties cannot
// be replaced.
type Services struct {
	Units []Unit
	Run   []string
	// NodePorts ("PORT/PROTO", or "HOSTPORT:PORT/PROTO": cluster.NodePorts)
	// are published on the host: the set is fixed when the container starts.
	NodePorts []string

	// IngressPorts are what it publishes while an Ingress is stored
	// (cluster.IngressPublished).
	IngressPorts []string

	opts Options // what ServicesFor was given, for Publishing
}

// Publishing is the same service proxy publishing nodePorts instead.
func (s Services) Publishing(nodePorts []string) Services {
	out := ServicesFor(s.opts, nodePorts)
	out.IngressPorts = s.IngressPorts
	return out
}

// ServicesFor is the service proxy publishing nodePorts.
func ServicesFor(o Options, nodePorts []string) Services {
	args := []string{o.Podman, "run", "--name", ServicesContainer, "--rm", "--detach",
		"--sdnotify=conmon", "--cgroups=split", "--pull=never",
		"--network", cluster.Network, "--mac-address", cluster.ServicesMAC, "--hostname", "podunit-services",
		"--label", LabelRole + "=" + RoleServices}
	if len(nodePorts) > 0 {
		args = append(args, "--label", LabelNodePorts+"="+strings.Join(nodePorts, ","))
	}
	for _, np := range nodePorts {
		port, proto, _ := strings.Cut(np, "/")
		host, inside, ok := strings.Cut(port, ":")
		if !ok {
			inside = host
		}
		spec := host + ":" + inside
		if proto == "udp" {
			spec += "/udp"
		}
		args = append(args, "--publish", spec)
	}
	args = append(args, o.InfraImage)
	clear := o.Argv(contract.Command{Op: contract.OpServices, Action: contract.ServicesClear})
	run := o.Argv(contract.Command{Op: contract.OpServices, Action: contract.ServicesRun})
	stop := o.Argv(contract.Command{Op: contract.OpServices, Action: contract.ServicesStop})
	serve := o.Argv(contract.Command{Op: contract.OpServices, Action: contract.ServicesServe})
	services := Unit{Name: ServicesUnit, Properties: append([]Property{
		prop("Description", "podunit: the Services' and the cluster DNS's addresses on the pod network"),
		prop("Type", "notify"),
		prop("NotifyAccess", "all"),
		prop("KillMode", "mixed"),
		prop("Delegate", true),
		prop("Restart", "always"),
		prop("RestartSec", time.Second),
		prop("StartLimitIntervalSec", time.Duration(0)),
		prop("Wants", []string{ProxyUnit}),
		prop("ExecStartPre", []Exec{{Argv: clear}}),
		prop("ExecStart", []Exec{{Argv: run}}),
		prop("ExecStop", []Exec{{Argv: stop}}),
		prop("ExecStopPost", []Exec{{Argv: clear, IgnoreFailure: true}}),
		prop("TimeoutStopSec", InfraGrace+StopMargin),
	}, logTo(o.LogDir, ServicesUnit)...)}
	proxy := Unit{Name: ProxyUnit, Properties: append([]Property{
		prop("Description", "podunit: cluster DNS and Service proxy"),
		prop("BindsTo", []string{ServicesUnit}),
		prop("After", []string{ServicesUnit}),
		prop("Type", "simple"),
		prop("Restart", "always"),
		prop("RestartSec", time.Second),
		prop("StartLimitIntervalSec", time.Duration(0)),
		prop("ExecStart", []Exec{{Argv: serve}}),
	}, logTo(o.LogDir, ProxyUnit)...)}
	return Services{Units: []Unit{services, proxy}, Run: args, NodePorts: nodePorts, opts: o}
}

// LabelNodePorts on the services container lists the node ports it publishes.
const LabelNodePorts = "io.podunit.nodeports"

// Render is the dry-run text of the service proxy: its container's command
// line and its units.
func (s Services) Render() string {
	var b strings.Builder
	args := make([]string, len(s.Run))
	for i, a := range s.Run {
		args[i] = ShellQuote(a)
	}
	b.WriteString("# services container " + ServicesContainer + " runs: " + strings.Join(args, " ") + "\n")
	for _, u := range s.Units {
		b.WriteString(u.Render())
	}
	return b.String()
}
