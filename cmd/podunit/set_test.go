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
