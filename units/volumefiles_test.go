package units_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/units"
)

// VolumeFiles (what a running pod's volumes are refreshed with) lays the
// files out exactly as Translate does when the pod starts; with changed
// objects, the changed data and nothing else.
func TestVolumeFilesAsTranslate(t *testing.T) {
	data, err := os.ReadFile("testdata/config-objects.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := pod.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Pods[0]
	p.UID = "00000000-0000-4000-8000-000000000001"
	plan, err := units.Translate(p, m.Resolved[p.Name], goldenOptions)
	if err != nil {
		t.Fatal(err)
	}
	vols, errs := pod.BindVolumes(p, &m.Objects)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	contents, err := units.VolumeFiles(p, vols, goldenOptions)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	var files []units.File
	for _, vc := range contents {
		dirs = append(dirs, vc.Dir)
		files = append(files, vc.Files...)
	}
	if !reflect.DeepEqual(dirs, plan.FileVolumes) || !reflect.DeepEqual(files, plan.Files) {
		t.Errorf("VolumeFiles:\n%v\n%+v\nTranslate:\n%v\n%+v", dirs, files, plan.FileVolumes, plan.Files)
	}

	for _, cm := range m.Objects.ConfigMaps {
		cm.Data["nginx.conf"] = "changed"
	}
	vols, _ = pod.BindVolumes(p, &m.Objects)
	contents, _ = units.VolumeFiles(p, vols, goldenOptions)
	for _, vc := range contents {
		for i, f := range vc.Files {
			was := plan.Files[indexOf(plan.Files, f)]
			if f.Path == "nginx.conf" {
				if string(f.Data) != "changed" {
					t.Errorf("%s/%s: %q after the change", vc.Volume, f.Path, f.Data)
				}
			} else if !reflect.DeepEqual(f, was) {
				t.Errorf("%s file %d changed: %+v", vc.Volume, i, f)
			}
		}
	}
}

func indexOf(fs []units.File, f units.File) int {
	for i, g := range fs {
		if g.Dir == f.Dir && g.Path == f.Path {
			return i
		}
	}
	panic("no " + strings.Join([]string{f.Dir, f.Path}, "/"))
}
