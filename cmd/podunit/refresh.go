package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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
// running pods up to date with objs once `up` has stored them, as the kubelet
// refreshes a pod's volumes when its ConfigMaps and Secrets change: each
// changed volume at once, by one rename (runner.WriteVolume). Environment
// variables keep what the container started with, and a subPath mount the
// file it was given, as in Kubernetes. A pod whose volumes can no longer be
// filled (a key it names is gone) keeps what it has, with a warning. It
// returns the pods it updated.
func refreshVolumes(errw io.Writer, stateDir string, objs *pod.Objects, o units.Options) []string {
	pods, err := runner.RecordedPods(stateDir)
	if err != nil {
		fmt.Fprintf(errw, "warning: the running pods' configMap and secret volumes were not refreshed: %v\n", err)
		return nil
	}
	var updated []string
	for _, p := range pods {
		if !hasObjectVolumes(p.Spec.Volumes) {
			continue
		}
		vols, errs := pod.BindVolumes(p, objs)
		if len(errs) > 0 {
			fmt.Fprintf(errw, "warning: pod %q keeps its volumes as they were: %v\n", p.Name, errs.ToAggregate())
			continue
		}
		po := o
		po.UID = string(p.UID)
		files, err := units.VolumeFiles(p, vols, po)
		if err != nil {
			fmt.Fprintf(errw, "warning: pod %q keeps its volumes as they were: %v\n", p.Name, err)
			continue
		}
		var changed []string
		for _, v := range p.Spec.Volumes {
			dir := ""
			for d := range files {
				if filepath.Base(d) == v.Name {
					dir = d
				}
			}
			if dir == "" {
				continue
			}
			ch, err := runner.WriteVolume(dir, files[dir], time.Now())
			if err != nil {
				fmt.Fprintf(errw, "warning: pod %q: refreshing volume %s: %v\n", p.Name, v.Name, err)
			}
			if ch {
				changed = append(changed, v.Name)
			}
		}
		if len(changed) > 0 {
			if rt, err := podstate.LoadRuntime(stateDir, p.Name); err == nil && rt.FSGroup != nil {
				// the new files get the pod's fsGroup, from inside its user
				// namespace, as at its start
				argv := contract.Command{Op: contract.OpVolumes, Pod: p.Name}.Argv(o.Self)
				if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
					fmt.Fprintf(errw, "warning: pod %q: fsGroup on its refreshed volumes: %v: %s\n", p.Name, err, strings.TrimSpace(string(out)))
				}
			}
			updated = append(updated, p.Name)
			_ = podstate.AppendEvent(stateDir, p.Name, podstate.Event{Type: "Normal", Reason: "VolumesUpdated",
				Message: "volume " + strings.Join(changed, ", ") + " updated from the ConfigMaps and Secrets applied"})
		}
	}
	return updated
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
func refreshStored(errw io.Writer, stateDir string, objs *pod.Objects) {
	pods, err := runner.RecordedPods(stateDir)
	if err != nil {
		fmt.Fprintf(errw, "warning: the enabled pods' stored copies were not refreshed: %v\n", err)
		return
	}
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
