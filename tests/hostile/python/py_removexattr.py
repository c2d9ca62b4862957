# Removes an extended attribute (the POSIX ACL) of a file of the worker's
# user's: a change to a file outside the sandbox, as setting one is.
import os


def strategy(df):
    os.removexattr(os.readlink("/proc/self/exe"), "system.posix_acl_access")
    return [{"ticker": "SYN0001", "date": "2020-01-02", "removed": True}]
