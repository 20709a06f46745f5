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
