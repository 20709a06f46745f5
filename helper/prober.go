package helper

import (
	"context"

	"github.com/podunit/podunit/prober"
)

// probe is the pod's prober unit: it enters the pod's network namespace once
// and, there, becomes the prober (package prober): the small podunit-probe
// binary when it is installed (Env.Prober), else podunit itself. If the
// pod's infra goes away, so does the prober (systemd starts it again with
// the pod).
func (t *task) probe(ctx context.Context) error {
	if !t.cmd.InNetns {
		return t.enterNetns(ctx, t.cmd)
	}
	// One connection to podman for the whole prober: exec probes and kills.
	eng, err := t.engine(ctx)
	if err != nil {
		return err
	}
	return prober.Serve(ctx, t.StateDir, t.rt, eng)
}
