/* test_sandbox.c — the sandbox child, with native code standing in for
 * untrusted code: system calls it must not make (files, sockets, fork,
 * exec, clone3) are trapped and reported by name, its rlimits and time zone
 * are the sandbox's, its descriptors are only the pipes, its output is
 * captured apart from its result, and the wall-clock limit kills it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "strategy/sandbox.h"
#include "unit.h"

static int write_result(const char *s)
{
    ssize_t w = write(SANDBOX_RESULT_FD, s, strlen(s));
    return w == (ssize_t)strlen(s) ? 0 : 3;
}

static int opens_a_file(void *ctx)
{
    (void)ctx;
    int fd = open("/etc/hostname", O_RDONLY);
    return write_result(fd >= 0 ? "opened" : "refused");
}

static int opens_a_socket(void *ctx)
{
    (void)ctx;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    return write_result(fd >= 0 ? "socket" : "refused");
}

static int forks(void *ctx)
{
    (void)ctx;
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    return write_result(p > 0 ? "forked" : "refused");
}

static char *const no_argv[] = { "true", NULL };
static char *const no_envp[] = { NULL };

static int execs(void *ctx)
{
    (void)ctx;
    execve("/bin/true", no_argv, no_envp);
    return write_result("refused");
}

/* Raw system calls: libc may not wrap them, and the filter must trap them
 * whatever their arguments. */
static int execs_at(void *ctx)
{
    (void)ctx;
    long rc = syscall(SYS_execveat, AT_FDCWD, "/bin/true", no_argv, no_envp, 0);
    return write_result(rc == 0 ? "executed" : "refused");
}

#ifndef SYS_clone3
#define SYS_clone3 435 /* the same number on every architecture that has it */
#endif

static int clones3(void *ctx)
{
    (void)ctx;
    long rc = syscall(SYS_clone3, NULL, (size_t)0);
    return write_result(rc >= 0 ? "cloned" : "refused");
}

/* The limits the child runs under, and its time zone, as text. */
static int reports_limits(void *ctx)
{
    (void)ctx;
    static const int which[] = { RLIMIT_CPU, RLIMIT_CORE, RLIMIT_NOFILE, RLIMIT_FSIZE };
    char buf[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < sizeof which / sizeof which[0]; i++) {
        struct rlimit r;
        if (getrlimit(which[i], &r) != 0)
            return write_result("getrlimit failed");
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%llu/%llu ", (unsigned long long)r.rlim_cur,
                                 (unsigned long long)r.rlim_max);
    }
    const char *tz = getenv("TZ");
    snprintf(buf + used, sizeof buf - used, "TZ=%s %s/%s", tz ? tz : "(unset)", tzname[0], tzname[1]);
    return write_result(buf);
}

static int counts_descriptors(void *ctx)
{
    (void)ctx;
    int open_fds = 0;
    for (int fd = 0; fd < 1024; fd++)
        open_fds += fcntl(fd, F_GETFD) != -1;
    char buf[32];
    snprintf(buf, sizeof buf, "%d", open_fds);
    printf("printed, not the result\n");
    fflush(stdout);
    return write_result(buf);
}

static int spins(void *ctx)
{
    (void)ctx;
    for (;;)
        pause();
    return 0;
}

/* Closes its output and result pipes, then sleeps (no CPU time: RLIMIT_CPU
 * never ends it) for longer than its wall limit. */
static int closes_its_pipes_and_sleeps(void *ctx)
{
    (void)ctx;
    close(1);
    close(2);
    close(SANDBOX_RESULT_FD);
    sleep(3);
    return 0;
}

static void run(sandbox_fn fn, int64_t wall_ms, sandbox_outcome_t *out)
{
    sandbox_limits_t lim = { .wall_ms = wall_ms, .cpu_seconds = 5 };
    char err[256];
    CHECK_INT(sandbox_run(&lim, fn, NULL, out, err, sizeof err), 0);
}

TEST(sandbox_traps_files_sockets_and_fork)
{
    sandbox_outcome_t o;
    run(opens_a_file, 5000, &o);
    CHECK_STR(o.violation, "openat");
    CHECK(o.result_len == 0);
    sandbox_outcome_free(&o);
    run(opens_a_socket, 5000, &o);
    CHECK_STR(o.violation, "socket");
    sandbox_outcome_free(&o);
    run(forks, 5000, &o);
    CHECK(strcmp(o.violation, "clone") == 0 || strcmp(o.violation, "fork") == 0 ||
          strcmp(o.violation, "clone3") == 0);
    sandbox_outcome_free(&o);
}

TEST(sandbox_traps_exec_and_clone3)
{
    static const struct { sandbox_fn fn; const char *call; } cases[] = {
        { execs, "execve" }, { execs_at, "execveat" }, { clones3, "clone3" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sandbox_outcome_t o;
        run(cases[i].fn, 5000, &o);
        CHECK_STR(o.violation, cases[i].call);
        CHECK_INT(o.exit_code, 121); /* ended by the SIGSYS handler, not by the call returning */
        CHECK_INT(o.result_len, 0);
        sandbox_outcome_free(&o);
    }
}

/* run() gives 5 CPU seconds: RLIMIT_CPU is that, with a hard limit one
 * second above (SIGXCPU first); no core files, no file growth, and no
 * descriptor beyond the three standard ones and the result pipe. The time
 * zone is UTC, set before the filter so that nothing opens /etc/localtime. */
TEST(sandbox_sets_rlimits_and_utc)
{
    /* The worker's own zone is something else, so an inherited one shows. */
    const char *old = getenv("TZ");
    char saved[128];
    snprintf(saved, sizeof saved, "%s", old ? old : "");
    setenv("TZ", "XYZ3", 1);
    tzset();
    sandbox_outcome_t o;
    run(reports_limits, 5000, &o);
    CHECK_STR(o.violation, "");
    CHECK_INT(o.exit_code, 0);
    CHECK_STR(o.result, "5/6 0/0 4/4 0/0 TZ=UTC UTC/UTC");
    sandbox_outcome_free(&o);
    if (old != NULL)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
}

TEST(sandbox_keeps_only_its_pipes_and_captures_output)
{
    int extra = open("/dev/null", O_RDONLY); /* a descriptor the child must not inherit */
    sandbox_outcome_t o;
    run(counts_descriptors, 5000, &o);
    CHECK_STR(o.violation, "");
    CHECK_STR(o.result, "4"); /* 0-2 and the result pipe */
    CHECK(o.output != NULL && strstr(o.output, "printed, not the result") != NULL);
    CHECK_INT(o.exit_code, 0);
    sandbox_outcome_free(&o);
    close(extra);
}

TEST(sandbox_kills_at_the_wall_limit)
{
    sandbox_outcome_t o;
    run(spins, 150, &o);
    CHECK(o.timed_out);
    CHECK(o.elapsed_ms >= 150 && o.elapsed_ms < 3000);
    sandbox_outcome_free(&o);
}

TEST(sandbox_kills_at_the_wall_limit_after_its_pipes_closed)
{
    sandbox_outcome_t o;
    run(closes_its_pipes_and_sleeps, 150, &o);
    CHECK(o.timed_out);
    CHECK(o.elapsed_ms >= 150 && o.elapsed_ms < 2000);
    sandbox_outcome_free(&o);
}

/* --- the Python profile ------------------------------------------------- */

static const char *const read_dirs[] = { "/usr/share/zoneinfo", NULL };

/* Reads a file below the readable folder, then tries one outside it. */
static int reads_inside_only(void *ctx)
{
    (void)ctx;
    char buf[64];
    int in = open("/usr/share/zoneinfo/UTC", O_RDONLY);
    int out = open("/etc/hostname", O_RDONLY);
    snprintf(buf, sizeof buf, "inside=%s outside=%s", in >= 0 ? "read" : "refused",
             out >= 0 ? "read" : errno == EACCES ? "EACCES" : "other");
    return write_result(buf);
}

static int opens_for_writing(void *ctx)
{
    (void)ctx;
    int fd = open("/usr/share/zoneinfo/UTC", O_WRONLY);
    return write_result(fd >= 0 ? "opened" : "refused");
}

static int signals_another_process(void *ctx)
{
    (void)ctx;
    int rc = kill(getppid(), 0);
    return write_result(rc == 0 ? "signalled" : "refused");
}

/* Reads the kept descriptor, then allocates past the address-space cap. */
static int reads_kept_fd_and_allocates(void *ctx)
{
    size_t extra = *(const size_t *)ctx;
    char buf[64] = "";
    ssize_t n = pread(SANDBOX_KEEP_FD, buf, sizeof buf - 1, 0);
    char *big = malloc(2 * extra);
    char msg[160];
    snprintf(msg, sizeof msg, "kept=%.*s big=%s", n > 0 ? (int)n : 0, buf, big != NULL ? "allocated" : "refused");
    free(big);
    return write_result(msg);
}

/* A file's metadata, which Landlock does not guard: each call (raw, as a
 * strategy reaching the kernel past Python would make it) is trapped. The
 * file is a readable one of the test's own (were a call let through, only
 * it changes): the filter, not a permission, must refuse. */
static char g_meta_dir[64], g_meta_file[80];

static int changes_metadata(void *ctx)
{
    const char *which = ctx;
    const char *path = g_meta_file;
    long rc = -1;
    if (strcmp(which, "setxattr") == 0)
        rc = syscall(SYS_setxattr, path, "user.tickq", "1", (size_t)1, 0);
    else if (strcmp(which, "fsetxattr") == 0)
        rc = syscall(SYS_fsetxattr, open(path, O_RDONLY), "user.tickq", "1", (size_t)1, 0);
    else if (strcmp(which, "removexattr") == 0)
        rc = syscall(SYS_removexattr, path, "system.posix_acl_access");
    else if (strcmp(which, "utimensat") == 0)
        rc = syscall(SYS_utimensat, AT_FDCWD, path, NULL, 0);
    else if (strcmp(which, "setxattrat") == 0)
        rc = syscall(463, AT_FDCWD, path, 0, "user.tickq", NULL, (size_t)0);
    else if (strcmp(which, "fchmodat2") == 0)
        rc = syscall(452, AT_FDCWD, path, 0777, 0);
    else if (strncmp(which, "ioctl", 5) == 0) { /* its own flags back, on a descriptor opened read-only */
        int fd = open(path, O_RDONLY);
        long flags = 0;
        unsigned long cmd = 0x40086602UL; /* FS_IOC_SETFLAGS */
        if (strcmp(which, "ioctl_high") == 0)
            cmd |= 0xffffffff00000000UL; /* the kernel reads 32 bits of it */
        (void)ioctl(fd, 0x80086601UL /* FS_IOC_GETFLAGS */, &flags);
        rc = syscall(SYS_ioctl, fd, cmd, &flags);
    }
    return write_result(rc == 0 ? "changed" : "refused");
}

/* A SIGSYS handler of its own (which would silence the trap), installed
 * with the signal's number in the low 32 bits of the register only, as
 * the kernel reads it. */
static int handles_sigsys_high(void *ctx)
{
    (void)ctx;
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        unsigned long mask;
    } sa = { (void *)SIG_IGN, 0, NULL, 0 };
    long rc = syscall(SYS_rt_sigaction, 0xffffffff00000000UL | SIGSYS, &sa, NULL, sizeof sa.mask);
    return write_result(rc == 0 ? "installed" : "refused");
}

static void run_python(sandbox_fn fn, void *ctx, int keep_fd, size_t extra, sandbox_outcome_t *out)
{
    char err[256];
    sandbox_limits_t lim = { .wall_ms = 5000, .cpu_seconds = 5, .read_dirs = read_dirs,
                             .address_space_extra = extra, .keep_fd = keep_fd };
    CHECK_INT(sandbox_run(&lim, fn, ctx, out, err, sizeof err), 0);
}

TEST(sandbox_python_profile_reads_only_below_its_folders)
{
    sandbox_outcome_t o;
    run_python(reads_inside_only, NULL, 0, 0, &o);
    CHECK_STR(o.violation, "");
    CHECK_STR(o.result, "inside=read outside=EACCES");
    sandbox_outcome_free(&o);
    run_python(opens_for_writing, NULL, 0, 0, &o);
    CHECK_STR(o.violation, "openat");
    sandbox_outcome_free(&o);
    run_python(signals_another_process, NULL, 0, 0, &o);
    CHECK_STR(o.violation, "kill");
    sandbox_outcome_free(&o);
    run_python(handles_sigsys_high, NULL, 0, 0, &o);
    CHECK_STR(o.violation, "rt_sigaction");
    sandbox_outcome_free(&o);
    /* Lua's profile opens nothing at all. */
    sandbox_limits_t lim = { .wall_ms = 5000, .cpu_seconds = 5 };
    char err[256];
    CHECK_INT(sandbox_run(&lim, reads_inside_only, NULL, &o, err, sizeof err), 0);
    CHECK_STR(o.violation, "openat");
    sandbox_outcome_free(&o);
}

TEST(sandbox_python_profile_keeps_its_fd_and_caps_the_address_space)
{
    int fd = memfd_create("unit", MFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_INT(write(fd, "code", 4), 4);
    size_t extra = (size_t)64 << 20;
    sandbox_outcome_t o;
    run_python(reads_kept_fd_and_allocates, &extra, fd, extra, &o);
    CHECK_STR(o.violation, "");
#if defined(__SANITIZE_ADDRESS__)
    CHECK_STR(o.result, "kept=code big=allocated"); /* no RLIMIT_AS under ASan */
#else
    CHECK_STR(o.result, "kept=code big=refused");
#endif
    sandbox_outcome_free(&o);
    close(fd);
}

TEST(sandbox_python_profile_traps_metadata_changes)
{
    static const char *const calls[] = { "setxattr", "fsetxattr", "removexattr", "utimensat", "setxattrat",
                                         "fchmodat2", "ioctl", "ioctl_high" };
    snprintf(g_meta_dir, sizeof g_meta_dir, "/tmp/tickq-unit-XXXXXX");
    CHECK(mkdtemp(g_meta_dir) != NULL);
    snprintf(g_meta_file, sizeof g_meta_file, "%s/f", g_meta_dir);
    int fd = open(g_meta_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    close(fd);
    const char *const dirs[] = { g_meta_dir, NULL };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        sandbox_outcome_t o;
        char err[256];
        sandbox_limits_t lim = { .wall_ms = 5000, .cpu_seconds = 5, .read_dirs = dirs };
        CHECK_INT(sandbox_run(&lim, changes_metadata, (void *)calls[i], &o, err, sizeof err), 0);
        CHECK(o.exit_code == 121 && o.violation[0] != '\0');
        /* each named, those libseccomp 2.5 has no name for too */
        const char *want = strncmp(calls[i], "ioctl", 5) == 0 ? "ioctl" : calls[i];
        CHECK_STR(o.violation, want);
        CHECK_STR(o.result, "");
        sandbox_outcome_free(&o);
    }
    unlink(g_meta_file);
    rmdir(g_meta_dir);
}
