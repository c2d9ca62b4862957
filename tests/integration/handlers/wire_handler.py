#!/usr/bin/python3
"""wire_handler.py — a tickq handler written against the raw wire format
(docs/handlers.md: requests on fd 3, messages on fd 4, JSON lines), with
the standard library only, for test_handlers.py. It serves the task types
named on its command line (default: wire) and does per job what
args["do"] says:

  ok                    result {"args", "request", "pid"} (the request's
                        fields without args, and this process's pid)
  retry_then_ok         attempt 1: an error with retry true; later: as ok
  fail                  an error with retry false
  raise                 an exception nobody catches: the process dies
                        with a traceback on stderr
  exit3, segv           a line on stderr, then os._exit(3) / SIGSEGV
  binary_crash          writes the bytes args["stdout_hex"] and
                        args["stderr_hex"] (hex: bytes that are not UTF-8,
                        NUL) and a newline to stdout and stderr, then
                        os._exit(3)
  hang                  waits for the job's cancel message, then replies
                        an error
  hang_ignoring_cancel  starts a child process in its process group (a
                        `sleep`, its pid noted as "child"), reads the cancel
                        message and goes on waiting
  garbage_fd4           writes args["line"] (default: a line that is not
                        JSON) and a newline to fd 4
  raw_lines             writes each of args["lines"] and a newline to fd 4,
                        each "@ID@" in it replaced with the job's id: JSON
                        as given (what json.dumps would not write), then
                        waits for the next request
  stderr_lines_exit     writes args["n"] numbered lines of 60 characters
                        (each with a non-ASCII character) and then
                        args["last"] to stderr, then os._exit(3)
  exit_after_reply      replies as ok, then exits with status 0
  scalar                result data args["value"] (not an object)
  env                   result {"env": {name: value or null}} of the
                        environment variables args["names"]
  fds                   result {"fds": {fd: what it is open on}} for each
                        fd open in this process (/proc/self/fd)
  print_stdout          prints lines tagged args["tag"] on stdout and
                        stderr, and args["bulk"] lines "bulk N ..." of
                        100 characters on stdout, then as ok
  huge                  result {"blob": ~5 MB of text, "sha256": its hash}
  progress              progress 0.25 "quarter", args["fraction"] (default
                        0.5) "half way", then waits for the file args["go"]
                        before replying as ok
  progress_flood        args["n"] progress messages (fraction i/n, message
                        "step i"), then waits for args["go"] as progress

args["note"], when given, names a file this process appends a JSON line to
at each event of the job (job, cancel), with its pid, so that a test sees
what the handler saw."""
import json
import hashlib
import os
import signal
import subprocess
import sys
import time

requests = os.fdopen(3, "r", encoding="utf-8")
replies = os.fdopen(4, "w", encoding="utf-8")


def send(msg):
    replies.write(json.dumps(msg) + "\n")
    replies.flush()


def note(args, event, **fields):
    if args.get("note"):
        with open(args["note"], "a") as f:
            f.write(json.dumps(dict(event=event, pid=os.getpid(), **fields)) + "\n")


def next_message():
    line = requests.readline()
    if not line:
        sys.exit(0)  # tickq closed fd 3: time to go
    return json.loads(line)


def wait_for_cancel(job):
    """Reads until the cancel message for this job; returns its reason."""
    while True:
        m = next_message()
        if m.get("msg") == "cancel" and m.get("id") == job["id"]:
            note(job["args"], "cancel", reason=m["reason"])
            return m["reason"]


def wait_for_file(path):
    while not os.path.exists(path):
        time.sleep(0.01)


def ok(job):
    request = {k: v for k, v in job.items() if k != "args"}
    send({"msg": "result", "id": job["id"], "data": {"args": job["args"], "request": request, "pid": os.getpid()}})


def huge_blob():
    """About 5 MB of text, the same each time, with quotes, backslashes,
    newlines and non-ASCII characters for the JSON on the way to escape."""
    piece = ' "\\/\u00e9\u20ac\n'
    return "".join(hashlib.sha256(str(i).encode()).hexdigest() + piece for i in range(5 * 1024 * 1024 // 71))


def run(job):
    args, do = job["args"], job["args"].get("do", "ok")
    note(args, "job", id=job["id"], attempt=job["attempt"])
    if do == "ok":
        ok(job)
    elif do == "retry_then_ok":
        if job["attempt"] == 1:
            send({"msg": "error", "id": job["id"], "error": "feed busy, try again", "retry": True})
        else:
            ok(job)
    elif do == "fail":
        send({"msg": "error", "id": job["id"], "error": "bad input: no such symbol", "retry": False})
    elif do == "raise":
        raise ValueError("wire_handler raised on purpose")
    elif do == "exit3":
        print("wire_handler: exiting with status 3 on purpose", file=sys.stderr, flush=True)
        os._exit(3)
    elif do == "binary_crash":
        os.write(1, bytes.fromhex(args["stdout_hex"]) + b"\n")
        os.write(2, bytes.fromhex(args["stderr_hex"]) + b"\n")
        os._exit(3)
    elif do == "segv":
        print("wire_handler: about to segfault on purpose", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)
    elif do == "hang":
        reason = wait_for_cancel(job)
        send({"msg": "error", "id": job["id"], "error": f"stopped on {reason}", "retry": False})
    elif do == "hang_ignoring_cancel":
        child = subprocess.Popen(["sleep", "300"])
        note(args, "child", child=child.pid)
        wait_for_cancel(job)
        while True:
            time.sleep(1)
    elif do == "garbage_fd4":
        replies.write(args.get("line", "this is not JSON \x01 <garbage>") + "\n")
        replies.flush()
    elif do == "raw_lines":
        for line in args["lines"]:
            replies.write(line.replace("@ID@", job["id"]) + "\n")
        replies.flush()
    elif do == "stderr_lines_exit":
        for i in range(args["n"]):
            sys.stderr.write(f"stderr line {i:04d} \u20ac ".ljust(60, "x") + "\n")
        sys.stderr.write(args["last"] + "\n")
        sys.stderr.flush()
        os._exit(3)
    elif do == "exit_after_reply":
        ok(job)
        os._exit(0)
    elif do == "fds":
        fds = {}
        for fd in os.listdir("/proc/self/fd"):
            try:
                fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
            except FileNotFoundError:
                pass   # the listing's own fd, closed once it returned
        send({"msg": "result", "id": job["id"], "data": {"fds": fds}})
    elif do == "scalar":
        send({"msg": "result", "id": job["id"], "data": args["value"]})
    elif do == "env":
        send({"msg": "result", "id": job["id"], "data": {"env": {k: os.environ.get(k) for k in args["names"]}}})
    elif do == "print_stdout":
        for i in range(3):
            print(f"stdout line {i} {args['tag']}", flush=True)
            print(f"stderr line {i} {args['tag']}", file=sys.stderr, flush=True)
        for i in range(args.get("bulk", 0)):
            print(f"bulk {i} ".ljust(100, "x"))
        sys.stdout.flush()
        ok(job)
    elif do == "huge":
        blob = huge_blob()
        digest = hashlib.sha256(blob.encode("utf-8")).hexdigest()
        send({"msg": "result", "id": job["id"], "data": {"blob": blob, "sha256": digest}})
    elif do == "progress":
        send({"msg": "progress", "id": job["id"], "fraction": 0.25, "message": "quarter"})
        send({"msg": "progress", "id": job["id"], "fraction": args.get("fraction", 0.5), "message": "half way"})
        wait_for_file(args["go"])
        ok(job)
    elif do == "progress_flood":
        n = args["n"]
        for i in range(1, n + 1):
            send({"msg": "progress", "id": job["id"], "fraction": i / n, "message": f"step {i}"})
        wait_for_file(args["go"])
        ok(job)
    else:
        send({"msg": "error", "id": job["id"], "error": f"unknown do: {do}", "retry": False})


def main():
    types = sys.argv[1:] or ["wire"]
    send({"msg": "hello", "protocol": 1, "types": types})
    while True:
        m = next_message()
        if m.get("msg") == "job":
            run(m)
        # a cancel for a job already answered: nothing to stop


main()
