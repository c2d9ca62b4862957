/* redis_url.c — fuzz target: the Redis URL parser (src/redis_url.c), as
 * REDIS_URL and --redis-url reach it.
 *
 * Input: the URL text (cut at a NUL). Properties: a refused URL has a
 * message; an accepted one has a usable shape (a host and a port in range,
 * or an absolute socket path; a database number in range), and its
 * description for logs never depends on the password. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "core/redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_strndup(data, size);
    redis_url_t u;
    char err[1024] = "";
    if (redis_url_parse(url, &u, err, sizeof err) != 0) {
        if (err[0] == '\0')
            fuzz_fail("refused without a message");
        free(url);
        return 0;
    }
    if (u.is_unix ? u.path[0] != '/' : u.host[0] == '\0')
        fuzz_fail("accepted without a %s", u.is_unix ? "socket path" : "host");
    if (u.port < 1 || u.port > 65535 || u.db < 0 || u.db > 1000000)
        fuzz_fail("port %d or db %d out of range", u.port, u.db);
    if (memchr(u.host, '\0', sizeof u.host) == NULL || memchr(u.path, '\0', sizeof u.path) == NULL ||
        memchr(u.user, '\0', sizeof u.user) == NULL || memchr(u.password, '\0', sizeof u.password) == NULL)
        fuzz_fail("a field is not terminated");

    /* The description masks the password: another password, the same text. */
    char a[8192], b[8192];
    redis_url_describe(&u, a, sizeof a);
    redis_url_t other = u;
    snprintf(other.password, sizeof other.password, "%s", u.password[0] == 'x' ? "y" : "x");
    if (u.password[0] == '\0')
        other.password[0] = '\0';
    redis_url_describe(&other, b, sizeof b);
    if (strcmp(a, b) != 0)
        fuzz_fail("the description shows the password: '%s' vs '%s'", a, b);
    free(url);
    return 0;
}
