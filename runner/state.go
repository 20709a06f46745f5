package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
)

// record is what podunit keeps about a running pod: the pod as applied (with
// defaults and uid) and when it was started.
type record struct {
	Pod     *corev1.Pod `json:"pod"`
	Created time.Time   `json:"created"`
}

const recordFile = "pod.json"

func (r *Runner) saveState(p *corev1.Pod) error {
	return r.saveRecord(&record{Pod: p, Created: time.Now().UTC()})
}

// saveRecord writes a pod's record, replacing the one before.
func (r *Runner) saveRecord(rec *record) error {
	dir := r.podDir(rec.Pod.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, recordFile), data)
}

func (r *Runner) loadState(name string) (*record, error) {
	data, err := os.ReadFile(filepath.Join(r.podDir(name), recordFile))
	if err != nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("reading the record of pod %q: %w", name, err)
	}
	return &rec, nil
}

// records lists the pods podunit has a record of, by name.
func (r *Runner) records() ([]*record, error) {
	ents, err := os.ReadDir(filepath.Join(r.StateDir, "pods"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*record
	for _, e := range ents {
		if rec, err := r.loadState(e.Name()); err == nil {
			out = append(out, rec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pod.Name < out[j].Pod.Name })
	return out, nil
}

// RecordedPods are the pods this user's podunit runs (or keeps, failed), as
// applied: for what they take of the host's extended resources.
func RecordedPods(stateDir string) ([]*corev1.Pod, error) {
	recs, err := (&Runner{StateDir: stateDir}).records()
	var out []*corev1.Pod
	for _, r := range recs {
		out = append(out, r.Pod)
	}
	return out, err
}

// KnownPods are the pods of RecordedPods and those waiting for their
// scheduling gates: every pod a label selector can name.
func KnownPods(stateDir string) ([]*corev1.Pod, error) {
	pods, err := RecordedPods(stateDir)
	for _, g := range gatedPods(stateDir) {
		pods = append(pods, g.pod)
	}
	return pods, err
}

func writeAtomic(path string, data []byte) error { return podstate.WriteAtomic(path, data) }

func (r *Runner) writeStopRequest(pod string, grace time.Duration) error {
	return podstate.WriteStopRequest(r.StateDir, pod, grace)
}

// Pod is a running pod as it was applied.
func (r *Runner) Pod(name string) (*corev1.Pod, error) {
	rec, err := r.loadState(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err != nil {
		return nil, err
	}
	return rec.Pod, nil
}

// Unchanged tells whether p runs already as it is: its units are there and
// it was applied with the same metadata and spec (what the host gave it, its
// uid and status, and the debug containers added since, aside). Applying such
// a pod again changes nothing, as kubectl apply says "unchanged".
func (r *Runner) Unchanged(ctx context.Context, p *corev1.Pod) (bool, error) {
	d, err := r.Compare(ctx, p)
	return d == Same, err
}

// How a pod of a manifest stands to the pod of its name that runs.
type Difference int

const (
	NotRunning   Difference = iota // no such pod runs
	Same                           // it runs as written
	MetadataOnly                   // it runs with other labels or annotations (not those read at its creation), nothing else changed
	Changed                        // it runs with another spec
)

// Compare tells how p stands to the running pod of its name. A pod whose
// labels alone changed is relabeled by applying it (Relabel), as kubectl
// apply changes a pod's labels in place.
func (r *Runner) Compare(ctx context.Context, p *corev1.Pod) (Difference, error) {
	rec, err := r.loadState(p.Name)
	if err != nil {
		return NotRunning, nil
	}
	exists, err := r.exists(ctx, p.Name)
	if err != nil || !exists {
		return NotRunning, err
	}
	clean := func(p *corev1.Pod) *corev1.Pod {
		c := p.DeepCopy()
		// a record an earlier podunit made lacks the defaults it did not
		// fill then (terminationMessagePath): they are no change
		pod.SetDefaults(c)
		// a record of an earlier podunit may hold what the host and the API
		// server gave the pod (`get pod -o yaml` of it applied again)
		pod.ClearOutputOnly(c)
		c.Spec.EphemeralContainers = nil
		return c
	}
	was, is := clean(rec.Pod), clean(p)
	if equality.Semantic.DeepEqual(was, is) {
		return Same, nil
	}
	for _, k := range pod.CreationAnnotations {
		if was.Annotations[k] != is.Annotations[k] {
			return Changed, nil
		}
	}
	was.Labels, is.Labels, was.Annotations, is.Annotations = nil, nil, nil, nil
	if equality.Semantic.DeepEqual(was, is) {
		return MetadataOnly, nil
	}
	return Changed, nil
}

// Applied returns a pod as it was applied (defaults and uid filled in) and
// when it was started; ErrNotFound when podunit has no record of it.
func (r *Runner) Applied(name string) (*corev1.Pod, time.Time, error) {
	rec, err := r.loadState(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, time.Time{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	return rec.Pod, rec.Created, nil
}

// Relabel changes a running pod's labels, as kubectl label does: set adds or
// (with overwrite) changes labels, remove takes them away. The pod's record
// is replaced, so the Services select it by its new labels at once; its
// containers keep theirs. It returns the pod as it is now, and whether
// anything changed.
func (r *Runner) Relabel(ctx context.Context, name string, set map[string]string, remove []string, overwrite bool) (*corev1.Pod, bool, error) {
	return r.editMeta(ctx, name, "label", func(p *corev1.Pod) *map[string]string { return &p.Labels }, set, remove, overwrite)
}

// Annotate is Relabel for annotations, as kubectl annotate: downwardAPI
// volumes show them; what podunit reads of them when it creates a pod
// (bandwidth, its network) is read again only when the pod is made again.
func (r *Runner) Annotate(ctx context.Context, name string, set map[string]string, remove []string, overwrite bool) (*corev1.Pod, bool, error) {
	return r.editMeta(ctx, name, "annotation", func(p *corev1.Pod) *map[string]string { return &p.Annotations }, set, remove, overwrite)
}

// editMeta changes the labels or annotations (the map of the record's pod
// that field gives) of a running pod's record, under the pod's lock.
func (r *Runner) editMeta(ctx context.Context, name, word string, field func(*corev1.Pod) *map[string]string, set map[string]string, remove []string, overwrite bool) (*corev1.Pod, bool, error) {
	unlock, err := r.lock(ctx, name)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	rec, err := r.loadState(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err != nil {
		return nil, false, err
	}
	m := maps.Clone(*field(rec.Pod))
	if m == nil {
		m = map[string]string{}
	}
	changed := false
	for k, v := range set {
		old, had := m[k]
		if had && old != v && !overwrite {
			return nil, false, fmt.Errorf("%w: pod %q has %s %s=%s already (--overwrite changes it)", ErrConflict, name, word, k, old)
		}
		changed = changed || !had || old != v
		m[k] = v
	}
	for _, k := range remove {
		if _, ok := m[k]; ok {
			delete(m, k)
			changed = true
		}
	}
	if !changed {
		return rec.Pod, false, nil
	}
	if len(m) == 0 {
		m = nil
	}
	*field(rec.Pod) = m
	return rec.Pod, true, r.saveRecord(rec)
}
