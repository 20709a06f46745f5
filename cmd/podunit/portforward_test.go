package main

import (
	"errors"
	"testing"
)

func TestParseForward(t *testing.T) {
	for s, want := range map[string]forwardSpec{"8080": {8080, 8080}, "18080:80": {18080, 80}, ":80": {0, 80}} {
		if got, err := parseForward(s); err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", s, got, err, want)
		}
	}
	for _, bad := range []string{"0", "65536", "a:80", "80:", ":", "", "1:2:3"} {
		if _, err := parseForward(bad); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
}

func TestSplitPodPath(t *testing.T) {
	for s, want := range map[string][3]string{
		"web:/etc/hosts":    {"", "web", "/etc/hosts"},
		"shop/web:/tmp/x":   {"shop", "web", "/tmp/x"},
		"web:relative/file": {"", "web", "relative/file"},
	} {
		ns, pod, path, ok := splitPodPath(s)
		if !ok || [3]string{ns, pod, path} != want {
			t.Errorf("%s: %q %q %q %v", s, ns, pod, path, ok)
		}
	}
	for _, local := range []string{"/tmp/a:b", "./a:b", "file", "web:", ":x", "a/b/c:/x"} {
		if _, _, _, ok := splitPodPath(local); ok {
			t.Errorf("%s read as POD:PATH", local)
		}
	}
}
