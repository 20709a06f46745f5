package e2e

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// BenchmarkUpDown compares podunit with podman's own Kubernetes support on the
// same manifests, measured in the same run: `podunit up`/`down` against
// `podman kube play`/`kube down`. It prints wall times and the ratio
// podunit/podman; it never fails on time. Run it with `make bench`.
func BenchmarkUpDown(b *testing.B) {
	const rounds = 3
	scenarios := []struct {
		name string
		pods int
	}{{"1 pod x 3 containers", 1}, {"10 pods x 3 containers", 10}}
	type row struct {
		name                     string
		up, play, down, kubeDown time.Duration
	}
	var rows []row
	for _, sc := range scenarios {
		path := writeManifest(b, benchManifest(sc.pods))
		var names []string
		for i := 0; i < sc.pods; i++ {
			names = append(names, fmt.Sprintf("bench-%d", i))
		}
		// Warm up both (podman builds its pause image on first use).
		must(b, podunit, "up", path)
		must(b, podunit, "down", path)
		must(b, "podman", "kube", "play", "--network", "slirp4netns", path)
		must(b, "podman", "kube", "down", path)

		var up, down, play, kdown []time.Duration
		for i := 0; i < rounds; i++ {
			up = append(up, timed(b, podunit, "up", path))
			down = append(down, timed(b, podunit, "down", path))
			play = append(play, timed(b, "podman", "kube", "play", "--network", "slirp4netns", path))
			kdown = append(kdown, timed(b, "podman", "kube", "down", path))
		}
		rows = append(rows, row{sc.name, median(up), median(play), median(down), median(kdown)})
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\nmedian of %d rounds (podman %s)\n", rounds, strings.TrimSpace(must(b, "podman", "--version")))
	fmt.Fprintf(&out, "%-24s %12s %12s %7s   %12s %12s %7s\n", "scenario", "podunit up", "kube play", "ratio", "podunit down", "kube down", "ratio")
	for _, r := range rows {
		fmt.Fprintf(&out, "%-24s %11.2fs %11.2fs %7.2f   %11.2fs %11.2fs %7.2f\n", r.name,
			r.up.Seconds(), r.play.Seconds(), r.up.Seconds()/r.play.Seconds(),
			r.down.Seconds(), r.kubeDown.Seconds(), r.down.Seconds()/r.kubeDown.Seconds())
	}
	fmt.Fprint(os.Stdout, out.String())
	for _, r := range rows {
		key := strings.Fields(r.name)[0] + "pods"
		b.ReportMetric(r.up.Seconds()/r.play.Seconds(), "up/play-ratio-"+key)
		b.ReportMetric(r.down.Seconds()/r.kubeDown.Seconds(), "down/kubedown-ratio-"+key)
	}
}

func timed(b *testing.B, args ...string) time.Duration {
	start := time.Now()
	must(b, args...)
	return time.Since(start)
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// benchManifest: n pods of three containers that exit promptly on SIGTERM, so
// both tools are timed on their own work, not on a grace period.
func benchManifest(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Pod\nmetadata: {name: bench-%d}\nspec:\n  restartPolicy: Always\n  containers:\n", i)
		for _, c := range []string{"a", "b", "c"} {
			fmt.Fprintf(&b, "  - name: %s\n    image: %s\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 100000 & wait\"]\n", c, testImage)
		}
	}
	return b.String()
}

// BenchmarkBandwidth prints configured against measured rates for 1M, 10M and
// 100M egress and ingress through a published port.
func BenchmarkBandwidth(b *testing.B) {
	var out strings.Builder
	fmt.Fprintf(&out, "\n%-10s %-8s %14s %14s %8s\n", "rate", "dir", "configured", "measured", "ratio")
	for i, rate := range []struct {
		ann  string
		bits float64
	}{{"1M", 1e6}, {"10M", 10e6}, {"100M", 100e6}} {
		pod := fmt.Sprintf("bench-qos-%d", i)
		port := 18395 + i
		path := writeManifest(b, qosManifest(pod, port,
			fmt.Sprintf("kubernetes.io/egress-bandwidth: %s, kubernetes.io/ingress-bandwidth: %s", rate.ann, rate.ann)))
		must(b, podunit, "up", path)
		n := int(rate.bits / 8 * 8) // about 8 s of traffic
		for _, egress := range []bool{true, false} {
			got := measure(b, port, egress, n)
			dir := "ingress"
			if egress {
				dir = "egress"
			}
			fmt.Fprintf(&out, "%-10s %-8s %14.0f %14.0f %8.3f\n", rate.ann, dir, rate.bits, got, got/rate.bits)
		}
		must(b, podunit, "down", "--grace-period", "0", "--force", pod)
	}
	fmt.Print(out.String())
}
