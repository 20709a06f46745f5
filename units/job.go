package units

import (
	"time"

	"github.com/podunit/podunit/helper/contract"
)

// JobUnitName is the unit of a Job's controller. The namespace and the
// name are DNS labels (no dot), and the name holds a dot, which no pod's
// name has: it collides with no other unit.
func JobUnitName(ns, name string) string {
	return "podunit.job." + ns + "." + name + ".service"
}

// JobUnitPattern matches every Job controller's unit.
const JobUnitPattern = "podunit.job.*.service"

// JobUnit is a Job's controller: `podunit internal job --job NS/NAME`,
// which reads the Job from podunit's state, makes and removes its pods and
// keeps its status, until the Job has finished (and its
// ttlSecondsAfterFinished passed). It carries the Job's namespace and name
// only; restarted if it fails, never given up.
func JobUnit(o Options, ns, name string) Unit {
	run := o.Argv(contract.Command{Op: contract.OpJob, Job: ns + "/" + name})
	unit := JobUnitName(ns, name)
	return Unit{Name: unit, Properties: append([]Property{
		prop("Description", "podunit job "+ns+"/"+name+": its controller"),
		prop("Type", "exec"),
		prop("Restart", "on-failure"),
		prop("RestartSec", 5*time.Second),
		prop("StartLimitIntervalSec", time.Duration(0)),
		prop("TimeoutStopSec", 30*time.Second),
		prop("ExecStart", []Exec{{Argv: run}}),
	}, logTo(o.LogDir, unit)...)}
}

// CronJobTimerName and CronJobServiceName are a CronJob's timer and the
// service it starts; like a Job's, their names hold a dot.
func CronJobTimerName(ns, name string) string {
	return "podunit.cronjob." + ns + "." + name + ".timer"
}

func CronJobServiceName(ns, name string) string {
	return "podunit.cronjob." + ns + "." + name + ".service"
}

// CronJobTimer is a CronJob's timer, elapsing at each time of calendars
// (OnCalendar=, to the second), made with the service it starts:
// `podunit internal cronjob --job NS/NAME`, which applies a Job of the
// CronJob's jobTemplate. `systemctl --user start` of that service makes one
// at once. Both carry the CronJob's namespace and name only.
func CronJobTimer(o Options, ns, name string, calendars []string) Unit {
	svc := CronJobServiceName(ns, name)
	run := o.Argv(contract.Command{Op: contract.OpCronJob, Job: ns + "/" + name})
	service := Unit{Name: svc, Properties: append([]Property{
		prop("Description", "podunit cronjob "+ns+"/"+name+": a Job of its jobTemplate"),
		prop("Type", "oneshot"),
		prop("TimeoutStartSec", 15*time.Minute),
		prop("ExecStart", []Exec{{Argv: run}}),
	}, logTo(o.LogDir, svc)...)}
	return Unit{Name: CronJobTimerName(ns, name), Properties: []Property{
		prop("Description", "podunit cronjob "+ns+"/"+name+": its schedule"),
		prop("OnCalendar", Calendars(calendars)),
		prop("AccuracySec", time.Second),
	}, Aux: []Unit{service}}
}
