package podstate

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Events alike are one with a count, first and last time, in the order they
// last happened; counts already aggregated add up.
func TestAggregateEvents(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	got := Aggregate([]Event{
		{Time: at(1), Type: "Normal", Reason: "Started", Container: "a", Message: "Started container a"},
		{Time: at(2), Type: "Warning", Reason: "Unhealthy", Container: "a", Message: "probe failed"},
		{Time: at(3), Type: "Normal", Reason: "Started", Container: "b", Message: "Started container b"},
		{Time: at(5), Type: "Warning", Reason: "Unhealthy", Container: "a", Message: "probe failed", Count: 3, First: at(4)},
		{Time: at(6), Type: "Warning", Reason: "Unhealthy", Container: "a", Message: "probe timed out"},
		{Time: at(7), Type: "Normal", Reason: "Started", Container: "a", Message: "Started container a"},
	})
	var lines []string
	for _, e := range got {
		first := "-" // once: no first time of its own
		if !e.First.IsZero() {
			first = e.First.Sub(t0).String()
		}
		lines = append(lines, fmt.Sprintf("%s %s %q x%d %s..%v", e.Container, e.Reason, e.Message, e.Times(), first, e.Time.Sub(t0)))
	}
	wantLines := []string{
		`b Started "Started container b" x1 -..3s`,
		`a Unhealthy "probe failed" x4 2s..5s`,
		`a Unhealthy "probe timed out" x1 -..6s`,
		`a Started "Started container a" x2 1s..7s`,
	}
	if strings.Join(lines, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("aggregated:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}
}

// A pod's event list past compactAt is compacted: one line per kind of
// event, the count kept; appends from several processes at once lose none.
func TestEventsCompacted(t *testing.T) {
	dir := t.TempDir()
	msg := strings.Repeat("m", 200)
	var wg sync.WaitGroup
	const writers, each = 4, 800 // about 4 x 800 x 300 bytes: several compactions
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := AppendEvent(dir, "p", Event{Type: "Warning", Reason: "Unhealthy", Container: "c", Message: msg}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	AppendEvent(dir, "p", Event{Reason: "Killing", Container: "c", Message: "last"})
	evs, err := Events(dir, "p")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(eventsFile(dir, "p"))
	if err != nil {
		t.Fatal(err)
	}
	agg := Aggregate(evs)
	if fi.Size() > compactAt || len(agg) != 2 || agg[0].Times() != writers*each || agg[1].Reason != "Killing" {
		t.Errorf("%d bytes, %d lines, aggregated %+v", fi.Size(), len(evs), agg)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
}
