/* test_sandbox.c — the sandbox child, with native code standing in for
 * untrusted code: system calls it must not make are trapped and reported
 * by name, its descriptors are only the pipes, its output is captured apart
 * from its result, and the wall-clock limit kills it. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox.h"
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

static void run(sandbox_fn fn, int64_t wall_ms, sandbox_outcome_t *out)
{
    sandbox_limits_t lim = { wall_ms, 5 };
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
