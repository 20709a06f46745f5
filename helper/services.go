package helper

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units/unitdef"
)

// servicesRun is the services unit's ExecStart: the service proxy's
// container, from the command line podunit keeps in its state
// (podstate.SaveServicesRun; the unit holds none), started through
// podunit's podman service, or by becoming podman run.
func (e *Env) servicesRun(ctx context.Context) error {
	argv, err := podstate.LoadServicesRun(e.StateDir)
	if err != nil {
		return err
	}
	pidFile := filepath.Join(e.StateDir, "services", "conmon.pid")
	if done, err := e.Launched(ctx, argv[0], argv[1:], nil, pidFile, nil); done {
		return err
	}
	return e.Exec(argv[0], argv, e.Environ())
}

// servicesStop is the services unit's ExecStop: the services container is
// stopped (its stop signal, SIGKILL after unitdef.InfraGrace) and removed
// by podunit's podman service, as a pod's containers are (task.stopped),
// and conmon's exit command, which would find nothing to do, is ended
// (removeStopped). It is the last stop of the last pod's `down`. A
// container of that name that is not podunit's is never touched (the
// unit's start refused it: servicesClear).
func (e *Env) servicesStop(ctx context.Context) error {
	eng, err := e.Engine(ctx)
	if err != nil {
		return err
	}
	labels, ok, err := eng.ContainerLabels(ctx, unitdef.ServicesContainer)
	if err != nil || !ok || labels[unitdef.LabelRole] != unitdef.RoleServices {
		return err
	}
	if err := eng.StopContainer(ctx, unitdef.ServicesContainer, unitdef.InfraGrace); err != nil {
		return err
	}
	return e.removeStopped(ctx, eng, unitdef.ServicesContainer, e.Getenv("MAINPID"))
}

// servicesClear is the services unit's ExecStartPre and ExecStopPost: a
// services container of podunit's left by an earlier run is removed; one of
// that name that is not podunit's is never touched, and the start fails
// naming it.
func (e *Env) servicesClear(ctx context.Context) error {
	eng, err := e.Engine(ctx)
	if err != nil {
		return err
	}
	labels, ok, err := eng.ContainerLabels(ctx, unitdef.ServicesContainer)
	if err != nil || !ok {
		return err
	}
	if labels[unitdef.LabelRole] != unitdef.RoleServices {
		return &ErrExit{Code: 1, Msg: fmt.Sprintf("podman container %s exists and was not created by podunit; rename or remove it", unitdef.ServicesContainer)}
	}
	return eng.RemoveContainer(ctx, unitdef.ServicesContainer)
}
