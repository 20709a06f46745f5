package main

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// set image: CONTAINER=IMAGE pairs, * for every container (init ones too),
// an unknown container refused as kubectl refuses it; whether anything
// changed.
func TestSetImages(t *testing.T) {
	for _, bad := range [][]string{{"web"}, {"=img"}, {"web="}, {"web= img"}, {"web=a", "web=b"}} {
		if _, err := parseImages(bad); !errors.Is(err, errUsage) {
			t.Errorf("parseImages(%q): %v, want a usage error", bad, err)
		}
	}
	spec := func() *corev1.PodSpec {
		return &corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init", Image: "tools:1"}},
			Containers:     []corev1.Container{{Name: "web", Image: "web:1"}, {Name: "log", Image: "log:1"}},
		}
	}
	images, err := parseImages([]string{"web=web:2", "init=tools:2"})
	if err != nil {
		t.Fatal(err)
	}
	s := spec()
	if changed, err := setImages(s, images); err != nil || !changed || s.Containers[0].Image != "web:2" || s.InitContainers[0].Image != "tools:2" || s.Containers[1].Image != "log:1" {
		t.Errorf("web and init: %v %v %+v", changed, err, s)
	}
	if changed, err := setImages(s, images); err != nil || changed {
		t.Errorf("the same images again: changed %v, %v", changed, err)
	}
	all, _ := parseImages([]string{"*=busybox:1"})
	s = spec()
	if changed, err := setImages(s, all); err != nil || !changed || s.InitContainers[0].Image != "busybox:1" || s.Containers[0].Image != "busybox:1" || s.Containers[1].Image != "busybox:1" {
		t.Errorf("*: %v %v %+v", changed, err, s)
	}
	nope, _ := parseImages([]string{"nope=x:1"})
	if _, err := setImages(spec(), nope); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), `unable to find container named "nope"`) {
		t.Errorf("an unknown container: %v", err)
	}
}

// set env: KEY=VALUE replaces a variable of that name (a valueFrom too) or
// goes last, KEY- removes; -c picks a container; --list prints where each
// value comes from, never a Secret's value.
func TestSetEnv(t *testing.T) {
	for _, bad := range [][]string{nil, {"KEY"}, {"-"}, {"=v"}, {"1BAD=x"}, {"A B=x"}} {
		if _, _, err := parseEnvArgs(bad); !errors.Is(err, errUsage) {
			t.Errorf("parseEnvArgs(%q): %v, want a usage error", bad, err)
		}
	}
	set, remove, err := parseEnvArgs([]string{"MODE=prod", "EMPTY=", "OLD-", "MODE=staging"})
	if err != nil || len(set) != 2 || set[1] != (corev1.EnvVar{Name: "MODE", Value: "staging"}) || set[0].Name != "EMPTY" || len(remove) != 1 || remove[0] != "OLD" {
		t.Fatalf("parseEnvArgs: %v %v %v", set, remove, err)
	}
	spec := func() *corev1.PodSpec {
		return &corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init"}},
			Containers: []corev1.Container{
				{Name: "web", Env: []corev1.EnvVar{{Name: "OLD", Value: "1"}, {Name: "MODE", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "mode"}}}}},
				{Name: "log"},
			},
		}
	}
	s := spec()
	if changed, err := setEnv(s, "web", set, remove); err != nil || !changed {
		t.Fatalf("setEnv web: %v %v", changed, err)
	}
	if got := s.Containers[0].Env; len(got) != 2 || got[0] != (corev1.EnvVar{Name: "MODE", Value: "staging"}) || got[1] != (corev1.EnvVar{Name: "EMPTY"}) {
		t.Errorf("web's env: %+v", got)
	}
	if len(s.Containers[1].Env)+len(s.InitContainers[0].Env) != 0 {
		t.Errorf("other containers changed: %+v", s)
	}
	if changed, _ := setEnv(s, "web", set, remove); changed {
		t.Error("the same env again changed something")
	}
	s = spec()
	if changed, err := setEnv(s, "*", set[:1], nil); err != nil || !changed || len(s.InitContainers[0].Env) != 1 || len(s.Containers[1].Env) != 1 || len(s.Containers[0].Env) != 3 {
		t.Errorf("*: %v %v %+v", changed, err, s)
	}
	if _, err := setEnv(spec(), "nope", set, nil); !errors.Is(err, errUsage) {
		t.Errorf("an unknown container: %v", err)
	}
	var b strings.Builder
	if err := listEnv(&b, spec(), "web"); err != nil {
		t.Fatal(err)
	}
	if want := "# container web\nOLD=1\n# MODE from secret s, key mode\n"; b.String() != want {
		t.Errorf("listEnv:\n%s\nwant:\n%s", b.String(), want)
	}
}
