package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
)

// builtinNodeLabels are the labels podunit gives this host itself, as the
// kubelet sets them on its node: they cannot be set or removed.
var builtinNodeLabels = []string{"kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch"}

// nodeLabelTarget tells whether label's positional arguments start with a
// node (kubectl label node NAME ..., node/NAME ...) and returns its name and
// the arguments after it. "node" followed at once by KEY=VALUE or KEY- is a
// pod named node.
func nodeLabelTarget(pos []string) (name string, rest []string, ok bool) {
	if len(pos) == 0 {
		return "", nil, false
	}
	for _, kind := range []string{"node/", "nodes/", "no/"} {
		if n, found := strings.CutPrefix(pos[0], kind); found && n != "" {
			return n, pos[1:], true
		}
	}
	switch pos[0] {
	case "node", "nodes", "no":
		if len(pos) > 1 && !strings.Contains(pos[1], "=") && !strings.HasSuffix(pos[1], "-") {
			return pos[1], pos[2:], true
		}
	}
	return "", nil, false
}

// editNodeLabels applies kubectl label's KEY=VALUE and KEY- to the lines of
// the node file (~/.config/podunit/node-labels): a label's line is replaced
// or removed where it is, a new one is added at the end, and every other
// line (comments, extended resources) is kept. A label with another value
// is changed only with overwrite (else runner.ErrConflict, as for a pod's);
// removing a label the host does not have changes nothing, as with kubectl.
// The built-in labels are refused.
func editNodeLabels(lines []string, set map[string]string, remove []string, overwrite bool) (out []string, changed bool, err error) {
	for _, k := range append(slices.Sorted(maps.Keys(set)), remove...) {
		if slices.Contains(builtinNodeLabels, k) {
			return nil, false, fmt.Errorf("%w: %s is this host's own label: podunit sets it", errUsage, k)
		}
	}
	key := func(line string) (string, string, bool) {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			return "", "", false
		}
		k, v, ok := strings.Cut(t, "=")
		return strings.TrimSpace(k), strings.TrimSpace(v), ok
	}
	have := map[string]string{}
	for _, l := range lines {
		if k, v, ok := key(l); ok {
			have[k] = v
		}
	}
	var conflicts []string
	for k, v := range set {
		if old, ok := have[k]; ok && old != v && !overwrite {
			conflicts = append(conflicts, fmt.Sprintf("%s=%s", k, old))
		}
	}
	if len(conflicts) > 0 {
		slices.Sort(conflicts)
		return nil, false, fmt.Errorf("%w: this host has label %s already (--overwrite changes it)", runner.ErrConflict, strings.Join(conflicts, ", "))
	}
	done := map[string]bool{}
	for _, l := range lines {
		k, v, ok := key(l)
		switch {
		case !ok:
			out = append(out, l)
		case slices.Contains(remove, k):
			changed = true
		case inSet(set, k) && !done[k]:
			done[k] = true
			changed = changed || set[k] != v
			out = append(out, k+"="+set[k])
		case inSet(set, k):
			changed = true // a key written twice (nodeLabels reads the last): one line, the first's place
		default:
			out = append(out, l)
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		if !done[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, k+"="+set[k])
		changed = true
	}
	return out, changed, nil
}

func inSet(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// labelNode is kubectl label node for this host: the labels go to the node
// file, which nodeSelector and node affinity are matched against when a pod
// is applied (pods that run stay, as with IgnoredDuringExecution). It says
// whether the file changed.
func labelNode(w io.Writer, name string, set map[string]string, remove []string, overwrite bool) (bool, error) {
	if host := nodeName(); name != host {
		return false, nodeNotFound(name, host)
	}
	file, _ := nodeFile()
	if file == "" {
		return false, fmt.Errorf("no configuration directory for the node file ($HOME or $XDG_CONFIG_HOME)")
	}
	var lines []string
	data, err := os.ReadFile(file)
	switch {
	case err == nil && len(data) > 0:
		lines = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	case err != nil && !os.IsNotExist(err):
		return false, err
	}
	out, changed, err := editNodeLabels(lines, set, remove, overwrite)
	if err != nil {
		return false, err
	}
	if !changed {
		fmt.Fprintf(w, "node/%s not labeled\n", name)
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return false, err
	}
	text := strings.Join(out, "\n")
	if text != "" {
		text += "\n"
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(file); err == nil {
		mode = st.Mode().Perm()
	}
	if err := podstate.WriteAtomicMode(file, []byte(text), mode); err != nil {
		return false, err
	}
	fmt.Fprintf(w, "node/%s labeled\n", name)
	return true, nil
}

// refitDaemonSets applies again each stored DaemonSet whose template fits
// this host now and did not with the labels before, or the other way round:
// its pod starts or goes, as the DaemonSet controller adds and removes
// daemon pods when a node's labels change. Other pods stay where they run.
func refitDaemonSets(c *cli.Context, before, after map[string]string) error {
	dir := podstate.DefaultDir()
	known, err := objstore.LoadObjects(dir)
	if err != nil {
		return err
	}
	var recorded []*corev1.Pod
	var errs []error
	for _, ds := range known.DaemonSets {
		p := pod.DaemonSetPod(ds)
		if (len(pod.NodeMisfits(p, before)) == 0) == (len(pod.NodeMisfits(p, after)) == 0) {
			continue
		}
		if recorded == nil {
			if recorded, err = runner.RecordedPods(dir); err != nil {
				return err
			}
		}
		persist := slices.ContainsFunc(daemonSetPods(recorded, ds), persistent)
		errs = append(errs, applyDaemonSet(c, ds, persist))
	}
	return errors.Join(errs...)
}
