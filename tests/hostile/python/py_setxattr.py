# Sets an extended attribute on a file of the worker's user's (the host
# program, whose path /proc/self/exe gives): Landlock does not guard a
# file's metadata, and system.posix_acl_access is a chmod (the same call
# with an ACL made an owner's file world-writable).
import os


def strategy(df):
    os.setxattr(os.readlink("/proc/self/exe"), "user.tickq-hostile", b"1")
    return [{"ticker": "SYN0001", "date": "2020-01-02", "set": True}]
