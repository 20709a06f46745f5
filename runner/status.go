package runner

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/podunit/podunit/units"
	"github.com/podunit/podunit/units/sdbus"
)

// PodStatus is a pod as `podunit ps` reports it, in Kubernetes' terms.
type PodStatus struct {
	Name       string            `json:"name"`
	Namespace  string            `json:"namespace"`
	Phase      string            `json:"phase"` // Pending, Running, Succeeded, Failed, Unknown; Terminating while stopping
	Ready      int               `json:"ready"`
	Restarts   int               `json:"restarts"`
	Created    time.Time         `json:"created"`
	Unit       string            `json:"unit"`
	Slice      string            `json:"slice"`
	Containers []ContainerStatus `json:"containers"`
}

// ContainerStatus is one container's state, read from its unit.
type ContainerStatus struct {
	Name     string `json:"name"`
	State    string `json:"state"`  // Waiting, Running, Terminated
	Reason   string `json:"reason"` // e.g. ContainerCreating, Completed, Error, OOMKilled
	ExitCode *int   `json:"exitCode,omitempty"`
	Restarts int    `json:"restartCount"`
	Ready    bool   `json:"ready"`
	Unit     string `json:"unit"`
	Podman   string `json:"podmanName"`
}

// Status reports every pod podunit knows of: those it has a record of, and any
// whose units are loaded without one.
func (r *Runner) Status(ctx context.Context) ([]PodStatus, error) {
	sts, err := r.Units.List(ctx, units.Prefix+"-*")
	if err != nil {
		return nil, err
	}
	byUnit := map[string]sdbus.UnitState{}
	pods := map[string]bool{}
	for _, s := range sts {
		if s.LoadState != "loaded" {
			continue
		}
		byUnit[s.Name] = s
		if p, _, ok := units.ParseUnitName(s.Name); ok {
			pods[p] = true
		}
	}
	recs, err := r.records()
	if err != nil {
		return nil, err
	}
	known := map[string]*record{}
	for _, rec := range recs {
		known[rec.Pod.Name] = rec
		pods[rec.Pod.Name] = true
	}
	var names []string
	for n := range pods {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []PodStatus
	for _, n := range names {
		out = append(out, podStatus(n, known[n], byUnit))
	}
	return out, nil
}

func podStatus(name string, rec *record, byUnit map[string]sdbus.UnitState) PodStatus {
	ps := PodStatus{Name: name, Unit: units.InfraUnitName(name), Slice: units.SliceName(name)}
	var containers []string
	if rec != nil {
		ps.Namespace, ps.Created = rec.Pod.Namespace, rec.Created
		for _, c := range rec.Pod.Spec.Containers {
			containers = append(containers, c.Name)
		}
	} else {
		for u := range byUnit {
			if p, c, ok := units.ParseUnitName(u); ok && p == name && c != "" {
				containers = append(containers, c)
			}
		}
		sort.Strings(containers)
	}
	terminating := false
	running, waiting, failed, succeeded := 0, 0, 0, 0
	for _, c := range containers {
		cs := containerStatus(name, c, byUnit)
		ps.Restarts += cs.Restarts
		if cs.Ready {
			ps.Ready++
		}
		switch cs.State {
		case "Running":
			running++
			if cs.Reason == "Terminating" {
				terminating = true
			}
		case "Waiting":
			waiting++
		case "Terminated":
			if cs.ExitCode != nil && *cs.ExitCode == 0 {
				succeeded++
			} else {
				failed++
			}
		}
		ps.Containers = append(ps.Containers, cs)
	}
	infra, infraLoaded := byUnit[ps.Unit]
	switch {
	case terminating || (infraLoaded && infra.ActiveState == "deactivating"):
		ps.Phase = "Terminating"
	case !infraLoaded || rec == nil:
		ps.Phase = "Unknown"
	case infra.ActiveState == "activating":
		ps.Phase = "Pending"
	case infra.ActiveState != "active":
		ps.Phase = "Failed"
	case running > 0:
		ps.Phase = "Running"
	case waiting > 0:
		ps.Phase = "Pending"
	case failed > 0:
		ps.Phase = "Failed"
	case succeeded > 0:
		ps.Phase = "Succeeded"
	default:
		ps.Phase = "Unknown"
	}
	return ps
}

func containerStatus(pod, c string, byUnit map[string]sdbus.UnitState) ContainerStatus {
	cs := ContainerStatus{Name: c, Unit: units.ContainerUnitName(pod, c), Podman: units.ContainerName(pod, c)}
	u, ok := byUnit[cs.Unit]
	if !ok {
		cs.State, cs.Reason = "Waiting", "Unknown"
		return cs
	}
	cs.Restarts = int(u.NRestarts)
	switch u.ActiveState {
	case "active", "reloading":
		cs.State, cs.Ready = "Running", true
	case "deactivating":
		cs.State, cs.Reason = "Running", "Terminating"
	case "activating":
		cs.State = "Waiting"
		switch {
		case u.SubState == "auto-restart":
			cs.Reason = "CrashLoopBackOff"
		case strings.HasPrefix(u.SubState, "start"):
			cs.Reason = "ContainerCreating"
		default:
			cs.Reason = u.SubState
		}
	default: // inactive, failed
		cs.State = "Terminated"
		code := int(u.ExecMainStatus)
		if u.ExecMainCode == 2 || u.ExecMainCode == 3 { // killed or dumped: by signal
			code = 128 + int(u.ExecMainStatus)
		}
		cs.ExitCode = &code
		switch {
		case u.Result == "oom-kill":
			cs.Reason = "OOMKilled"
		case code == 0 && (u.Result == "success" || u.Result == ""):
			cs.Reason = "Completed"
		default:
			cs.Reason = "Error"
		}
	}
	return cs
}
