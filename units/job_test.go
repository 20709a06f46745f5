package units

import (
	"strings"
	"testing"
)

// A Job's controller and a CronJob's timer and service carry the object's
// namespace and name, nothing a user wrote; the timer has the schedule's
// calendar expressions, to the second.
func TestJobAndCronJobUnits(t *testing.T) {
	o := Options{Self: "/usr/bin/podunit"}
	j := JobUnit(o, "team", "migrate").Render()
	for _, want := range []string{"### podunit.job.team.migrate.service", "ExecStart=/usr/bin/podunit internal job --job team/migrate", "Restart=on-failure"} {
		if !strings.Contains(j, want) {
			t.Errorf("no %q in the Job's unit:\n%s", want, j)
		}
	}
	cj := CronJobTimer(o, "team", "backup", []string{"*-*-01,15 12:00:00", "Fri *-*-* 12:00:00"}).Render()
	for _, want := range []string{
		"### podunit.cronjob.team.backup.timer\n", "[Timer]\nOnCalendar=*-*-01,15 12:00:00\nOnCalendar=Fri *-*-* 12:00:00\nAccuracySec=1s\n",
		"### podunit.cronjob.team.backup.service\n", "Type=oneshot", "ExecStart=/usr/bin/podunit internal cronjob --job team/backup\n",
	} {
		if !strings.Contains(cj, want) {
			t.Errorf("no %q in the CronJob's units:\n%s", want, cj)
		}
	}
}
