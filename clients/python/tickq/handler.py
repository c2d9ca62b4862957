"""tickq.handler — the command tickq runs for Python task handlers.

    python3 -m tickq.handler [--max-jobs N] MODULE [MODULE...]
    python3 -m tickq.handler --check MODULE [MODULE...]

Imports each MODULE; every function decorated @task("name") in them is a
task type this handler serves. Started by a tickq worker from a [handler]
section (`command = python3 -m tickq.handler myapp.tasks`), it announces
its types on fd 4 and serves jobs from fd 3 (docs/handlers.md) until tickq
closes fd 3. --check imports the modules and prints the task types, one a
line, without serving.

Exit status: 0 when tickq closed fd 3 (or --check succeeded), 1 when the
modules cannot be imported or define no task (the import error or a
duplicate task type is on stderr), 2 after a malformed request from tickq,
64 for a bad command line.

The runtime itself (registry, Job, serving) is tickq.runtime: this module
is only run as __main__, and the registry must not live in it (a module run
with -m is a second copy of itself).
"""
import importlib
import sys
import traceback

from tickq import runtime
from tickq.runtime import Fail, Job, Retry, task

__all__ = ["main", "task", "Retry", "Fail", "Job"]  # `from tickq.handler import task` works too

EX_USAGE = 64

USAGE = """\
usage: python3 -m tickq.handler [--max-jobs N] MODULE [MODULE...]
       python3 -m tickq.handler --check MODULE [MODULE...]

Serves the @task functions of the modules to the tickq worker that started
it (from a [handler] section of tickq's config: docs/handlers.md).

  --max-jobs N   jobs taken at once (default 1); above 1, or with async def
                 tasks, the jobs run in an asyncio loop (plain functions in
                 threads)
  --check        print the task types the modules define, one a line, and
                 exit (0, or 1 with the import error)
  -h, --help     this help
"""


def _usage_error(text):
    sys.stderr.write(f"tickq.handler: {text}\n\n{USAGE}")
    return EX_USAGE


def _is_module_name(name):
    return all(part.isidentifier() for part in name.split("."))


def parse_args(argv):
    """(options dict, modules) or an exit status (int)."""
    opts = {"max_jobs": 1, "check": False}
    modules = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            sys.stdout.write(USAGE)
            return 0
        if a == "--check":
            opts["check"] = True
        elif a == "--max-jobs" or a.startswith("--max-jobs="):
            if a == "--max-jobs":
                i += 1
                if i == len(argv):
                    return _usage_error("--max-jobs needs a number, e.g. --max-jobs 8")
                value = argv[i]
            else:
                value = a.split("=", 1)[1]
            if not value.isdigit() or not 1 <= int(value) <= runtime.MAX_JOBS_LIMIT:
                return _usage_error(f"invalid --max-jobs {value!r}: use an integer from 1 to {runtime.MAX_JOBS_LIMIT}")
            opts["max_jobs"] = int(value)
        elif a.startswith("-"):
            return _usage_error(f"unknown option {a!r}")
        elif not _is_module_name(a) or a.endswith(".py"):
            return _usage_error(f"{a!r} is not a module name: give a dotted module name like myapp.tasks "
                                "(importable from the working directory or PYTHONPATH), not a file path")
        else:
            modules.append(a)
        i += 1
    if not modules:
        return _usage_error("give at least one module whose @task functions to serve")
    return opts, modules


def load(modules):
    """Imports the modules; returns their tasks (name -> function), or None
    after saying on stderr what went wrong."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            sys.stderr.write(f"tickq.handler: cannot import {name}: {runtime.describe_exception(e)}\n")
            return None
    tasks = runtime.registered()
    if not tasks:
        sys.stderr.write(f"tickq.handler: no @task functions in {', '.join(modules)}: decorate each task with "
                         "@task(\"type_name\") (from tickq import task)\n")
        return None
    return tasks


def main(argv=None):
    parsed = parse_args(sys.argv[1:] if argv is None else argv)
    if isinstance(parsed, int):
        return parsed
    opts, modules = parsed
    tasks = load(modules)
    if tasks is None:
        return 1
    if opts["check"]:
        sys.stdout.write("".join(name + "\n" for name in sorted(tasks)))
        return 0
    problem = runtime.fds_problem()
    if problem is not None:
        sys.stderr.write(f"tickq.handler: {problem}: this command is started by a tickq worker from a [handler] "
                         "section (command = python3 -m tickq.handler MODULE), which opens fd 3 and fd 4 for it; "
                         "to list the task types, run it with --check\n")
        return 1
    return runtime.serve(tasks, opts["max_jobs"])


if __name__ == "__main__":
    sys.exit(main())
