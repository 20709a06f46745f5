package podlog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// As conmon wrote it (podman run --log-driver k8s-file): a line in two parts,
// stderr, and an unfinished last line.
const sample = `2026-11-23T12:29:59.747295434+00:00 stdout F hi
2026-11-23T12:30:00.000000001+00:00 stdout P par
2026-11-23T12:30:00.5+00:00 stdout F t two
2026-11-23T12:30:01+00:00 stderr F err
2026-11-23T12:30:02+00:00 stdout F 
2026-11-23T12:30:03+00:00 stdout P no newline yet
`

func TestReadJoinsParts(t *testing.T) {
	got, err := Read(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range got {
		texts = append(texts, e.Stream+":"+e.Text)
	}
	want := "stdout:hi|stdout:part two|stderr:err|stdout:|:no newline yet"
	if strings.Join(texts, "|") != want {
		t.Errorf("got %q, want %q", strings.Join(texts, "|"), want)
	}
	// a line split in parts has the time of its first part
	if got[1].Time.Nanosecond() != 1 {
		t.Errorf("time of a joined line: %v", got[1].Time)
	}
	if _, err := Read(strings.NewReader("garbage\n")); err == nil {
		t.Error("a line that is not k8s-file format was accepted")
	}
}

func TestSelectAndFormat(t *testing.T) {
	all, _ := Read(strings.NewReader(sample))
	since, _ := time.Parse(time.RFC3339, "2026-11-23T12:30:01Z")
	cases := []struct {
		o    Options
		want string
	}{
		{Options{Tail: -1}, "hi\npart two\nerr\n\nno newline yet\n"},
		{Options{Tail: 2}, "\nno newline yet\n"},
		{Options{Tail: 0}, ""},
		{Options{Tail: -1, Since: since}, "err\n\nno newline yet\n"},
		{Options{Tail: 1, Since: since, Timestamps: true, Prefix: "[pod/p/c] "}, "[pod/p/c] 2026-11-23T12:30:03Z no newline yet\n"},
		{Options{Tail: 1, Timestamps: true}, "2026-11-23T12:30:03Z no newline yet\n"},
	}
	for _, c := range cases {
		var b strings.Builder
		for _, e := range Select(all, c.o) {
			b.WriteString(Format(e, c.o))
		}
		if b.String() != c.want {
			t.Errorf("%+v: got %q, want %q", c.o, b.String(), c.want)
		}
	}
}

func TestRotateKeepsTheRunBefore(t *testing.T) {
	dir := t.TempDir()
	cur := filepath.Join(dir, "web.log")
	if Previous(cur) != filepath.Join(dir, "web.previous.log") {
		t.Fatalf("Previous: %s", Previous(cur))
	}
	if err := Rotate(cur); err != nil { // nothing yet
		t.Fatal(err)
	}
	os.WriteFile(cur, []byte("run 1"), 0o600)
	if err := Rotate(cur); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cur, nil, 0o600) // a run that printed nothing
	if err := Rotate(cur); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(Previous(cur)); string(b) != "run 1" {
		t.Errorf("previous after an empty run: %q", b)
	}
}

// syncBuffer is a bytes.Buffer that Follow writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFollowAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	cur := filepath.Join(dir, "web.log")
	write := func(s string) {
		f, err := os.OpenFile(cur, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	write("2026-11-23T12:00:00Z stdout F one\n2026-11-23T12:00:01Z stdout F two\n2026-11-23T12:00:02Z stdout P thr\n")
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	var gone bool
	var mu sync.Mutex
	done := make(chan error)
	go func() {
		done <- Follow(ctx, &out, cur, Options{Tail: 1}, 5*time.Millisecond, func() bool { mu.Lock(); defer mu.Unlock(); return gone })
	}()
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for out.String() != want {
			if time.Now().After(deadline) {
				t.Fatalf("got %q, want %q", out.String(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("two\n") // --tail 1 of the complete lines; the part waits
	write("2026-11-23T12:00:03Z stdout F ee\n")
	waitFor("two\nthree\n")
	// the run ends with a last line, and a new run starts: both are shown
	write("2026-11-23T12:00:04Z stdout F last of run 1\n")
	if err := Rotate(cur); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // between the runs: no file
	write("2026-11-23T12:00:10Z stderr F first of run 2\n")
	waitFor("two\nthree\nlast of run 1\nfirst of run 2\n")
	mu.Lock()
	gone = true
	mu.Unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not return once the container was gone")
	}
	cancel()
}

func TestFollowWaitsForTheFirstRun(t *testing.T) {
	cur := filepath.Join(t.TempDir(), "web.log")
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- Follow(ctx, &out, cur, Options{Tail: -1}, 5*time.Millisecond, nil) }()
	time.Sleep(20 * time.Millisecond)
	os.WriteFile(cur, []byte("2026-11-23T12:00:00Z stdout F started\n"), 0o600)
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "started\n" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil || out.String() != "started\n" {
		t.Fatalf("got %q, %v", out.String(), err)
	}
}
