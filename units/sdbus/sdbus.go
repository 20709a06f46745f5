// Package sdbus applies podunit's unit plans to the user's systemd manager over
// D-Bus (go-systemd) and reads their state back.
package sdbus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"

	"github.com/podunit/podunit/units/unitdef"
)

// Manager talks to one systemd manager: the user's.
type Manager struct {
	conn *sd.Conn
}

// ErrNoManager says there is no user manager to talk to.
var ErrNoManager = errors.New("no systemd user manager")

// Connect opens a private connection to the user's bus, falling back to the
// manager's own socket, and subscribes so that job results are delivered.
func Connect(ctx context.Context) (*Manager, error) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
			if _, err := os.Stat(filepath.Join(rt, "bus")); err == nil {
				os.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(rt, "bus"))
			}
		}
	}
	conn, err := sd.NewUserConnectionContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v (is `systemctl --user` working for this user?)", ErrNoManager, err)
	}
	if err := conn.Subscribe(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("subscribing to systemd job signals: %w", err)
	}
	return &Manager{conn: conn}, nil
}

// Close ends the connection.
func (m *Manager) Close() { m.conn.Close() }

// Version is the manager's systemd version ("252.38-1~deb12u1").
func (m *Manager) Version(ctx context.Context) (string, error) {
	v, err := m.conn.GetManagerProperty("Version")
	if err != nil {
		return "", err
	}
	return strings.Trim(v, `"`), nil
}

// ControlGroup is the manager's own cgroup ("/user.slice/.../user@UID.service"),
// under which every unit of it lives.
func (m *Manager) ControlGroup(ctx context.Context) (string, error) {
	v, err := m.conn.GetManagerProperty("ControlGroup")
	if err != nil {
		return "", err
	}
	return strings.Trim(v, `"`), nil
}

// JobError is a start or stop job that did not end in "done".
type JobError struct {
	Unit, Op, Result string
}

func (e *JobError) Error() string {
	return fmt.Sprintf("%s %s: job %s", e.Op, e.Unit, e.Result)
}

// Start creates and starts transient units and waits until every job has ended.
// Units in one call start in parallel; call Start again for the next stage.
func (m *Manager) Start(ctx context.Context, us []unitdef.Unit) error {
	return m.start(ctx, us, false)
}

// StartKept is Start for units whose properties never change: one that
// systemd keeps loaded though stopped (other loaded units refer to it, by
// After= for instance) is started as it is.
func (m *Manager) StartKept(ctx context.Context, us []unitdef.Unit) error {
	return m.start(ctx, us, true)
}

func (m *Manager) start(ctx context.Context, us []unitdef.Unit, kept bool) error {
	type pending struct {
		unit string
		ch   chan string
	}
	var waits []pending
	var errs []error
	for _, u := range us {
		// A failed unit of the same name would block re-creating it.
		_ = m.conn.ResetFailedUnitContext(ctx, u.Name)
		for _, x := range u.Aux {
			_ = m.conn.ResetFailedUnitContext(ctx, x.Name)
		}
		ch := make(chan string, 1)
		aux := []sd.PropertyCollection{}
		for _, x := range u.Aux {
			aux = append(aux, sd.PropertyCollection{Name: x.Name, Properties: Properties(x)})
		}
		_, err := m.conn.StartTransientUnitAux(ctx, u.Name, "fail", Properties(u), aux, ch)
		var de godbus.Error
		if err != nil && kept && errors.As(err, &de) && strings.HasSuffix(de.Name, "UnitExists") {
			_, err = m.conn.StartUnitContext(ctx, u.Name, "replace", ch)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("start %s: %w", u.Name, err))
			continue
		}
		waits = append(waits, pending{u.Name, ch})
	}
	var dependents []error
	for _, w := range waits {
		select {
		case r := <-w.ch:
			switch r {
			case "done":
			case "dependency":
				dependents = append(dependents, &JobError{Unit: w.unit, Op: "start", Result: r})
			default:
				errs = append(errs, &JobError{Unit: w.unit, Op: "start", Result: r})
			}
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("start %s: %w", w.unit, ctx.Err()))
		}
	}
	return errors.Join(startErrors(errs, dependents)...)
}

// startErrors is what a start reports: the units' own failures; the units
// that failed only because one they need did (job result "dependency") are
// named when nothing else failed, else that failure says it all.
func startErrors(own, dependents []error) []error {
	if len(own) > 0 {
		return own
	}
	return dependents
}

// Stop stops units in parallel, waits for them, and clears a failed state so the
// names can be used again. Units that are not loaded are skipped.
func (m *Manager) Stop(ctx context.Context, names []string) error {
	type pending struct {
		unit string
		ch   chan string
	}
	var waits []pending
	var errs []error
	for _, n := range names {
		ch := make(chan string, 1)
		if _, err := m.conn.StopUnitContext(ctx, n, "replace", ch); err != nil {
			var de godbus.Error
			if errors.As(err, &de) && strings.HasSuffix(de.Name, "NoSuchUnit") {
				continue
			}
			errs = append(errs, fmt.Errorf("stop %s: %w", n, err))
			continue
		}
		waits = append(waits, pending{n, ch})
	}
	for _, w := range waits {
		select {
		case r := <-w.ch:
			if r != "done" && r != "skipped" {
				errs = append(errs, &JobError{Unit: w.unit, Op: "stop", Result: r})
			}
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("stop %s: %w", w.unit, ctx.Err()))
		}
	}
	for _, n := range names {
		_ = m.conn.ResetFailedUnitContext(ctx, n)
	}
	return errors.Join(errs...)
}

// StartUnit starts an installed unit (such as podman.socket) and waits for it.
func (m *Manager) StartUnit(ctx context.Context, name string) error {
	return m.job(ctx, name, "start", m.conn.StartUnitContext)
}

// RestartUnit restarts a unit (its stop, then its start) and waits for it.
func (m *Manager) RestartUnit(ctx context.Context, name string) error {
	return m.job(ctx, name, "restart", m.conn.RestartUnitContext)
}

// job runs one systemd job on a unit and waits for its result.
func (m *Manager) job(ctx context.Context, name, op string, do func(context.Context, string, string, chan<- string) (int, error)) error {
	ch := make(chan string, 1)
	if _, err := do(ctx, name, "replace", ch); err != nil {
		return fmt.Errorf("%s %s: %w", op, name, err)
	}
	select {
	case r := <-ch:
		if r != "done" {
			return &JobError{Unit: name, Op: op, Result: r}
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Enable enables installed unit files (systemctl --user enable) and reloads
// the manager so it sees them.
func (m *Manager) Enable(ctx context.Context, names []string) error {
	if err := m.conn.ReloadContext(ctx); err != nil {
		return fmt.Errorf("daemon-reload: %w", err)
	}
	if _, _, err := m.conn.EnableUnitFilesContext(ctx, names, false, false); err != nil {
		return fmt.Errorf("enable %s: %w", strings.Join(names, " "), err)
	}
	return m.conn.ReloadContext(ctx)
}

// Disable disables unit files (systemctl --user disable).
func (m *Manager) Disable(ctx context.Context, names []string) error {
	if _, err := m.conn.DisableUnitFilesContext(ctx, names, false); err != nil {
		return fmt.Errorf("disable %s: %w", strings.Join(names, " "), err)
	}
	return m.conn.ReloadContext(ctx)
}

// SetLimits changes resource properties of a unit for as long as it is loaded
// (systemctl set-property --runtime).
func (m *Manager) SetLimits(ctx context.Context, unit string, limits []unitdef.Property) error {
	props := Properties(unitdef.Unit{Name: unit, Properties: limits})
	return m.conn.SetUnitPropertiesContext(ctx, unit, true, props...)
}

// StopUnits queues stop jobs for the units and returns without waiting for
// them (systemd orders them by the units' dependencies).
func (m *Manager) StopUnits(ctx context.Context, names []string) error {
	for _, n := range names {
		if _, err := m.conn.StopUnitContext(ctx, n, "replace", nil); err != nil {
			var de godbus.Error
			if errors.As(err, &de) && strings.HasSuffix(de.Name, "NoSuchUnit") {
				continue // gone already
			}
			return fmt.Errorf("stop %s: %w", n, err)
		}
	}
	return nil
}

// StartTransient queues the start of a transient unit without waiting for
// it; one of that name already there is left as it is.
func (m *Manager) StartTransient(ctx context.Context, u unitdef.Unit) error {
	_ = m.conn.ResetFailedUnitContext(ctx, u.Name)
	if _, err := m.conn.StartTransientUnitContext(ctx, u.Name, "fail", Properties(u), nil); err != nil {
		var de godbus.Error
		if errors.As(err, &de) && strings.HasSuffix(de.Name, "UnitExists") {
			return nil
		}
		return fmt.Errorf("start %s: %w", u.Name, err)
	}
	return nil
}

// QueueStart queues a unit's start without waiting for it (mode "fail": a job
// queued for it, or for a unit it needs, is not replaced but an error).
func (m *Manager) QueueStart(ctx context.Context, name string) error {
	if _, err := m.conn.StartUnitContext(ctx, name, "fail", nil); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return nil
}

// StopUnlessBusy queues a unit's stop, without waiting for it, unless that
// would cancel a job systemd has queued for it or for a unit its stop
// takes along (a start still going on): then it does nothing and says so.
func (m *Manager) StopUnlessBusy(ctx context.Context, name string) (bool, error) {
	if _, err := m.conn.StopUnitContext(ctx, name, "fail", nil); err != nil {
		var de godbus.Error
		if errors.As(err, &de) && strings.HasSuffix(de.Name, "TransactionIsDestructive") {
			return false, nil
		}
		if errors.As(err, &de) && strings.HasSuffix(de.Name, "NoSuchUnit") {
			return true, nil // gone already
		}
		return false, fmt.Errorf("stop %s: %w", name, err)
	}
	return true, nil
}

// Restarts is how many times systemd restarted a service (NRestarts).
func (m *Manager) Restarts(ctx context.Context, unit string) (int, error) {
	p, err := m.conn.GetServicePropertyContext(ctx, unit, "NRestarts")
	if err != nil {
		return 0, err
	}
	n, _ := p.Value.Value().(uint32)
	return int(n), nil
}

// Stopping tells whether a unit is on its way down: deactivating, already down,
// or active with a job queued (a stop propagated from a dependency).
func (m *Manager) Stopping(ctx context.Context, unit string) (bool, error) {
	p, err := m.conn.GetUnitPropertiesContext(ctx, unit)
	if err != nil {
		return false, err
	}
	switch p["ActiveState"] {
	case "deactivating", "inactive", "failed":
		return true, nil
	}
	if job, ok := p["Job"].([]any); ok && len(job) > 0 {
		if id, ok := job[0].(uint32); ok && id != 0 {
			return true, nil
		}
	}
	return false, nil
}

// UnitState is what podunit reads of a unit.
type UnitState struct {
	Name, LoadState, ActiveState, SubState, Result string
	// Job is the type of the unit's pending or running job ("start",
	// "stop", "restart", ...), empty when it has none: a service that
	// deactivates without one does so because its main process ended.
	Job                                     string
	MainPID                                 uint32
	NRestarts                               uint32
	ExecMainStatus                          int32
	ExecMainCode                            int32
	ActiveEnter, InactiveEnter, StateChange time.Time
}

// List returns the state of every loaded unit matching the glob patterns.
func (m *Manager) List(ctx context.Context, patterns ...string) ([]UnitState, error) {
	sts, err := m.Loaded(ctx, patterns...)
	if err != nil {
		return nil, err
	}
	out := make([]UnitState, 0, len(sts))
	for _, us := range sts {
		if strings.HasSuffix(us.Name, ".service") {
			if p, err := m.conn.GetUnitTypePropertiesContext(ctx, us.Name, "Service"); err == nil {
				us.Result, _ = p["Result"].(string)
				us.MainPID, _ = p["MainPID"].(uint32)
				us.NRestarts, _ = p["NRestarts"].(uint32)
				us.ExecMainStatus, _ = p["ExecMainStatus"].(int32)
				us.ExecMainCode, _ = p["ExecMainCode"].(int32)
			}
		}
		if p, err := m.conn.GetUnitPropertiesContext(ctx, us.Name); err == nil {
			us.ActiveEnter = usecTime(p["ActiveEnterTimestamp"])
			us.InactiveEnter = usecTime(p["InactiveEnterTimestamp"])
			us.StateChange = usecTime(p["StateChangeTimestamp"])
		}
		out = append(out, us)
	}
	return out, nil
}

// Loaded is List with only what systemd lists units with: name, load,
// active and sub state, job. One call, where List asks for each unit's
// properties too (two calls a unit).
func (m *Manager) Loaded(ctx context.Context, patterns ...string) ([]UnitState, error) {
	st, err := m.conn.ListUnitsByPatternsContext(ctx, nil, patterns)
	if err != nil {
		return nil, err
	}
	out := make([]UnitState, 0, len(st))
	for _, s := range st {
		out = append(out, UnitState{Name: s.Name, LoadState: s.LoadState, ActiveState: s.ActiveState, SubState: s.SubState, Job: s.JobType})
	}
	return out, nil
}

func usecTime(v any) time.Time {
	u, ok := v.(uint64)
	if !ok || u == 0 {
		return time.Time{}
	}
	return time.UnixMicro(int64(u))
}

// execCommand is the D-Bus shape of one Exec*= command: (sasb). The boolean is
// systemd's "ignore failure" flag (the "-" prefix), whatever go-systemd's
// PropExecStart calls it.
type execCommand struct {
	Path          string
	Args          []string
	IgnoreFailure bool
}

// Properties converts a unit's typed properties into D-Bus properties.
func Properties(u unitdef.Unit) []sd.Property {
	out := make([]sd.Property, 0, len(u.Properties))
	for _, p := range u.Properties {
		_, name := unitdef.Spec(p.Name)
		var v any
		switch x := p.Value.(type) {
		case string, bool, uint64, []string:
			v = x
		case unitdef.AppendFile:
			v = string(x)
		case unitdef.Calendars:
			cals := make([]calendarSpec, len(x))
			for i, c := range x {
				cals[i] = calendarSpec{Base: "OnCalendar", Spec: c}
			}
			v = cals
		case unitdef.ExitStatusSet:
			codes := make([]int32, len(x))
			for i, c := range x {
				n, err := strconv.Atoi(c)
				if err != nil {
					panic(fmt.Sprintf("sdbus: property %s: exit status %q", p.Name, c))
				}
				codes[i] = int32(n)
			}
			v = struct {
				Codes   []int32
				Signals []int32
			}{codes, []int32{}}
		case time.Duration:
			v = usec(x)
		case []unitdef.Exec:
			cmds := make([]execCommand, len(x))
			for i, e := range x {
				args := make([]string, len(e.Argv))
				for j, a := range e.Argv {
					args[j] = unitdef.EscapeEnvRefs(a)
				}
				cmds[i] = execCommand{Path: e.Argv[0], Args: args, IgnoreFailure: e.IgnoreFailure}
			}
			v = cmds
		default:
			panic(fmt.Sprintf("sdbus: property %s has a value of type %T", p.Name, p.Value))
		}
		out = append(out, sd.Property{Name: name, Value: godbus.MakeVariant(v)})
	}
	return out
}

// calendarSpec is one (ss) of a timer's TimersCalendar, as a transient
// timer takes it: "OnCalendar" and the expression.
type calendarSpec struct {
	Base string
	Spec string
}

func usec(d time.Duration) uint64 {
	if d == unitdef.Infinity {
		return ^uint64(0)
	}
	return uint64(d / time.Microsecond)
}
