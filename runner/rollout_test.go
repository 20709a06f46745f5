package runner

import (
	"slices"
	"testing"
)

func TestRolloutNext(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		replicas, surge, unavailable int
		started                      []string
		pending                      int
		old                          []string
		avail                        []string
		start                        int
		remove                       []string
	}{
		{name: "surge first: one new, no old goes while it is not available",
			replicas: 3, surge: 1, started: nil, pending: 3, old: []string{"o1", "o2", "o3"}, avail: []string{"o1", "o2", "o3"},
			start: 1},
		{name: "the new one available: an old one goes, no room for another new yet",
			replicas: 3, surge: 1, started: []string{"n1"}, pending: 2, old: []string{"o1", "o2", "o3"}, avail: []string{"n1", "o1", "o2", "o3"},
			remove: []string{"o1"}},
		{name: "room again: the next new starts",
			replicas: 3, surge: 1, started: []string{"n1"}, pending: 2, old: []string{"o2", "o3"}, avail: []string{"n1", "o2", "o3"},
			start: 1},
		{name: "no surge: an old one goes first",
			replicas: 3, unavailable: 1, pending: 3, old: []string{"o1", "o2", "o3"}, avail: []string{"o1", "o2", "o3"},
			remove: []string{"o1"}},
		{name: "no surge, one gone: the first new starts",
			replicas: 3, unavailable: 1, pending: 3, old: []string{"o2", "o3"}, avail: []string{"o2", "o3"},
			start: 1},
		{name: "unavailable old pods go first, available ones stay for minAvailable",
			replicas: 2, surge: 1, unavailable: 0, started: []string{"n1"}, pending: 1, old: []string{"o1", "o2"}, avail: []string{"n1", "o2"},
			remove: []string{"o1"}},
		{name: "a new pod that never becomes available holds the old ones",
			replicas: 2, surge: 1, started: []string{"n1"}, pending: 1, old: []string{"o1", "o2"}, avail: []string{"o1", "o2"}},
		{name: "25% of 4 either way: one more, one less",
			replicas: 4, surge: 1, unavailable: 1, pending: 4, old: []string{"o1", "o2", "o3", "o4"}, avail: []string{"o1", "o2", "o3", "o4"},
			start: 1, remove: []string{"o1"}},
		{name: "all new available: the last old ones go",
			replicas: 2, surge: 1, started: []string{"n1", "n2"}, old: []string{"o2"}, avail: []string{"n1", "n2", "o2"},
			remove: []string{"o2"}},
		{name: "scaled to 0: every old one goes",
			replicas: 0, surge: 0, unavailable: 0, old: []string{"o1", "o2"}, avail: []string{"o1"},
			remove: []string{"o2", "o1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rolloutState{replicas: tc.replicas, surge: tc.surge, unavailable: tc.unavailable,
				started: tc.started, pending: tc.pending, old: tc.old,
				available: func(n string) bool { return slices.Contains(tc.avail, n) }}
			start, remove := s.next()
			if start != tc.start || !slices.Equal(remove, tc.remove) {
				t.Errorf("next() = start %d, remove %v; want start %d, remove %v", start, remove, tc.start, tc.remove)
			}
		})
	}
}
