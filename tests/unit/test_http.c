/* test_http.c — the HTTP server's pieces that need no socket: --http
 * addresses, the loopback rule for the API token, and the token
 * comparison. */
#include <string.h>

#include "http/http_server.h"
#include "unit.h"

TEST(http_bind_parses_port_addr_and_ipv6)
{
    http_bind_t b;
    char err[300];
    CHECK_INT(http_bind_parse("8080", &b, err, sizeof err), 0);
    CHECK_STR(b.text, "127.0.0.1:8080");
    CHECK(http_bind_is_loopback(&b));
    CHECK_INT(http_bind_parse("0.0.0.0:9090", &b, err, sizeof err), 0);
    CHECK_STR(b.text, "0.0.0.0:9090");
    CHECK(!http_bind_is_loopback(&b));
    CHECK_INT(http_bind_parse("localhost:0", &b, err, sizeof err), 0);
    CHECK_STR(b.text, "127.0.0.1:0");
    CHECK_INT(http_bind_parse("127.8.9.10:1", &b, err, sizeof err), 0);
    CHECK(http_bind_is_loopback(&b));
    CHECK_INT(http_bind_parse("[::1]:8080", &b, err, sizeof err), 0);
    CHECK_STR(b.text, "[::1]:8080");
    CHECK(http_bind_is_loopback(&b));
    CHECK_INT(http_bind_parse("[::]:8080", &b, err, sizeof err), 0);
    CHECK(!http_bind_is_loopback(&b));
    static const char *const bad[][2] = {
        { "70000", "from 0 to 65535" }, { "abc", "from 0 to 65535" }, { "127.0.0.1:", "from 0 to 65535" },
        { "example.com:80", "not an IP address" }, { ":80", "not ADDR:PORT" }, { "[::1]80", "not [IPV6]:PORT" },
        { "1.2.3.4:-1", "from 0 to 65535" }, { "1.2.3.4:8o", "from 0 to 65535" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(http_bind_parse(bad[i][0], &b, err, sizeof err), -1);
        CHECK(strstr(err, bad[i][1]) != NULL);
    }
}

TEST(http_token_rule_and_comparison)
{
    http_bind_t local, open;
    char err[300];
    CHECK_INT(http_bind_parse("127.0.0.1:1", &local, err, sizeof err), 0);
    CHECK_INT(http_bind_parse("0.0.0.0:1", &open, err, sizeof err), 0);
    CHECK_INT(http_bind_check_token(&local, NULL, err, sizeof err), 0);
    CHECK_INT(http_bind_check_token(&open, NULL, err, sizeof err), -1);
    CHECK(strstr(err, "TICKQ_API_TOKEN") != NULL);
    CHECK_INT(http_bind_check_token(&open, "", err, sizeof err), -1);
    CHECK_INT(http_bind_check_token(&open, "short", err, sizeof err), -1);
    CHECK(strstr(err, "at least 16") != NULL);
    CHECK_INT(http_bind_check_token(&local, "short", err, sizeof err), -1); /* a weak token is weak anywhere */
    CHECK_INT(http_bind_check_token(&open, "0123456789abcdef", err, sizeof err), 0);
    CHECK(http_token_equal("0123456789abcdef", "0123456789abcdef"));
    CHECK(!http_token_equal("0123456789abcdeX", "0123456789abcdef"));
    CHECK(!http_token_equal("0123456789abcdef0", "0123456789abcdef"));
    CHECK(!http_token_equal("0123456789abcde", "0123456789abcdef"));
    CHECK(!http_token_equal("", "0123456789abcdef"));
    CHECK(!http_token_equal("", ""));
    /* A given token that repeats the real one is no match. */
    CHECK(!http_token_equal("0123456789abcdef0123456789abcdef", "0123456789abcdef"));
}
