package runner

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/podunit/podunit/units"
)

// dataLink is the symlink to the current content of a volume written by
// WriteVolume, as the kubelet's atomic writer names it.
const dataLink = "..data"

// WriteVolume lays out the files of a configMap, secret, downwardAPI or
// projected volume in dir as the kubelet's atomic writer does: the files in a
// directory of their own (..2026_12_04_01_02_03.NNN), the symlink ..data to
// it, and for each name at the top a symlink NAME -> ..data/NAME. New content
// is a new directory and one rename of ..data: a container (which has dir
// bind-mounted) never sees half an update, and configuration watchers see the
// rename they look for. The same content leaves dir untouched; it tells
// whether anything changed. A volume of an earlier layout (plain files) is
// replaced.
func WriteVolume(dir string, files []units.File, now time.Time) (bool, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, err
		}
		if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
			return false, err
		}
	} else if err != nil {
		return false, err
	} else if sameVolume(dir, files) {
		return false, nil // its mode too is left as it is (fsGroup gave it one)
	}
	ts, err := os.MkdirTemp(dir, ".."+now.UTC().Format("2006_01_02_15_04_05."))
	if err != nil {
		return false, err
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		return false, err
	}
	top := map[string]bool{}
	for _, f := range files {
		rel := filepath.Clean(f.Path)
		if rel == "." || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
			return false, fmt.Errorf("volume %s: file path %q", f.Volume, f.Path) // validation refuses these
		}
		top[strings.SplitN(rel, "/", 2)[0]] = true
		path := filepath.Join(ts, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return false, err
		}
		if err := os.WriteFile(path, f.Data, 0o600); err != nil {
			return false, err
		}
		if err := os.Chmod(path, os.FileMode(f.Mode)); err != nil {
			return false, err
		}
	}
	tmp := filepath.Join(dir, dataLink+"_tmp")
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataLink)); err != nil {
		return false, err
	}
	for name := range top {
		link, target := filepath.Join(dir, name), filepath.Join(dataLink, name)
		if got, err := os.Readlink(link); err == nil && got == target {
			continue
		}
		if err := os.RemoveAll(link); err != nil {
			return false, err
		}
		if err := os.Symlink(target, link); err != nil {
			return false, err
		}
	}
	// What the new content does not have goes: names of the old content,
	// its directory, files of an earlier layout.
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		n := e.Name()
		if top[n] || n == dataLink || n == filepath.Base(ts) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
			return false, err
		}
	}
	return true, nil
}

// sameVolume tells whether dir holds exactly files (data and modes) under
// ..data, with a link at the top for each name.
func sameVolume(dir string, files []units.File) bool {
	cur := filepath.Join(dir, dataLink)
	want := map[string]bool{}
	for _, f := range files {
		rel := filepath.Clean(f.Path)
		want[rel] = true
		fi, err := os.Lstat(filepath.Join(cur, rel))
		if err != nil || !fi.Mode().IsRegular() || uint32(fi.Mode().Perm()) != f.Mode&0o777 {
			return false
		}
		data, err := os.ReadFile(filepath.Join(cur, rel))
		if err != nil || !bytes.Equal(data, f.Data) {
			return false
		}
		name := strings.SplitN(rel, "/", 2)[0]
		if got, err := os.Readlink(filepath.Join(dir, name)); err != nil || got != filepath.Join(dataLink, name) {
			return false
		}
	}
	target, err := filepath.EvalSymlinks(cur)
	if err != nil {
		return false
	}
	n := 0
	err = filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	return err == nil && n == len(want)
}
