// Package unitdef is what a podunit unit is, without the pods it is made
// from: units and their properties (the table of those podunit sets, with
// their section and D-Bus names), their unit-file rendering, podunit's unit
// and container names, labels, and the timings its helpers share. It imports
// no Kubernetes package, so the helpers' small binary (podunit-helper) and
// the D-Bus applier (units/sdbus) need none; package units, which
// translates pods, aliases all of it.
package unitdef

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/hooks"
)

// Unit is one transient unit: a name and its properties, in a fixed order.
type Unit struct {
	Name       string
	Properties []Property
	// Aux are units made with it, not started: a timer's service.
	Aux []Unit
}

// Property returns the first property called name, or nil.
func (u *Unit) Property(name string) *Property {
	for i := range u.Properties {
		if u.Properties[i].Name == name {
			return &u.Properties[i]
		}
	}
	return nil
}

// Property is one unit setting, named as in unit files (man systemd.directives);
// Value is one of: string, bool, uint64, time.Duration, []string, []Exec, AppendFile.
type Property struct {
	Name  string
	Value any
}

// Exec is one command line of an Exec*= setting. Argv holds the real arguments:
// escaping for systemd happens when the property is sent or rendered.
type Exec struct {
	Argv          []string
	IgnoreFailure bool // "-" prefix: a failure does not fail the unit
}

// AppendFile is an output destination: "append:PATH" in a unit file.
type AppendFile string

// propSpec says where a property lives in a unit file and how systemd's D-Bus API
// names and types it.
type propSpec struct {
	Section  string
	DBusName string
}

// props is the table of every property podunit sets. A property missing here is a
// programming error caught by the golden tests (render panics).
var props = map[string]propSpec{
	"Description":              {"Unit", "Description"},
	"BindsTo":                  {"Unit", "BindsTo"},
	"After":                    {"Unit", "After"},
	"Before":                   {"Unit", "Before"},
	"Wants":                    {"Unit", "Wants"},
	"Requires":                 {"Unit", "Requires"},
	"CollectMode":              {"Unit", "CollectMode"},
	"StartLimitIntervalSec":    {"Unit", "StartLimitIntervalUSec"},
	"Slice":                    {"Service", "Slice"},
	"Type":                     {"Service", "Type"},
	"NotifyAccess":             {"Service", "NotifyAccess"},
	"KillMode":                 {"Service", "KillMode"},
	"Delegate":                 {"Service", "Delegate"},
	"Restart":                  {"Service", "Restart"},
	"RemainAfterExit":          {"Service", "RemainAfterExit"},
	"RestartForceExitStatus":   {"Service", "RestartForceExitStatus"},
	"RestartPreventExitStatus": {"Service", "RestartPreventExitStatus"},
	"RestartSec":               {"Service", "RestartUSec"},
	"TimeoutStartSec":          {"Service", "TimeoutStartUSec"},
	"TimeoutStopSec":           {"Service", "TimeoutStopUSec"},
	"RuntimeMaxSec":            {"Service", "RuntimeMaxUSec"},
	"ExecStartPre":             {"Service", "ExecStartPre"},
	"ExecStart":                {"Service", "ExecStart"},
	"ExecStartPost":            {"Service", "ExecStartPost"},
	"ExecStop":                 {"Service", "ExecStop"},
	"ExecStopPost":             {"Service", "ExecStopPost"},
	"SyslogIdentifier":         {"Service", "SyslogIdentifier"},
	"TimerSlackNSec":           {"Service", "TimerSlackNSec"},
	"StandardOutput":           {"Service", "StandardOutputFileToAppend"},
	"StandardError":            {"Service", "StandardErrorFileToAppend"},
	"MemoryMax":                {"Service", "MemoryMax"},
	"MemoryLow":                {"Service", "MemoryLow"},
	"CPUQuota":                 {"Service", "CPUQuotaPerSecUSec"},
	"CPUWeight":                {"Service", "CPUWeight"},
	"OnCalendar":               {"Timer", "TimersCalendar"},
	"AccuracySec":              {"Timer", "AccuracyUSec"},
	"RemainAfterElapse":        {"Timer", "RemainAfterElapse"},
}

// Calendars are a timer's OnCalendar= expressions: it elapses when any
// does.
type Calendars []string

// Spec returns the section and D-Bus name of a property.
func Spec(name string) (section, dbusName string) {
	s, ok := props[name]
	if !ok {
		panic(fmt.Sprintf("unitdef: property %s is not in the table", name))
	}
	return s.Section, s.DBusName
}

// ExitStatusSet is a list of exit codes (decimal) for RestartForceExitStatus=
// and RestartPreventExitStatus=; D-Bus takes them with an empty signal list.
type ExitStatusSet []string

// Prop is a property, checked against the table: a name not in it panics
// (a programming error the golden tests catch).
func Prop(name string, v any) Property {
	Spec(name) // fail early on a name not in the table
	return Property{Name: name, Value: v}
}

// Labels podunit puts on every podman object it creates.
const (
	LabelPod       = "io.podunit.pod"
	LabelContainer = "io.podunit.container"
	LabelRole      = "io.podunit.role"
)

// InfraGrace is the stop timeout of the containers that only hold
// namespaces and addresses: a pod's infra and the services container.
const InfraGrace = 2 * time.Second

// Margins around the stop budget: podman's own start-up and clean-up time, so
// systemd never cuts a graceful stop short.
const (
	// StopMargin is added to the grace period for systemd's stop timeout.
	StopMargin = 15 * time.Second
	// StartMargin is what podman run may take, on top of the crash-loop
	// back-off the run helper may wait before it.
	StartMargin = 90 * time.Second
)

// StopBudget is a container's stop timeout (TimeoutStopSec): its grace
// period, the stop signal's shortest phase, and the margin.
func StopBudget(grace time.Duration) time.Duration {
	return grace + hooks.MinStopSignalPhase + StopMargin
}

// StaleWait is how long a restarting infra waits for the pod's containers
// to be gone before it removes the old sandbox's container (podman removes
// no container others depend on): when the sandbox died on its own, systemd
// stops them (BindsTo) while it restarts the infra, each within its
// StopBudget, and each container's clean-up then removes it (another
// margin). The kubelet, likewise, makes the new sandbox once the old one's
// containers are killed.
func StaleWait(grace time.Duration) time.Duration {
	return StopBudget(grace) + StopMargin
}

// InfraRetry is how often an infra that systemd restarts again and again
// (its podman run failing) is tried: the kubelet's pod worker retries a
// sandbox it failed to make after 10 s, for as long as the pod exists.
const InfraRetry = 10 * time.Second

// MaxBackOff is the kubelet's longest wait before restarting a container
// that keeps exiting (CrashLoopBackOff); InitialBackOff its first.
const (
	InitialBackOff = 10 * time.Second
	MaxBackOff     = 5 * time.Minute
)

// NoLimit is each resource property's "not set" value: what takes a limit
// off a running unit.
var NoLimit = map[string]uint64{"MemoryMax": math.MaxUint64, "MemoryLow": 0, "CPUQuota": math.MaxUint64, "CPUWeight": math.MaxUint64}

// The service proxy's container, and its io.podunit.role.
const (
	ServicesContainer = "podunit__services"
	// RoleServices is the io.podunit.role of the services container.
	RoleServices = "services"
)

// EndUnit is the pod's end unit (contract.OpEnd), which a helper starts
// (self: podunit's path) when the pod ended while a start of one of its
// units was going on: a stop of the infra then would cancel that start job.
// It runs once, in the pod's slice (down takes it along), and systemd
// forgets it when it is done, failed or not.
func EndUnit(self, pod string) Unit {
	return Unit{Name: EndUnitName(pod), Properties: []Property{
		Prop("Description", "podunit pod "+pod+": the pod ended, its sandbox goes"),
		Prop("Slice", SliceName(pod)),
		Prop("Type", "oneshot"),
		Prop("CollectMode", "inactive-or-failed"),
		Prop("ExecStart", []Exec{{Argv: contract.Command{Op: contract.OpEnd, Pod: pod}.Argv(self)}}),
	}}
}

// PodmanServiceIdle is how long podunit's podman service stays without a
// request before it exits; the next container start has it started again.
const PodmanServiceIdle = 5 * time.Minute

// PodmanService is podunit's own podman service (PodmanServiceUnit),
// listening on socket, which the run helpers have create and start the pods'
// app and sidecar containers, and which podunit's commands and helpers use
// for everything else while it runs. Its cgroup manager is cgroupfs so that each
// container's cgroup is made where the helper asks, inside the container's
// own unit (podman's systemd manager would make a scope of its own), and
// the helper moves the container's conmon there too.
func PodmanService(podman, socket string) Unit {
	return Unit{Name: PodmanServiceUnit, Properties: []Property{
		Prop("Description", "podunit: the podman service that starts the pods' containers"),
		Prop("Type", "notify"),
		// The first podman process after the user's pause process went (a
		// new login, a reboot) makes the user namespace anew: it forks, and
		// the child, which serves, is the one that says READY.
		Prop("NotifyAccess", "all"),
		Prop("CollectMode", "inactive-or-failed"),
		// As podman's own podman.service: what an exec session started
		// through it leaves in its group (conmon, the session's clean-up)
		// outlives the service's idle exit.
		Prop("KillMode", "process"),
		Prop("ExecStart", []Exec{{Argv: []string{podman, "--cgroup-manager=cgroupfs", "system", "service",
			"--time=" + strconv.Itoa(int(PodmanServiceIdle/time.Second)), "unix://" + socket}}}),
	}}
}
