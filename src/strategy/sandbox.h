/* sandbox.h — run untrusted code in a locked-down child process.
 *
 * sandbox_run forks a child that keeps only three descriptors (stdout and
 * stderr go to an output pipe, fd 3 to a result pipe), dies with its parent,
 * has rlimits (CPU seconds, no core files, no new descriptors, no file
 * writes) and a seccomp filter that traps what untrusted code never needs:
 * opening files, sockets, exec, fork/clone, ptrace, filesystem changes. A
 * trapped system call ends the child and is reported by name. The Python
 * profile (read_dirs) lets the child open files read-only, only below the
 * given folders (Landlock, landlock.h), where Python's lazily imported
 * modules live, and also traps signals to other processes and timers. The parent
 * reads both pipes and kills the child at the wall-clock limit. */
#ifndef TICKQ_SANDBOX_H
#define TICKQ_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SANDBOX_RESULT_FD 3
#define SANDBOX_OUTPUT_MAX (64 * 1024)
#define SANDBOX_RESULT_MAX (256u * 1024 * 1024)

/* A descriptor the child keeps (sandbox_limits_t.keep_fd) arrives as this. */
#define SANDBOX_KEEP_FD 4

typedef struct {
    int64_t wall_ms;             /* killed after this long */
    int cpu_seconds;             /* RLIMIT_CPU (a backstop for the wall limit) */
    /* The Python profile (all zero for Lua's, which opens no file at all): */
    const char *const *read_dirs; /* NULL-terminated: files under these may be opened read-only (Landlock),
                                   * nothing else; NULL: opening any file is trapped */
    size_t address_space_extra;  /* > 0: RLIMIT_AS at the child's address space + this (not under ASan) */
    int keep_fd;                 /* > 0: kept open in the child as SANDBOX_KEEP_FD (0 is never one) */
} sandbox_limits_t;

typedef struct {
    int exit_code;               /* the child's exit status, -1 if killed */
    int term_signal;             /* the signal that ended it, 0 if none */
    int timed_out;               /* killed at the wall limit (or by RLIMIT_CPU) */
    int setup_failed;            /* the sandbox itself failed, before the untrusted code ran (its
                                  * result holds an "internal" envelope: worth a retry) */
    char violation[64];          /* the trapped system call, "" if none */
    char *result;                /* what the child wrote to fd 3 (NUL-terminated) */
    size_t result_len;
    int result_truncated;        /* over SANDBOX_RESULT_MAX */
    char *output;                /* what it printed (NUL-terminated, truncated) */
    size_t output_len;
    int output_truncated;
    int64_t elapsed_ms;
} sandbox_outcome_t;

/* The body run in the child, after the lockdown: write to
 * SANDBOX_RESULT_FD, return the exit status. */
typedef int (*sandbox_fn)(void *ctx);

/* Runs fn(ctx) in a sandbox child. Returns 0 with *out filled (whatever the
 * child did), or -1 with err when the sandbox could not be set up. */
int sandbox_run(const sandbox_limits_t *limits, sandbox_fn fn, void *ctx, sandbox_outcome_t *out,
                char *err, size_t errlen);
void sandbox_outcome_free(sandbox_outcome_t *out);

/* In a child, before the untrusted code runs: ends it with an "internal"
 * envelope ({"ok": false, "kind": "internal", "message": why}; why is
 * tickq's own text, no quotes) and setup_failed set. */
_Noreturn void sandbox_setup_failed(const char *why);
/* In a child, right before the untrusted code runs: from here on nothing
 * can set setup_failed (its page is gone). */
void sandbox_setup_done(void);

/* A sandbox child forked ahead of its run: it waits, before any lockdown,
 * for its limits and a request, so that the fork and the child's first
 * page faults are paid before the request comes (the Python host keeps one
 * ready). Its run ends as soon as it has closed its pipes after a result
 * (a process with a large address space takes milliseconds to go away):
 * it is then killed for certain and left to sandbox_reap. */
typedef struct sandbox_spare sandbox_spare_t;
typedef int (*sandbox_request_fn)(void *ctx, const char *request, size_t len);

/* Forks the child, which calls forked() (may be NULL) at once, locks
 * itself down as far as it can without the run's limits (the profile:
 * read_dirs as sandbox_limits_t's, Python's when not NULL), and calls
 * fn(ctx, request, len) after the rest of the lockdown. 0, or -1 with err. */
int sandbox_spare_fork(sandbox_spare_t **sp, const char *const *read_dirs, void (*forked)(void),
                       sandbox_request_fn fn, void *ctx, char *err, size_t errlen);
/* Starts the spare with these limits (keep_fd passed along; read_dirs is
 * the spare's own, from its fork) and request. A spare runs once. 0, or
 * -1 with err (the child is gone). */
int sandbox_spare_start(sandbox_spare_t *sp, const sandbox_limits_t *lim, const char *request, size_t len, char *err,
                        size_t errlen);
/* Its outcome, as sandbox_run's. */
void sandbox_spare_wait(sandbox_spare_t *sp, sandbox_outcome_t *out);
/* Frees the spare (an unused one ends); returns the pid still to reap
 * with sandbox_reap, 0 when none. NULL is fine. */
pid_t sandbox_spare_release(sandbox_spare_t *sp);
/* Reaps pid: 1 when it is gone (or was not a child), 0 when it has not
 * ended yet (wait 0). */
int sandbox_reap(pid_t pid, int wait);

#endif
