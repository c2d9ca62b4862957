/* landlock.c — confine a process's file access to reading a few folders
 * (Landlock ABI 1, through its three system calls: glibc has no wrappers). */
#include "strategy/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Every file access right of ABI 1: handled, hence denied unless a rule
 * grants it. */
#define ABI1_ACCESS                                                                                            \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |               \
     LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |            \
     LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |                \
     LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |             \
     LANDLOCK_ACCESS_FS_MAKE_SYM)

int landlock_abi(void)
{
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v > 0 ? (int)v : 0;
}

int landlock_read_only(const char *const *dirs, char *err, size_t errlen)
{
    struct landlock_ruleset_attr attr = { .handled_access_fs = ABI1_ACCESS };
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0) {
        snprintf(err, errlen, "cannot create a Landlock ruleset: %s", strerror(errno));
        return -1;
    }
    for (size_t i = 0; dirs[i] != NULL; i++) {
        int fd = open(dirs[i], O_PATH | O_CLOEXEC | O_DIRECTORY);
        if (fd < 0)
            continue; /* a folder on Python's path that does not exist */
        struct landlock_path_beneath_attr rule = {
            .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
            .parent_fd = fd,
        };
        long rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
        int saved = errno;
        close(fd);
        if (rc != 0) {
            snprintf(err, errlen, "cannot let the sandbox read %s: %s", dirs[i], strerror(saved));
            close(ruleset);
            return -1;
        }
    }
    long rc = syscall(SYS_landlock_restrict_self, ruleset, 0);
    int saved = errno;
    close(ruleset);
    if (rc != 0) {
        snprintf(err, errlen, "cannot apply the Landlock ruleset: %s", strerror(saved));
        return -1;
    }
    return 0;
}
