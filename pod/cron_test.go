package pod

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCronCalendarSpecs(t *testing.T) {
	for _, c := range []struct {
		cron, tz string
		want     []string
	}{
		{"*/15 * * * *", "", []string{"*-*-* *:00,15,30,45:00"}},
		{"0 3 * * *", "Europe/Berlin", []string{"*-*-* 03:00:00 Europe/Berlin"}},
		{"@hourly", "", []string{"*-*-* *:00:00"}},
		{"@weekly", "", []string{"Sun *-*-* 00:00:00"}},
		{"30 8-10 * jan,jul mon-fri", "", []string{"Mon,Tue,Wed,Thu,Fri *-01,07-* 08,09,10:30:00"}},
		{"0 0 1 * *", "", []string{"*-*-01 00:00:00"}},
		// both day fields restricted: either, as cron has it
		{"0 12 1,15 * 5", "", []string{"*-*-01,15 12:00:00", "Fri *-*-* 12:00:00"}},
		// 7 is Sunday; a/n runs to the end
		{"5/20 0 * * 7", "", []string{"Sun *-*-* 00:05,25,45:00"}},
		// ? is *, a step on * restricts
		{"0 0 ? * */2", "", []string{"Sun,Tue,Thu,Sat *-*-* 00:00:00"}},
	} {
		cr, err := ParseCron(c.cron)
		if err != nil {
			t.Errorf("%q: %v", c.cron, err)
			continue
		}
		if got := cr.CalendarSpecs(c.tz); !slices.Equal(got, c.want) {
			t.Errorf("%q: %q, want %q", c.cron, got, c.want)
		}
	}
	for _, bad := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "@every 5m", "TZ=UTC 0 * * * *", "* * * foo *"} {
		if _, err := ParseCron(bad); err == nil {
			t.Errorf("%q: no error", bad)
		} else if strings.TrimSpace(err.Error()) == "" {
			t.Errorf("%q: an empty error", bad)
		}
	}
}

const cronJobDoc = `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "30 2 * * *"
  jobTemplate:
    metadata: {labels: {app: backup}}
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - {name: b, image: busybox:1}
`

// A CronJob is stored with batch/v1's defaults; its Job for a time is its
// jobTemplate's, named <cronjob>-<minutes>, the CronJob as its owner.
func TestCronJobLoads(t *testing.T) {
	m, err := Load([]byte(cronJobDoc))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pods)+len(m.Objects.Jobs) != 0 || len(m.Objects.CronJobs) != 1 {
		t.Fatalf("pods %d, jobs %d, cronjobs %d", len(m.Pods), len(m.Objects.Jobs), len(m.Objects.CronJobs))
	}
	cj := m.Objects.CronJobs[0]
	if cj.Spec.ConcurrencyPolicy != "Allow" || *cj.Spec.SuccessfulJobsHistoryLimit != 3 || *cj.Spec.FailedJobsHistoryLimit != 1 || *cj.Spec.Suspend {
		t.Errorf("defaults: %+v", cj.Spec)
	}
	at := time.Date(2026, 12, 5, 2, 30, 0, 0, time.UTC)
	j := CronJobJob(cj, at)
	if j.Name != "nightly-"+strconv.FormatInt(at.Unix()/60, 10) || OwnerCronJob(j) != "nightly" || j.Labels["app"] != "backup" || j.Annotations[AnnotationScheduled] != "2026-12-05T02:30:00Z" {
		t.Errorf("its Job: %+v", j.ObjectMeta)
	}
}

func TestCronJobInvalid(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{strings.Replace(cronJobDoc, `"30 2 * * *"`, `"61 * * * *"`, 1), `spec.schedule: invalid value "61 * * * *"`},
		{strings.Replace(cronJobDoc, "spec:\n  schedule", "spec:\n  timeZone: Mars/Olympus\n  schedule", 1), `spec.timeZone: invalid value "Mars/Olympus": unknown time zone`},
		{strings.Replace(cronJobDoc, "spec:\n  schedule", "spec:\n  concurrencyPolicy: Sometimes\n  schedule", 1), `spec.concurrencyPolicy: unsupported value Sometimes`},
		{strings.Replace(cronJobDoc, "restartPolicy: OnFailure", "restartPolicy: Always", 1), `spec.jobTemplate.spec.template.spec.restartPolicy: unsupported value Always`},
		{strings.Replace(cronJobDoc, "image: busybox:1", "image: busybox:1, env: [{name: X, valueFrom: {secretKeyRef: {name: nowhere, key: k}}}]", 1), `spec.jobTemplate.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name: not found`},
		{strings.Replace(cronJobDoc, "name: nightly", "name: "+strings.Repeat("n", 53), 1), "must be no more than 52 characters"},
		{strings.Replace(cronJobDoc, "    spec:\n      template", "    spec:\n      podFailurePolicy: {rules: []}\n      template", 1), "spec.jobTemplate.spec.podFailurePolicy"},
	} {
		_, err := Load([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
}
