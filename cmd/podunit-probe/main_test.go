package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The prober lives as long as its pod: its binary carries none of the
// packages whose code and start-up made podunit's own prober hold 24 MiB.
func TestProberStaysSmall(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	heavy := []string{"k8s.io/", "sigs.k8s.io/", "google.golang.org/", "github.com/containers/", "github.com/urfave/",
		"github.com/godbus/", "github.com/coreos/", "github.com/vishvananda/"}
	own := map[string]bool{"pod": true, "helper": true, "units": true, "engine": true, "cluster": true}
	for _, dep := range strings.Fields(string(out)) {
		for _, h := range heavy {
			if strings.HasPrefix(dep, h) {
				t.Errorf("podunit-probe depends on %s", dep)
			}
		}
		if own[strings.TrimPrefix(dep, "github.com/podunit/podunit/")] {
			t.Errorf("podunit-probe depends on %s", dep)
		}
	}
}

// Only the prober's own command line is accepted.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"internal", "probe", "--pod", "web"}, {"internal", "stop", "--pod", "web", "--container", "app", "--in-netns"}, {"internal", "nope"}} {
		if _, err := checkArgs(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	if _, err := checkArgs([]string{"internal", "probe", "--pod", "web", "--in-netns"}); err != nil {
		t.Errorf("the prober's command line: %v", err)
	}
}
