package helper

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units/unitdef"
)

// The services unit's ExecStart becomes podman with the command line kept
// in podunit's state (the unit itself holds none), in the manager's
// environment; without it the start fails, naming what is missing. It needs
// no proxy: podunit-helper, which does not link one, runs it.
func TestServicesRunExecsTheKeptCommandLine(t *testing.T) {
	w := newWorld(t, &contract.Runtime{Pod: "p"})
	cmd := contract.Command{Op: contract.OpServices, Action: contract.ServicesRun}
	if err := w.env.Main(context.Background(), cmd); err == nil || !strings.Contains(err.Error(), "the service proxy's command line") {
		t.Fatalf("without a kept command line: %v", err)
	}
	argv := []string{"/usr/bin/podman", "run", "--name", "podunit__services", "--publish", "30080:30080", "img"}
	if err := podstate.SaveServicesRun(w.env.StateDir, argv); err != nil {
		t.Fatal(err)
	}
	if err := w.env.Main(context.Background(), cmd); !errors.Is(err, errExecd) {
		t.Fatalf("run: %v", err)
	}
	if len(w.execd) != 1 || !slices.Equal(w.execd[0], argv) || !slices.Contains(w.execEn[0], "NOTIFY_SOCKET=/run/n") {
		t.Errorf("exec'd %q with %q", w.execd, w.execEn)
	}
	// Serving is the proxy's: where it is not linked, the command says so.
	var ee *ErrExit
	if err := w.env.Main(context.Background(), contract.Command{Op: contract.OpServices, Action: contract.ServicesServe}); !errors.As(err, &ee) || ee.Code != 2 {
		t.Errorf("serve without the proxy: %v", err)
	}
}

// Clearing removes a services container of podunit's, never one of that
// name it did not create, and is done when there is none.
func TestServicesClear(t *testing.T) {
	w := newWorld(t, &contract.Runtime{Pod: "p"})
	clear := contract.Command{Op: contract.OpServices, Action: contract.ServicesClear}
	if err := w.env.Main(context.Background(), clear); err != nil || len(w.eng.removed) != 0 {
		t.Fatalf("with no container: %v, removed %q", err, w.eng.removed)
	}
	w.eng.containers = map[string]map[string]string{unitdef.ServicesContainer: {unitdef.LabelRole: "web"}}
	var ee *ErrExit
	if err := w.env.Main(context.Background(), clear); !errors.As(err, &ee) || ee.Code != 1 || !strings.Contains(ee.Msg, "not created by podunit") {
		t.Errorf("a container of the name that is not podunit's: %v", err)
	}
	if len(w.eng.removed) != 0 {
		t.Errorf("removed %q, not podunit's", w.eng.removed)
	}
	w.eng.containers[unitdef.ServicesContainer] = map[string]string{unitdef.LabelRole: unitdef.RoleServices}
	if err := w.env.Main(context.Background(), clear); err != nil || !slices.Equal(w.eng.removed, []string{unitdef.ServicesContainer}) {
		t.Errorf("podunit's own: %v, removed %q", err, w.eng.removed)
	}
}

// The services unit's ExecStop stops podunit's services container, with the
// infra's stop timeout, and removes it; nothing else of that name is
// touched, and with none there is nothing to do.
func TestServicesStop(t *testing.T) {
	w := newWorld(t, &contract.Runtime{Pod: "p"})
	stop := contract.Command{Op: contract.OpServices, Action: contract.ServicesStop}
	if err := w.env.Main(context.Background(), stop); err != nil || len(w.eng.stops)+len(w.eng.removed) != 0 {
		t.Fatalf("with no container: %v, stopped %v, removed %q", err, w.eng.stops, w.eng.removed)
	}
	w.eng.containers = map[string]map[string]string{unitdef.ServicesContainer: {unitdef.LabelRole: "web"}}
	if err := w.env.Main(context.Background(), stop); err != nil || len(w.eng.stops)+len(w.eng.removed) != 0 {
		t.Errorf("not podunit's: %v, stopped %v, removed %q", err, w.eng.stops, w.eng.removed)
	}
	w.eng.containers[unitdef.ServicesContainer] = map[string]string{unitdef.LabelRole: unitdef.RoleServices}
	if err := w.env.Main(context.Background(), stop); err != nil {
		t.Fatal(err)
	}
	if len(w.eng.stops) != 1 || w.eng.stops[0].container != unitdef.ServicesContainer || w.eng.stops[0].timeout != unitdef.InfraGrace {
		t.Errorf("stops %+v", w.eng.stops)
	}
	if !slices.Equal(w.eng.removed, []string{unitdef.ServicesContainer}) {
		t.Errorf("removed %q", w.eng.removed)
	}
	// a stop that failed removes nothing
	w = newWorld(t, &contract.Runtime{Pod: "p"})
	w.eng.containers = map[string]map[string]string{unitdef.ServicesContainer: {unitdef.LabelRole: unitdef.RoleServices}}
	w.eng.stopErr = errors.New("podman: no answer")
	if err := w.env.Main(context.Background(), stop); err == nil || len(w.eng.removed) != 0 {
		t.Errorf("failed stop: %v, removed %q", err, w.eng.removed)
	}
}
