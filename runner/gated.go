package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/podunit/podunit/podstate"
)

// A pod with schedulingGates is not started: podunit keeps its manifest (the
// pod and the objects it refers to) until the last gate is removed, and
// reports it Pending with the reason SchedulingGated, as the scheduler does.

// ReasonSchedulingGated is the reason a gated pod is Pending.
const ReasonSchedulingGated = "SchedulingGated"

func (r *Runner) gatedFile(name string) string {
	return filepath.Join(r.StateDir, "gated", name+".yaml")
}

// Gate records a gated pod; manifest is what starts it once ungated. A pod of
// that name that runs or waits already is ErrExists, unless replace (a
// running one then stays until the gates are gone: up --replace replaces it).
func (r *Runner) Gate(ctx context.Context, p *corev1.Pod, manifest []byte, replace bool) error {
	unlock, err := r.lock(ctx, p.Name)
	if err != nil {
		return err
	}
	defer unlock()
	if !replace {
		exists, err := r.exists(ctx, p.Name)
		if err != nil {
			return err
		}
		if _, gated := r.Gated(p.Name); exists || gated {
			return fmt.Errorf("%w: %q (use --replace, or `podunit down %s` first)", ErrExists, p.Name, p.Name)
		}
	}
	return podstate.WriteAtomic(r.gatedFile(p.Name), manifest)
}

// Gated returns a gated pod's manifest.
func (r *Runner) Gated(name string) ([]byte, bool) {
	data, err := os.ReadFile(r.gatedFile(name))
	return data, err == nil
}

// Ungated forgets a gated pod (it started, or went with down); it says
// whether there was one.
func (r *Runner) Ungated(name string) bool {
	return os.Remove(r.gatedFile(name)) == nil
}

// gatedPod is a pod waiting for its scheduling gates, and its manifest's path.
type gatedPod struct {
	path string
	pod  *corev1.Pod
}

// gatedPods reads the pods waiting for their scheduling gates.
func gatedPods(stateDir string) []gatedPod {
	paths, _ := filepath.Glob(filepath.Join(stateDir, "gated", "*.yaml"))
	var out []gatedPod
	for _, path := range paths {
		if data, err := os.ReadFile(path); err == nil {
			if p := GatedPod(data); p != nil {
				out = append(out, gatedPod{path, p})
			}
		}
	}
	return out
}

// gatedStatus lists the gated pods.
func (r *Runner) gatedStatus() []PodStatus {
	var out []PodStatus
	for _, g := range gatedPods(r.StateDir) {
		p, path := g.pod, g.path
		st, _ := os.Stat(path)
		var created time.Time
		if st != nil {
			created = st.ModTime()
		}
		var gates []string
		for _, g := range p.Spec.SchedulingGates {
			gates = append(gates, g.Name)
		}
		out = append(out, PodStatus{Name: p.Name, Namespace: p.Namespace, Labels: p.Labels, Phase: string(corev1.PodPending),
			Reason: ReasonSchedulingGated, Message: "waiting for the gates " + strings.Join(gates, ", "),
			Total: len(p.Spec.Containers), Created: created})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// GatedPod finds the Pod in a gated pod's manifest (its last document).
func GatedPod(manifest []byte) *corev1.Pod {
	docs := strings.Split(string(manifest), "\n---\n")
	for i := len(docs) - 1; i >= 0; i-- {
		var p corev1.Pod
		if yaml.Unmarshal([]byte(docs[i]), &p) == nil && p.Kind == "Pod" {
			return &p
		}
	}
	return nil
}

// ErrNoGate: the gate named is not one of the pod's.
var ErrNoGate = errors.New("no such scheduling gate")
