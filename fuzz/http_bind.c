/* http_bind.c — fuzz target: the address `--http` takes
 * (src/http/http_server.c, http_bind_parse), and the token rule of a bind
 * beyond loopback (http_bind_check_token).
 *
 * Input: the text after --http.
 *
 * Properties: a refusal has a message; an accepted address is IPv4 or
 * IPv6 with a port from 0 to 65535, its normalised text parses again to
 * the same address; a loopback bind needs no token, any other refuses
 * none with a message and takes a long one. */
#include <arpa/inet.h>

#include "fuzz.h"
#include "http/http_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int port_of(const http_bind_t *b)
{
    if (b->addr.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&b->addr)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)&b->addr)->sin6_port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = fuzz_strndup(data, size);
    http_bind_t b, again;
    char err[512] = "";
    if (http_bind_parse(spec, &b, err, sizeof err) != 0) {
        if (err[0] == '\0')
            fuzz_fail("'%s' refused without a message", spec);
        free(spec);
        return 0;
    }
    if (b.addr.ss_family != AF_INET && b.addr.ss_family != AF_INET6)
        fuzz_fail("'%s' gave address family %d", spec, b.addr.ss_family);
    if (http_bind_parse(b.text, &again, err, sizeof err) != 0)
        fuzz_fail("'%s' normalised to '%s', which is refused: %s", spec, b.text, err);
    if (again.addr.ss_family != b.addr.ss_family || again.len != b.len || memcmp(&again.addr, &b.addr, b.len) != 0 ||
        port_of(&again) != port_of(&b) || strcmp(again.text, b.text) != 0)
        fuzz_fail("'%s' normalised to '%s', which parses to another address", spec, b.text);
    err[0] = '\0';
    int none = http_bind_check_token(&b, NULL, err, sizeof err);
    if (http_bind_is_loopback(&b) ? none != 0 : (none != -1 || err[0] == '\0'))
        fuzz_fail("'%s': the token rule answered %d ('%s') for a bind %s loopback", spec, none, err,
                  http_bind_is_loopback(&b) ? "on" : "beyond");
    if (http_bind_check_token(&b, "0123456789abcdef0123456789abcdef", err, sizeof err) != 0)
        fuzz_fail("'%s': a 32-character token is refused: %s", spec, err);
    free(spec);
    return 0;
}
