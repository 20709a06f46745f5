package runner

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/podunit/podunit/jobs"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
)

// JobHooks are how a Job's controller makes and removes pods: as `podunit
// up` and `podunit down` do it (the command wires them to those commands).
type JobHooks struct {
	// MakePod starts a pod of the Job.
	MakePod func(ctx context.Context, p *corev1.Pod) error
	// DeletePods takes pods down, with their grace periods.
	DeletePods func(ctx context.Context, ns string, names []string) error
	// Now is the clock (time.Now when nil); Sleep waits (with ctx) between
	// rounds.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// How often a Job's controller looks at its pods: every JobPoll for a
// while (JobBusy) after it acted or something changed, else every
// JobIdlePoll, and at once when its pods' state or the Job changes (an
// inotify watch, which costs nothing while nothing changes).
const (
	JobPoll     = time.Second
	JobBusy     = 5 * time.Second
	JobIdlePoll = 10 * time.Second
)

// RunJob is a Job's controller (its unit runs it): each round it lists the
// Job's pods, lets jobs.Next decide, makes and removes pods through h, and
// keeps the Job's state, until the Job has finished; then, after its
// ttlSecondsAfterFinished, it removes the Job and its pods. It returns when
// the Job is gone (taken down) or finished without a TTL.
func (r *Runner) RunJob(ctx context.Context, ns, name string, h JobHooks) error {
	now := h.Now
	if now == nil {
		now = time.Now
	}
	sleep := h.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	var wake <-chan struct{}
	watch, werr := podstate.NewDirWatch(ctx)
	if werr == nil {
		defer watch.Close()
		wake = watch.C
		_ = watch.Add(objstore.ObjectDir(r.StateDir, ns, pod.KindJob))
	}
	busyUntil := now().Add(JobBusy)
	for {
		objs, err := objstore.LoadObjects(r.StateDir)
		if err != nil {
			return err
		}
		j := objs.Job(ns, name)
		if j == nil {
			return nil // taken down
		}
		pod.DefaultJob(j)
		st, err := objstore.LoadJobState(r.StateDir, ns, name)
		if err != nil {
			return err
		}
		if st.UID == "" {
			// kept before any pod carries it
			st.UID = string(uuid.NewUUID())
			if err := objstore.SaveJobState(r.StateDir, ns, name, st); err != nil {
				return err
			}
		}
		listed, err := r.jobPods(ctx, ns, st.UID)
		if err != nil {
			return err
		}
		t := now()
		act := jobs.Next(j, st, listed, t)
		if len(act.Delete) > 0 {
			if err := h.DeletePods(ctx, ns, act.Delete); err != nil {
				return fmt.Errorf("removing the pods of job %s/%s: %w", ns, name, err)
			}
			for _, n := range act.Delete {
				delete(st.Active, n)
				st.Deleted(n, t)
			}
		}
		for _, idx := range act.Create {
			p := pod.JobPod(j, st.UID, idx, rand.String(5))
			if err := h.MakePod(ctx, p); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				st.NotMade(err, now())
				break
			}
			st.Made(p.Name, idx, now())
			if err := objstore.SaveJobState(r.StateDir, ns, name, st); err != nil {
				return err
			}
		}
		st.Report(j, listed) // the counts after the round's work
		if err := objstore.SaveJobState(r.StateDir, ns, name, st); err != nil {
			return err
		}
		if act.Finished {
			return r.afterJob(ctx, j, st, h, now, sleep)
		}
		if watch != nil {
			for n := range st.Active {
				_ = watch.Add(podstate.PodDir(r.StateDir, n))
				_ = watch.Add(podstate.RunDir(r.StateDir, n))
			}
		}
		if len(act.Create) > 0 || len(act.Delete) > 0 {
			busyUntil = now().Add(JobBusy)
		}
		wait := JobIdlePoll
		if now().Before(busyUntil) {
			wait = JobPoll
		}
		if act.Wait > 0 {
			wait = min(wait, act.Wait)
		}
		if wake == nil {
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-wake:
			busyUntil = now().Add(JobBusy)
		case <-timer.C:
		}
		timer.Stop()
	}
}

// afterJob waits out a finished Job's ttlSecondsAfterFinished, then removes
// its pods, its state and the Job, as Kubernetes' TTL controller does.
func (r *Runner) afterJob(ctx context.Context, j *batchv1.Job, st *jobs.State, h JobHooks, now func() time.Time, sleep func(context.Context, time.Duration) error) error {
	ttl := j.Spec.TTLSecondsAfterFinished
	if ttl == nil {
		return nil
	}
	_, at := jobs.Finished(st.Status)
	for {
		left := at.Add(time.Duration(*ttl) * time.Second).Sub(now())
		if left <= 0 {
			break
		}
		if err := sleep(ctx, min(left, 10*time.Second)); err != nil {
			return err
		}
		// taken down or applied anew meanwhile: not this controller's to remove
		objs, err := objstore.LoadObjects(r.StateDir)
		if err != nil {
			return err
		}
		if cur := objs.Job(j.Namespace, j.Name); cur == nil {
			return nil
		}
	}
	names, err := r.JobPodNames(j.Namespace, st.UID)
	if err != nil {
		return err
	}
	if len(names) > 0 {
		if err := h.DeletePods(ctx, j.Namespace, names); err != nil {
			return err
		}
	}
	return r.ForgetJob(j)
}

// ForgetJob removes a Job from podunit's state: the stored object and its
// controller's state.
func (r *Runner) ForgetJob(j *batchv1.Job) error {
	if _, err := objstore.RemoveObjects(r.StateDir, &pod.Objects{Jobs: []*batchv1.Job{j}}); err != nil {
		return err
	}
	return objstore.RemoveJobState(r.StateDir, j.Namespace, j.Name)
}

// JobPodNames are the recorded pods of a Job (by its controller-uid), in
// its namespace.
func (r *Runner) JobPodNames(ns, uid string) ([]string, error) {
	recorded, err := RecordedPods(r.StateDir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range recorded {
		if p.Namespace == ns && uid != "" && p.Labels[pod.LabelControllerUID] == uid {
			out = append(out, p.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// jobPods lists a Job's pods (by its controller-uid) as its controller
// sees them.
func (r *Runner) jobPods(ctx context.Context, ns, uid string) ([]jobs.Pod, error) {
	sts, err := r.Status(ctx)
	if err != nil {
		return nil, err
	}
	var out []jobs.Pod
	for _, ps := range sts {
		if ps.Namespace != ns || ps.Labels[pod.LabelControllerUID] != uid {
			continue
		}
		jp := jobs.Pod{Name: ps.Name, Index: -1, Restarts: ps.Restarts}
		if v, ok := ps.Labels[pod.LabelJobIndex]; ok {
			if i, err := strconv.Atoi(v); err == nil {
				jp.Index = i
			}
		}
		switch ps.Phase {
		case "Succeeded":
			jp.Phase = jobs.Succeeded
		case "Failed":
			jp.Phase = jobs.Failed
		case "Running":
			jp.Phase = jobs.Running
			jp.Ready = ps.Total > 0 && ps.Ready == ps.Total
		default:
			jp.Phase = jobs.Pending
		}
		out = append(out, jp)
	}
	return out, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
