package units_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The translation core must stay pure: pod and units import nothing that talks
// to D-Bus, podman or netlink.
func TestCoreImportsNoSideEffects(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/podunit/podunit/pod", "github.com/podunit/podunit/units").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/godbus/", "github.com/coreos/go-systemd", "github.com/containers/", "github.com/vishvananda/"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("pure core depends on %s", dep)
			}
		}
	}
}
