package engine

import (
	"reflect"
	"testing"
)

// A tmpfs volume's size goes to podman as pages (nr_blocks), which podman
// 4.3 does not mistake for a quota; other volumes and options are left as
// they are.
func TestTmpfsSizeInPages(t *testing.T) {
	in := map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "nodev,nosuid,size=1048577,gid=2000"}
	got := tmpfsSizeInPages(in, 4096)
	want := map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "nodev,nosuid,nr_blocks=257,gid=2000"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if in["o"] != "nodev,nosuid,size=1048577,gid=2000" {
		t.Errorf("the plan's options were changed: %v", in)
	}
	for _, o := range []map[string]string{
		{"type": "tmpfs", "device": "tmpfs", "o": "nodev,nosuid"},
		{"o": "gid=2000"},
		nil,
	} {
		if got := tmpfsSizeInPages(o, 4096); !reflect.DeepEqual(got, o) {
			t.Errorf("%v became %v", o, got)
		}
	}
}
