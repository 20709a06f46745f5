// Package runner carries out podunit's commands: it checks what a pod needs,
// applies its Plan through the unit manager and the container engine, and undoes
// everything when a step fails. The manager and engine are small interfaces so
// the sequencing is unit-tested with fakes and run for real against systemd and
// podman.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containers/image/v5/docker/reference"
	"github.com/containers/image/v5/pkg/shortnames"
	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units"
	"github.com/podunit/podunit/units/sdbus"
)

// UnitManager is what the runner needs of systemd.
type UnitManager interface {
	Start(ctx context.Context, us []units.Unit) error
	// StartKept is Start for units whose properties never change: one
	// that systemd keeps loaded though stopped is started as it is.
	StartKept(ctx context.Context, us []units.Unit) error
	Stop(ctx context.Context, names []string) error
	List(ctx context.Context, patterns ...string) ([]sdbus.UnitState, error)
	// Loaded is List without the units' properties (result, main
	// process, restarts, timestamps): names and states only, one call.
	Loaded(ctx context.Context, patterns ...string) ([]sdbus.UnitState, error)
}

// Engine is what the runner needs of podman.
type Engine interface {
	ImageExists(ctx context.Context, ref string) (bool, error)
	ImageUser(ctx context.Context, ref string) (string, error)
	// ImageNames are the names (repo:tag) of the local image ref finds.
	ImageNames(ctx context.Context, ref string) ([]string, error)
	// ImageSize is an image's size in bytes, for progress.
	ImageSize(ctx context.Context, ref string) (int64, error)
	// PullImage pulls an image, with the credentials of authFile (podman's
	// auth file format) when it is not "".
	PullImage(ctx context.Context, ref, authFile string) error
	EnsureInfraImage(ctx context.Context, ref string) error
	CreateVolume(ctx context.Context, name string, labels, options map[string]string) error
	// RemoveVolume removes a volume and whatever uses it (a pod's own, at
	// its teardown); RemoveUnusedVolume refuses one a container uses.
	RemoveVolume(ctx context.Context, name string) error
	RemoveUnusedVolume(ctx context.Context, name string) error
	VolumeLabels(ctx context.Context, name string) (map[string]string, bool, error)
	Volumes(ctx context.Context, key, value string) ([]string, error)
	Containers(ctx context.Context, key, value string) ([]string, error)
	ContainerLabels(ctx context.Context, name string) (map[string]string, bool, error)
	RemoveContainer(ctx context.Context, name string) error
	// EnsureNetwork creates podunit's pod network unless it exists;
	// RemoveNetwork removes it when unused.
	EnsureNetwork(ctx context.Context) error
	RemoveNetwork(ctx context.Context) (bool, error)
}

// Runner holds the side-effecting parts; StateDir keeps one record per running
// pod (its manifest, as applied), under $XDG_RUNTIME_DIR so it lives as long as
// the transient units do.
type Runner struct {
	Units    UnitManager
	Engine   Engine
	StateDir string
	// Logs is the directory of the containers' output (units.Options
	// ContainerLogs): a pod's goes with it.
	Logs string
	Log  io.Writer // warnings, for the user
	// Progress, when set, hears what up is doing while it takes time: pulls
	// (with sizes), init containers at work (a terminal: nil otherwise).
	Progress io.Writer
}

func (r *Runner) progress(format string, a ...any) {
	if r.Progress != nil {
		fmt.Fprintf(r.Progress, format+"\n", a...)
	}
}

// ErrExists is returned when a pod of that name is already running.
var ErrExists = errors.New("pod already exists")

// ErrConflict: an object podunit needs exists and is not podunit's.
var ErrConflict = errors.New("conflict")

// ErrNotFound is returned when no pod of that name is known.
var ErrNotFound = errors.New("pod not found")

// UpOptions tune Up.
type UpOptions struct {
	Replace bool
	Grace   *time.Duration // for --replace: grace of the old pod's stop
}

// Up starts a pod from its plan. On any failure it removes what it created and
// returns the reason: there is never half a pod left behind. With Replace, a
// running pod of that name is stopped only once everything the new one needs
// (images, host paths, names) is checked and in place.
func (r *Runner) Up(ctx context.Context, p *corev1.Pod, plan *units.Plan, o UpOptions) (err error) {
	unlock, err := r.lock(ctx, plan.Pod)
	if err != nil {
		return err
	}
	defer unlock()
	exists, err := r.exists(ctx, plan.Pod)
	if err != nil {
		return err
	}
	if exists {
		// Pod names are unique on the host (they name its units and
		// containers): one of another namespace is another pod, never
		// replaced by this one.
		if old, err := r.Pod(plan.Pod); err == nil && old.Namespace != p.Namespace {
			return fmt.Errorf("%w: %q, in namespace %q (pod names are unique on this host, whatever their namespace: rename this one)", ErrExists, plan.Pod, old.Namespace)
		}
		if !o.Replace {
			if same, _ := r.Unchanged(ctx, p); !same {
				return fmt.Errorf("%w: %q, with a spec other than this one (a pod's spec cannot change, as in Kubernetes: --replace recreates it, or `podunit down %s` first)", ErrExists, plan.Pod, plan.Pod)
			}
			return fmt.Errorf("%w: %q (use --replace, or `podunit down %s` first)", ErrExists, plan.Pod, plan.Pod)
		}
	}
	if err := r.prepare(ctx, plan); err != nil {
		return err
	}
	if exists {
		if err := r.teardown(ctx, plan.Pod, o.Grace, nil); err != nil {
			return fmt.Errorf("replacing %q: %w", plan.Pod, err)
		}
	} else if errs := r.removeContainers(ctx, plan.Pod); len(errs) > 0 {
		// Containers of an earlier run of the pod (its label) that went
		// without down: the user manager stopped, the host went down.
		return fmt.Errorf("removing the containers an earlier run of pod %q left: %w", plan.Pod, errors.Join(errs...))
	}

	// From here on, everything created is undone if a later step fails, unless
	// the pod itself ran and failed (kept, as Kubernetes keeps a Failed pod).
	keep := false
	defer func() {
		if err != nil && !keep {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if cerr := r.teardown(cctx, plan.Pod, nil, nil); cerr != nil {
				err = fmt.Errorf("%w (and cleaning up: %v)", err, cerr)
			}
		}
	}()
	if err := r.saveState(p); err != nil {
		return err
	}
	if plan.PodNetwork {
		// recorded: the network, made before the pods started, stays
		if err := r.networkFor(ctx); err != nil {
			return err
		}
	}
	// What the units' helpers run: the units only name the pod and container.
	if err := podstate.SaveRuntime(r.StateDir, plan.Runtime); err != nil {
		return err
	}
	for _, u := range plan.Units() {
		if p := u.Property("StandardError"); p != nil {
			if err := os.MkdirAll(filepath.Dir(string(p.Value.(units.AppendFile))), 0o700); err != nil {
				return err
			}
		}
	}
	if err := r.writeFiles(plan); err != nil {
		return err
	}
	if r.Logs != "" {
		// a new pod has no logs yet: none of a pod of the same name that
		// went without down (a reboot)
		if err := os.RemoveAll(filepath.Join(r.Logs, plan.Pod)); err != nil {
			return err
		}
	}
	for _, c := range plan.Claims {
		if err := r.ensureClaim(ctx, c); err != nil {
			return err
		}
	}
	for _, v := range plan.Volumes {
		// A volume of that name is the pod's own (prepare checked): stale,
		// from a pod stopped behind podunit's back.
		if err := r.Engine.RemoveVolume(ctx, v.Name); err != nil {
			return fmt.Errorf("%s: removing stale volume %s: %w", v.FieldPath, v.Name, err)
		}
		if err := r.Engine.CreateVolume(ctx, v.Name, v.Labels, v.Options); err != nil {
			return fmt.Errorf("%s: creating volume %s: %w", v.FieldPath, v.Name, err)
		}
	}
	r.event(plan.Pod, Event{Reason: "Scheduled", Message: fmt.Sprintf("Pod %s/%s runs on this host as %s", plan.Namespace, plan.Pod, plan.Slice.Name)})
	// All the pod's units in one go, in the order their dependencies name
	// each other: the slice, the infra (the containers bind to it), then the
	// containers. systemd's ordering (After=) starts each as soon as what it
	// waits for is up, with no round trip between the stages: the init
	// containers one after another, the app containers after them; a
	// container whose infra failed fails with it.
	all := []units.Unit{plan.Slice, plan.Infra}
	if plan.Deadline != nil {
		// the deadline counts from the pod's start
		all = append(all, *plan.Deadline)
	}
	for _, c := range append(append([]units.ContainerUnit{}, plan.Inits...), plan.Containers...) {
		all = append(all, c.Unit)
		r.event(plan.Pod, Event{Reason: "Created", Container: c.Container, Message: fmt.Sprintf("Created %s container %s as %s", c.Kind, c.Container, c.Name)})
	}
	if plan.Prober != nil {
		all = append(all, *plan.Prober)
	}
	var stopWatch func()
	if len(plan.Inits) > 0 {
		stopWatch = r.watchInits(ctx, plan)
	}
	err = r.Units.Start(ctx, all)
	if stopWatch != nil {
		stopWatch()
	}
	if err != nil {
		if failed := r.runtimeFailure(ctx, plan, err); failed != nil {
			keep = true
			return failed
		}
		return r.explainStart(ctx, plan, err)
	}
	// systemd reports a Type=notify start as done even when ExecStartPost (the
	// postStart hook) failed afterwards.
	if failed := r.postStartFailure(plan); failed != nil {
		keep = true
		return failed
	}
	return nil
}

// watchInits tells Progress which init container is at work while the
// containers' start waits for them, until the returned function is called.
func (r *Runner) watchInits(ctx context.Context, plan *units.Plan) func() {
	if r.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		last := ""
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			sts, err := r.Status(ctx)
			if err != nil {
				continue
			}
			state := map[string]ContainerStatus{}
			for _, st := range sts {
				if st.Name == plan.Pod {
					for _, cs := range st.Containers {
						state[cs.Name] = cs
					}
				}
			}
			// the first init container not done is the one at work
			i := slices.IndexFunc(plan.Inits, func(c units.ContainerUnit) bool {
				cs, ok := state[c.Container]
				return ok && cs.State != "Terminated"
			})
			if i < 0 {
				continue
			}
			cs := state[plan.Inits[i].Container]
			now := strings.TrimSpace(fmt.Sprintf("pod/%s: init container %s (%d/%d): %s %s", plan.Pod, cs.Name, i+1, len(plan.Inits), cs.State, cs.Reason))
			if now != last {
				r.progress("%s", now)
				last = now
			}
		}
	}()
	return func() { close(done); <-finished }
}

// postStartFailure reports a postStart hook that failed while the pod started:
// the container was killed and systemd restarts it per restartPolicy, as the
// kubelet would.
func (r *Runner) postStartFailure(plan *units.Plan) error {
	evs, err := Events(r.StateDir, plan.Pod)
	if err != nil {
		return nil
	}
	for _, e := range evs {
		if e.Reason == "FailedPostStartHook" {
			return fmt.Errorf("%w: %q: container %s: %s (restarted per restartPolicy; see `podunit describe %s`)",
				ErrPodFailed, plan.Pod, e.Container, e.Message, plan.Pod)
		}
	}
	return nil
}

// ErrPodFailed is returned when the pod started but failed on its own: an init
// container exited non-zero under restartPolicy Never, or a postStart hook
// failed. The pod is kept, as Kubernetes keeps it, for `podunit describe`;
// `podunit down` removes it.
var ErrPodFailed = errors.New("pod failed")

// ErrStillStarting is returned when `up` stopped waiting while the pod's init
// containers were still running or backing off; the pod is kept and goes on.
var ErrStillStarting = errors.New("pod still initializing")

// runtimeFailure tells whether a failed start is the pod's own doing (an init
// container that ran and failed, or is still retrying when time ran out)
// rather than something that kept it from being created at all.
func (r *Runner) runtimeFailure(ctx context.Context, plan *units.Plan, startErr error) error {
	if err := r.postStartFailure(plan); err != nil {
		return err
	}
	if len(plan.Inits) == 0 {
		return nil
	}
	if errors.Is(startErr, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %q: `up` stopped waiting while init containers run (see `podunit describe %s`)", ErrStillStarting, plan.Pod, plan.Pod)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, c := range plan.Inits {
		sts, err := r.Units.List(sctx, c.Name)
		if err != nil || len(sts) != 1 {
			continue
		}
		st := sts[0]
		// podman itself exits 125-127 when it cannot create or run the container:
		// that is a failure to start, not the container's.
		if st.ActiveState == "failed" && st.Result == "exit-code" && (st.ExecMainStatus < 125 || st.ExecMainStatus > 127) {
			return fmt.Errorf("%w: %q: init container %s exited with status %d and restartPolicy is Never (see `podunit describe %s`; remove it with `podunit down %s`)",
				ErrPodFailed, plan.Pod, c.Container, st.ExecMainStatus, plan.Pod, plan.Pod)
		}
	}
	return nil
}

func (r *Runner) event(pod string, e Event) {
	_ = AppendEvent(r.StateDir, pod, e)
}

// prepare checks and fetches what the pod needs before anything is created.
func (r *Runner) prepare(ctx context.Context, plan *units.Plan) error {
	var errs []error
	for _, h := range plan.HostPaths {
		if err := checkHostPath(h); err != nil {
			errs = append(errs, err)
		}
	}
	authFile := ""
	if plan.PullAuth != nil {
		// The credentials reach podman's service from a 0600 file in the
		// runtime directory (a tmpfs), removed once the pulls are done.
		path, remove, err := podstate.SecretTempFile(r.StateDir, "pull-auth-*.json", plan.PullAuth.AuthFile)
		if err != nil {
			return fmt.Errorf("writing the image pull credentials: %w", err)
		}
		defer remove()
		authFile = path
	}
	// An image several containers name is looked at, or pulled, once: it is
	// present for the others once one found it or pulled it (an Always pull
	// of a later one is done by the first's), and one that failed is
	// reported once, naming every field that names it.
	type imageSeen struct {
		pulled bool     // in this up
		errAt  int      // its error's index in errs; -1: none
		also   []string // the other fields naming it, when it failed
	}
	seen := map[string]*imageSeen{}
	for _, img := range plan.Images {
		s := seen[img.Ref]
		switch {
		case s == nil:
			s = &imageSeen{errAt: -1}
			seen[img.Ref] = s
		case s.errAt >= 0:
			s.also = append(s.also, img.FieldPath)
			continue
		case s.pulled || img.PullPolicy != string(corev1.PullAlways):
			continue
		}
		pulled, err := r.ensureImage(ctx, img, plan.PullAuth, authFile)
		s.pulled = s.pulled || pulled
		if err != nil {
			s.errAt = len(errs)
			errs = append(errs, err)
		}
	}
	for _, s := range seen {
		if len(s.also) > 0 {
			errs[s.errAt] = fmt.Errorf("%w (the image of %s too)", errs[s.errAt], strings.Join(s.also, ", "))
		}
	}
	errs = append(errs, r.checkOwnership(ctx, plan)...)
	if len(errs) == 0 {
		for _, c := range plan.NonRootChecks {
			if err := r.checkNonRoot(ctx, c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// checkOwnership finds the podman objects of the names the pod will use that
// are not the pod's own: podunit never removes or replaces what it did not
// create. Objects of an earlier run of the pod (same labels) are fine.
func (r *Runner) checkOwnership(ctx context.Context, plan *units.Plan) []error {
	var errs []error
	conflict := func(kind, name, owner string) error {
		if owner != "" {
			owner = fmt.Sprintf(" (it belongs to podunit pod %q)", owner)
		}
		return fmt.Errorf("%w: podman %s %s exists and was not created by podunit for pod %q%s; podunit never removes what is not its own: rename or remove it",
			ErrConflict, kind, name, plan.Pod, owner)
	}
	names := []string{units.InfraContainerName(plan.Pod)}
	for _, c := range append(append([]units.ContainerUnit{}, plan.Inits...), plan.Containers...) {
		names = append(names, c.Podman)
	}
	for _, n := range names {
		labels, ok, err := r.Engine.ContainerLabels(ctx, n)
		if err != nil {
			errs = append(errs, fmt.Errorf("checking container %s: %w", n, err))
		} else if ok && labels[units.LabelPod] != plan.Pod {
			errs = append(errs, conflict("container", n, labels[units.LabelPod]))
		}
	}
	for _, v := range plan.Volumes {
		labels, ok, err := r.Engine.VolumeLabels(ctx, v.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: checking volume %s: %w", v.FieldPath, v.Name, err))
		} else if ok && labels[units.LabelPod] != plan.Pod {
			errs = append(errs, fmt.Errorf("%s: %w", v.FieldPath, conflict("volume", v.Name, labels[units.LabelPod])))
		}
	}
	for _, c := range plan.Claims {
		if _, err := r.claimExists(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// lock takes the pod's lock, saying so when another podunit holds it.
func (r *Runner) lock(ctx context.Context, pod string) (func(), error) {
	return podstate.LockPod(ctx, r.StateDir, pod, func() {
		r.logf("pod %q: waiting for another podunit working on it", pod)
	})
}

// ErrImage marks an image that is missing or could not be pulled.
var ErrImage = errors.New("image not available")

// ErrNonRoot marks a container whose runAsNonRoot its image does not meet
// (the kubelet's CreateContainerConfigError): refused before anything runs.
var ErrNonRoot = errors.New("runAsNonRoot is set")

// ensureImage makes the image present as its pull policy asks; pulled: it
// was pulled.
func (r *Runner) ensureImage(ctx context.Context, img units.Image, auth *pod.PullAuth, authFile string) (pulled bool, err error) {
	exists, err := r.Engine.ImageExists(ctx, img.Ref)
	if err != nil {
		return false, fmt.Errorf("%s: checking image %q: %w", img.FieldPath, img.Ref, err)
	}
	switch img.PullPolicy {
	case string(corev1.PullNever):
		if !exists {
			return false, fmt.Errorf("%s: %w: %q is not present and its pull policy is Never", img.FieldPath, ErrImage, img.Ref)
		}
		return false, nil
	case string(corev1.PullIfNotPresent):
		if exists {
			return false, nil
		}
	case string(corev1.PullAlways):
		if exists && strings.HasPrefix(img.Ref, "localhost/") {
			// An image built on this host (podman build, podman import) has no
			// registry to pull from; Always (the default for :latest) means the
			// local one.
			r.logf("warning: %s: %q is a local image: not pulled despite imagePullPolicy Always", img.FieldPath, img.Ref)
			return false, nil
		}
		if exists && shortnames.IsShortName(img.Ref) {
			// A short name podman finds as an image built on this host
			// (`podman build -t app` names it localhost/app:latest): the
			// pull would go to no registry at all.
			if names, err := r.Engine.ImageNames(ctx, img.Ref); err == nil && len(names) > 0 && allLocal(names) {
				name := names[0]
				if full := localName(img.Ref); slices.Contains(names, full) {
					name = full
				}
				r.logf("warning: %s: %q is the image %s built on this host: not pulled despite imagePullPolicy Always (name it %s, or set imagePullPolicy IfNotPresent, to say so)",
					img.FieldPath, img.Ref, name, name)
				return false, nil
			}
		}
	}
	// A short name means what it means to Kubernetes, an image of Docker
	// Hub (nginx:1.25 is docker.io/library/nginx:1.25), whatever the host's
	// registries.conf searches (Debian's searches none); podman finds it by
	// the short name afterwards, as it found a local one.
	pullRef, as := img.Ref, ""
	if shortnames.IsShortName(img.Ref) {
		if named, err := reference.ParseNormalizedNamed(img.Ref); err == nil {
			pullRef = reference.TagNameOnly(named).String()
			as = " (" + pullRef + ")"
		}
	}
	r.progress("pulling image %s ...", pullRef)
	pullStart := time.Now()
	err = r.Engine.PullImage(ctx, pullRef, authFile)
	if err == nil {
		if size, serr := r.Engine.ImageSize(ctx, pullRef); serr == nil && size > 0 {
			r.progress("pulled image %s (%s) in %s", pullRef, humanSize(size), time.Since(pullStart).Round(100*time.Millisecond))
		} else {
			r.progress("pulled image %s in %s", pullRef, time.Since(pullStart).Round(100*time.Millisecond))
		}
	}
	if err != nil {
		from := pullSource(img.Ref, auth, err)
		if exists && img.PullPolicy == string(corev1.PullAlways) {
			// The kubelet fails here too; say which policy asked for the pull.
			return false, fmt.Errorf("%s: %w: pulling %q%s %s (imagePullPolicy Always): %v", img.FieldPath, ErrImage, img.Ref, as, from, err)
		}
		return false, fmt.Errorf("%s: %w: %q is not present and pulling it%s %s failed: %v", img.FieldPath, ErrImage, img.Ref, as, from, err)
	}
	return true, nil
}

// localName is the name podman gives a short name's image built on this
// host: localhost/NAME, tagged latest when no tag or digest is given.
func localName(ref string) string {
	named, err := reference.ParseNormalizedNamed("localhost/" + ref)
	if err != nil {
		return ""
	}
	return reference.TagNameOnly(named).String()
}

// allLocal tells whether every name of an image is one of this host's
// (localhost/...): it came from no registry.
func allLocal(names []string) bool {
	for _, n := range names {
		if !strings.HasPrefix(n, "localhost/") {
			return false
		}
	}
	return true
}

// humanSize is a size as podman shows it (decimal units).
func humanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	for f >= unit && i < 4 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.3g %s", f, []string{"B", "kB", "MB", "GB", "TB"}[i])
}

// pullSource says where a failed pull went and with which credentials, for
// its error: "from registry R with the credentials of Secret S", or, when the
// registry refused the pull and the pod has none for it, that it has none.
func pullSource(ref string, auth *pod.PullAuth, err error) string {
	registry := ""
	if named, perr := reference.ParseNormalizedNamed(ref); perr == nil {
		registry = reference.Domain(named)
	}
	out := "from registry " + registry
	if registry == "" {
		out = "from its registry"
	}
	if r := auth.Registry(ref); r != "" {
		return out + " with the credentials of Secret " + auth.From[r] + " (imagePullSecrets)"
	}
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "unauthorized") || strings.Contains(msg, "authentication required") ||
		strings.Contains(msg, "denied") || strings.Contains(msg, "401") {
		if auth == nil {
			return out + " without credentials (the pod has no imagePullSecrets)"
		}
		return out + " without credentials (no Secret of imagePullSecrets has any for " + registry + ")"
	}
	return out
}

// checkNonRoot is the kubelet's runAsNonRoot check when no runAsUser is given:
// the image's own user must be numeric and not 0.
func (r *Runner) checkNonRoot(ctx context.Context, c units.NonRootCheck) error {
	user, err := r.Engine.ImageUser(ctx, c.Image)
	if err != nil {
		return fmt.Errorf("%s: reading the user of image %q: %w", c.FieldPath, c.Image, err)
	}
	name, _, _ := strings.Cut(user, ":")
	switch {
	case name == "" || name == "root" || name == "0":
		return fmt.Errorf("%s: %w and image %q will run as root (set runAsUser, or use an image with a non-root USER)", c.FieldPath, ErrNonRoot, c.Image)
	default:
		if _, err := strconv.ParseUint(name, 10, 32); err != nil {
			return fmt.Errorf("%s: %w and image %q has a non-numeric user (%s): it cannot be verified as non-root (set runAsUser)", c.FieldPath, ErrNonRoot, c.Image, name)
		}
	}
	return nil
}

func checkHostPath(h units.HostPath) error {
	fi, err := os.Stat(h.Path)
	switch h.Type {
	case "":
		return nil
	case string(corev1.HostPathDirectoryOrCreate):
		if err != nil {
			if err := os.MkdirAll(h.Path, 0o755); err != nil {
				return fmt.Errorf("%s.path: creating %s: %w", h.FieldPath, h.Path, err)
			}
			return nil
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s.path: %s exists and is not a directory", h.FieldPath, h.Path)
		}
		return nil
	case string(corev1.HostPathFileOrCreate):
		if err != nil {
			f, err := os.OpenFile(h.Path, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return fmt.Errorf("%s.path: creating %s: %w", h.FieldPath, h.Path, err)
			}
			return f.Close()
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s.path: %s exists and is not a file", h.FieldPath, h.Path)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s.path: %s must exist (type %s): %w", h.FieldPath, h.Path, h.Type, err)
	}
	want := map[string]func(os.FileMode) bool{
		string(corev1.HostPathDirectory): func(m os.FileMode) bool { return m.IsDir() },
		string(corev1.HostPathFile):      func(m os.FileMode) bool { return m.IsRegular() },
		string(corev1.HostPathSocket):    func(m os.FileMode) bool { return m&os.ModeSocket != 0 },
		string(corev1.HostPathCharDev):   func(m os.FileMode) bool { return m&os.ModeCharDevice != 0 },
		string(corev1.HostPathBlockDev):  func(m os.FileMode) bool { return m&os.ModeDevice != 0 && m&os.ModeCharDevice == 0 },
	}[h.Type]
	if want != nil && !want(fi.Mode()) {
		return fmt.Errorf("%s.path: %s is not of type %s", h.FieldPath, h.Path, h.Type)
	}
	return nil
}

// explainStart turns a failed start job into a message that says what happened.
func (r *Runner) explainStart(ctx context.Context, plan *units.Plan, startErr error) error {
	var details []string
	sts, _ := r.Units.List(ctx, units.Prefix+"-"+units.Escape(plan.Pod)+"*")
	for _, st := range sts {
		if st.ActiveState == "failed" || (st.Result != "" && st.Result != "success") {
			d := fmt.Sprintf("%s: %s (result %s", st.Name, st.ActiveState, st.Result)
			if st.ExecMainStatus != 0 {
				d += fmt.Sprintf(", exit status %d", st.ExecMainStatus)
			}
			d += ")"
			details = append(details, d)
		}
	}
	msg := startErr.Error()
	if len(details) > 0 {
		msg += "\n" + strings.Join(details, "\n")
	}
	if log := unitLogTail(plan.Units()); log != "" {
		msg += "\n" + log
	}
	return fmt.Errorf("starting pod %q failed: %s", plan.Pod, msg)
}

// unitLogTail returns the last lines units wrote, when they write to files
// (a pod's, on hosts without journald; the service proxy's, always).
func unitLogTail(us []units.Unit) string {
	var out []string
	for _, u := range us {
		p := u.Property("StandardError")
		if p == nil {
			continue
		}
		path := p.Value.(units.AppendFile)
		data, err := os.ReadFile(string(path))
		if err != nil || len(data) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) > 5 {
			lines = lines[len(lines)-5:]
		}
		for _, l := range lines {
			out = append(out, u.Name+": "+l)
		}
	}
	return strings.Join(out, "\n")
}

// DownOptions tune Down.
type DownOptions struct {
	Grace *time.Duration // overrides terminationGracePeriodSeconds
	// WithInfra runs while the pod's infra stops, once its containers
	// have: what has to wait for them but not for the pod's sandbox
	// (StopProxyUnused). Down returns after it did.
	WithInfra func(ctx context.Context)
}

// Down stops a pod gracefully and removes all it left: units, containers, volumes
// and the state record. Stopping a pod that is only partly there is fine.
func (r *Runner) Down(ctx context.Context, name string, o DownOptions) error {
	unlock, err := r.lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	st, _ := r.loadState(name)
	exists, err := r.exists(ctx, name)
	if err != nil {
		return err
	}
	if !exists && st == nil {
		// No units and no record: the containers an earlier run left (the
		// user manager stopped, the host went down) are all there can be.
		cs, err := r.Engine.Containers(ctx, units.LabelPod, name)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			return fmt.Errorf("%w: %q", ErrNotFound, name)
		}
	}
	return r.teardown(ctx, name, o.Grace, o.WithInfra)
}

func (r *Runner) teardown(ctx context.Context, name string, grace *time.Duration, withInfra func(context.Context)) error {
	var errs []error
	sts, err := r.Units.Loaded(ctx, units.Prefix+"-"+units.Escape(name)+"*")
	if err != nil {
		return err
	}
	var containers []string
	infra, slice := units.InfraUnitName(name), units.SliceName(name)
	for _, s := range sts {
		if p, c, ok := units.ParseUnitName(s.Name); ok && p == name && c != "" {
			containers = append(containers, s.Name)
		}
	}
	sort.Strings(containers)
	// The stop request tells the containers' stop helpers that the pod is
	// being deleted (their preStop hears "Delete") and with which grace period.
	// The units' stop timeout was fixed when they were created (systemd cannot
	// change it later), so a longer grace period than the pod's own is capped.
	if rec, err := r.loadState(name); err == nil {
		own := time.Duration(*rec.Pod.Spec.TerminationGracePeriodSeconds) * time.Second
		g := own
		if grace != nil {
			g = *grace
			if g > own {
				r.logf("warning: pod %q: --grace-period %s capped at the pod's terminationGracePeriodSeconds (%s)", name, g, own)
				g = own
			}
		}
		if err := r.writeStopRequest(name, g); err != nil {
			errs = append(errs, err)
		}
	}
	// Containers stop in parallel, then the infra, then the slice.
	// The deadline unit goes with the infra (a failed one is cleared).
	infraStage := []string{infra}
	for _, s := range sts {
		if s.Name == units.DeadlineUnitName(name) {
			infraStage = append(infraStage, s.Name)
		}
	}
	var along sync.WaitGroup
	defer along.Wait()
	for i, stage := range [][]string{containers, infraStage, {slice}} {
		if i == 1 && withInfra != nil {
			along.Add(1)
			go func() {
				defer along.Done()
				withInfra(ctx)
			}()
		}
		if err := r.Units.Stop(ctx, stage); err != nil {
			errs = append(errs, err)
		}
	}
	// Whatever systemd could not clean (a unit killed hard) goes now. A podman
	// service that stopped answering must not hang down forever.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// A second round catches a container that a unit's podman run, cut
	// short by the stop, created meanwhile.
	if rerrs := r.removeContainers(ctx, name); len(rerrs) > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
		errs = append(errs, r.removeContainers(ctx, name)...)
	}
	vols, err := r.Engine.Volumes(ctx, units.LabelPod, name)
	if err != nil {
		errs = append(errs, err)
	}
	for _, v := range vols {
		if err := r.Engine.RemoveVolume(ctx, v); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(r.podDir(name)); err != nil {
		errs = append(errs, err)
	}
	if r.Logs != "" {
		if err := os.RemoveAll(filepath.Join(r.Logs, name)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeContainers removes the podman containers of a pod (its label), the
// infra last: podman refuses to remove it while a container that joined its
// namespaces exists.
func (r *Runner) removeContainers(ctx context.Context, name string) []error {
	cs, err := r.Engine.Containers(ctx, units.LabelPod, name)
	if err != nil {
		return []error{err}
	}
	infraName := units.InfraContainerName(name)
	sort.SliceStable(cs, func(i, j int) bool { return cs[j] == infraName && cs[i] != infraName })
	var errs []error
	for _, c := range cs {
		if err := r.Engine.RemoveContainer(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// writeFiles fills the pod's configMap, secret, downwardAPI and projected
// volumes: files with their modes, laid out as the kubelet's atomic writer
// does (WriteVolume), in directories under the pod's state directory (0700),
// which go with the pod.
func (r *Runner) writeFiles(plan *units.Plan) error {
	byDir := map[string][]units.File{}
	for _, f := range plan.Files {
		byDir[f.Dir] = append(byDir[f.Dir], f)
	}
	for _, d := range plan.FileVolumes {
		if _, err := WriteVolume(d, byDir[d], time.Now()); err != nil {
			return err
		}
	}
	return nil
}

// ensureClaim makes the podman volume of a PersistentVolumeClaim exist: it is
// created on first use and kept afterwards. A volume of that name that podunit
// did not create is never taken over.
func (r *Runner) ensureClaim(ctx context.Context, c units.Claim) error {
	if ok, err := r.claimExists(ctx, c); ok || err != nil {
		return err
	}
	if err := r.Engine.CreateVolume(ctx, c.Name, c.Labels, c.Options); err != nil {
		// Pods sharing a claim start side by side (a Deployment's
		// replicas): another may have just made it.
		if ok, cerr := r.claimExists(ctx, c); ok && cerr == nil {
			return nil
		}
		return fmt.Errorf("%s: creating volume %s: %w", c.FieldPath, c.Name, err)
	}
	return nil
}

// claimExists tells whether the claim's podman volume exists; one of that name
// podunit did not create for the claim is a conflict.
func (r *Runner) claimExists(ctx context.Context, c units.Claim) (bool, error) {
	labels, ok, err := r.Engine.VolumeLabels(ctx, c.Name)
	if err != nil {
		return false, fmt.Errorf("%s: checking volume %s: %w", c.FieldPath, c.Name, err)
	}
	if ok && labels[units.LabelClaim] != c.Labels[units.LabelClaim] {
		return true, fmt.Errorf("%w: %s: podman volume %s exists and was not created by podunit for claim %s/%s; rename or remove it",
			ErrConflict, c.FieldPath, c.Name, c.Namespace, c.Claim)
	}
	return ok, nil
}

// RemoveClaims removes the podman volumes of claims, those podunit created.
func (r *Runner) RemoveClaims(ctx context.Context, claims []units.Claim) error {
	if err := r.ClaimsUnused(claims); err != nil {
		return err
	}
	var errs []error
	for _, c := range claims {
		names, err := r.Engine.Volumes(ctx, units.LabelClaim, c.Namespace+"/"+c.Claim)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, n := range names {
			// never a container with it: not even one outside podunit
			if err := r.Engine.RemoveUnusedVolume(ctx, n); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// ClaimsUnused fails when a pod podunit runs uses one of the claims, as
// Kubernetes' claim protection keeps a claim a pod uses: its data goes only
// once no pod uses it.
func (r *Runner) ClaimsUnused(claims []units.Claim) error {
	recs, err := r.records()
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range claims {
		if users := claimUsers(recs, c.Namespace, c.Claim); len(users) > 0 {
			errs = append(errs, fmt.Errorf("%w: persistentvolumeclaim %s/%s is in use by pod %s: nothing removed (take the pod down first)",
				ErrConflict, c.Namespace, c.Claim, strings.Join(users, ", ")))
		}
	}
	return errors.Join(errs...)
}

// claimUsers are the pods podunit has a record of whose volumes name the
// claim.
func claimUsers(recs []*record, ns, claim string) []string {
	var users []string
	for _, rec := range recs {
		if rec.Pod.Namespace == ns && pod.UsesClaim(rec.Pod, claim) {
			users = append(users, rec.Pod.Name)
		}
	}
	return users
}

// exists tells whether any service of the pod is loaded: running, failed, or kept
// after its container exited.
// exists tells whether the pod is there: its units, or, for a pod that
// completed and let its infra go, the record of that.
func (r *Runner) exists(ctx context.Context, name string) (bool, error) {
	if _, ok := podstate.LoadCompletion(r.StateDir, name); ok {
		return true, nil
	}
	sts, err := r.Units.Loaded(ctx, units.InfraUnitName(name), units.Prefix+"-"+units.Escape(name)+"-*.service")
	if err != nil {
		return false, err
	}
	for _, s := range sts {
		if s.LoadState == "loaded" {
			return true, nil
		}
	}
	return false, nil
}

func (r *Runner) podDir(name string) string { return podstate.PodDir(r.StateDir, name) }

func (r *Runner) logf(format string, a ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format+"\n", a...)
	}
}
