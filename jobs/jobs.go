// Package jobs decides what a Job's controller does next, as Kubernetes'
// Job controller decides it: which pods to make, which to remove, when the
// Job is complete or has failed, and the status it reports. It is pure: the
// controller unit (runner.RunJob) lists the pods, acts and keeps the State.
package jobs

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Job controller's back-off before a new pod after failures: 10 s,
// doubling with each failure, at most 6 minutes.
const (
	BackOffBase = 10 * time.Second
	BackOffMax  = 6 * time.Minute
	// maxEvents kept in the State.
	maxEvents = 50
)

// Phases of a pod as the controller sees it.
const (
	Pending   = "Pending"
	Running   = "Running"
	Succeeded = "Succeeded"
	Failed    = "Failed"
	// Gone: the pod is not there (taken down by hand): it failed, as the
	// Job controller counts a pod deleted before it ended.
	Gone = "Gone"
)

// Pod is one of the Job's pods as listed.
type Pod struct {
	Name  string
	Index int // -1: not Indexed
	Phase string
	Ready bool
	// Restarts of its containers (restartPolicy OnFailure counts them
	// against backoffLimit)
	Restarts int
}

// Ended is a pod of the Job that ended, as the State remembers it.
type Ended struct {
	Index     int    `json:"index"`
	Phase     string `json:"phase"`
	Restarts  int    `json:"restarts,omitempty"`
	EndedTime string `json:"ended,omitempty"`
}

// Event is one of the Job's events.
type Event struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
}

// State is what the controller keeps of a Job between its rounds (and
// what get and describe show): its uid, its status, the pods it made that
// run and those that ended.
type State struct {
	UID    string            `json:"uid"`
	Status batchv1.JobStatus `json:"status"`
	// Active are the pods made that have not ended, by name, with their index.
	Active map[string]int `json:"active,omitempty"`
	// Ended pods, by name.
	Ended map[string]Ended `json:"ended,omitempty"`
	// LastFailure is when the last pod failed; Failures how many did, for
	// the back-off (a success does not reset it, as in Kubernetes).
	LastFailure time.Time `json:"lastFailure,omitzero"`
	// CreateFailures: pods that could not be made in a row (an image
	// missing), and when the last try was, for its own back-off.
	CreateFailures int       `json:"createFailures,omitempty"`
	LastCreateTry  time.Time `json:"lastCreateTry,omitzero"`
	Events         []Event   `json:"events,omitempty"`
}

// Action is what the controller does in this round.
type Action struct {
	// Create: pods to make, by index (0 when not Indexed).
	Create []int
	// Delete: pods to remove (the Job ended or is suspended, or it has
	// more than it needs).
	Delete []string
	// Wait: nothing to make before this (back-off); 0: no wait.
	Wait time.Duration
	// Finished: the Job completed or failed; nothing more to do but its
	// ttlSecondsAfterFinished.
	Finished bool
}

// Finished tells whether a Job's status says it completed or failed, and
// when.
func Finished(st batchv1.JobStatus) (bool, time.Time) {
	for _, c := range st.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true, c.LastTransitionTime.Time
		}
	}
	return false, time.Time{}
}

// Next records what the listed pods (pods) say in st and decides the
// round's action for j at now.
func Next(j *batchv1.Job, st *State, pods []Pod, now time.Time) Action {
	if st.Active == nil {
		st.Active = map[string]int{}
	}
	if st.Ended == nil {
		st.Ended = map[string]Ended{}
	}
	listed := map[string]Pod{}
	for _, p := range pods {
		listed[p.Name] = p
		// a pod of the Job (its controller-uid) that the State does not
		// know: made by a controller that ended before it recorded it
		// (adopted, as the Job controller adopts what its selector matches)
		_, active := st.Active[p.Name]
		if _, ended := st.Ended[p.Name]; !active && !ended {
			st.Active[p.Name] = max(p.Index, 0)
		}
	}
	// pods that ended since the last round
	for _, name := range sortedKeys(st.Active) {
		idx := st.Active[name]
		p, ok := listed[name]
		phase := p.Phase
		if !ok {
			phase = Gone
		}
		switch phase {
		case Succeeded, Failed, Gone:
			delete(st.Active, name)
			st.Ended[name] = Ended{Index: idx, Phase: phase, Restarts: p.Restarts, EndedTime: now.UTC().Format(time.RFC3339)}
			if phase != Succeeded {
				st.LastFailure = now
			}
		}
	}
	if done, _ := Finished(st.Status); done {
		st.Report(j, pods)
		return Action{Finished: true}
	}
	var act Action
	if *j.Spec.Suspend {
		act.Delete = sortedKeys(st.Active)
		if !conditionTrue(st.Status, batchv1.JobSuspended) {
			st.setCondition(batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended", now)
			st.event(now, corev1.EventTypeNormal, "Suspended", "Job suspended")
		}
		st.Report(j, pods)
		return act
	}
	if conditionTrue(st.Status, batchv1.JobSuspended) {
		st.setCondition(batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "Job resumed", now)
		st.event(now, corev1.EventTypeNormal, "Resumed", "Job resumed")
		st.Status.StartTime = nil // the deadline counts from the resumption
	}
	if st.Status.StartTime == nil {
		t := metav1.NewTime(now.UTC().Truncate(time.Second))
		st.Status.StartTime = &t
	}
	succeeded, failed := st.counts()
	fail := func(reason, message string) Action {
		st.setCondition(batchv1.JobFailed, corev1.ConditionTrue, reason, message, now)
		st.event(now, corev1.EventTypeWarning, reason, message)
		st.Report(j, pods)
		return Action{Delete: sortedKeys(st.Active), Finished: true}
	}
	if ads := j.Spec.ActiveDeadlineSeconds; ads != nil && now.Sub(st.Status.StartTime.Time) >= time.Duration(*ads)*time.Second {
		return fail("DeadlineExceeded", "Job was active longer than specified deadline")
	}
	if failed > int(*j.Spec.BackoffLimit) || pastBackoffOnFailure(j, st, listed) {
		return fail("BackoffLimitExceeded", "Job has reached the specified backoff limit")
	}
	complete := false
	switch {
	case indexed(j):
		complete = len(succeededIndexes(st)) >= int(*j.Spec.Completions)
	case j.Spec.Completions != nil:
		complete = succeeded >= int(*j.Spec.Completions)
	default:
		// a work queue: done at the first success, once no pod runs
		complete = succeeded > 0 && len(st.Active) == 0
	}
	if complete {
		st.setCondition(batchv1.JobComplete, corev1.ConditionTrue, "CompletionsReached", "Reached expected number of succeeded pods", now)
		t := metav1.NewTime(now.UTC().Truncate(time.Second))
		st.Status.CompletionTime = &t
		st.event(now, corev1.EventTypeNormal, "Completed", "Job completed")
		st.Report(j, pods)
		return Action{Delete: sortedKeys(st.Active), Finished: true}
	}
	want := wanted(j, st, succeeded)
	if len(want) > 0 {
		wait := time.Duration(0)
		if n := st.failures(); n > 0 {
			wait = BackOff(n) - now.Sub(st.LastFailure)
		}
		if st.CreateFailures > 0 {
			wait = max(wait, BackOff(st.CreateFailures)-now.Sub(st.LastCreateTry))
		}
		if wait > 0 {
			act.Wait = wait
		} else {
			act.Create = want
		}
	}
	st.Report(j, pods)
	return act
}

// Made records a pod the controller made for index.
func (st *State) Made(name string, index int, now time.Time) {
	st.Active[name] = index
	st.CreateFailures = 0
	st.event(now, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+name)
}

// NotMade records a pod that could not be made.
func (st *State) NotMade(err error, now time.Time) {
	st.CreateFailures++
	st.LastCreateTry = now
	st.event(now, corev1.EventTypeWarning, "FailedCreate", "Error creating: "+oneLine(err.Error()))
}

// Deleted records a pod the controller removed.
func (st *State) Deleted(name string, now time.Time) {
	st.event(now, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: "+name)
}

// BackOff is the wait before a new pod after n failures.
func BackOff(n int) time.Duration {
	d := BackOffBase
	for i := 1; i < n && d < BackOffMax; i++ {
		d *= 2
	}
	return min(d, BackOffMax)
}

// wanted are the indexes of the pods to make now (0s when not Indexed).
func wanted(j *batchv1.Job, st *State, succeeded int) []int {
	room := int(*j.Spec.Parallelism) - len(st.Active)
	if room <= 0 {
		return nil
	}
	if indexed(j) {
		busy := map[int]bool{}
		for _, i := range st.Active {
			busy[i] = true
		}
		for _, i := range succeededIndexes(st) {
			busy[i] = true
		}
		var out []int
		for i := 0; i < int(*j.Spec.Completions) && len(out) < room; i++ {
			if !busy[i] {
				out = append(out, i)
			}
		}
		return out
	}
	n := room
	if j.Spec.Completions != nil {
		n = min(n, int(*j.Spec.Completions)-succeeded-len(st.Active))
	} else if succeeded > 0 {
		n = 0 // a work queue makes no pod once one succeeded
	}
	return make([]int, max(n, 0))
}

// pastBackoffOnFailure: under restartPolicy OnFailure the containers of the
// running pods restart in place, and their restarts count against
// backoffLimit, as the Job controller counts them.
func pastBackoffOnFailure(j *batchv1.Job, st *State, listed map[string]Pod) bool {
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	restarts := 0
	for name := range st.Active {
		restarts += listed[name].Restarts
	}
	if *j.Spec.BackoffLimit == 0 {
		return restarts > 0
	}
	return restarts >= int(*j.Spec.BackoffLimit)
}

func (st *State) counts() (succeeded, failed int) {
	for _, e := range st.Ended {
		if e.Phase == Succeeded {
			succeeded++
		} else {
			failed++
		}
	}
	return succeeded, failed
}

func (st *State) failures() int {
	_, f := st.counts()
	return f
}

func succeededIndexes(st *State) []int {
	seen := map[int]bool{}
	var out []int
	for _, e := range st.Ended {
		if e.Phase == Succeeded && !seen[e.Index] {
			seen[e.Index] = true
			out = append(out, e.Index)
		}
	}
	sort.Ints(out)
	return out
}

// Report sets the status's counts: the pods ended and made, and which of
// those listed are ready.
func (st *State) Report(j *batchv1.Job, pods []Pod) {
	succeeded, failed := st.counts()
	st.Status.Succeeded, st.Status.Failed = int32(succeeded), int32(failed)
	st.Status.Active = int32(len(st.Active))
	ready := int32(0)
	for _, p := range pods {
		if _, ok := st.Active[p.Name]; ok && p.Ready {
			ready++
		}
	}
	st.Status.Ready = &ready
	if indexed(j) {
		st.Status.CompletedIndexes = compress(succeededIndexes(st))
	}
}

// compress writes indexes as Kubernetes' completedIndexes: "1,3-5,7".
func compress(ix []int) string {
	var parts []string
	for i := 0; i < len(ix); {
		j := i
		for j+1 < len(ix) && ix[j+1] == ix[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(ix[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ix[i], ix[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func (st *State) setCondition(t batchv1.JobConditionType, s corev1.ConditionStatus, reason, message string, now time.Time) {
	at := metav1.NewTime(now.UTC().Truncate(time.Second))
	for i := range st.Status.Conditions {
		c := &st.Status.Conditions[i]
		if c.Type == t {
			if c.Status != s {
				c.LastTransitionTime = at
			}
			c.Status, c.Reason, c.Message, c.LastProbeTime = s, reason, message, at
			return
		}
	}
	st.Status.Conditions = append(st.Status.Conditions, batchv1.JobCondition{Type: t, Status: s, Reason: reason, Message: message, LastProbeTime: at, LastTransitionTime: at})
}

func (st *State) event(now time.Time, typ, reason, message string) {
	st.Events = append(st.Events, Event{Time: now, Type: typ, Reason: reason, Message: message})
	if n := len(st.Events); n > maxEvents {
		st.Events = slices.Delete(st.Events, 0, n-maxEvents)
	}
}

func conditionTrue(st batchv1.JobStatus, t batchv1.JobConditionType) bool {
	for _, c := range st.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func indexed(j *batchv1.Job) bool {
	return j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
