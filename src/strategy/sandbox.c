/* sandbox.c — run untrusted code in a locked-down child process.
 *
 * Order in the child matters: everything that needs a file (the time zone,
 * /dev/null) is done before the seccomp filter; descriptors are closed and
 * limits set before the untrusted code runs; the child leaves with _exit so
 * that nothing inherited (stdio buffers, atexit handlers of the worker) runs.
 * In the Python profile Landlock comes before seccomp (its calls would be
 * trapped after) and RLIMIT_AS is set from the address space at the fork.
 * Trapped system calls arrive as SIGSYS; the handler records the call in a
 * page shared with the parent and exits. */
#include "strategy/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/fscrypt.h>
#include <linux/fsverity.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdio.h"
#include "core/worker_metrics.h"
#include "strategy/landlock.h"

#define EXIT_VIOLATION 121

/* Shared between parent and child: the number of a trapped system call,
 * and whether the sandbox itself failed. The second lives on a page of its
 * own, which the child unmaps before the untrusted code runs
 * (sandbox_setup_done): no code of the strategy's can claim a failure of
 * the sandbox's (worth a retry), however it reaches its own memory. */
typedef struct {
    volatile int syscall_nr;
} shared_t;

typedef struct {
    volatile int failed;
} setup_page_t;

static shared_t *g_shared;
static setup_page_t *g_setup;   /* in the child, until sandbox_setup_done */

static void on_sigsys(int sig, siginfo_t *info, void *uctx)
{
    (void)sig;
    (void)uctx;
    if (g_shared != NULL)
        g_shared->syscall_nr = info->si_syscall;
    _exit(EXIT_VIOLATION);
}

/* System calls strategy code never needs. Everything else (memory,
 * reading and writing the descriptors it has, time, exit) stays allowed. */
static const char *const denied[] = {
    "openat2", "creat", "open_by_handle_at", "name_to_handle_at",
    "socket", "socketpair", "connect", "accept", "accept4", "bind", "listen",
    "sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg",
    "execve", "execveat", "fork", "vfork", "clone", "clone3",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2",
    "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat", "chown", "fchown",
    "lchown", "fchownat", "truncate", "mknod", "mknodat", "chdir", "fchdir", "chroot",
    "mount", "umount2", "pivot_root", "setns", "unshare", "swapon", "swapoff", "reboot",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "bpf", "perf_event_open", "userfaultfd", "memfd_create", "io_uring_setup",
    "keyctl", "add_key", "request_key", "quotactl", "acct", "personality",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
    "inotify_init", "inotify_init1", "fanotify_init", "pidfd_open", "pidfd_getfd",
    /* A file's metadata, which Landlock does not guard: extended attributes
     * (system.posix_acl_access is a chmod: an owner's file made
     * world-writable), times, and the mode through fchmodat2 */
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "setxattrat",
    "removexattrat", "file_setattr", "utime", "utimes", "utimensat", "futimesat", "fchmodat2",
    /* Writing back every dirty page of every file system of the host: no
     * privilege needed, and in a loop the host's disks (Redis's, the
     * database's) do little else */
    "sync", "syncfs",
    /* System V IPC and message queues: state that outlives the process,
     * memory outside its limits */
    "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
    "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive",
    "mq_notify", "mq_getsetattr",
};

/* Opening a file: trapped in Lua's profile; in Python's only for writing
 * (deny_writing_opens), Landlock deciding where it may read. */
static const char *const denied_open[] = { "open", "openat" };

/* Also trapped in the Python profile: signals to other processes, timers,
 * limits, priorities and placement of other processes (a Python strategy
 * reaches them through os, signal and resource; a Lua one cannot). */
static const char *const denied_python[] = {
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal",
    "alarm", "setitimer", "timer_create", "setrlimit", "setpriority", "sched_setscheduler",
    "sched_setparam", "sched_setattr", "sched_setaffinity", "ioprio_set", "migrate_pages", "move_pages",
    "get_robust_list", "syslog",
};

/* fcntl and ioctl commands that make the kernel signal a process chosen
 * by the caller (F_SETOWN and its kin, O_ASYNC) or type into a terminal:
 * a strategy could end its whole process group with SIGIO. And the ioctls
 * that change a file it may only read (Landlock does not guard them, and
 * the owner needs no capability for them: under a worker run as root, the
 * files of Python's own folders): its inode flags, project and version,
 * fs-verity and encryption. */
static const unsigned long denied_fcntl[] = { F_SETOWN, F_SETOWN_EX, F_SETSIG, F_SETLEASE, F_NOTIFY };
static const unsigned long denied_ioctl[] = {
    FIOSETOWN, SIOCSPGRP, FIOASYNC, TIOCSPGRP, TIOCSTI,
    FS_IOC_SETFLAGS, FS_IOC32_SETFLAGS, FS_IOC_SETVERSION, FS_IOC32_SETVERSION, FS_IOC_FSSETXATTR,
    FS_IOC_SETFSLABEL, FS_IOC_ENABLE_VERITY, FS_IOC_SET_ENCRYPTION_POLICY,
};

/* Flags that make an open more than a read. */
static const unsigned long write_flags[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, __O_TMPFILE };

/* Calls newer than the libseccomp a build may have (2.5.4 knows none of
 * these): from Linux 5.1 on, a new call has the same number on every
 * architecture (x86_64, arm64 ...). */
static const struct {
    const char *name;
    int nr;
} newer[] = {
    { "fchmodat2", 452 }, { "setxattrat", 463 }, { "removexattrat", 466 }, { "file_setattr", 469 },
};

/* The name of a call number: libseccomp's, else newer[]'s; NULL for
 * none (malloc'd otherwise). */
static char *syscall_name(int nr)
{
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    for (size_t i = 0; name == NULL && i < sizeof newer / sizeof newer[0]; i++)
        if (newer[i].nr == nr)
            name = strdup(newer[i].name);
    return name;
}

static int syscall_number(const char *name)
{
    int nr = seccomp_syscall_resolve_name(name);
    for (size_t i = 0; nr == __NR_SCMP_ERROR && i < sizeof newer / sizeof newer[0]; i++)
        if (strcmp(newer[i].name, name) == 0)
            nr = newer[i].nr;
    return nr;
}

static int deny_all(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int nr = syscall_number(names[i]);
        if (nr != __NR_SCMP_ERROR) /* else not on this architecture */
            rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, nr, 0);
    }
    return rc;
}

/* Argument `arg` of a system call compared by `op` with `v` (and with
 * mask `v` for SCMP_CMP_MASKED_EQ, whose value is `w`). libseccomp's
 * SCMP_An() macros leave the second datum out of their initializer, which
 * clang's -Wmissing-field-initializers refuses (make fuzz builds with clang). */
static struct scmp_arg_cmp arg_cmp(unsigned int arg, enum scmp_compare op, scmp_datum_t v, scmp_datum_t w)
{
    return (struct scmp_arg_cmp){ .arg = arg, .op = op, .datum_a = v, .datum_b = w };
}

/* prlimit64 setting a limit (getrlimit reads through it, with no new
 * limit), a handler for SIGSYS (which would silence the trap), and the
 * fcntl and ioctl commands above. */
static int deny_python_conditional(scmp_filter_ctx ctx)
{
    int rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(prlimit64), 1, arg_cmp(2, SCMP_CMP_NE, 0, 0));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(rt_sigaction), 2,
                              arg_cmp(0, SCMP_CMP_MASKED_EQ, 0xffffffffUL, SIGSYS), /* an int to the kernel */
                              arg_cmp(1, SCMP_CMP_NE, 0, 0));
    /* The kernel takes fcntl's and ioctl's command as 32 bits: the upper
     * ones of the register must not slip a command past an equality. */
    for (size_t i = 0; i < sizeof denied_fcntl / sizeof denied_fcntl[0] && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(fcntl), 1,
                              arg_cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffUL, denied_fcntl[i]));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(fcntl), 2,
                              arg_cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffUL, F_SETFL),
                              arg_cmp(2, SCMP_CMP_MASKED_EQ, O_ASYNC, O_ASYNC));
    for (size_t i = 0; i < sizeof denied_ioctl / sizeof denied_ioctl[0] && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(ioctl), 1,
                              arg_cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffUL, denied_ioctl[i]));
    return rc;
}

/* open and openat, trapped when their flags (argument `arg`) ask for more
 * than reading: one rule per flag, as the rules of a call are or-ed. */
static int deny_writing_opens(scmp_filter_ctx ctx)
{
    int rc = 0;
    for (size_t i = 0; i < sizeof write_flags / sizeof write_flags[0] && rc == 0; i++) {
        unsigned long f = write_flags[i];
        rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(open), 1, arg_cmp(1, SCMP_CMP_MASKED_EQ, f, f));
        if (rc == 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(openat), 1, arg_cmp(2, SCMP_CMP_MASKED_EQ, f, f));
    }
    return rc;
}

/* The filters are compiled once per process (libseccomp takes about half a
 * millisecond to build one) and installed in each child with prctl:
 * [0] Lua's, [1] Python's. */
#define FILTER_PROG_MAX 4096
static struct sock_fprog g_filter[2];
static struct sock_filter g_prog[2][FILTER_PROG_MAX];

static int compile_filter(int python)
{
    if (g_filter[python].filter != NULL)
        return 0;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL)
        return -1;
    int rc = deny_all(ctx, denied, sizeof denied / sizeof denied[0]);
    if (rc == 0 && !python)
        rc = deny_all(ctx, denied_open, sizeof denied_open / sizeof denied_open[0]);
    if (rc == 0 && python)
        rc = deny_all(ctx, denied_python, sizeof denied_python / sizeof denied_python[0]);
    if (rc == 0 && python)
        rc = deny_writing_opens(ctx);
    if (rc == 0 && python)
        rc = deny_python_conditional(ctx);
    /* libseccomp exports the program to a descriptor: a pipe will do, it
     * is a few hundred bytes. */
    int fds[2] = { -1, -1 };
    if (rc == 0 && pipe2(fds, O_CLOEXEC) == 0 && seccomp_export_bpf(ctx, fds[1]) == 0) {
        close(fds[1]);
        fds[1] = -1;
        struct sock_filter *prog = g_prog[python];
        size_t got = 0, max = sizeof g_prog[python];
        ssize_t r;
        while (got < max && (r = read(fds[0], (char *)prog + got, max - got)) > 0)
            got += (size_t)r;
        if (got > 0 && got % sizeof prog[0] == 0 && got < max) {
            g_filter[python].len = (unsigned short)(got / sizeof prog[0]);
            g_filter[python].filter = prog;
        }
    }
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    seccomp_release(ctx);
    return g_filter[python].filter != NULL ? 0 : -1;
}

static int install_filter(int python)
{
    if (g_filter[python].filter == NULL)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &g_filter[python], 0, 0) == 0 ? 0 : -1;
}

static void set_limit(int resource, rlim_t soft, rlim_t hard)
{
    struct rlimit r = { soft, hard };
    setrlimit(resource, &r);
}

/* Under AddressSanitizer the address space is terabytes of shadow: no
 * RLIMIT_AS there (the memory cases are reported as skipped, as for Lua). */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

#ifndef SANDBOX_ASAN
/* The child's address space in bytes (VmSize), from /proc: 0 if unknown. */
static size_t address_space(void)
{
    FILE *f = fopen("/proc/self/statm", "re");
    unsigned long pages = 0;
    if (f != NULL) {
        if (fscanf(f, "%lu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}
#endif

static _Noreturn void refuse_internal(const char *why)
{
    char msg[600];
    if (g_setup != NULL)
        g_setup->failed = 1;
    int n = snprintf(msg, sizeof msg, "{\"ok\":false,\"kind\":\"internal\",\"message\":\"%s\"}", why);
    ssize_t w = write(SANDBOX_RESULT_FD, msg, n > 0 && (size_t)n < sizeof msg ? (size_t)n : 0);
    (void)w;
    _exit(1);
}

#define SANDBOX_GO_FD 5        /* a spare child's socket, while it waits */

#ifndef SANDBOX_ASAN
static size_t g_address_space;  /* the child's, taken before Landlock hides /proc */
#endif

/* Lockdown, first part: all that the run's own limits do not change, so
 * that a spare child (sandbox_spare_fork) does it before its request
 * comes. Leaves descriptors 0-3 (and keep_fd as SANDBOX_KEEP_FD, go as
 * SANDBOX_GO_FD, when given), the OOM killer's first choice, no core
 * files, no file writes, UTC, default signals, no_new_privs and, for
 * Python (read_dirs), Landlock. Returns the highest descriptor kept. */
static int lockdown_prepare(const char *const *read_dirs, int out_w, int res_w, pid_t parent, int keep_fd, int go)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    worker_metrics_forget(); /* the worker's numbers are not the strategy's to write */
    /* Out of the way first: keep_fd and go may be any of 0-5. */
    int keep = keep_fd > 0 ? fcntl(keep_fd, F_DUPFD, 10) : -1;
    int go_high = go > 0 ? fcntl(go, F_DUPFD, 10) : -1;
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(out_w, 1);
    dup2(out_w, 2);
    dup2(res_w, SANDBOX_RESULT_FD);
    int last = SANDBOX_RESULT_FD;
    if (keep >= 0 && dup2(keep, SANDBOX_KEEP_FD) == SANDBOX_KEEP_FD)
        last = SANDBOX_KEEP_FD;
    else
        close(SANDBOX_KEEP_FD); /* whatever the parent had there (a spare gets its keep_fd later) */
    if (go_high >= 0 && dup2(go_high, SANDBOX_GO_FD) == SANDBOX_GO_FD)
        last = SANDBOX_GO_FD;
    /* Only these survive: no Redis, database or log descriptor of the worker. */
    if (close_range((unsigned)last + 1, ~0U, 0) != 0) {
        for (int fd = last + 1; fd < 65536; fd++)
            close(fd);
    }
    /* The first process the kernel kills when memory runs out is a
     * strategy's, not its worker's or Redis's (raising the score needs no
     * privilege). Best effort: without /proc the memory limit still holds. */
    int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (oom >= 0) {
        ssize_t wrote = write(oom, "1000", 4);
        (void)wrote;
        close(oom);
    }
    set_limit(RLIMIT_CORE, 0, 0);
    set_limit(RLIMIT_FSIZE, 0, 0);
#ifndef SANDBOX_ASAN
    g_address_space = read_dirs != NULL ? address_space() : 0;
    if (read_dirs != NULL && g_address_space == 0)
        refuse_internal("cannot read the address space size (the memory limit's base)");
#endif
    /* A session of its own (Python): nothing of the worker's process group
     * is addressed through it. */
    if (read_dirs != NULL)
        setsid();
    setenv("TZ", "UTC", 1);
    tzset();

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSYS, &sa, NULL);
    sa.sa_flags = 0;
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        refuse_internal("cannot set no_new_privs");
    char err[300];
    if (read_dirs != NULL && landlock_read_only(read_dirs, err, sizeof err) != 0)
        refuse_internal("cannot confine file access with Landlock");
    /* No capability either (a worker run as root has them all): limits
     * cannot be raised, priorities not taken, whatever the filter lets by. */
    struct __user_cap_header_struct caps_header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
    memset(caps, 0, sizeof caps);
    if (syscall(SYS_capset, &caps_header, caps) != 0)
        refuse_internal("cannot drop capabilities");
    return last;
}

/* Lockdown, second part: the run's limits, then the filter. */
static void lockdown_finish(const sandbox_limits_t *lim, int python, int last)
{
    /* Python reads its lazily imported modules' files: a few at a time. */
    rlim_t nofile = python ? 64 : (rlim_t)last + 1;
    set_limit(RLIMIT_NOFILE, nofile, nofile);
    if (lim->cpu_seconds > 0)
        set_limit(RLIMIT_CPU, (rlim_t)lim->cpu_seconds, (rlim_t)lim->cpu_seconds + 1);
#ifndef SANDBOX_ASAN
    if (lim->address_space_extra > 0) {
        if (g_address_space == 0)
            g_address_space = address_space(); /* (sandbox_run's Lua children never read it) */
        if (g_address_space == 0)
            refuse_internal("cannot read the address space size (the memory limit's base)");
        rlim_t as = (rlim_t)(g_address_space + lim->address_space_extra);
        set_limit(RLIMIT_AS, as, as);
    }
#endif
    if (install_filter(python) != 0)
        refuse_internal("cannot install the seccomp filter");
}

/* The child of sandbox_run: lock down, run, leave. */
static _Noreturn void child(const sandbox_limits_t *lim, sandbox_fn fn, void *ctx, int out_w, int res_w, pid_t parent)
{
    int last = lockdown_prepare(lim->read_dirs, out_w, res_w, parent, lim->keep_fd, -1);
    lockdown_finish(lim, lim->read_dirs != NULL, last);
    _exit(fn(ctx));
}

typedef struct {
    char *buf;
    size_t len, cap, max;
    int truncated;
} sink_t;

static void sink_add(sink_t *s, const char *data, size_t n)
{
    if (s->len + n > s->max) {
        s->truncated = 1;
        n = s->max > s->len ? s->max - s->len : 0;
    }
    if (n == 0)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        /* Not realloc: the old block is cleared before it is freed (a
         * Python host forks its next evaluation from its own memory, which
         * must not hold this one's result). */
        char *p = malloc(cap);
        if (p == NULL) {
            s->truncated = 1;
            return;
        }
        if (s->buf != NULL) {
            memcpy(p, s->buf, s->len);
            explicit_bzero(s->buf, s->len);
            free(s->buf);
        }
        s->buf = p;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
}

/* Reads what is ready on fd into s; 0 at EOF, 1 if it may have more. */
static int drain(int fd, sink_t *s)
{
    char chunk[65536];
    size_t used = 0;
    int more;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            sink_add(s, chunk, (size_t)n);
            used = used > (size_t)n ? used : (size_t)n;
            continue;
        }
        more = n < 0 && (errno == EINTR || errno == EAGAIN);
        break;
    }
    explicit_bzero(chunk, used); /* (as sink_add's old blocks) */
    return more;
}

/* A sandbox child being set up or run: its pipes and status page. */
typedef struct {
    pid_t pid;
    int out_r, out_w, res_r, res_w;
    shared_t *shared;
    setup_page_t *setup;
} proc_t;

static void proc_close(proc_t *p)
{
    int *fds[4] = { &p->out_r, &p->out_w, &p->res_r, &p->res_w };
    for (int i = 0; i < 4; i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
    if (p->shared != NULL)
        munmap(p->shared, sizeof *p->shared);
    if (p->setup != NULL)
        munmap(p->setup, sizeof *p->setup);
    p->shared = NULL;
    p->setup = NULL;
}

/* The pipes and the status page of a child about to be forked. */
static int proc_open(proc_t *p, int python, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->out_r = p->out_w = p->res_r = p->res_w = -1;
    if (compile_filter(python) != 0) {
        snprintf(err, errlen, "cannot build the seccomp filter");
        return -1;
    }
    int outp[2], resp[2];
    if (pipe2(outp, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot create the sandbox pipes: %s", strerror(errno));
        return -1;
    }
    p->out_r = outp[0];
    p->out_w = outp[1];
    if (pipe2(resp, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot create the sandbox pipes: %s", strerror(errno));
        proc_close(p);
        return -1;
    }
    p->res_r = resp[0];
    p->res_w = resp[1];
    p->shared = mmap(NULL, sizeof *p->shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p->shared == MAP_FAILED) {
        p->shared = NULL;
        snprintf(err, errlen, "cannot map the sandbox status page: %s", strerror(errno));
        proc_close(p);
        return -1;
    }
    p->shared->syscall_nr = -1;
    p->setup = mmap(NULL, sizeof *p->setup, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p->setup == MAP_FAILED) {
        p->setup = NULL;
        snprintf(err, errlen, "cannot map the sandbox status page: %s", strerror(errno));
        proc_close(p);
        return -1;
    }
    p->setup->failed = 0;
    return 0;
}

/* In the parent, after the fork: its ends of the pipes only. */
static void proc_forked(proc_t *p)
{
    close(p->out_w);
    close(p->res_w);
    p->out_w = p->res_w = -1;
    fcntl(p->out_r, F_SETFL, O_NONBLOCK);
    fcntl(p->res_r, F_SETFL, O_NONBLOCK);
    /* A larger result pipe: big results cross in fewer wakeups (best effort). */
    fcntl(p->res_r, F_SETPIPE_SZ, 1 << 20);
}

/* Waits for the child until deadline (monotonic ms) and kills it there: a
 * child that closed its pipes is still under its time limit (one that
 * then sleeps uses no CPU time, so RLIMIT_CPU never ends it). 1 when it
 * had to be killed. Its status in *status, its pid reaped. */
static int wait_until(pid_t pid, int *status, int64_t deadline)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* -1 on an old kernel: polled then */
    int killed = 0;
    for (;;) {
        pid_t done = waitpid(pid, status, WNOHANG);
        if (done != 0 && !(done < 0 && errno == EINTR))
            break;
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = 1;
            while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        int ms = left > 100 ? 100 : (int)left;
        if (pidfd >= 0) {
            struct pollfd pf = { pidfd, POLLIN, 0 };
            poll(&pf, 1, ms);
        } else {
            struct timespec ts = { 0, 1000000 }; /* 1 ms */
            nanosleep(&ts, NULL);
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    return killed;
}

/* Reads the child's pipes until both close or the wall limit, then its
 * status. early: a child that closed both pipes after writing a result
 * has finished (a process with a large address space takes milliseconds
 * to end): it is killed for certain and left for sandbox_reap, and its
 * status taken as a clean exit, or a trapped call if its page says so. */
static void proc_watch(proc_t *p, const sandbox_limits_t *lim, int64_t start, int early, sandbox_outcome_t *out)
{
    sink_t output = { NULL, 0, 0, SANDBOX_OUTPUT_MAX, 0 }, result = { NULL, 0, 0, SANDBOX_RESULT_MAX, 0 };
    int open_out = 1, open_res = 1, killed = 0;
    while (open_out || open_res) {
        int64_t left = lim->wall_ms - (clock_mono_ms() - start);
        if (left <= 0) {
            kill(p->pid, SIGKILL);
            killed = 1;
            break;
        }
        struct pollfd fds[2] = { { open_out ? p->out_r : -1, POLLIN, 0 }, { open_res ? p->res_r : -1, POLLIN, 0 } };
        int n = poll(fds, 2, left > 100 ? 100 : (int)left);
        if (n < 0 && errno != EINTR) { /* cannot watch it: do not wait for it either */
            kill(p->pid, SIGKILL);
            break;
        }
        if (open_out && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
            open_out = drain(p->out_r, &output);
        if (open_res && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
            open_res = drain(p->res_r, &result);
    }
    int status = 0;
    int ended_early = early && !killed && !open_out && !open_res && result.len > 0;
    pid_t done = p->pid;
    if (ended_early) {
        while ((done = waitpid(p->pid, &status, WNOHANG)) < 0 && errno == EINTR) {
        }
    } else if (killed) {
        while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
        }
    } else if (wait_until(p->pid, &status, start + lim->wall_ms)) {
        killed = 1; /* its pipes closed, but it went on past the limit */
    }
    if (done == 0) { /* ended early, still going away: killed for certain, reaped later (sandbox_reap) */
        kill(p->pid, SIGKILL);
        status = p->shared->syscall_nr >= 0 ? EXIT_VIOLATION << 8 : 0;
    } else {
        p->pid = 0;
    }
    /* Whatever arrived after the last poll. */
    drain(p->out_r, &output);
    drain(p->res_r, &result);
    out->elapsed_ms = clock_mono_ms() - start;
    if (WIFEXITED(status))
        out->exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        out->term_signal = WTERMSIG(status);
    out->timed_out = killed || out->term_signal == SIGXCPU;
    out->setup_failed = p->setup->failed;
    if (out->exit_code == EXIT_VIOLATION && p->shared->syscall_nr >= 0) {
        char *name = syscall_name(p->shared->syscall_nr);
        if (name != NULL)
            snprintf(out->violation, sizeof out->violation, "%s", name);
        else
            snprintf(out->violation, sizeof out->violation, "number %d", p->shared->syscall_nr);
        free(name);
    }
    out->result = result.buf ? result.buf : strdup("");
    out->result_len = result.len;
    out->result_truncated = result.truncated;
    out->output = output.buf ? output.buf : strdup("");
    out->output_len = output.len;
    out->output_truncated = output.truncated;
}

int sandbox_run(const sandbox_limits_t *lim, sandbox_fn fn, void *ctx, sandbox_outcome_t *out,
                char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->exit_code = -1;
    proc_t p;
    if (proc_open(&p, lim->read_dirs != NULL, err, errlen) != 0)
        return -1;
    int64_t start = clock_mono_ms();
    pid_t parent = getpid();
    p.pid = fork();
    if (p.pid == 0) {
        g_shared = p.shared;
        g_setup = p.setup;
        close(p.out_r);
        close(p.res_r);
        child(lim, fn, ctx, p.out_w, p.res_w, parent);
    }
    if (p.pid < 0) {
        snprintf(err, errlen, "cannot fork the sandbox: %s", strerror(errno));
        proc_close(&p);
        return -1;
    }
    proc_forked(&p);
    proc_watch(&p, lim, start, 0, out);
    proc_close(&p);
    return 0;
}

/* --- a child forked ahead ------------------------------------------------ */

/* What the parent sends a spare child to start it. */
typedef struct {
    sandbox_limits_t lim;        /* (read_dirs unused: the spare's profile is fixed at its fork) */
    uint64_t request_len;
} go_t;

struct sandbox_spare {
    proc_t proc;                 /* proc.pid: the child, 0 once reaped */
    int go;                      /* the parent's end of the socket the child waits on */
    sandbox_limits_t lim;        /* of its run, from sandbox_spare_start */
    int64_t start;
};



/* The spare child: locks down what it can, waits for its limits and
 * request (the parent gone or the socket closed: leaves), then finishes
 * the lockdown and runs. */
static _Noreturn void spare_child(const char *const *read_dirs, int go, const proc_t *p, sandbox_request_fn fn,
                                  void *ctx, pid_t parent)
{
    g_shared = p->shared;
    g_setup = p->setup;
    int last = lockdown_prepare(read_dirs, p->out_w, p->res_w, parent, -1, go);
    go = SANDBOX_GO_FD;
    go_t g;
    int fd = -1;
    ssize_t r = fdio_recv_with_fd(go, &g, sizeof g, MSG_WAITALL, &fd);
    if (r == 0)
        _exit(0); /* the parent closed the socket: this spare is not needed */
    if (r != (ssize_t)sizeof g)
        refuse_internal("cannot read the sandbox's request");
    if (fd >= 0 && fd != SANDBOX_KEEP_FD) {
        if (dup2(fd, SANDBOX_KEEP_FD) != SANDBOX_KEEP_FD)
            refuse_internal("cannot keep the sandbox's descriptor");
        close(fd);
    }
    char *request = malloc(g.request_len + 1);
    if (request == NULL)
        refuse_internal("out of memory for the sandbox's request");
    size_t got = 0;
    while (got < g.request_len) {
        r = read(go, request + got, g.request_len - got);
        if (r == 0 || (r < 0 && errno != EINTR))
            refuse_internal("cannot read the sandbox's request");
        if (r > 0)
            got += (size_t)r;
    }
    request[got] = '\0';
    close(go);
    lockdown_finish(&g.lim, read_dirs != NULL, last > SANDBOX_KEEP_FD ? last : SANDBOX_KEEP_FD);
    _exit(fn(ctx, request, got));
}

int sandbox_spare_fork(sandbox_spare_t **out, const char *const *read_dirs, void (*forked)(void),
                       sandbox_request_fn fn, void *ctx, char *err, size_t errlen)
{
    *out = NULL;
    sandbox_spare_t *sp = calloc(1, sizeof *sp);
    if (sp == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (proc_open(&sp->proc, read_dirs != NULL, err, errlen) != 0) {
        free(sp);
        return -1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(err, errlen, "cannot create the sandbox's socket: %s", strerror(errno));
        proc_close(&sp->proc);
        free(sp);
        return -1;
    }
    pid_t parent = getpid();
    sp->proc.pid = fork();
    if (sp->proc.pid == 0) {
        close(sv[0]);
        close(sp->proc.out_r);
        close(sp->proc.res_r);
        if (forked != NULL)
            forked();
        spare_child(read_dirs, sv[1], &sp->proc, fn, ctx, parent);
    }
    close(sv[1]);
    if (sp->proc.pid < 0) {
        snprintf(err, errlen, "cannot fork the sandbox: %s", strerror(errno));
        close(sv[0]);
        proc_close(&sp->proc);
        free(sp);
        return -1;
    }
    sp->go = sv[0];
    proc_forked(&sp->proc);
    *out = sp;
    return 0;
}

int sandbox_spare_start(sandbox_spare_t *sp, const sandbox_limits_t *lim, const char *request, size_t len, char *err,
                        size_t errlen)
{
    go_t g = { *lim, len };
    sp->lim = *lim;
    struct iovec v = { &g, sizeof g };
    sp->start = clock_mono_ms();
    ssize_t w = fdio_send_with_fd(sp->go, &v, 1, lim->keep_fd > 0 ? lim->keep_fd : -1);
    size_t off = 0;
    while (w == (ssize_t)sizeof g && off < len) {
        ssize_t k = send(sp->go, request + off, len - off, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            w = -1;
            break;
        }
        off += (size_t)k;
    }
    close(sp->go);
    sp->go = -1;
    if (w != (ssize_t)sizeof g) {
        snprintf(err, errlen, "cannot start the sandbox child: %s", strerror(errno));
        kill(sp->proc.pid, SIGKILL);
        while (waitpid(sp->proc.pid, NULL, 0) < 0 && errno == EINTR) {
        }
        sp->proc.pid = 0;
        return -1;
    }
    return 0;
}

void sandbox_spare_wait(sandbox_spare_t *sp, sandbox_outcome_t *out)
{
    memset(out, 0, sizeof *out);
    out->exit_code = -1;
    proc_watch(&sp->proc, &sp->lim, sp->start, 1, out);
}

pid_t sandbox_spare_release(sandbox_spare_t *sp)
{
    if (sp == NULL)
        return 0;
    if (sp->go >= 0)
        close(sp->go); /* an unused spare leaves when its socket closes */
    pid_t pid = sp->proc.pid;
    if (pid > 0)
        kill(pid, SIGKILL);
    proc_close(&sp->proc);
    free(sp);
    return pid > 0 ? pid : 0;
}

int sandbox_reap(pid_t pid, int wait)
{
    int rc;
    while ((rc = waitpid(pid, NULL, wait ? 0 : WNOHANG)) < 0 && errno == EINTR) {
    }
    return rc == 0 ? 0 : 1; /* reaped, or not ours any more */
}

void sandbox_setup_failed(const char *why)
{
    refuse_internal(why);
}

void sandbox_setup_done(void)
{
    if (g_setup != NULL)
        munmap((void *)g_setup, sizeof *g_setup);
    g_setup = NULL;
}

void sandbox_outcome_free(sandbox_outcome_t *out)
{
    if (out->result != NULL)
        explicit_bzero(out->result, out->result_len);
    if (out->output != NULL)
        explicit_bzero(out->output, out->output_len);
    free(out->result);
    free(out->output);
    out->result = out->output = NULL;
}
