package helper

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// The kubelet's permission masks for fsGroup (volume_linux.go): group read
// on read-only volumes, read and write on the others; directories also get
// group search and the setgid bit.
const (
	rwMask   = 0o660
	roMask   = 0o440
	execMask = 0o110
)

// volumes gives the pod's volumes its fsGroup, from inside the pod's user
// namespace (entered first), where the group is the container's group id.
func (t *task) volumes(ctx context.Context) error {
	fg := t.rt.FSGroup
	if fg == nil {
		return nil
	}
	if !t.cmd.InNetns {
		return t.enterNetns(ctx, t.cmd)
	}
	eng, err := t.engine(ctx)
	if err != nil {
		return fmt.Errorf("finding the volumes for fsGroup: %w", err)
	}
	for _, v := range fg.Volumes {
		dir, err := eng.VolumeMountpoint(ctx, v)
		if err != nil {
			return fmt.Errorf("finding volume %s for fsGroup: %w", v, err)
		}
		if err := SetVolumeOwnership(dir, fg.GID, false, fg.OnRootMismatch); err != nil {
			return fmt.Errorf("fsGroup %d on volume %s: %w", fg.GID, v, err)
		}
	}
	for _, dir := range fg.ReadOnly {
		// configMap, secret, downwardAPI and projected volumes are walked
		// whatever the policy, as the kubelet's plugins for them do: a
		// refreshed volume has a new directory under a root that matches
		if err := SetVolumeOwnership(dir, fg.GID, true, false); err != nil {
			return fmt.Errorf("fsGroup %d on %s: %w", fg.GID, dir, err)
		}
	}
	t.event("Normal", "VolumeOwnership", "Volumes given group %d (fsGroup)", fg.GID)
	return nil
}

// SetVolumeOwnership applies fsGroup to a volume as the kubelet does: every
// file and directory gets the group and the mask's permissions, directories
// the setgid bit; symbolic links get the group only. With onRootMismatch a
// volume whose root is right already is not walked.
func SetVolumeOwnership(root string, gid int64, readOnly, onRootMismatch bool) error {
	mask := os.FileMode(rwMask)
	if readOnly {
		mask = roMask
	}
	if onRootMismatch {
		if fi, err := os.Stat(root); err == nil && rootMatches(fi, gid, mask) {
			return nil
		}
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, -1, int(gid)); err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil // a link has no mode of its own
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		mode := fi.Mode() | mask
		if fi.IsDir() {
			mode |= os.ModeSetgid | execMask
		} else if fi.Mode()&0o100 != 0 {
			mode |= execMask
		}
		// keep the sticky and setuid bits as they are
		return os.Chmod(p, mode&(os.ModePerm|os.ModeSetgid|os.ModeSetuid|os.ModeSticky))
	})
}

func rootMatches(fi os.FileInfo, gid int64, mask os.FileMode) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int64(st.Gid) != gid {
		return false
	}
	want := mask | execMask | os.ModeSetgid
	return fi.Mode()&want == want
}
