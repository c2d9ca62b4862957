/* python_host_main.c — the `tickq-python-host` program: the Python
 * strategies' host (strategy/python_host.h), a program of its own so that
 * it links the interpreter in (Makefile: Debian's static libpython runs
 * pandas code faster than the shared library) and tickq never loads it.
 *
 * A worker starts it from beside its own executable as
 * `tickq python-host STAMP` (strategy/strategy_python.c), STAMP being the
 * build stamp of the worker's sources: a host from another build (tickq
 * upgraded on disk under a running worker, or copied without its host)
 * tells the worker so instead of speaking a protocol it may not share. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "build_stamp.h"
#include "strategy/python_host.h"

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "python-host") != 0) {
        fprintf(stderr, "tickq-python-host: not for use by hand: a tickq worker starts it for Python strategies\n");
        return EX_USAGE;
    }
    if (strcmp(argv[2], TICKQ_BUILD_STAMP) != 0) {
        char refusal[300];
        snprintf(refusal, sizeof refusal,
                 "the Python host (tickq-python-host) is from another build of tickq than the worker (build %s, the "
                 "worker's %.20s): install tickq and tickq-python-host together, then restart the worker",
                 TICKQ_BUILD_STAMP, argv[2]);
        python_host_main(refusal);
    }
    python_host_main(NULL);
}
