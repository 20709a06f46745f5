package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/podunit/podunit/jobs"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
	"github.com/podunit/podunit/units/sdbus"
)

// cronJobTypes are kubectl's words for CronJobs.
var cronJobTypes = []string{"cronjob", "cronjobs", "cj"}

// runCronJob is a CronJob's service (`podunit internal cronjob --job
// NS/NAME`), which its timer starts at each time of its schedule: as the
// CronJob controller, it makes a Job of the jobTemplate for this minute
// (after concurrencyPolicy: Forbid skips it while a Job of it runs,
// Replace takes the running ones down), with `podunit up` of its manifest,
// then removes the finished Jobs past the history limits.
func runCronJob(ctx context.Context, ref string) error {
	ns, name, _ := strings.Cut(ref, "/")
	dir := podstate.DefaultDir()
	known, err := objstore.LoadObjects(dir)
	if err != nil {
		return err
	}
	cj := known.CronJob(ns, name)
	if cj == nil {
		return nil // taken down
	}
	pod.DefaultCronJob(cj)
	st, err := objstore.LoadCronJobState(dir, ns, name)
	if err != nil {
		return err
	}
	now := time.Now()
	event := func(typ, reason, msg string) {
		st.Events = append(st.Events, jobs.Event{Time: time.Now(), Type: typ, Reason: reason, Message: msg})
	}
	defer func() { _ = objstore.SaveCronJobState(dir, ns, name, st) }()
	if *cj.Spec.Suspend {
		return nil
	}
	view, _ := cronJobView(cj, known)
	if active := view.Status.Active; len(active) > 0 {
		switch cj.Spec.ConcurrencyPolicy {
		case batchv1.ForbidConcurrent:
			event(corev1.EventTypeNormal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
			return nil
		case batchv1.ReplaceConcurrent:
			for _, j := range active {
				if err := runSelf(ctx, "down", "-n", ns, "job/"+j.Name); err != nil {
					event(corev1.EventTypeWarning, "FailedDelete", "Deleted job "+j.Name+": "+err.Error())
					return err
				}
				event(corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job "+j.Name)
			}
		}
	}
	scheduled := now.Truncate(time.Minute)
	job := pod.CronJobJob(cj, scheduled)
	data, err := yaml.Marshal(job)
	if err != nil {
		return err
	}
	file := filepath.Join(objstore.JobsDir(dir), ns, name+".cronjob.yaml")
	if err := podstate.WriteAtomic(file, data); err != nil {
		return err
	}
	defer os.Remove(file)
	if err := runSelf(ctx, "up", "-n", ns, file); err != nil {
		event(corev1.EventTypeWarning, "FailedCreate", "Error creating job: "+err.Error())
		return err
	}
	st.LastScheduleTime = scheduled
	event(corev1.EventTypeNormal, "SuccessfulCreate", "Created job "+job.Name)
	// the history kept: the newest finished Jobs, by their outcome
	known, err = objstore.LoadObjects(dir)
	if err != nil {
		return err
	}
	var done, failed []*batchv1.Job
	for _, j := range cronJobJobs(known, cj) {
		switch x, _ := jobView(j); jobStatusWord(x) {
		case string(batchv1.JobComplete):
			done = append(done, j)
		case string(batchv1.JobFailed):
			failed = append(failed, j)
		}
	}
	var errs []error
	for _, set := range []struct {
		list  []*batchv1.Job
		limit int32
	}{{done, *cj.Spec.SuccessfulJobsHistoryLimit}, {failed, *cj.Spec.FailedJobsHistoryLimit}} {
		for _, j := range set.list[:max(len(set.list)-int(set.limit), 0)] {
			if err := runSelf(ctx, "down", "-n", ns, "job/"+j.Name); err != nil {
				errs = append(errs, err)
				continue
			}
			event(corev1.EventTypeNormal, "SawCompletedJob", "Deleted job "+j.Name+" past the history limit")
		}
	}
	return errors.Join(errs...)
}

// cronJobJobs are the stored Jobs a CronJob made, the oldest first (by
// their names: the minute they were scheduled for).
func cronJobJobs(known *pod.Objects, cj *batchv1.CronJob) []*batchv1.Job {
	var out []*batchv1.Job
	for _, j := range known.Jobs {
		if j.Namespace == cj.Namespace && pod.OwnerCronJob(j) == cj.Name {
			out = append(out, j)
		}
	}
	slices.SortFunc(out, func(a, b *batchv1.Job) int {
		if d := len(a.Name) - len(b.Name); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// startCronJobs starts the timers of the CronJobs applied: one whose
// schedule (or time zone) changed from known is made anew, one that runs as
// it should is left.
func startCronJobs(ctx context.Context, r *runner.Runner, applied []*batchv1.CronJob, known *pod.Objects) error {
	for _, cj := range applied {
		timer := units.CronJobTimerName(cj.Namespace, cj.Name)
		sts, err := r.Units.Loaded(ctx, timer)
		if err != nil {
			return err
		}
		running := slices.ContainsFunc(sts, func(s sdbus.UnitState) bool { return s.Name == timer && s.ActiveState == "active" })
		if old := known.CronJob(cj.Namespace, cj.Name); running && old != nil && old.Spec.Schedule == cj.Spec.Schedule && equalPtr(old.Spec.TimeZone, cj.Spec.TimeZone) {
			continue
		}
		// the timer is made with its service: a run's service left loaded
		// (failed) would stand in the way
		if err := r.Units.Stop(ctx, []string{timer, units.CronJobServiceName(cj.Namespace, cj.Name)}); err != nil {
			return err
		}
		c, err := pod.ParseCron(cj.Spec.Schedule)
		if err != nil {
			return err // validated at load
		}
		tz := ""
		if cj.Spec.TimeZone != nil {
			tz = *cj.Spec.TimeZone
		}
		o := translateOptions()
		o.LogDir = objstore.JobsDir(r.StateDir)
		if err := os.MkdirAll(o.LogDir, 0o700); err != nil {
			return err
		}
		if err := r.Units.Start(ctx, []units.Unit{units.CronJobTimer(o, cj.Namespace, cj.Name, c.CalendarSpecs(tz))}); err != nil {
			return fmt.Errorf("cronjob %s: %w", cj.Name, err)
		}
	}
	return nil
}

func equalPtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// stopCronJob stops a CronJob's timer (and a run of its service): it makes
// no more Jobs. It returns the Jobs it made.
func stopCronJob(ctx context.Context, r *runner.Runner, cj *batchv1.CronJob, known *pod.Objects) ([]*batchv1.Job, error) {
	if err := r.Units.Stop(ctx, []string{units.CronJobTimerName(cj.Namespace, cj.Name), units.CronJobServiceName(cj.Namespace, cj.Name)}); err != nil {
		return nil, err
	}
	return cronJobJobs(known, cj), nil
}

// cronJobView is a stored CronJob with its status: its active Jobs, when it
// last made one and when one last succeeded.
func cronJobView(cj *batchv1.CronJob, known *pod.Objects) (*batchv1.CronJob, *objstore.CronJobState) {
	x := cj.DeepCopy()
	x.APIVersion, x.Kind = "batch/v1", pod.KindCronJob
	pod.DefaultCronJob(x)
	st, err := objstore.LoadCronJobState(podstate.DefaultDir(), cj.Namespace, cj.Name)
	if err != nil || st == nil {
		st = &objstore.CronJobState{}
	}
	if !st.LastScheduleTime.IsZero() {
		t := metav1.NewTime(st.LastScheduleTime)
		x.Status.LastScheduleTime = &t
	}
	for _, j := range cronJobJobs(known, cj) {
		jv, _ := jobView(j)
		switch jobStatusWord(jv) {
		case string(batchv1.JobComplete):
			if ct := jv.Status.CompletionTime; ct != nil && (x.Status.LastSuccessfulTime == nil || ct.After(x.Status.LastSuccessfulTime.Time)) {
				x.Status.LastSuccessfulTime = ct
			}
		case string(batchv1.JobFailed):
		default:
			x.Status.Active = append(x.Status.Active, corev1.ObjectReference{Kind: pod.KindJob, Namespace: j.Namespace, Name: j.Name, APIVersion: "batch/v1", UID: jv.UID})
		}
	}
	return x, st
}

// printCronJobs is get cronjobs: kubectl's table (SCHEDULE, TIMEZONE,
// SUSPEND, ACTIVE, LAST SCHEDULE, AGE), names, or the CronJobs with their
// status.
func printCronJobs(_ context.Context, w, errw io.Writer, _ *runner.Runner, names []string, ns string, sel selection, format string, t tableOpts) error {
	known, err := objstore.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return err
	}
	list, err := storedNamed(known.CronJobs, "cronjob.batch", names, ns, sel)
	if err != nil {
		return err
	}
	if done, err := listing(w, errw, list, "cronjob.batch", ns, format, len(names) == 1, func(cj *batchv1.CronJob) any {
		x, _ := cronJobView(cj, known)
		return x
	}); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	head := t.head("NAME\tSCHEDULE\tTIMEZONE\tSUSPEND\tACTIVE\tLAST SCHEDULE\tAGE")
	if format == "wide" {
		head += "\tCONTAINERS\tIMAGES\tSELECTOR"
	}
	fmt.Fprintln(tw, head)
	now := time.Now()
	for _, cj := range list {
		x, _ := cronJobView(cj, known)
		tz, last := "<none>", "<none>"
		if x.Spec.TimeZone != nil {
			tz = *x.Spec.TimeZone
		}
		if x.Status.LastScheduleTime != nil {
			last = since(x.Status.LastScheduleTime.Time, now)
		}
		line := t.row(cj.Namespace, fmt.Sprintf("%s\t%s\t%s\t%t\t%d\t%s\t%s", t.name("cronjob.batch", cj.Name), x.Spec.Schedule, tz, *x.Spec.Suspend, len(x.Status.Active), last, since(cj.CreationTimestamp.Time, now)))
		if format == "wide" {
			cs, imgs := templateImages(&x.Spec.JobTemplate.Spec.Template)
			line += "\t" + cs + "\t" + imgs + "\t<none>"
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// describeCronJob is kubectl describe cronjob.
func describeCronJob(ctx context.Context, w io.Writer, r *runner.Runner, cj *batchv1.CronJob) error {
	known, err := objstore.LoadObjects(r.StateDir)
	if err != nil {
		return err
	}
	x, st := cronJobView(cj, known)
	tw := tabwriter.NewWriter(w, 0, 8, 1, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\n", x.Name)
	fmt.Fprintf(tw, "Namespace:\t%s\n", x.Namespace)
	fmt.Fprintf(tw, "Labels:\t%s\n", mapLines(x.Labels))
	fmt.Fprintf(tw, "Annotations:\t%s\n", mapLines(x.Annotations))
	fmt.Fprintf(tw, "Schedule:\t%s\n", x.Spec.Schedule)
	tz := "<unset> (the host's)"
	if x.Spec.TimeZone != nil {
		tz = *x.Spec.TimeZone
	}
	fmt.Fprintf(tw, "Time Zone:\t%s\n", tz)
	fmt.Fprintf(tw, "Timer:\t%s (systemctl --user list-timers)\n", units.CronJobTimerName(x.Namespace, x.Name))
	fmt.Fprintf(tw, "Concurrency Policy:\t%s\n", x.Spec.ConcurrencyPolicy)
	fmt.Fprintf(tw, "Suspend:\t%s\n", map[bool]string{true: "True", false: "False"}[*x.Spec.Suspend])
	fmt.Fprintf(tw, "Successful Job History Limit:\t%d\n", *x.Spec.SuccessfulJobsHistoryLimit)
	fmt.Fprintf(tw, "Failed Job History Limit:\t%d\n", *x.Spec.FailedJobsHistoryLimit)
	last := "<unset>"
	if x.Status.LastScheduleTime != nil {
		last = x.Status.LastScheduleTime.Format(time.RFC1123Z)
	}
	fmt.Fprintf(tw, "Last Schedule Time:\t%s\n", last)
	var active []string
	for _, a := range x.Status.Active {
		active = append(active, a.Name)
	}
	if len(active) == 0 {
		active = []string{"<none>"}
	}
	fmt.Fprintf(tw, "Active Jobs:\t%s\n", strings.Join(active, ", "))
	tw.Flush()
	cs, imgs := templateImages(&x.Spec.JobTemplate.Spec.Template)
	fmt.Fprintf(w, "Pod Template:\n  Restart Policy:  %s\n  Containers:  %s\n  Images:  %s\n", x.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy, cs, imgs)
	return describeEvents(w, st.Events)
}

// cronJobArg is the stored CronJob a command's arguments name
// (cronjob/NAME, `cronjob NAME`); ok is false when they name none.
func cronJobArg(c *cli.Context) (*batchv1.CronJob, bool, error) {
	cj, ok, err := storedArg(c, cronJobTypes, "cronjob.batch", func(o *pod.Objects) []*batchv1.CronJob { return o.CronJobs })
	if ok && err == nil {
		pod.DefaultCronJob(cj)
	}
	return cj, ok, err
}
