# Sets the inode flags of a file of Python's own, which it may read
# (FS_IOC_SETFLAGS on a descriptor opened read-only: the same flags back, so
# nothing changes if it gets through): Landlock does not guard it, and the
# owner needs no capability (under a worker run as root, every file of
# Python's folders: noatime, nodump, sync ...).
import fcntl
import json
import os

FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602


def strategy(df):
    fd = os.open(json.__file__, os.O_RDONLY)
    flags = fcntl.ioctl(fd, FS_IOC_GETFLAGS, b"\0" * 8)
    fcntl.ioctl(fd, FS_IOC_SETFLAGS, flags)
    return [{"ticker": "SYN0001", "date": "2020-01-02", "set": True}]
