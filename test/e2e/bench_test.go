package e2e

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkUpDown compares podunit with podman's own Kubernetes support on the
// same manifests, measured in the same run: `podunit up`/`down` against
// `podman kube play`/`kube down`. It prints wall times, the CPU all processes
// used meanwhile (the commands, podman's service, systemd, the units' helpers,
// conmon: a process per action is a cost even where it runs in parallel) and
// the ratios podunit/podman; it never fails on time. Run it with `make bench`.
//
// `kube play` runs on its default network, as podunit's pods do on theirs: a
// bridge (podman-default-kube-network) on which every pod has an address of
// its own that the others reach. It is also measured on a slirp4netns
// network per pod (`--network slirp4netns`: no bridge and no firewall rules
// to set up, and no pod reaches another), printed as a second comparison.
//
// Where podman ships its systemd template for Kubernetes YAML
// (podman-kube@.service: one unit running `podman kube play
// --service-container`, the way podman itself puts a manifest under systemd),
// it also prints `systemctl --user start`/`stop` of that unit on the same
// manifest: the tool a user of podman reaches for today to have systemd
// supervise a pod (one unit for the whole manifest, no per-container restart).
func BenchmarkUpDown(b *testing.B) {
	const rounds = 3
	// beside: another pod of the same tool stays up meanwhile, on the same
	// network, so that neither up sets the network up nor down tears it down
	// (podunit's service proxy stays too): what a pod costs on its own.
	scenarios := []struct {
		name, key string // key: the reported metrics' suffix
		pods      int
		beside    bool
	}{{"1 pod x 3 containers", "1pods", 1, false}, {"10 pods x 3 containers", "10pods", 10, false}, {"1x3, another pod up", "1pod-beside", 1, true}}
	type row struct {
		name, key                string
		up, play, down, kubeDown cost
		forcedDown               cost // podunit down --grace-period 0 --force
		slirpPlay, slirpDown     cost // kube play --network slirp4netns
		tmplUp, tmplDown         cost // zero: no template here
	}
	template := run(b, "systemctl", "--user", "cat", "podman-kube@.service").code == 0
	// kube play makes its default network on first use and keeps it: the
	// benchmark removes it again, unless it was there before.
	const kubeNet = "podman-default-kube-network"
	if run(b, "podman", "network", "exists", kubeNet).code != 0 {
		b.Cleanup(func() { run(b, "podman", "network", "rm", kubeNet) })
	}
	var rows []row
	for _, sc := range scenarios {
		path := writeManifest(b, benchManifest(sc.pods))
		var ours, theirs string
		if sc.beside {
			ours, theirs = writeManifest(b, besideManifest("beside-podunit")), writeManifest(b, besideManifest("beside-kube"))
			b.Cleanup(func() { // after a failure; done below otherwise
				run(b, podunit, "down", "--grace-period", "0", "--force", ours)
				run(b, "podman", "kube", "down", theirs)
			})
			must(b, podunit, "up", ours)
			must(b, "podman", "kube", "play", theirs)
		}
		// Warm up both (podman builds its pause image on first use).
		must(b, podunit, "up", path)
		must(b, podunit, "down", path)
		must(b, "podman", "kube", "play", path)
		must(b, "podman", "kube", "down", path)
		must(b, "podman", "kube", "play", "--network", "slirp4netns", path)
		must(b, "podman", "kube", "down", path)

		var unit string
		if template {
			unit = strings.TrimSpace(must(b, "systemd-escape", "--template", "podman-kube@.service", path))
			must(b, "systemctl", "--user", "start", unit)
			must(b, "systemctl", "--user", "stop", unit)
		}

		var up, down, fdown, play, kdown, splay, sdown, tup, tdown []cost
		for i := 0; i < rounds; i++ {
			up = append(up, measured(b, podunit, "up", path))
			down = append(down, measured(b, podunit, "down", path))
			must(b, podunit, "up", path)
			fdown = append(fdown, measured(b, podunit, "down", "--grace-period", "0", "--force", path))
			play = append(play, measured(b, "podman", "kube", "play", path))
			kdown = append(kdown, measured(b, "podman", "kube", "down", path))
			splay = append(splay, measured(b, "podman", "kube", "play", "--network", "slirp4netns", path))
			sdown = append(sdown, measured(b, "podman", "kube", "down", path))
			if template {
				tup = append(tup, measured(b, "systemctl", "--user", "start", unit))
				tdown = append(tdown, measured(b, "systemctl", "--user", "stop", unit))
			}
		}
		r := row{name: sc.name, key: sc.key, up: medianCost(up), play: medianCost(play), down: medianCost(down), kubeDown: medianCost(kdown),
			forcedDown: medianCost(fdown), slirpPlay: medianCost(splay), slirpDown: medianCost(sdown)}
		if template {
			r.tmplUp, r.tmplDown = medianCost(tup), medianCost(tdown)
			must(b, "systemctl", "--user", "reset-failed", unit)
		}
		if sc.beside {
			must(b, podunit, "down", ours)
			must(b, "podman", "kube", "down", theirs)
		}
		rows = append(rows, r)
	}
	var out strings.Builder
	// table prints ours against theirs (each row's pair of up and down
	// costs), their four columns headed by hdr.
	table := func(title string, hdr [4]string, theirs func(row) (up, down cost)) {
		fmt.Fprintf(&out, "\n%s\n", title)
		fmt.Fprintf(&out, "%-24s %11s %11s %6s %11s %11s %6s   %11s %11s %6s %11s %11s %6s\n", "scenario",
			"up", hdr[0], "ratio", "up cpu", hdr[1], "ratio",
			"down", hdr[2], "ratio", "down cpu", hdr[3], "ratio")
		// ours, theirs and their ratio
		vs := func(a, b time.Duration) string {
			return fmt.Sprintf(" %10.2fs %10.2fs %6.2f", a.Seconds(), b.Seconds(), a.Seconds()/b.Seconds())
		}
		for _, r := range rows {
			up, down := theirs(r)
			fmt.Fprintf(&out, "%-24s%s%s  %s%s\n", r.name,
				vs(r.up.wall, up.wall), vs(r.up.cpu, up.cpu),
				vs(r.down.wall, down.wall), vs(r.down.cpu, down.cpu))
		}
	}
	kube := [4]string{"kube play", "play cpu", "kube down", "kdown cpu"}
	// Both tools pay podman's storage driver for every container created and
	// removed: vfs (a copy of the image's files a container, Debian 12's
	// rootless default without a storage.conf) costs both far more than
	// overlay, and the ratios differ with it.
	table(fmt.Sprintf("median of %d rounds (podman %s); wall time, and CPU of all processes until 1 s after the command; kube play on its default network (a bridge)",
		rounds, strings.TrimSpace(must(b, "podman", "info", "--format", "{{.Version.Version}}, storage driver {{.Store.GraphDriverName}}"))), kube,
		func(r row) (cost, cost) { return r.play, r.kubeDown })
	table("against kube play --network slirp4netns (a slirp4netns network per pod: no bridge, no pod reaches another)", kube,
		func(r row) (cost, cost) { return r.slirpPlay, r.slirpDown })
	if template {
		table("against podman's systemd template podman-kube@.service (systemctl --user start / stop of one unit playing the manifest)", [4]string{"start", "start cpu", "stop", "stop cpu"},
			func(r row) (cost, cost) { return r.tmplUp, r.tmplDown })
	}
	fmt.Fprintf(&out, "\npodunit down --grace-period 0 --force (kill at once) against kube down\n")
	for _, r := range rows {
		fmt.Fprintf(&out, "%-24s down %.2fs against %.2fs (%.2f), cpu %.2fs against %.2fs (%.2f)\n", r.name,
			r.forcedDown.wall.Seconds(), r.kubeDown.wall.Seconds(), r.forcedDown.wall.Seconds()/r.kubeDown.wall.Seconds(),
			r.forcedDown.cpu.Seconds(), r.kubeDown.cpu.Seconds(), r.forcedDown.cpu.Seconds()/r.kubeDown.cpu.Seconds())
	}
	// What each down does with a container that takes its time to end after
	// the stop signal: a graceful stop waits for it.
	slow := writeManifest(b, slowStopManifest)
	must(b, podunit, "up", slow)
	ours := measured(b, podunit, "down", slow)
	must(b, "podman", "kube", "play", slow)
	theirs := measured(b, "podman", "kube", "down", slow)
	fmt.Fprintf(&out, "\na container that ends 2 s after SIGTERM (terminationGracePeriodSeconds 30): podunit down %.2fs, kube down %.2fs\n",
		ours.wall.Seconds(), theirs.wall.Seconds())
	fmt.Fprint(os.Stdout, out.String())
	for _, r := range rows {
		key := r.key
		b.ReportMetric(r.up.wall.Seconds()/r.play.wall.Seconds(), "up/play-ratio-"+key)
		b.ReportMetric(r.down.wall.Seconds()/r.kubeDown.wall.Seconds(), "down/kubedown-ratio-"+key)
		b.ReportMetric(r.forcedDown.wall.Seconds()/r.kubeDown.wall.Seconds(), "forced-down/kubedown-ratio-"+key)
		b.ReportMetric(r.up.cpu.Seconds()/r.play.cpu.Seconds(), "up/play-cpu-ratio-"+key)
		b.ReportMetric(r.down.cpu.Seconds()/r.kubeDown.cpu.Seconds(), "down/kubedown-cpu-ratio-"+key)
		b.ReportMetric(r.up.wall.Seconds()/r.slirpPlay.wall.Seconds(), "up/play-slirp4netns-ratio-"+key)
		b.ReportMetric(r.down.wall.Seconds()/r.slirpDown.wall.Seconds(), "down/kubedown-slirp4netns-ratio-"+key)
		if template {
			b.ReportMetric(r.up.wall.Seconds()/r.tmplUp.wall.Seconds(), "up/template-start-ratio-"+key)
			b.ReportMetric(r.down.wall.Seconds()/r.tmplDown.wall.Seconds(), "down/template-stop-ratio-"+key)
		}
	}
}

// cost is what one command took: wall time, and the CPU every process on the
// machine (in the test world: in the world) used from its start until a
// second after it returned, which catches the work it left running (the
// units' helpers, conmon's clean-up).
type cost struct{ wall, cpu time.Duration }

func measured(b *testing.B, args ...string) cost {
	before := totalCPU(b)
	start := time.Now()
	must(b, args...)
	wall := time.Since(start)
	time.Sleep(time.Second)
	return cost{wall, totalCPU(b) - before}
}

// totalCPU is the CPU time used so far by all processes under the root of
// the cgroup tree this test runs in (the test world's, or the machine's);
// where that root has no cpu.stat, the machine's from /proc/stat.
func totalCPU(t testing.TB) time.Duration {
	t.Helper()
	if r := run(t, "cat", "/sys/fs/cgroup/cpu.stat"); r.code == 0 {
		if d, ok := cpuStatUsage(r.stdout); ok {
			return d
		}
	}
	// cpu  user nice system idle iowait irq softirq steal ..., in 1/100 s
	out := must(t, "head", "-n1", "/proc/stat")
	f := strings.Fields(out)
	if len(f) < 8 || f[0] != "cpu" {
		t.Fatalf("no CPU times in /proc/stat:\n%s", out)
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// medianCost is the median of each measure on its own.
func medianCost(cs []cost) cost {
	var w, c []time.Duration
	for _, x := range cs {
		w, c = append(w, x.wall), append(c, x.cpu)
	}
	return cost{median(w), median(c)}
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

// besideManifest: a pod of one container, up while another is measured.
func besideManifest(name string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n  containers:\n  - name: a\n    image: %s\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 100000 & wait\"]\n", name, testImage)
}

// slowStopManifest: a container that ends 2 s after SIGTERM.
var slowStopManifest = fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: bench-slow-stop}
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - name: a
    image: %s
    command: ["sh", "-c", "trap 'sleep 2; exit 0' TERM; sleep 100000 & wait"]
`, testImage)

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
