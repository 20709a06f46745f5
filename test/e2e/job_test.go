package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const jobManifest = `apiVersion: batch/v1
kind: Job
metadata: {name: e2e-job}
spec:
  completions: 3
  parallelism: 2
  template:
    metadata: {labels: {app: e2e-job}}
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: ` + testImage + `
        command: [sh, -c, 'echo "work done by $(hostname)"; sleep 1']
`

// TestJob: a Job runs its pods to completion through its controller unit,
// parallelism at a time, until its completions succeeded; get, describe,
// logs and wait see it as kubectl does; applied again it is unchanged, and
// a changed template is refused; down takes it and its pods.
func TestJob(t *testing.T) {
	path := writeManifest(t, jobManifest)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", "job/e2e-job") })
	if out := must(t, podunit, "up", path); !strings.Contains(out, "job.batch/e2e-job created") {
		t.Fatalf("up:\n%s", out)
	}
	// the controller is a unit that carries the Job's name only
	unit := "podunit.job.default.e2e-job.service"
	if show := must(t, "systemctl", "--user", "show", "-p", "ExecStart", unit); !strings.Contains(show, "internal job --job default/e2e-job") || strings.Contains(show, "work done") {
		t.Errorf("the controller's unit: %s", show)
	}
	if out := must(t, podunit, "wait", "--for=condition=Complete", "job/e2e-job", "--timeout", "90s"); !strings.Contains(out, "job.batch/e2e-job condition met") {
		t.Fatalf("wait: %s", out)
	}
	if out := must(t, podunit, "get", "jobs"); !regexp.MustCompile(`(?m)^e2e-job\s+Complete\s+3/3\s+\d+s\s+\d+s$`).MatchString(out) {
		t.Errorf("get jobs:\n%s", out)
	}
	pods := strings.Fields(must(t, podunit, "get", "pods", "-l", "job-name=e2e-job", "-o", "name"))
	if len(pods) != 3 {
		t.Fatalf("the Job's pods: %v", pods)
	}
	for _, p := range pods {
		if !regexp.MustCompile(`^pod/e2e-job-[a-z0-9]{5}$`).MatchString(p) {
			t.Errorf("pod name %s is not <job>-<5 characters>", p)
		}
		name := strings.TrimPrefix(p, "pod/")
		if out := must(t, podunit, "get", "pod", name); !regexp.MustCompile(name + `\s+0/1\s+Completed\s+0`).MatchString(out) {
			t.Errorf("get pod %s:\n%s", name, out)
		}
		if out := must(t, podunit, "logs", name); out != "work done by "+name+"\n" {
			t.Errorf("logs %s: %q", name, out)
		}
		if lbl := must(t, podunit, "get", "pod", name, "-o", "jsonpath={.metadata.labels.batch\\.kubernetes\\.io/job-name} {.metadata.ownerReferences[0].kind}"); lbl != "e2e-job Job" {
			t.Errorf("%s: job-name label and owner: %q", name, lbl)
		}
	}
	desc := must(t, podunit, "describe", "job/e2e-job")
	for _, want := range []string{"Parallelism:     2", "Completions:     3", "0 Active (0 Ready) / 3 Succeeded / 0 Failed", "SuccessfulCreate", "Job completed", "CompletionsReached"} {
		if !strings.Contains(desc, want) {
			t.Errorf("describe job: no %q in\n%s", want, desc)
		}
	}
	if r := run(t, podunit, "logs", "job/e2e-job"); r.code != 0 || !strings.HasPrefix(r.stdout, "work done by e2e-job-") {
		t.Errorf("logs job/e2e-job: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if out := must(t, podunit, "get", "job", "e2e-job", "-o", "jsonpath={.status.succeeded} {.status.conditions[0].type} {.spec.selector.matchLabels}"); !regexp.MustCompile(`^3 Complete .*controller-uid`).MatchString(out) {
		t.Errorf("get job -o jsonpath: %q", out)
	}

	// applied again: unchanged, no pod more; a changed template is refused
	if out := must(t, podunit, "up", path); !strings.Contains(out, "job.batch/e2e-job unchanged") {
		t.Errorf("up again:\n%s", out)
	}
	// exported and applied again: unchanged too
	exported := writeManifest(t, must(t, podunit, "get", "job", "e2e-job", "-o", "yaml"))
	if out := must(t, podunit, "up", exported); !strings.Contains(out, "job.batch/e2e-job unchanged") {
		t.Errorf("the exported Job applied again:\n%s", out)
	}
	if got := strings.Fields(must(t, podunit, "get", "pods", "-l", "job-name=e2e-job", "-o", "name")); len(got) != 3 {
		t.Errorf("pods after applying again: %v", got)
	}
	changed := writeManifest(t, strings.Replace(jobManifest, "sleep 1", "sleep 2", 1))
	if r := run(t, podunit, "up", changed); r.code != 3 || !strings.Contains(r.stderr, "field is immutable") {
		t.Errorf("a changed template: exit %d\n%s", r.code, r.stderr)
	}
	// --replace: the old Job's pods go, the new one runs anew
	if out := must(t, podunit, "up", "--replace", changed); !strings.Contains(out, "job.batch/e2e-job configured") {
		t.Errorf("up --replace:\n%s", out)
	}
	must(t, podunit, "wait", "--for=condition=Complete", "job/e2e-job", "--timeout", "90s")
	replaced := strings.Fields(must(t, podunit, "get", "pods", "-l", "job-name=e2e-job", "-o", "name"))
	if len(replaced) != 3 || slices.ContainsFunc(replaced, func(p string) bool { return slices.Contains(pods, p) }) {
		t.Errorf("pods after --replace: %v (before: %v)", replaced, pods)
	}

	// down takes the Job and its pods; its controller is gone
	out := must(t, podunit, "down", "job/e2e-job")
	if len(regexp.MustCompile(`(?m)^pod/e2e-job-[a-z0-9]{5} removed$`).FindAllString(out, -1)) != 3 || !strings.Contains(out, "job.batch/e2e-job deleted") {
		t.Errorf("down job/e2e-job:\n%s", out)
	}
	if r := run(t, podunit, "get", "jobs"); r.stdout != "" || !strings.Contains(r.stderr, "No resources found") {
		t.Errorf("get jobs after down: %q %q", r.stdout, r.stderr)
	}
	if show := must(t, "systemctl", "--user", "show", "-p", "LoadState", unit); strings.TrimSpace(show) != "LoadState=not-found" {
		t.Errorf("the controller's unit after down: %s", show)
	}
}

// TestJobFailsAndIndexes: past backoffLimit failures (restartPolicy Never,
// a new pod after the 10 s back-off) a Job fails; an Indexed Job gives each
// pod its index and hostname, and goes with its pods
// ttlSecondsAfterFinished after it completed.
func TestJobFailsAndIndexes(t *testing.T) {
	path := writeManifest(t, `apiVersion: batch/v1
kind: Job
metadata: {name: e2e-fail}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: c, image: `+testImage+`, command: [sh, -c, 'echo no; exit 3']}
---
apiVersion: batch/v1
kind: Job
metadata: {name: e2e-idx}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  ttlSecondsAfterFinished: 5
  template:
    spec:
      restartPolicy: OnFailure
      containers:
      - {name: c, image: `+testImage+`, command: [sh, -c, 'echo "index $JOB_COMPLETION_INDEX on $(hostname)"; sleep 2']}
`)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	must(t, podunit, "up", path)
	// every index, each on its hostname
	var logs string
	eventually(t, 60*time.Second, "the Indexed Job's three pods to have run", func() bool {
		logs = ""
		for _, p := range strings.Fields(must(t, podunit, "get", "pods", "-l", "job-name=e2e-idx", "-o", "name")) {
			logs += run(t, podunit, "logs", p).stdout
		}
		return strings.Count(logs, "index ") == 3
	})
	for i := range 3 {
		if want := "index " + string(rune('0'+i)) + " on e2e-idx-" + string(rune('0'+i)) + "\n"; !strings.Contains(logs, want) {
			t.Errorf("no %q in the Indexed Job's logs:\n%s", want, logs)
		}
	}
	if out := must(t, podunit, "wait", "--for=condition=Complete", "job/e2e-idx", "--timeout", "60s"); !strings.Contains(out, "condition met") {
		t.Errorf("wait for the Indexed Job: %s", out)
	}
	// its TTL: the Job and its pods go
	if out := must(t, podunit, "wait", "--for=delete", "job/e2e-idx", "--timeout", "60s"); !strings.Contains(out, "condition met") {
		t.Errorf("wait for the Indexed Job's removal: %s", out)
	}
	eventually(t, 30*time.Second, "the Indexed Job's pods to be gone", func() bool {
		return len(strings.Fields(must(t, podunit, "get", "pods", "-l", "job-name=e2e-idx", "-o", "name"))) == 0
	})

	// two failures (one replaced after the back-off): failed
	if out := must(t, podunit, "wait", "--for=condition=Failed", "job/e2e-fail", "--timeout", "90s"); !strings.Contains(out, "condition met") {
		t.Fatalf("wait for the failing Job: %s", out)
	}
	if out := must(t, podunit, "get", "jobs", "e2e-fail"); !regexp.MustCompile(`(?m)^e2e-fail\s+Failed\s+0/1\s`).MatchString(out) {
		t.Errorf("get jobs:\n%s", out)
	}
	if pods := strings.Fields(must(t, podunit, "get", "pods", "-l", "job-name=e2e-fail")); strings.Count(strings.Join(pods, " "), "Error") != 2 {
		t.Errorf("the failing Job's pods: %v", pods)
	}
	desc := must(t, podunit, "describe", "job", "e2e-fail")
	if !strings.Contains(desc, "BackoffLimitExceeded") || !strings.Contains(desc, "0 Active (0 Ready) / 0 Succeeded / 2 Failed") {
		t.Errorf("describe the failing Job:\n%s", desc)
	}
	// a Job that failed never completes: wait says so at once
	if r := run(t, podunit, "wait", "--for=condition=Complete", "job/e2e-fail", "--timeout", "60s"); r.code != 4 || !strings.Contains(r.stderr, "will never be Complete") {
		t.Errorf("wait for Complete of a failed Job: exit %d %s", r.code, r.stderr)
	}
}

// TestCronJob: a CronJob is a systemd timer whose OnCalendar= is its
// schedule; each time it elapses (or its service is started by hand) a Job
// of its jobTemplate runs; down takes the timer, the Jobs and their pods.
func TestCronJob(t *testing.T) {
	path := writeManifest(t, `apiVersion: batch/v1
kind: CronJob
metadata: {name: e2e-cron}
spec:
  schedule: "* * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    metadata: {labels: {app: e2e-cron}}
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - {name: c, image: `+testImage+`, command: [sh, -c, 'echo cron ran']}
`)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", "cronjob/e2e-cron") })
	if out := must(t, podunit, "up", path); !strings.Contains(out, "cronjob.batch/e2e-cron created") {
		t.Fatalf("up:\n%s", out)
	}
	timer, service := "podunit.cronjob.default.e2e-cron.timer", "podunit.cronjob.default.e2e-cron.service"
	if show := must(t, "systemctl", "--user", "show", "-p", "ActiveState", "-p", "TimersCalendar", timer); !strings.Contains(show, "ActiveState=active") || !strings.Contains(show, "OnCalendar=*-*-* *:*:00") {
		t.Errorf("the timer: %s", show)
	}
	if out := must(t, podunit, "get", "cronjobs"); !regexp.MustCompile(`(?m)^e2e-cron\s+\* \* \* \* \*\s+<none>\s+false\s+0\s+<none>\s+\d+s$`).MatchString(out) {
		t.Errorf("get cronjobs:\n%s", out)
	}
	// run at once, by hand: a Job of this minute
	must(t, "systemctl", "--user", "start", service)
	first := strings.Fields(must(t, podunit, "get", "jobs", "-o", "name"))
	if len(first) != 1 || !regexp.MustCompile(`^job\.batch/e2e-cron-\d+$`).MatchString(first[0]) {
		t.Fatalf("jobs after a run: %v", first)
	}
	must(t, podunit, "wait", "--for=condition=Complete", strings.Replace(first[0], "job.batch/", "job/", 1), "--timeout", "60s")
	if r := run(t, podunit, "logs", strings.Replace(first[0], "job.batch/", "job/", 1)); !strings.Contains(r.stdout, "cron ran") {
		t.Errorf("the Job's logs: %q %q", r.stdout, r.stderr)
	}
	// the timer makes the next minute's
	eventually(t, 80*time.Second, "the timer to make a second Job", func() bool {
		return len(strings.Fields(must(t, podunit, "get", "jobs", "-l", "app=e2e-cron", "-o", "name"))) >= 2
	})
	if out := must(t, podunit, "describe", "cronjob", "e2e-cron"); strings.Count(out, "SuccessfulCreate") < 2 || !strings.Contains(out, "Concurrency Policy:           Forbid") {
		t.Errorf("describe cronjob:\n%s", out)
	}
	out := must(t, podunit, "down", "cronjob/e2e-cron")
	if !strings.Contains(out, "cronjob.batch/e2e-cron deleted") || !strings.Contains(out, strings.TrimPrefix(first[0], "job.batch/")) {
		t.Errorf("down cronjob/e2e-cron:\n%s", out)
	}
	if show := must(t, "systemctl", "--user", "show", "-p", "LoadState", timer); strings.TrimSpace(show) != "LoadState=not-found" {
		t.Errorf("the timer after down: %s", show)
	}
	if r := run(t, podunit, "get", "jobs,pods", "-l", "app=e2e-cron"); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("after down: %q", r.stdout)
	}
}
