package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/podunit/podunit/helper/contract"
)

// The helper starts for every action of a pod's units: it carries neither
// podman's bindings and what they pull in (container images, storage), nor
// Kubernetes' packages (manifests, Services: the service proxy is podunit's),
// nor podunit's command-line framework, whose start-up and pages make
// podunit's start three times as costly.
func TestHelperStaysSmall(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", "remote exclude_graphdriver_btrfs btrfs_noversion exclude_graphdriver_devicemapper containers_image_openpgp", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	heavy := []string{"github.com/containers/", "github.com/urfave/", "github.com/docker/", "google.golang.org/", "k8s.io/", "sigs.k8s.io/"}
	own := map[string]bool{"pod": true, "units": true, "engine": true, "runner": true, "cluster": true, "helper/proxy": true, "podstate/objstore": true}
	for _, dep := range strings.Fields(string(out)) {
		for _, h := range heavy {
			if strings.HasPrefix(dep, h) {
				t.Errorf("podunit-helper depends on %s", dep)
			}
		}
		if own[strings.TrimPrefix(dep, "github.com/podunit/podunit/")] {
			t.Errorf("podunit-helper depends on %s", dep)
		}
	}
}

// Every helper command line contract writes is accepted but the service
// proxy's and the Job and CronJob controllers', which are podunit's.
func TestUsage(t *testing.T) {
	grace := contract.Command{Op: contract.OpStop, Pod: "web", Container: "app", InNetns: true, Reason: "Delete"}
	for _, cmd := range []contract.Command{{Op: contract.OpRun, Pod: "web"}, {Op: contract.OpRun, Pod: "web", Container: "app"},
		{Op: contract.OpPostStart, Pod: "web", Container: "app"}, grace, {Op: contract.OpProbe, Pod: "web"},
		{Op: contract.OpShape, Action: contract.ShapeApply, Pod: "web"},
		{Op: contract.OpServices, Action: contract.ServicesClear}, {Op: contract.OpServices, Action: contract.ServicesRun},
		{Op: contract.OpServices, Action: contract.ServicesStop}} {
		if _, err := checkArgs(cmd.Argv("/x")[1:]); err != nil {
			t.Errorf("%q: %v", cmd.Argv("/x"), err)
		}
	}
	for _, args := range [][]string{{"internal", "services", "serve"}, {"internal", "job", "--job", "default/j"}, {"internal", "cronjob", "--job", "default/c"},
		{"internal", "nope"}, {"run", "--pod", "web"}, nil} {
		if _, err := checkArgs(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}
