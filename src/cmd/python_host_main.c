/* python_host_main.c — the `tickq-python-host` program: the Python
 * strategies' host (strategy/python_host.h), a program of its own so that
 * it links the interpreter in (Makefile: Debian's static libpython runs
 * pandas code faster than the shared library) and tickq never loads it. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "strategy/python_host.h"

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "python-host") != 0) {
        fprintf(stderr, "tickq-python-host: not for use by hand: a tickq worker starts it for Python strategies\n");
        return EX_USAGE;
    }
    python_host_main(argv[2]);
}
