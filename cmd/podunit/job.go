package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	"github.com/podunit/podunit/jobs"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

// runJobController is a Job's controller unit (`podunit internal job --job
// NS/NAME`): runner.RunJob, making each pod with `podunit up` of its
// manifest and removing pods with `podunit down`, so that a Job's pod is
// made and taken down exactly as any other.
func runJobController(ctx context.Context, ref string) error {
	ns, name, _ := strings.Cut(ref, "/")
	r, closeFn, err := connect(ctx, true)
	if err != nil {
		return err
	}
	defer closeFn()
	dir := objstore.JobPodsDir(podstate.DefaultDir(), ns, name)
	hooks := runner.JobHooks{
		MakePod: func(ctx context.Context, p *corev1.Pod) error {
			data, err := yaml.Marshal(p)
			if err != nil {
				return err
			}
			file := filepath.Join(dir, p.Name+".yaml")
			if err := podstate.WriteAtomic(file, data); err != nil {
				return err
			}
			defer os.Remove(file)
			return runSelf(ctx, "up", "-n", p.Namespace, file)
		},
		DeletePods: func(ctx context.Context, ns string, names []string) error {
			return runSelf(ctx, append([]string{"down", "-n", ns}, names...)...)
		},
	}
	return r.RunJob(ctx, ns, name, hooks)
}

// runSelf runs this podunit with args; its output goes to the unit's log,
// and what it said on failure is the error. A pod that was made but failed
// on its own (exit 4) was made.
func runSelf(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, selfPath(), args...)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = os.Stdout, &errb
	err := cmd.Run()
	os.Stderr.Write(errb.Bytes())
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == exitPodFailed {
		return nil
	}
	if err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return fmt.Errorf("podunit %s: %v: %s", args[0], err, strings.TrimSpace(strings.TrimPrefix(msg, "podunit: ")))
	}
	return nil
}

// jobChanges tells which of a manifest's Jobs are stored with another
// template, completions or completion mode, which Kubernetes keeps
// immutable: an error (exit 3) without replace; with it, those Jobs
// (replaced) are taken down before they start anew.
func jobChanges(applied []*batchv1.Job, known *pod.Objects, replace bool) (replaced []*batchv1.Job, err error) {
	var errs []error
	for _, j := range applied {
		old := known.Job(j.Namespace, j.Name)
		if old == nil {
			continue
		}
		var what []string
		if !equality.Semantic.DeepEqual(old.Spec.Template, j.Spec.Template) {
			what = append(what, "spec.template")
		}
		if !equality.Semantic.DeepEqual(old.Spec.Completions, j.Spec.Completions) {
			what = append(what, "spec.completions")
		}
		if !equality.Semantic.DeepEqual(old.Spec.CompletionMode, j.Spec.CompletionMode) {
			what = append(what, "spec.completionMode")
		}
		switch {
		case len(what) == 0:
		case replace:
			replaced = append(replaced, old)
		default:
			errs = append(errs, jobConflict(fmt.Sprintf("job.batch/%s in namespace %q exists with another %s, which a Job keeps (field is immutable): `podunit down job/%s` first, or --replace",
				j.Name, j.Namespace, strings.Join(what, ", "), j.Name)))
		}
	}
	return replaced, errors.Join(errs...)
}

// jobConflict: a Job of that name is there with another spec (exit 3, as
// for a pod).
type jobConflict string

func (e jobConflict) Error() string { return string(e) }
func (jobConflict) ExitCode() int   { return exitConflict }

// startJobs starts the controllers of the Jobs applied that have not
// finished (one that runs goes on, and reads the Job as applied).
func startJobs(ctx context.Context, r *runner.Runner, applied []*batchv1.Job) error {
	var us []units.Unit
	for _, j := range applied {
		st, err := objstore.LoadJobState(r.StateDir, j.Namespace, j.Name)
		if err != nil {
			return err
		}
		if done, _ := jobs.Finished(st.Status); done {
			continue
		}
		// its output in a file beside its state, on every host: what it
		// did is there (`podunit describe job` tells its events)
		o := translateOptions()
		o.LogDir = objstore.JobsDir(r.StateDir)
		us = append(us, units.JobUnit(o, j.Namespace, j.Name))
	}
	if len(us) == 0 {
		return nil
	}
	if err := os.MkdirAll(objstore.JobsDir(r.StateDir), 0o700); err != nil {
		return err
	}
	return r.Units.StartKept(ctx, us)
}

// stopJob stops a Job's controller: it makes no more pods. It returns the
// Job's pods.
func stopJob(ctx context.Context, r *runner.Runner, j *batchv1.Job) ([]string, error) {
	if err := r.Units.Stop(ctx, []string{units.JobUnitName(j.Namespace, j.Name)}); err != nil {
		return nil, err
	}
	st, err := objstore.LoadJobState(r.StateDir, j.Namespace, j.Name)
	if err != nil {
		return nil, err
	}
	return r.JobPodNames(j.Namespace, st.UID)
}

// downJob stops a Job's controller, takes its pods down and forgets its
// state (the stored Job itself stays, for the caller to remove or replace).
func downJob(ctx context.Context, r *runner.Runner, j *batchv1.Job) error {
	names, err := stopJob(ctx, r, j)
	if err != nil {
		return err
	}
	if err := errors.Join(r.DownAll(ctx, names, runner.DownOptions{})...); err != nil {
		return err
	}
	return objstore.RemoveJobState(r.StateDir, j.Namespace, j.Name)
}

// jobTypes are kubectl's words for Jobs.
var jobTypes = []string{"job", "jobs"}

// jobRef is the NAME of job/NAME, or "".
func jobRef(a string) string { return typedRef(a, jobTypes) }

// jobView is a stored Job with what its controller keeps: its uid and
// status.
func jobView(j *batchv1.Job) (*batchv1.Job, *jobs.State) {
	x := j.DeepCopy()
	x.APIVersion, x.Kind = "batch/v1", pod.KindJob
	st, err := objstore.LoadJobState(podstate.DefaultDir(), j.Namespace, j.Name)
	if err != nil || st == nil {
		st = &jobs.State{}
	}
	x.Status = st.Status
	if st.UID != "" {
		x.UID = types.UID(st.UID)
		x.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{pod.LabelControllerUID: st.UID}}
	}
	return x, st
}

// printJobs is get jobs: kubectl's table (STATUS, COMPLETIONS, DURATION,
// AGE), names, or the Jobs with their status.
func printJobs(_ context.Context, w, errw io.Writer, _ *runner.Runner, names []string, ns string, sel selection, format string, t tableOpts) error {
	known, err := objstore.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return err
	}
	list, err := storedNamed(known.Jobs, "job.batch", names, ns, sel)
	if err != nil {
		return err
	}
	if done, err := listing(w, errw, list, "job.batch", ns, format, len(names) == 1, func(j *batchv1.Job) any {
		x, _ := jobView(j)
		return x
	}); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	head := t.head("NAME\tSTATUS\tCOMPLETIONS\tDURATION\tAGE")
	if format == "wide" {
		head += "\tCONTAINERS\tIMAGES\tSELECTOR"
	}
	fmt.Fprintln(tw, head)
	now := time.Now()
	for _, j := range list {
		x, _ := jobView(j)
		line := t.row(j.Namespace, fmt.Sprintf("%s\t%s\t%s\t%s\t%s", t.name("job.batch", j.Name), jobStatusWord(x), jobCompletions(x), jobDuration(x, now), since(j.CreationTimestamp.Time, now)))
		if format == "wide" {
			cs, imgs := templateImages(&j.Spec.Template)
			selector := "<none>"
			if x.Spec.Selector != nil {
				selector = formatSelector(x.Spec.Selector.MatchLabels)
			}
			line += "\t" + cs + "\t" + imgs + "\t" + selector
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// jobStatusWord is kubectl's STATUS of a Job.
func jobStatusWord(j *batchv1.Job) string {
	for _, want := range []batchv1.JobConditionType{batchv1.JobFailed, batchv1.JobComplete, batchv1.JobSuspended} {
		for _, c := range j.Status.Conditions {
			if c.Type == want && c.Status == corev1.ConditionTrue {
				return string(want)
			}
		}
	}
	return "Running"
}

// jobCompletions is kubectl's COMPLETIONS: succeeded/completions, or for a
// work queue succeeded/1 (of parallelism).
func jobCompletions(j *batchv1.Job) string {
	if j.Spec.Completions != nil {
		return fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	}
	if p := j.Spec.Parallelism; p != nil && *p > 1 {
		return fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, *p)
	}
	return fmt.Sprintf("%d/1", j.Status.Succeeded)
}

// jobDuration is kubectl's DURATION: from its start to its completion (or
// now).
func jobDuration(j *batchv1.Job, now time.Time) string {
	if j.Status.StartTime == nil {
		return ""
	}
	end := now
	if j.Status.CompletionTime != nil {
		end = j.Status.CompletionTime.Time
	}
	return duration.HumanDuration(end.Sub(j.Status.StartTime.Time))
}

// describeJob is kubectl describe job: its spec, its pods' counts, its
// template and its events.
func describeJob(ctx context.Context, w io.Writer, r *runner.Runner, j *batchv1.Job) error {
	x, st := jobView(j)
	tw := tabwriter.NewWriter(w, 0, 8, 1, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\n", x.Name)
	fmt.Fprintf(tw, "Namespace:\t%s\n", x.Namespace)
	selector := "<none>"
	if x.Spec.Selector != nil {
		selector = formatSelector(x.Spec.Selector.MatchLabels)
	}
	fmt.Fprintf(tw, "Selector:\t%s\n", selector)
	fmt.Fprintf(tw, "Labels:\t%s\n", mapLines(x.Labels))
	fmt.Fprintf(tw, "Annotations:\t%s\n", mapLines(x.Annotations))
	fmt.Fprintf(tw, "Controller:\t%s\n", units.JobUnitName(x.Namespace, x.Name))
	fmt.Fprintf(tw, "Parallelism:\t%d\n", *x.Spec.Parallelism)
	if x.Spec.Completions != nil {
		fmt.Fprintf(tw, "Completions:\t%d\n", *x.Spec.Completions)
	} else {
		fmt.Fprintf(tw, "Completions:\t<unset>\n")
	}
	fmt.Fprintf(tw, "Completion Mode:\t%s\n", *x.Spec.CompletionMode)
	fmt.Fprintf(tw, "Suspend:\t%t\n", *x.Spec.Suspend)
	fmt.Fprintf(tw, "Backoff Limit:\t%d\n", *x.Spec.BackoffLimit)
	if t := x.Spec.TTLSecondsAfterFinished; t != nil {
		fmt.Fprintf(tw, "TTL Seconds After Finished:\t%d\n", *t)
	}
	if x.Status.StartTime != nil {
		fmt.Fprintf(tw, "Start Time:\t%s\n", x.Status.StartTime.Time.Format(time.RFC1123Z))
	}
	if x.Status.CompletionTime != nil {
		fmt.Fprintf(tw, "Completed At:\t%s\n", x.Status.CompletionTime.Time.Format(time.RFC1123Z))
	}
	if d := jobDuration(x, time.Now()); d != "" {
		fmt.Fprintf(tw, "Duration:\t%s\n", d)
	}
	if a := x.Spec.ActiveDeadlineSeconds; a != nil {
		fmt.Fprintf(tw, "Active Deadline Seconds:\t%ds\n", *a)
	}
	ready := int32(0)
	if x.Status.Ready != nil {
		ready = *x.Status.Ready
	}
	fmt.Fprintf(tw, "Pods Statuses:\t%d Active (%d Ready) / %d Succeeded / %d Failed\n", x.Status.Active, ready, x.Status.Succeeded, x.Status.Failed)
	if x.Status.CompletedIndexes != "" {
		fmt.Fprintf(tw, "Completed Indexes:\t%s\n", x.Status.CompletedIndexes)
	}
	tw.Flush()
	cs, imgs := templateImages(&x.Spec.Template)
	fmt.Fprintf(w, "Pod Template:\n  Labels:  %s\n  Restart Policy:  %s\n  Containers:  %s\n  Images:  %s\n", mapLines(x.Spec.Template.Labels), x.Spec.Template.Spec.RestartPolicy, cs, imgs)
	if len(x.Status.Conditions) > 0 {
		fmt.Fprintln(w, "Conditions:")
		ctw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(ctw, "  Type\tStatus\tReason\tMessage")
		for _, c := range x.Status.Conditions {
			fmt.Fprintf(ctw, "  %s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, c.Message)
		}
		ctw.Flush()
	}
	if names, err := r.JobPodNames(x.Namespace, st.UID); err == nil && len(names) > 0 {
		fmt.Fprintf(w, "Pods:\t%s\n", strings.Join(names, ", "))
	}
	return describeEvents(w, st.Events)
}

// describeEvents is the Events part of describe of a Job or CronJob.
func describeEvents(w io.Writer, events []jobs.Event) error {
	if len(events) == 0 {
		fmt.Fprintln(w, "Events:\t<none>")
		return nil
	}
	fmt.Fprintln(w, "Events:")
	etw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(etw, "  Type\tReason\tAge\tMessage")
	now := time.Now()
	for _, e := range events {
		fmt.Fprintf(etw, "  %s\t%s\t%s\t%s\n", e.Type, e.Reason, since(e.Time, now), e.Message)
	}
	return etw.Flush()
}

// mapLines is labels or annotations as describe shows them: k=v, sorted,
// one a line; <none>.
func mapLines(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, "\n\t")
}

// jobArg is the stored Job a command's arguments name (job/NAME, `job
// NAME`); ok is false when they name none.
func jobArg(c *cli.Context) (*batchv1.Job, bool, error) {
	j, ok, err := storedArg(c, jobTypes, "job.batch", func(o *pod.Objects) []*batchv1.Job { return o.Jobs })
	if ok && err == nil {
		pod.DefaultJob(j)
	}
	return j, ok, err
}

// storedArg is the stored object of a kind (types: kubectl's words for it,
// word: its name in messages, all: the stored ones) that a command's
// arguments name (TYPE/NAME, `TYPE NAME`); ok is false when they name none.
func storedArg[T metav1.Object](c *cli.Context, types []string, word string, all func(*pod.Objects) []T) (x T, ok bool, err error) {
	pos, vals, err := cmdFlags(c, false)
	if err != nil {
		return x, false, err
	}
	var name string
	switch {
	case len(pos) == 1 && typedRef(pos[0], types) != "":
		name = typedRef(pos[0], types)
	case len(pos) == 2 && slices.Contains(types, pos[0]):
		name = pos[1]
	default:
		return x, false, nil
	}
	x, err = oneNamed(func(name, ns string) ([]T, error) {
		known, err := objstore.LoadObjects(podstate.DefaultDir())
		if err != nil {
			return nil, err
		}
		return named(all(known), name, ns), nil
	}, word, name, vals["namespace"])
	return x, true, err
}

// waitJob is wait for a Job: --for=condition=Complete (or Failed,
// Suspended), or --for=delete, as kubectl waits for it. A Job that failed
// will never complete: waiting for Complete ends at once (exit 4), as it
// does for a pod that ended.
func waitJob(c *cli.Context) error {
	_, vals, err := cmdFlags(c, false)
	if err != nil {
		return err
	}
	cond := strings.ToLower(vals["for"])
	want := map[string]batchv1.JobConditionType{"condition=complete": batchv1.JobComplete, "condition=failed": batchv1.JobFailed, "condition=suspended": batchv1.JobSuspended}[cond]
	if want == "" && cond != "delete" {
		return fmt.Errorf("%w: a Job is waited for with --for=condition=Complete, --for=condition=Failed, --for=condition=Suspended or --for=delete", errUsage)
	}
	timeout, err := time.ParseDuration(vals["timeout"])
	if err != nil || timeout < 0 {
		return fmt.Errorf("%w: --timeout %q: a duration such as 30s or 2m", errUsage, vals["timeout"])
	}
	j, _, err := jobArg(c)
	if err != nil {
		if cond == "delete" && errors.Is(err, runner.ErrNotFound) {
			return nil
		}
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		known, err := objstore.LoadObjects(podstate.DefaultDir())
		if err != nil {
			return err
		}
		cur := known.Job(j.Namespace, j.Name)
		if cond == "delete" {
			if cur == nil {
				fmt.Fprintf(c.App.Writer, "job.batch/%s condition met\n", j.Name)
				return nil
			}
		} else {
			if cur == nil {
				return notFound{kind: "job.batch", name: j.Name, ns: j.Namespace}
			}
			x, _ := jobView(cur)
			word := jobStatusWord(x)
			if word == string(want) {
				fmt.Fprintf(c.App.Writer, "job.batch/%s condition met\n", j.Name)
				return nil
			}
			if (word == string(batchv1.JobFailed) || word == string(batchv1.JobComplete)) && want != batchv1.JobSuspended {
				return errTimeout{fmt.Sprintf("job.batch/%s is %s: it will never be %s", j.Name, word, want)}
			}
		}
		if time.Now().After(deadline) {
			return errTimeout{fmt.Sprintf("timed out waiting for the condition on jobs/%s", j.Name)}
		}
		select {
		case <-c.Context.Done():
			return c.Context.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// isJobArg tells whether a command's positional arguments name a Job.
func isJobArg(pos []string) bool {
	return (len(pos) == 2 && slices.Contains(jobTypes, pos[0])) || (len(pos) == 1 && jobRef(pos[0]) != "")
}
