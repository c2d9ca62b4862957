/* test_http.c — the HTTP server's pieces that need no socket: --http
 * addresses, the loopback rule for the API token, the token comparison,
 * the browser guard's Host and Origin rules, and quoting a value in a
 * message. */
#include <string.h>

#include "core/errmsg.h"
#include "http/http_guard.h"
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

TEST(http_loopback_host_is_a_literal_loopback_name_only)
{
    static const char *const yes[] = {
        "localhost", "LOCALHOST:8080", "127.0.0.1", "127.0.0.1:8080", "127.1.2.3:1", "127.255.255.255",
        "[::1]", "[::1]:65535", "127.0.0.1:0",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!http_guard_host_is_loopback(yes[i]))
            unit_fail(__FILE__, __LINE__, "'%s' should be a loopback name", yes[i]);
    /* DNS names that start like a loopback address: a rebinding attack's */
    static const char *const no[] = {
        "127.0.0.1.evil.com", "127.0.0.1.evil.com:8080", "127.evil.com", "127.0.0.1evil", "localhost.evil.com",
        "localhost.", "evil.example", "128.0.0.1", "127.0.0.256", "127.0.0", "127.0.0.1.2", "127..0.1", "127.0.0.1:",
        "127.0.0.1:99999", "127.0.0.1:80x", "127.0.0.1:8080:1", "[::1]x", "[::2]", "[::ffff:127.0.0.1]", "", ":80",
        "1270.0.0.1", "127.0.0.-1",
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (http_guard_host_is_loopback(no[i]))
            unit_fail(__FILE__, __LINE__, "'%s' should not be a loopback name", no[i]);
}

TEST(http_origin_is_own_by_scheme_host_and_port)
{
    CHECK(http_guard_origin_is_own("http://127.0.0.1:8080", "127.0.0.1:8080"));
    CHECK(http_guard_origin_is_own("HTTP://LocalHost:8080", "localhost:8080"));
    CHECK(http_guard_origin_is_own("http://[::1]:9", "[::1]:9"));
    CHECK(http_guard_origin_is_own("http://127.0.0.1", "127.0.0.1:80"));    /* no port: 80 */
    CHECK(http_guard_origin_is_own("http://127.0.0.1:80", "127.0.0.1"));
    CHECK(!http_guard_origin_is_own("http://127.0.0.1:3000", "127.0.0.1:8080")); /* another port of this host */
    CHECK(!http_guard_origin_is_own("http://127.0.0.1", "127.0.0.1:8080"));
    CHECK(http_guard_origin_is_own("https://tickq.example", "tickq.example"));  /* behind a TLS proxy: 443 */
    CHECK(http_guard_origin_is_own("https://tickq.example:443", "tickq.example"));
    CHECK(!http_guard_origin_is_own("https://tickq.example", "tickq.example:80")); /* another port */
    CHECK(!http_guard_origin_is_own("https://127.0.0.1:3000", "127.0.0.1:8080"));
    CHECK(!http_guard_origin_is_own("ftp://127.0.0.1:8080", "127.0.0.1:8080"));    /* another scheme */
    CHECK(!http_guard_origin_is_own("http://localhost:8080", "127.0.0.1:8080")); /* another host */
    CHECK(!http_guard_origin_is_own("http://evil.example", "127.0.0.1:8080"));
    CHECK(!http_guard_origin_is_own("null", "127.0.0.1:8080"));
    CHECK(!http_guard_origin_is_own("http://127.0.0.1:8080/", "127.0.0.1:8080"));
    CHECK(!http_guard_origin_is_own("http://127.0.0.1:8080", NULL));
    CHECK(!http_guard_origin_is_own("127.0.0.1:8080", "127.0.0.1:8080"));
}

TEST(errmsg_quote_cuts_a_long_value_saying_so)
{
    char out[ERRMSG_QUOTE_MAX];
    CHECK_STR(errmsg_quote("AAPL", out, sizeof out), "'AAPL'");
    char forty[41], long_one[48];
    memset(forty, 'A', 40), forty[40] = '\0';
    memset(long_one, 'A', 47), long_one[47] = '\0';
    char want[100];
    snprintf(want, sizeof want, "'%s'", forty);
    CHECK_STR(errmsg_quote(forty, out, sizeof out), want);
    snprintf(want, sizeof want, "'%s\u2026' (47 characters)", forty);
    CHECK_STR(errmsg_quote(long_one, out, sizeof out), want);
    /* cut at a whole character: 45 two-byte characters */
    char wide[91];
    for (int i = 0; i < 45; i++)
        memcpy(wide + 2 * i, "\u00e9", 2);
    wide[90] = '\0';
    errmsg_quote(wide, out, sizeof out);
    CHECK(strstr(out, "(45 characters)") != NULL);
    CHECK_INT(strstr(out, "\u2026") - out, 1 + 80);
}

TEST(http_guard_check_says_why)
{
    char why[300];
    CHECK_INT(http_guard_check("127.0.0.1:8080", NULL, 0, why, sizeof why), 0);
    CHECK_INT(http_guard_check("127.0.0.1:8080", "http://127.0.0.1:8080", 0, why, sizeof why), 0);
    CHECK_INT(http_guard_check(NULL, NULL, 0, why, sizeof why), 0); /* HTTP/1.0, no Host: no browser */
    CHECK_INT(http_guard_check("127.0.0.1:8080", "http://127.0.0.1:3000", 0, why, sizeof why), 403);
    CHECK(strstr(why, "cross-origin requests are refused (Origin http://127.0.0.1:3000") != NULL);
    CHECK_INT(http_guard_check(NULL, "http://127.0.0.1:3000", 1, why, sizeof why), 403);
    CHECK_INT(http_guard_check("127.0.0.1.evil.com", NULL, 0, why, sizeof why), 403);
    CHECK(strstr(why, "Host '127.0.0.1.evil.com' is not a loopback name") != NULL);
    /* with a token: any Host, but still only its own Origin */
    CHECK_INT(http_guard_check("tickq.internal:8080", NULL, 1, why, sizeof why), 0);
    CHECK_INT(http_guard_check("tickq.internal:8080", "http://tickq.internal:8080", 1, why, sizeof why), 0);
    CHECK_INT(http_guard_check("tickq.internal:8080", "http://evil.example", 1, why, sizeof why), 403);
}
