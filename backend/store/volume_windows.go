//go:build windows

package store

import (
	"errors"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// volumeSpace is the free and total bytes of the volume that holds path (-1, -1 if unknown).
func volumeSpace(path string) (free, size int64) {
	dir, err := windows.UTF16PtrFromString(filepath.Dir(path))
	if err != nil {
		return -1, -1
	}
	var avail, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(dir, &avail, &total, &totalFree); err != nil {
		return -1, -1
	}
	return int64(avail), int64(total)
}

// isDiskFullOS reports Windows' out-of-space errors.
func isDiskFullOS(err error) bool {
	return errors.Is(err, windows.ERROR_DISK_FULL) || errors.Is(err, windows.ERROR_HANDLE_DISK_FULL)
}
