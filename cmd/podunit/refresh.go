package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

// refreshVolumes brings the configMap, secret and projected volumes of the
// running pods (runner.RecordedPods) up to date with objs once `up` has stored them, as the kubelet
// refreshes a pod's volumes when its ConfigMaps and Secrets change: each
// changed volume at once, by one rename (runner.WriteVolume). Environment
// variables keep what the container started with, and a subPath mount the
// file it was given, as in Kubernetes. A pod whose volumes can no longer be
// filled (a key it names is gone) keeps what it has, with a warning.
func refreshVolumes(ctx context.Context, errw io.Writer, stateDir string, pods []*corev1.Pod, objs *pod.Objects, o units.Options) {
	for _, p := range pods {
		if !hasObjectVolumes(p.Spec.Volumes) {
			continue
		}
		if err := refreshPod(ctx, stateDir, p, objs, o, "from the ConfigMaps and Secrets applied"); err != nil {
			fmt.Fprintf(errw, "warning: pod %q keeps its volumes as they were: %v\n", p.Name, err)
		}
	}
}

// refreshPod rewrites what changed of one pod's volumes (why: the event
// says it), holding its lock
// (an up or down of it at work goes first: the pod may be gone after).
func refreshPod(ctx context.Context, stateDir string, p *corev1.Pod, objs *pod.Objects, o units.Options, why string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	unlock, err := podstate.LockPod(ctx, stateDir, p.Name, nil)
	if err != nil {
		return err
	}
	defer unlock()
	rt, err := podstate.LoadRuntime(stateDir, p.Name)
	if err != nil {
		return nil // gone meanwhile
	}
	vols, errs := pod.BindVolumes(p, objs)
	if len(errs) > 0 {
		return errs.ToAggregate()
	}
	o.UID = string(p.UID)
	contents, err := units.VolumeFiles(p, vols, o)
	if err != nil {
		return err
	}
	var changed []string
	for _, vc := range contents {
		ch, err := runner.WriteVolume(vc.Dir, vc.Files, time.Now())
		if err != nil {
			return fmt.Errorf("volume %s: %w", vc.Volume, err)
		}
		if ch {
			changed = append(changed, vc.Volume)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	_ = podstate.AppendEvent(stateDir, p.Name, podstate.Event{Type: "Normal", Reason: "VolumesUpdated",
		Message: "volume " + strings.Join(changed, ", ") + " updated " + why})
	if rt.FSGroup != nil {
		// the new files get the pod's fsGroup, from inside its user
		// namespace, as at its start
		argv := o.Argv(contract.Command{Op: contract.OpVolumes, Pod: p.Name})
		if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("fsGroup on the refreshed volumes: %v: %s", err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// hasObjectVolumes tells whether a pod has a volume filled from ConfigMaps
// or Secrets.
func hasObjectVolumes(vols []corev1.Volume) bool {
	for _, v := range vols {
		if v.ConfigMap != nil || v.Secret != nil || v.Projected != nil {
			return true
		}
	}
	return false
}

// refreshStored rewrites the stored copies of the enabled pods (podunit
// enable) with the objects as they are now, so that a pod that comes back at
// the next start of the user manager has its ConfigMaps' and Secrets' new
// data, as a pod the kubelet starts again would.
func refreshStored(errw io.Writer, pods []*corev1.Pod, objs *pod.Objects) {
	for _, p := range pods {
		old, err := os.ReadFile(storedPath(p.Name))
		if err != nil {
			continue // not enabled
		}
		data, err := storedManifest(p, objs)
		if err != nil {
			fmt.Fprintf(errw, "warning: pod %q: its stored copy keeps the objects it had: %v\n", p.Name, err)
			continue
		}
		if !bytes.Equal(old, data) {
			if err := podstate.WriteAtomic(storedPath(p.Name), data); err != nil {
				fmt.Fprintf(errw, "warning: pod %q: its stored copy keeps the objects it had: %v\n", p.Name, err)
			}
		}
	}
}
