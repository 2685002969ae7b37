//go:build unix

package store

import (
	"path/filepath"

	"golang.org/x/sys/unix"
)

// volumeSpace is the free and total bytes of the volume that holds path (-1, -1 if unknown).
func volumeSpace(path string) (free, size int64) {
	var st unix.Statfs_t
	if err := unix.Statfs(filepath.Dir(path), &st); err != nil {
		return -1, -1
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize)
}

// isDiskFullOS: ENOSPC, the one out-of-space error on unix, is checked by isDiskFull itself.
func isDiskFullOS(error) bool { return false }
