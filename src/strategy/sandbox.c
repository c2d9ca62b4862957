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
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "strategy/landlock.h"

#define EXIT_VIOLATION 121

/* Shared between parent and child: the number of a trapped system call. */
typedef struct {
    volatile int syscall_nr;
} shared_t;

static shared_t *g_shared;

static void on_sigsys(int sig, siginfo_t *info, void *uctx)
{
    (void)sig;
    (void)uctx;
    if (g_shared != NULL)
        g_shared->syscall_nr = info->si_syscall;
    _exit(EXIT_VIOLATION);
}

/* System calls strategy code never needs. Everything else (memory,
 * reading and writing the descriptors it has, time, exit) stays allowed.
 * The first two are allowed read-only in the Python profile. */
static const char *const denied[] = {
    "open", "openat", "openat2", "creat", "open_by_handle_at", "name_to_handle_at",
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
};
#define READ_ONLY_OPENS 2        /* denied[0..1]: open, openat */

/* Also trapped in the Python profile: signals to other processes and
 * timers (a Python strategy reaches them through os and signal; a Lua one
 * cannot). */
static const char *const denied_python[] = {
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal",
    "alarm", "setitimer", "timer_create",
};

/* Flags that make an open more than a read. */
static const unsigned long write_flags[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, __O_TMPFILE };

static int deny_all(scmp_filter_ctx ctx, const char *const *names, size_t n, size_t from)
{
    int rc = 0;
    for (size_t i = from; i < n && rc == 0; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr != __NR_SCMP_ERROR) /* else not on this architecture */
            rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, nr, 0);
    }
    return rc;
}

/* open and openat, trapped when their flags (argument `arg`) ask for more
 * than reading: one rule per flag, as the rules of a call are or-ed. */
static int deny_writing_opens(scmp_filter_ctx ctx)
{
    int rc = 0;
    for (size_t i = 0; i < sizeof write_flags / sizeof write_flags[0] && rc == 0; i++) {
        unsigned long f = write_flags[i];
        rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(open), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, f, f));
        if (rc == 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(openat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, f, f));
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
    size_t n = sizeof denied / sizeof denied[0];
    int rc = deny_all(ctx, denied, n, python ? READ_ONLY_OPENS : 0);
    if (rc == 0 && python)
        rc = deny_all(ctx, denied_python, sizeof denied_python / sizeof denied_python[0], 0);
    if (rc == 0 && python)
        rc = deny_writing_opens(ctx);
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

/* The child: lock down, run, leave. Never returns. */
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

static void refuse_internal(const char *why)
{
    char msg[600];
    int n = snprintf(msg, sizeof msg, "{\"ok\":false,\"kind\":\"internal\",\"message\":\"%s\"}", why);
    ssize_t w = write(SANDBOX_RESULT_FD, msg, n > 0 && (size_t)n < sizeof msg ? (size_t)n : 0);
    (void)w;
    _exit(1);
}

/* The child: lock down, run, leave. Never returns. */
static void child(const sandbox_limits_t *lim, sandbox_fn fn, void *ctx, int out_w, int res_w, pid_t parent)
{
    int python = lim->read_dirs != NULL;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    /* Out of the way first: keep_fd may be any of 0-4. */
    int keep = lim->keep_fd > 0 ? fcntl(lim->keep_fd, F_DUPFD, 10) : -1;
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(out_w, 1);
    dup2(out_w, 2);
    dup2(res_w, SANDBOX_RESULT_FD);
    int last = SANDBOX_RESULT_FD;
    if (keep >= 0 && dup2(keep, SANDBOX_KEEP_FD) == SANDBOX_KEEP_FD)
        last = SANDBOX_KEEP_FD;
    /* Only these survive: no Redis, database or log descriptor of the worker. */
    if (close_range((unsigned)last + 1, ~0U, 0) != 0) {
        for (int fd = last + 1; fd < 65536; fd++)
            close(fd);
    }
    set_limit(RLIMIT_CORE, 0, 0);
    set_limit(RLIMIT_FSIZE, 0, 0);
    /* Python reads its lazily imported modules' files: a few at a time. */
    rlim_t nofile = python ? 64 : (rlim_t)last + 1;
    set_limit(RLIMIT_NOFILE, nofile, nofile);
    if (lim->cpu_seconds > 0)
        set_limit(RLIMIT_CPU, (rlim_t)lim->cpu_seconds, (rlim_t)lim->cpu_seconds + 1);
#ifndef SANDBOX_ASAN
    if (lim->address_space_extra > 0) {
        size_t now = address_space();
        rlim_t as = now > 0 ? (rlim_t)(now + lim->address_space_extra) : RLIM_INFINITY;
        set_limit(RLIMIT_AS, as, as);
    }
#endif
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
    if (python && landlock_read_only(lim->read_dirs, err, sizeof err) != 0)
        refuse_internal("cannot confine file access with Landlock");
    if (install_filter(python) != 0)
        refuse_internal("cannot install the seccomp filter");
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
        char *p = realloc(s->buf, cap);
        if (p == NULL) {
            s->truncated = 1;
            return;
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
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            sink_add(s, chunk, (size_t)n);
            continue;
        }
        if (n == 0)
            return 0;
        return errno == EINTR || errno == EAGAIN ? 1 : 0;
    }
}

int sandbox_run(const sandbox_limits_t *lim, sandbox_fn fn, void *ctx, sandbox_outcome_t *out,
                char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->exit_code = -1;
    if (compile_filter(lim->read_dirs != NULL) != 0) {
        snprintf(err, errlen, "cannot build the seccomp filter");
        return -1;
    }
    int outp[2], resp[2];
    if (pipe2(outp, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot create the sandbox pipes: %s", strerror(errno));
        return -1;
    }
    if (pipe2(resp, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot create the sandbox pipes: %s", strerror(errno));
        close(outp[0]);
        close(outp[1]);
        return -1;
    }
    shared_t *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        snprintf(err, errlen, "cannot map the sandbox status page: %s", strerror(errno));
        close(outp[0]);
        close(outp[1]);
        close(resp[0]);
        close(resp[1]);
        return -1;
    }
    shared->syscall_nr = -1;
    int64_t start = clock_mono_ms();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        g_shared = shared;
        close(outp[0]);
        close(resp[0]);
        child(lim, fn, ctx, outp[1], resp[1], parent);
    }
    close(outp[1]);
    close(resp[1]);
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork the sandbox: %s", strerror(errno));
        close(outp[0]);
        close(resp[0]);
        munmap(shared, sizeof *shared);
        return -1;
    }
    fcntl(outp[0], F_SETFL, O_NONBLOCK);
    fcntl(resp[0], F_SETFL, O_NONBLOCK);
    /* A larger result pipe: big results cross in fewer wakeups (best effort). */
    fcntl(resp[0], F_SETPIPE_SZ, 1 << 20);
    sink_t output = { NULL, 0, 0, SANDBOX_OUTPUT_MAX, 0 }, result = { NULL, 0, 0, SANDBOX_RESULT_MAX, 0 };
    int open_out = 1, open_res = 1, killed = 0;
    while (open_out || open_res) {
        int64_t left = lim->wall_ms - (clock_mono_ms() - start);
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        struct pollfd p[2] = { { open_out ? outp[0] : -1, POLLIN, 0 }, { open_res ? resp[0] : -1, POLLIN, 0 } };
        int n = poll(p, 2, left > 100 ? 100 : (int)left);
        if (n < 0 && errno != EINTR) { /* cannot watch it: do not wait for it either */
            kill(pid, SIGKILL);
            break;
        }
        if (open_out && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            open_out = drain(outp[0], &output);
        if (open_res && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
            open_res = drain(resp[0], &result);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    /* Whatever arrived after the last poll. */
    drain(outp[0], &output);
    drain(resp[0], &result);
    close(outp[0]);
    close(resp[0]);
    out->elapsed_ms = clock_mono_ms() - start;
    if (WIFEXITED(status))
        out->exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        out->term_signal = WTERMSIG(status);
    out->timed_out = killed || out->term_signal == SIGXCPU;
    if (out->exit_code == EXIT_VIOLATION && shared->syscall_nr >= 0) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, shared->syscall_nr);
        snprintf(out->violation, sizeof out->violation, "%s", name ? name : "a forbidden system call");
        free(name);
    }
    munmap(shared, sizeof *shared);
    out->result = result.buf ? result.buf : strdup("");
    out->result_len = result.len;
    out->result_truncated = result.truncated;
    out->output = output.buf ? output.buf : strdup("");
    out->output_len = output.len;
    out->output_truncated = output.truncated;
    return 0;
}

void sandbox_outcome_free(sandbox_outcome_t *out)
{
    free(out->result);
    free(out->output);
    out->result = out->output = NULL;
}
