#!/usr/bin/python3
# A drive that reports more capacity than it has, as a file for a loop device: a FUSE filesystem
# with one file, drive.img, of REPORTED bytes, whose byte n is byte n mod REAL of BACKING. Writes
# past the real capacity land on the first bytes again, as on a counterfeit flash drive.
# direct_io: every read and write reaches this process (no page cache of the FUSE file hides the
# aliasing). Prints "ready" once mounted; ends when the mount point is unmounted.
# Usage: aliasing-drive.py BACKING MOUNTPOINT REPORTED
import errno
import os
import stat
import sys
import time

from fusepy import FUSE, FuseOSError, Operations

NAME = "/drive.img"


class AliasingDrive(Operations):
    def __init__(self, backing, reported):
        self.fd = os.open(backing, os.O_RDWR)
        self.real = os.fstat(self.fd).st_size
        self.reported = reported

    def init(self, path):
        print("ready", flush=True)

    def getattr(self, path, fh=None):
        now = time.time()
        times = dict(st_atime=now, st_mtime=now, st_ctime=now)
        if path == "/":
            return dict(st_mode=stat.S_IFDIR | 0o755, st_nlink=2, **times)
        if path == NAME:
            return dict(st_mode=stat.S_IFREG | 0o600, st_nlink=1, st_size=self.reported, **times)
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", "..", NAME[1:]]

    def open(self, path, flags):
        if path != NAME:
            raise FuseOSError(errno.ENOENT)
        return 0

    def _pieces(self, offset, length):
        """(backing offset, length) pieces of [offset, offset + length), wrapped at the real size."""
        while length > 0:
            at = offset % self.real
            n = min(length, self.real - at)
            yield at, n
            offset += n
            length -= n

    def read(self, path, length, offset, fh):
        length = max(0, min(length, self.reported - offset))
        return b"".join(os.pread(self.fd, n, at) for at, n in self._pieces(offset, length))

    def write(self, path, data, offset, fh):
        done = 0
        for at, n in self._pieces(offset, len(data)):
            os.pwrite(self.fd, data[done : done + n], at)
            done += n
        return len(data)

    def truncate(self, path, length, fh=None):
        return 0

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        os.fsync(self.fd)
        return 0


if __name__ == "__main__":
    backing, mountpoint, reported = sys.argv[1], sys.argv[2], int(sys.argv[3])
    FUSE(AliasingDrive(backing, reported), mountpoint, foreground=True, direct_io=True, nothreads=True)
