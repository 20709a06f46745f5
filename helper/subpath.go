package helper

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/podunit/podunit/helper/contract"
)

// fillSubPaths turns each mount of part of a named volume or of a hostPath
// directory into a bind mount of that part: a volume's directory comes from
// podman, and the part is made (a directory, mode 0750, as the kubelet makes
// it) when missing.
func (t *task) fillSubPaths(ctx context.Context) error {
	if len(t.c.SubPaths) == 0 {
		return nil
	}
	c := *t.c
	c.Args = append([]string(nil), t.c.Args...)
	for _, sp := range t.c.SubPaths {
		prefix, what := sp.Root+"/"+sp.Path, "directory "+sp.Root
		if sp.Root == "" {
			prefix, what = contract.VolumeRef(sp.Volume)+"/"+sp.Path, "volume "+sp.Volume
		}
		if sp.Arg < 0 || sp.Arg >= len(c.Args) || !strings.HasPrefix(c.Args[sp.Arg], prefix) {
			return fmt.Errorf("the runtime spec of %s is inconsistent: argument %d is not a subPath of %s", t.c.Name, sp.Arg, what)
		}
		root := sp.Root
		if root == "" {
			eng, err := t.engine(ctx)
			if err != nil {
				return fmt.Errorf("finding the volumes of subPath mounts: %w", err)
			}
			if root, err = eng.VolumeMountpoint(ctx, sp.Volume); err != nil {
				return fmt.Errorf("finding volume %s: %w", sp.Volume, err)
			}
		}
		dir, err := SubPathIn(root, sp.Path)
		if err != nil {
			t.event("Warning", "Failed", "subPath %q of %s: %v", sp.Path, what, err)
			return &ErrExit{Code: 1, Msg: fmt.Sprintf("subPath %q of %s: %v", sp.Path, what, err)}
		}
		c.Args[sp.Arg] = dir + c.Args[sp.Arg][len(prefix):]
	}
	t.c = &c
	return nil
}

// ErrSubPathEscapes: a subPath that leads out of its volume.
var ErrSubPathEscapes = errors.New("leads out of the volume")

// SubPathIn returns the host path of sub inside the volume directory root,
// making the missing directories (0750). The container may have put symlinks
// in the volume: one that leads out of it is refused, so a restart never
// mounts the user's own files into the container (the kubelet's subPath
// rule). What sub names may be a file.
func SubPathIn(root, sub string) (string, error) {
	rootReal, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	cur := rootReal
	parts := strings.Split(filepath.Clean(sub), "/")
	for i, part := range parts {
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			return "", ErrSubPathEscapes
		}
		next := filepath.Join(cur, part)
		fi, err := os.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(next, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
				return "", err
			}
			cur = next
			continue
		case err != nil:
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			real, err := filepath.EvalSymlinks(next)
			if err != nil {
				return "", fmt.Errorf("%s: %w", filepath.Join(parts[:i+1]...), err)
			}
			if real != rootReal && !strings.HasPrefix(real, rootReal+"/") {
				return "", fmt.Errorf("%s is a symlink that %w", filepath.Join(parts[:i+1]...), ErrSubPathEscapes)
			}
			next = real
			if fi, err = os.Stat(next); err != nil {
				return "", err
			}
		}
		if !fi.IsDir() && i < len(parts)-1 {
			return "", fmt.Errorf("%s is not a directory", filepath.Join(parts[:i+1]...))
		}
		cur = next
	}
	return cur, nil
}
