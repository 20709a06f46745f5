package sdbus

import (
	"errors"
	"testing"
	"time"

	"github.com/podunit/podunit/units/unitdef"
)

// The boolean of systemd's (sasb) exec tuples means "ignore failure": a command
// without the "-" prefix must send false, or systemd ignores its failure.
func TestExecIgnoreFailureFlag(t *testing.T) {
	u := unitdef.Unit{Name: "x.service", Properties: []unitdef.Property{
		{Name: "ExecStart", Value: []unitdef.Exec{{Argv: []string{"/bin/echo", "$HOME"}}}},
		{Name: "ExecStopPost", Value: []unitdef.Exec{{Argv: []string{"/bin/true"}, IgnoreFailure: true}}},
		{Name: "TimeoutStopSec", Value: 45 * time.Second},
		{Name: "TimeoutStartSec", Value: unitdef.Infinity},
	}}
	props := Properties(u)
	start := props[0].Value.Value().([]execCommand)[0]
	if start.IgnoreFailure || start.Path != "/bin/echo" || start.Args[1] != "$$HOME" {
		t.Errorf("ExecStart sent as %+v", start)
	}
	if post := props[1].Value.Value().([]execCommand)[0]; !post.IgnoreFailure {
		t.Errorf("ExecStopPost with '-' sent as %+v", post)
	}
	if props[2].Name != "TimeoutStopUSec" || props[2].Value.Value().(uint64) != 45_000_000 {
		t.Errorf("TimeoutStopSec sent as %s=%v", props[2].Name, props[2].Value)
	}
	if props[3].Value.Value().(uint64) != ^uint64(0) {
		t.Errorf("infinity sent as %v", props[3].Value)
	}
	if sig := props[0].Value.Signature().String(); sig != "a(sasb)" {
		t.Errorf("exec signature %s", sig)
	}
}

// A unit that failed only because the one it needs did is reported by that
// one's failure; alone, it is reported itself.
func TestStartErrors(t *testing.T) {
	infra := &JobError{Unit: "podunit-web.service", Op: "start", Result: "failed"}
	app := &JobError{Unit: "podunit-web-a.service", Op: "start", Result: "dependency"}
	got := errors.Join(startErrors([]error{infra}, []error{app})...)
	if got == nil || got.Error() != "start podunit-web.service: job failed" {
		t.Errorf("infra failed, its container with it: %v", got)
	}
	got = errors.Join(startErrors(nil, []error{app})...)
	if got == nil || got.Error() != "start podunit-web-a.service: job dependency" {
		t.Errorf("only a dependency failed: %v", got)
	}
	if got := errors.Join(startErrors(nil, nil)...); got != nil {
		t.Errorf("nothing failed: %v", got)
	}
}
