/* python_host.h — the Python host: a process that embeds CPython with
 * numpy and pandas imported (warm), holds the frame a worker sent it, and
 * forks a sandboxed child per evaluation of a Python strategy.
 *
 * It is a program of its own, tickq-python-host
 * (src/cmd/python_host_main.c), installed beside tickq. A worker child
 * starts it (strategy_python.c) as `tickq python-host STAMP` through
 * execve with an empty environment, so the host never held a secret (no
 * Redis or database URL, no token) and never sees a strategy's code or a
 * job's arguments: the code reaches the evaluation child in a memfd the
 * host passes on unread. Each child inherits the warm interpreter and df
 * by fork, and whatever it changes dies with it. */
#ifndef TICKQ_PYTHON_HOST_H
#define TICKQ_PYTHON_HOST_H

/* The descriptor of the host's socket to its worker. */
#define PYTHON_HOST_FD 3

/* The host's main loop, on PYTHON_HOST_FD, until the worker closes the
 * socket (or a protocol error); never returns (it leaves with _exit).
 * stamp: the worker's TICKQ_BUILD_STAMP (build_stamp.h, a hash of the
 * sources): a host of another build (tickq upgraded on disk under a
 * running worker) says so as its READY instead of serving a protocol it
 * may not share. */
_Noreturn void python_host_main(const char *stamp);

#endif
