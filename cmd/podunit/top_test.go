package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestTopMeasures(t *testing.T) {
	mount := t.TempDir()
	write := func(dir, name, data string) {
		os.MkdirAll(filepath.Join(mount, dir), 0o755)
		if err := os.WriteFile(filepath.Join(mount, dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pod := podCgroup("/user.slice/user-1000.slice/user@1000.service", "my-web")
	if pod != `/user.slice/user-1000.slice/user@1000.service/podunit.slice/podunit-my\x2dweb.slice` {
		t.Errorf("pod cgroup %s", pod)
	}
	ctr := filepath.Join(pod, `podunit-my\x2dweb-app.service`)
	write(pod, "cpu.stat", "usage_usec 5000000\nuser_usec 4000000\nsystem_usec 1000000\n")
	write(pod, "memory.current", "73400320\n")                                          // 70 MiB
	write(pod, "memory.stat", "anon 10485760\nfile 62914560\ninactive_file 20971520\n") // 20 MiB inactive
	write(ctr, "cpu.stat", "usage_usec 100\n")                                          // no memory controller here
	rows := []topRow{{pod: "my-web", dir: pod, containers: []topRow{{pod: "my-web", name: "app", dir: ctr}}}}
	measure(context.Background(), mount, rows, 10*time.Millisecond)
	if r := rows[0]; r.cpuMilli != 0 || r.memory != 50<<20 || r.containers[0].memory != -1 || r.containers[0].cpuMilli != 0 {
		t.Errorf("measured %+v", r)
	}
	rows[0].cpuMilli, rows[0].containers[0].cpuMilli = 250, -1
	var b bytes.Buffer
	printTop(&b, rows, false)
	if want := "NAME     CPU(cores)   MEMORY(bytes)\nmy-web   250m         50Mi\n"; b.String() != want {
		t.Errorf("table:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	printTop(&b, rows, true)
	if want := "POD      NAME   CPU(cores)   MEMORY(bytes)\nmy-web   app    <unknown>    <unknown>\n"; b.String() != want {
		t.Errorf("containers:\n%q\nwant\n%q", b.String(), want)
	}
	if cpuUsec(filepath.Join(mount, "nope")) != -1 || workingSet(filepath.Join(mount, "nope")) != -1 {
		t.Error("a missing cgroup measured")
	}
}
