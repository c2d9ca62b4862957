/* without_landlock.c — run a command as on a kernel without Landlock.
 *
 *   without_landlock COMMAND [ARGS...]
 *
 * Installs a seccomp filter that makes the three Landlock system calls
 * fail with ENOSYS (what a kernel built without Landlock answers), then
 * executes COMMAND; the filter holds for it and everything it starts. The
 * integration tests use it to see tickq refuse Python strategies there
 * (a fault this machine's kernel cannot produce otherwise). */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: without_landlock COMMAND [ARGS...]\n");
        return 64;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    static const char *const calls[] = { "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self" };
    for (size_t i = 0; ctx != NULL && i < sizeof calls / sizeof calls[0]; i++) {
        int nr = seccomp_syscall_resolve_name(calls[i]);
        if (nr == __NR_SCMP_ERROR || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) != 0) {
            fprintf(stderr, "without_landlock: cannot filter %s\n", calls[i]);
            return 70;
        }
    }
    if (ctx == NULL || seccomp_load(ctx) != 0) {
        fprintf(stderr, "without_landlock: cannot install the filter\n");
        return 70;
    }
    seccomp_release(ctx);
    execvp(argv[1], argv + 1);
    perror("without_landlock: exec");
    return 127;
}
