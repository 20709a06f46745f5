package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// record is what podunit keeps about a running pod: the pod as applied (with
// defaults and uid) and when it was started.
type record struct {
	Pod     *corev1.Pod `json:"pod"`
	Created time.Time   `json:"created"`
}

const recordFile = "pod.json"

func (r *Runner) saveState(p *corev1.Pod) error {
	dir := r.podDir(p.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(record{Pod: p, Created: time.Now().UTC()}, "", "  ")
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

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// StopRequestFile is where `podunit down` leaves the grace period it was given, for
// the stop helper that runs as the containers' ExecStop.
func StopRequestFile(stateDir, pod string) string {
	return filepath.Join(stateDir, "pods", pod, "stop-grace")
}

func (r *Runner) writeStopRequest(pod string, grace time.Duration) error {
	path := StopRequestFile(r.StateDir, pod)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeAtomic(path, []byte(strconv.FormatInt(int64(grace/time.Second), 10)+"\n"))
}

// ReadStopRequest returns the grace period `podunit down` asked for, if any.
func ReadStopRequest(stateDir, pod string) (time.Duration, bool) {
	data, err := os.ReadFile(StopRequestFile(stateDir, pod))
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(string(trimNL(data)), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// DefaultStateDir is $XDG_RUNTIME_DIR/podunit: it lives as long as the user's
// transient units, and is private to the user.
func DefaultStateDir() string {
	rt := os.Getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		rt = fmt.Sprintf("/run/user/%d", os.Getuid())
	}
	return filepath.Join(rt, "podunit")
}

// PodLogDir is where a pod's units write their own output on hosts without
// journald; it goes with the pod's record.
func PodLogDir(stateDir, pod string) string {
	return filepath.Join(stateDir, "pods", pod, "logs")
}
