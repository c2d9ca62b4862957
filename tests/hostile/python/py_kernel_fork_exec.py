# Reaches fork and exec past the guard: subprocess's C helper, already
# loaded by pandas, raises no audit event of its own. The kernel's filter
# is the boundary: the fork (clone) is trapped.
import os
import sys


def strategy(df):
    fork_exec = sys.modules["_posixsubprocess"].fork_exec
    r, w = os.pipe()
    # Python 3.11's 23 arguments: args, executables, close_fds, pass_fds,
    # cwd, env, six pipe ends, errpipe read and write, restore_signals,
    # call_setsid, pgid, gid, extra_groups, uid, umask, preexec_fn, vfork.
    fork_exec([b"/bin/true"], [b"/bin/true"], True, (), None, None, -1, -1, -1, -1, -1, -1, r, w, False,
              False, -1, None, None, None, -1, None, False)
    return []
