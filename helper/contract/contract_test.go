package contract

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestArgvParseRoundTrip(t *testing.T) {
	g := 7 * time.Second
	for _, c := range []Command{
		{Op: OpRun, Pod: "web"},
		{Op: OpRun, Pod: "web", Container: "app"},
		{Op: OpPostStart, Pod: "my-pod", Container: "side-car"},
		{Op: OpStop, Pod: "p", Container: "c", InNetns: true, Reason: "Health", Grace: &g},
		{Op: OpCleanup, Pod: "p"},
		{Op: OpProbe, Pod: "p", InNetns: true},
		{Op: OpShape, Action: ShapeApply, Pod: "p"},
		{Op: OpShape, Action: ShapeShow, Pod: "p", InNetns: true},
		{Op: OpForward, Action: "8080", Pod: "p", Socket: "/run/user/1000/podunit/forward/1.sock"},
		{Op: OpForward, Action: "1", Pod: "p", Socket: "/s", InNetns: true},
		{Op: OpServices, Action: ServicesClear},
		{Op: OpServices, Action: ServicesStop},
		{Op: OpServices, Action: ServicesServe, InNetns: true},
		{Op: OpJob, Job: "default/my-job"},
	} {
		argv := c.Argv("/usr/bin/podunit")
		if argv[0] != "/usr/bin/podunit" || argv[1] != "internal" {
			t.Errorf("%+v: argv %q", c, argv)
		}
		got, err := Parse(argv[2:])
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("round trip of %q: %+v, %v", argv, got, err)
		}
	}
}

// What the units write carries only names: nothing a user wrote beyond the
// pod's and the container's names (DNS labels).
func TestArgvHoldsOnlyNames(t *testing.T) {
	argv := Command{Op: OpRun, Pod: "web", Container: "app"}.Argv("/usr/bin/podunit")
	if got := strings.Join(argv, " "); got != "/usr/bin/podunit internal run --pod web --container app" {
		t.Errorf("argv: %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"nope", "--pod", "p"},
		{"run"},
		{"run", "--pod"},
		{"run", "--pod", ""},
		{"run", "--pod", "p", "--extra"},
		{"stop", "--pod", "p", "--reason", "Bored"},
		{"stop", "--pod", "p", "--grace", "soon"},
		{"stop", "--pod", "p", "--grace", "-1s"},
		{"shape", "--pod", "p"},
		{"shape", "wobble", "--pod", "p"},
		{"forward", "--pod", "p", "--socket", "/s"},
		{"forward", "0", "--pod", "p", "--socket", "/s"},
		{"forward", "65536", "--pod", "p", "--socket", "/s"},
		{"forward", "80", "--pod", "p"},
		{"run", "--pod", "p", "--socket", "/s"},
		{"services"},
		{"services", "restart"},
		{"services", "clear", "--pod", "p"},
		{"job"},
		{"job", "--job", "nonamespace"},
		{"job", "--job", "a/b/c"},
		{"job", "--job", "/b"},
		{"job", "--job", "a/b", "--pod", "p"},
		{"run", "--pod", "p", "--job", "a/b"},
	} {
		if _, err := Parse(args); !errors.Is(err, ErrUsage) {
			t.Errorf("Parse(%q) = %v, want ErrUsage", args, err)
		}
	}
}

func TestRuntimeFind(t *testing.T) {
	rt := &Runtime{Pod: "p", InfraSpec: Container{Podman: "p-infra", Kind: KindInfra},
		Containers: []Container{{Name: "a"}, {Name: "b", Probes: nil}}}
	if c, err := rt.Find(""); err != nil || c.Podman != "p-infra" {
		t.Errorf("infra: %+v %v", c, err)
	}
	if c, err := rt.Find("b"); err != nil || c.Name != "b" {
		t.Errorf("b: %+v %v", c, err)
	}
	if _, err := rt.Find("z"); err == nil {
		t.Error("found a container that is not there")
	}
}

// Restarts mirrors systemd's decision for the unit's Restart= and the exit
// codes restartPolicyRules turned the other way.
func TestContainerRestarts(t *testing.T) {
	for _, c := range []struct {
		restart string
		except  []int
		result  string
		code    int
		want    bool
	}{
		{"always", nil, "success", 0, true},
		{"always", []int{42}, "exit-code", 42, false},
		{"always", []int{42}, "exit-code", 1, true},
		{"on-failure", nil, "success", 0, false},
		{"on-failure", nil, "exit-code", 1, true},
		{"on-failure", nil, "signal", 0, true},
		{"no", nil, "exit-code", 1, false},
		{"no", []int{3}, "exit-code", 3, true},
		{"no", []int{3}, "success", 0, false},
		{"", nil, "success", 0, true},
	} {
		ct := Container{Restart: c.restart, RestartExceptions: c.except}
		if got := ct.Restarts(c.result, c.code); got != c.want {
			t.Errorf("Restart=%s except %v, %s %d: %v, want %v", c.restart, c.except, c.result, c.code, got, c.want)
		}
	}
}
