package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The oldest podman and systemd podunit is tested on (Debian 12): older ones
// lack what the units rely on (podman's --sdnotify=conmon with --cgroups=split,
// systemd's handling of transient units it re-reads).
const (
	minPodman  = "4.3.0"
	minSystemd = 252
)

// versioner is what tells the platform's versions.
type versioner interface {
	Version(ctx context.Context) (string, error)
}

// warnPlatform says, once per `up`, when podman or systemd is older than
// podunit supports. It never fails the command: the pod may well work.
func warnPlatform(ctx context.Context, w io.Writer, podman, systemd versioner) {
	pv, perr := podman.Version(ctx)
	sv, serr := systemd.Version(ctx)
	for _, msg := range platformWarnings(pv, perr, sv, serr) {
		fmt.Fprintln(w, "warning: "+msg)
	}
}

// platformWarnings compares the versions with the minimums (pure, tested).
func platformWarnings(podman string, perr error, systemd string, serr error) []string {
	var out []string
	switch {
	case perr != nil:
		out = append(out, fmt.Sprintf("could not read podman's version (%v): podunit supports podman %s or newer", perr, minPodman))
	case versionLess(podman, minPodman):
		out = append(out, fmt.Sprintf("podman %s is older than podunit supports (%s or newer): pods may fail to start; see the README's Supported platforms", podman, minPodman))
	}
	switch {
	case serr != nil:
		out = append(out, fmt.Sprintf("could not read systemd's version (%v): podunit supports systemd %d or newer", serr, minSystemd))
	default:
		if v, ok := leadingInt(systemd); ok && v < minSystemd {
			out = append(out, fmt.Sprintf("systemd %s is older than podunit supports (%d or newer): pods may fail to start; see the README's Supported platforms", systemd, minSystemd))
		}
	}
	return out
}

// versionLess compares dotted versions numerically ("4.3.1" < "4.10"); text
// after the numbers ("-rc1", "~deb12u1") is ignored.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = leadingInt(as[i])
		}
		if i < len(bs) {
			y, _ = leadingInt(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func leadingInt(s string) (int, bool) {
	s = strings.Trim(s, `"' v`)
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	v, err := strconv.Atoi(s[:n])
	return v, err == nil
}
