package jobs

import (
	"errors"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

func ptr[T any](v T) *T { return &v }

// job is a Job as pod.DefaultJob leaves it.
func job(completions, parallelism *int32, backoff int32, policy corev1.RestartPolicy) *batchv1.Job {
	j := &batchv1.Job{}
	j.Name = "j"
	j.Spec.Completions, j.Spec.Parallelism, j.Spec.BackoffLimit = completions, parallelism, &backoff
	j.Spec.CompletionMode = ptr(batchv1.NonIndexedCompletion)
	j.Spec.Suspend = ptr(false)
	j.Spec.Template.Spec.RestartPolicy = policy
	return j
}

var t0 = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

func condition(st *State, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range st.Status.Conditions {
		if st.Status.Conditions[i].Type == t {
			return &st.Status.Conditions[i]
		}
	}
	return nil
}

// Three completions, two at a time: two pods, then one more as the first
// succeeds, then complete; the status counts them.
func TestCompletions(t *testing.T) {
	j := job(ptr(int32(3)), ptr(int32(2)), 6, corev1.RestartPolicyNever)
	st := &State{}
	act := Next(j, st, nil, t0)
	if len(act.Create) != 2 || act.Finished || st.Status.StartTime == nil {
		t.Fatalf("first round: %+v %+v", act, st.Status)
	}
	st.Made("j-a", 0, t0)
	st.Made("j-b", 0, t0)
	act = Next(j, st, []Pod{{Name: "j-a", Phase: Succeeded}, {Name: "j-b", Phase: Running, Ready: true}}, t0.Add(time.Second))
	if len(act.Create) != 1 || st.Status.Succeeded != 1 || st.Status.Active != 1 || *st.Status.Ready != 1 {
		t.Fatalf("one succeeded: %+v %+v", act, st.Status)
	}
	st.Made("j-c", 0, t0)
	act = Next(j, st, []Pod{{Name: "j-a", Phase: Succeeded}, {Name: "j-b", Phase: Running}, {Name: "j-c", Phase: Running}}, t0.Add(2*time.Second))
	if len(act.Create) != 0 || act.Finished {
		t.Fatalf("two running, one succeeded: %+v", act)
	}
	act = Next(j, st, []Pod{{Name: "j-a", Phase: Succeeded}, {Name: "j-b", Phase: Succeeded}, {Name: "j-c", Phase: Succeeded}}, t0.Add(3*time.Second))
	c := condition(st, batchv1.JobComplete)
	if !act.Finished || c == nil || c.Status != corev1.ConditionTrue || st.Status.CompletionTime == nil || st.Status.Succeeded != 3 || st.Status.Active != 0 {
		t.Fatalf("all succeeded: %+v %+v", act, st.Status)
	}
	if done, at := Finished(st.Status); !done || !at.Equal(t0.Add(3*time.Second)) {
		t.Errorf("Finished: %v %v", done, at)
	}
	// finished: nothing more, whatever is listed
	if act := Next(j, st, nil, t0.Add(time.Hour)); !act.Finished || len(act.Create)+len(act.Delete) != 0 || st.Status.Succeeded != 3 {
		t.Errorf("after completion: %+v %+v", act, st.Status)
	}
	var reasons []string
	for _, e := range st.Events {
		reasons = append(reasons, e.Reason)
	}
	if !slices.Equal(reasons, []string{"SuccessfulCreate", "SuccessfulCreate", "SuccessfulCreate", "Completed"}) {
		t.Errorf("events: %v", reasons)
	}
}

// restartPolicy Never: a failed pod is replaced after the back-off; past
// backoffLimit failures the Job fails and its running pods go.
func TestBackoffLimitNever(t *testing.T) {
	j := job(ptr(int32(1)), ptr(int32(1)), 1, corev1.RestartPolicyNever)
	st := &State{}
	Next(j, st, nil, t0)
	st.Made("j-a", 0, t0)
	act := Next(j, st, []Pod{{Name: "j-a", Phase: Failed}}, t0.Add(time.Second))
	if len(act.Create) != 0 || act.Wait != BackOffBase || st.Status.Failed != 1 {
		t.Fatalf("first failure: %+v %+v", act, st.Status)
	}
	act = Next(j, st, []Pod{{Name: "j-a", Phase: Failed}}, t0.Add(6*time.Second))
	if act.Wait != 5*time.Second {
		t.Errorf("halfway through the back-off: %+v", act)
	}
	act = Next(j, st, []Pod{{Name: "j-a", Phase: Failed}}, t0.Add(11*time.Second))
	if len(act.Create) != 1 || act.Wait != 0 {
		t.Fatalf("after the back-off: %+v", act)
	}
	st.Made("j-b", 0, t0.Add(11*time.Second))
	act = Next(j, st, []Pod{{Name: "j-a", Phase: Failed}, {Name: "j-b", Phase: Failed}}, t0.Add(12*time.Second))
	c := condition(st, batchv1.JobFailed)
	if !act.Finished || c == nil || c.Reason != "BackoffLimitExceeded" || st.Status.Failed != 2 {
		t.Fatalf("second failure, backoffLimit 1: %+v %+v", act, st.Status)
	}
}

// restartPolicy OnFailure: the running pods' restarts count against
// backoffLimit.
func TestBackoffLimitOnFailure(t *testing.T) {
	j := job(ptr(int32(1)), ptr(int32(1)), 2, corev1.RestartPolicyOnFailure)
	st := &State{}
	Next(j, st, nil, t0)
	st.Made("j-a", 0, t0)
	if act := Next(j, st, []Pod{{Name: "j-a", Phase: Running, Restarts: 1}}, t0.Add(time.Second)); act.Finished {
		t.Fatalf("one restart of 2: %+v", act)
	}
	act := Next(j, st, []Pod{{Name: "j-a", Phase: Running, Restarts: 2}}, t0.Add(2*time.Second))
	if c := condition(st, batchv1.JobFailed); !act.Finished || c == nil || c.Reason != "BackoffLimitExceeded" || !slices.Equal(act.Delete, []string{"j-a"}) {
		t.Fatalf("two restarts of 2: %+v %+v", act, st.Status)
	}
}

// activeDeadlineSeconds counts from the Job's start; then its pods go.
func TestDeadline(t *testing.T) {
	j := job(ptr(int32(1)), ptr(int32(1)), 6, corev1.RestartPolicyNever)
	j.Spec.ActiveDeadlineSeconds = ptr(int64(5))
	st := &State{}
	Next(j, st, nil, t0)
	st.Made("j-a", 0, t0)
	if act := Next(j, st, []Pod{{Name: "j-a", Phase: Running}}, t0.Add(4*time.Second)); act.Finished {
		t.Fatalf("before the deadline: %+v", act)
	}
	act := Next(j, st, []Pod{{Name: "j-a", Phase: Running}}, t0.Add(5*time.Second))
	if c := condition(st, batchv1.JobFailed); !act.Finished || c == nil || c.Reason != "DeadlineExceeded" || !slices.Equal(act.Delete, []string{"j-a"}) {
		t.Fatalf("at the deadline: %+v %+v", act, st.Status)
	}
}

// Indexed: a pod for each index; a failed index is made again; complete
// when every index succeeded, completedIndexes compressed.
func TestIndexed(t *testing.T) {
	j := job(ptr(int32(3)), ptr(int32(3)), 6, corev1.RestartPolicyNever)
	j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
	st := &State{}
	act := Next(j, st, nil, t0)
	if !slices.Equal(act.Create, []int{0, 1, 2}) {
		t.Fatalf("first round: %+v", act)
	}
	st.Made("j-0-a", 0, t0)
	st.Made("j-1-a", 1, t0)
	st.Made("j-2-a", 2, t0)
	act = Next(j, st, []Pod{{Name: "j-0-a", Index: 0, Phase: Succeeded}, {Name: "j-1-a", Index: 1, Phase: Failed}, {Name: "j-2-a", Index: 2, Phase: Succeeded}}, t0.Add(time.Second))
	if st.Status.CompletedIndexes != "0,2" || act.Wait == 0 {
		t.Fatalf("index 1 failed: %+v %+v", act, st.Status)
	}
	act = Next(j, st, nil, t0.Add(12*time.Second))
	if !slices.Equal(act.Create, []int{1}) {
		t.Fatalf("after the back-off: %+v", act)
	}
	st.Made("j-1-b", 1, t0)
	act = Next(j, st, []Pod{{Name: "j-1-b", Index: 1, Phase: Succeeded}}, t0.Add(13*time.Second))
	if !act.Finished || st.Status.CompletedIndexes != "0-2" || st.Status.Failed != 1 || st.Status.Succeeded != 3 {
		t.Fatalf("every index: %+v %+v", act, st.Status)
	}
}

// Without completions, a work queue: no pod is made once one succeeded,
// and the Job completes when none runs.
func TestWorkQueue(t *testing.T) {
	j := job(nil, ptr(int32(2)), 6, corev1.RestartPolicyNever)
	st := &State{}
	if act := Next(j, st, nil, t0); len(act.Create) != 2 {
		t.Fatalf("first round: %+v", act)
	}
	st.Made("j-a", 0, t0)
	st.Made("j-b", 0, t0)
	if act := Next(j, st, []Pod{{Name: "j-a", Phase: Succeeded}, {Name: "j-b", Phase: Running}}, t0); len(act.Create) != 0 || act.Finished {
		t.Fatalf("one succeeded, one running: %+v", act)
	}
	if act := Next(j, st, []Pod{{Name: "j-a", Phase: Succeeded}, {Name: "j-b", Phase: Succeeded}}, t0); !act.Finished {
		t.Fatalf("both ended: %+v", act)
	}
}

// A pod taken down before it ended failed, as the Job controller counts it.
func TestGonePodFailed(t *testing.T) {
	j := job(ptr(int32(1)), ptr(int32(1)), 6, corev1.RestartPolicyNever)
	st := &State{}
	Next(j, st, nil, t0)
	st.Made("j-a", 0, t0)
	act := Next(j, st, nil, t0.Add(time.Second))
	if st.Status.Failed != 1 || st.Ended["j-a"].Phase != Gone || act.Wait != BackOffBase {
		t.Errorf("a pod gone: %+v %+v", act, st)
	}
}

// Suspended, the running pods go and none is made; resumed, the Job goes on
// and its deadline counts from then.
func TestSuspend(t *testing.T) {
	j := job(ptr(int32(1)), ptr(int32(1)), 6, corev1.RestartPolicyNever)
	st := &State{}
	Next(j, st, nil, t0)
	st.Made("j-a", 0, t0)
	j.Spec.Suspend = ptr(true)
	act := Next(j, st, []Pod{{Name: "j-a", Phase: Running}}, t0.Add(time.Second))
	if c := condition(st, batchv1.JobSuspended); !slices.Equal(act.Delete, []string{"j-a"}) || len(act.Create) != 0 || c == nil || c.Status != corev1.ConditionTrue {
		t.Fatalf("suspended: %+v %+v", act, st.Status)
	}
	st.Active = map[string]int{} // removed by the controller
	j.Spec.Suspend = ptr(false)
	act = Next(j, st, nil, t0.Add(time.Minute))
	if c := condition(st, batchv1.JobSuspended); len(act.Create) != 1 || c.Status != corev1.ConditionFalse || !st.Status.StartTime.Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("resumed: %+v %+v", act, st.Status)
	}
}

// A pod that could not be made is tried again after its own back-off.
func TestCreateFailure(t *testing.T) {
	j := job(ptr(int32(1)), ptr(int32(1)), 6, corev1.RestartPolicyNever)
	st := &State{}
	Next(j, st, nil, t0)
	st.NotMade(errors.New("image not known\nmore"), t0)
	if act := Next(j, st, nil, t0.Add(time.Second)); act.Wait != 9*time.Second || st.Status.Failed != 0 {
		t.Fatalf("after a failed create: %+v", act)
	}
	if e := st.Events[len(st.Events)-1]; e.Reason != "FailedCreate" || e.Message != "Error creating: image not known" {
		t.Errorf("event: %+v", e)
	}
	if act := Next(j, st, nil, t0.Add(10*time.Second)); len(act.Create) != 1 {
		t.Fatalf("after its back-off: %+v", act)
	}
}

func TestBackOff(t *testing.T) {
	var got []time.Duration
	for n := 1; n <= 7; n++ {
		got = append(got, BackOff(n))
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 320 * time.Second, 6 * time.Minute}
	if !slices.Equal(got, want) {
		t.Errorf("BackOff: %v", got)
	}
}

func TestCompress(t *testing.T) {
	for ix, want := range map[string]string{"": "", "0": "0", "0,1,2": "0-2", "1,3,4,5,7": "1,3-5,7"} {
		var in []int
		for _, c := range ix {
			if c != ',' {
				in = append(in, int(c-'0'))
			}
		}
		if got := compress(in); got != want {
			t.Errorf("compress(%v) = %q, want %q", in, got, want)
		}
	}
}

// A pod of the Job that the State does not know (its controller ended
// before it recorded it) is adopted: counted, not made again.
func TestAdopt(t *testing.T) {
	j := job(ptr(int32(1)), ptr(int32(1)), 6, corev1.RestartPolicyNever)
	st := &State{}
	act := Next(j, st, []Pod{{Name: "j-orphan", Index: -1, Phase: Running}}, t0)
	if len(act.Create) != 0 || st.Active["j-orphan"] != 0 || st.Status.Active != 1 {
		t.Fatalf("an unknown pod of the Job: %+v %+v", act, st)
	}
	if act := Next(j, st, []Pod{{Name: "j-orphan", Index: -1, Phase: Succeeded}}, t0.Add(time.Second)); !act.Finished || st.Status.Succeeded != 1 {
		t.Errorf("the adopted pod succeeded: %+v %+v", act, st.Status)
	}
}
