/* huge_pages.c — a worker's malloc memory in transparent huge pages
 * (huge_pages.h).
 *
 * A worker forks a sandbox child for every strategy job. With malloc's
 * memory (the bar cache and the warm Lua state: 180 MB for 500 symbols) in
 * transparent huge pages, that fork and the child's exit copy and free one
 * page-table entry per 2 MB instead of 512 (make bench-strategy: a
 * 500-symbol screening 55 -> 47 ms, a 100-symbol backtest 14 -> 10 ms).
 * glibc takes the setting from GLIBC_TUNABLES only when a process starts,
 * hence one exec. The marker variable carries the user's own value across
 * it ("-": none), and its presence means "executed already": the exec
 * happens at most once, whatever glibc made of the tunables (under secure
 * execution it erases them). */
#include "cmd/huge_pages.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#define TUNABLES "GLIBC_TUNABLES"
#define HUGETLB "glibc.malloc.hugetlb"
#define MARKER "TICKQ_USER_GLIBC_TUNABLES"
#define TEXT_MAX 4096            /* the longest GLIBC_TUNABLES handled; a longer one: no exec */

/* In the executed program: the user's GLIBC_TUNABLES back as it was. */
static void restore_user_tunables(const char *marker)
{
    if (marker[0] == '+')
        setenv(TUNABLES, marker + 1, 1);
    else
        unsetenv(TUNABLES);
    unsetenv(MARKER);
}

/* 1 when path names the dynamic loader (tickq started as
 * "ld-linux-x86-64.so.2 ./tickq worker"): executing it again with tickq's
 * argv would not run tickq. */
static int is_loader(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    return strncmp(base, "ld-", 3) == 0 || strncmp(base, "ld.so", 5) == 0;
}

void huge_pages_exec(char **argv)
{
    const char *marker = getenv(MARKER);
    if (marker != NULL) {
        char copy[TEXT_MAX + 2];
        snprintf(copy, sizeof copy, "%s", marker); /* restoring unsets the marker's own storage */
        restore_user_tunables(copy);
        return;
    }
    const char *user_tunables = getenv(TUNABLES);
    if ((user_tunables != NULL && strstr(user_tunables, HUGETLB) != NULL) || getauxval(AT_SECURE) != 0)
        return;
    /* By its path, not /proc/self/exe: a process takes its name (ps,
     * pgrep) from the file executed. */
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return;
    self[len] = '\0';
    if (is_loader(self))
        return;
    char tunables[TEXT_MAX], saved[TEXT_MAX + 2]; /* saved: '+' or '-', the user's value */
    int n = snprintf(tunables, sizeof tunables, "%s%s" HUGETLB "=1", user_tunables ? user_tunables : "",
                     user_tunables ? ":" : "");
    int m = snprintf(saved, sizeof saved, "%s%s", user_tunables ? "+" : "-", user_tunables ? user_tunables : "");
    if (n < 0 || (size_t)n >= sizeof tunables || m < 0 || (size_t)m >= sizeof saved)
        return;
    if (setenv(MARKER, saved, 1) == 0 && setenv(TUNABLES, tunables, 1) == 0)
        execv(self, argv);
    restore_user_tunables(saved); /* not executed: as it was */
}
