/* test_redis_url.c — the Redis URL parser. */
#include "core/redis_url.h"
#include "unit.h"

static redis_url_t parse_ok(const char *s)
{
    redis_url_t u;
    char err[512] = "";
    if (redis_url_parse(s, &u, err, sizeof err) != 0)
        unit_fail(__FILE__, __LINE__, "'%s' should parse, got: %s", s, err);
    return u;
}

static void parse_bad(const char *s, const char *needle)
{
    redis_url_t u;
    char err[512] = "";
    if (redis_url_parse(s, &u, err, sizeof err) == 0)
        unit_fail(__FILE__, __LINE__, "'%s' should be refused", s);
    else if (strstr(err, needle) == NULL)
        unit_fail(__FILE__, __LINE__, "error for '%s' is '%s', should mention '%s'", s, err, needle);
}

TEST(url_plain_host_defaults)
{
    redis_url_t u = parse_ok("redis://");
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_INT(u.port, 6379);
    CHECK_INT(u.db, 0);
    CHECK(!u.is_unix);
    u = parse_ok("redis://cache.internal");
    CHECK_STR(u.host, "cache.internal");
    CHECK_INT(u.port, 6379);
}

TEST(url_host_port_db)
{
    redis_url_t u = parse_ok("redis://10.0.0.5:6380/3");
    CHECK_STR(u.host, "10.0.0.5");
    CHECK_INT(u.port, 6380);
    CHECK_INT(u.db, 3);
    CHECK_STR(u.user, "");
    CHECK_STR(u.password, "");
}

TEST(url_password_only)
{
    redis_url_t u = parse_ok("redis://:s3cret@localhost:6379/0");
    CHECK_STR(u.user, "");
    CHECK_STR(u.password, "s3cret");
    CHECK_STR(u.host, "localhost");
}

TEST(url_acl_user_and_escapes)
{
    redis_url_t u = parse_ok("redis://worker:p%40ss%3Aw%2Frd@redis:7000/2");
    CHECK_STR(u.user, "worker");
    CHECK_STR(u.password, "p@ss:w/rd");
    CHECK_STR(u.host, "redis");
    CHECK_INT(u.port, 7000);
    CHECK_INT(u.db, 2);
}

TEST(url_ipv6)
{
    redis_url_t u = parse_ok("redis://[::1]:6390/1");
    CHECK_STR(u.host, "::1");
    CHECK_INT(u.port, 6390);
    CHECK_INT(u.db, 1);
}

TEST(url_unix_socket)
{
    redis_url_t u = parse_ok("unix:///var/run/redis/redis.sock");
    CHECK(u.is_unix);
    CHECK_STR(u.path, "/var/run/redis/redis.sock");
    CHECK_INT(u.db, 0);
    u = parse_ok("unix:///tmp/r.sock?db=4&password=x%26y");
    CHECK_STR(u.path, "/tmp/r.sock");
    CHECK_INT(u.db, 4);
    CHECK_STR(u.password, "x&y");
    u = parse_ok("unix://app:pw@/tmp/r.sock");
    CHECK_STR(u.user, "app");
    CHECK_STR(u.password, "pw");
    CHECK_STR(u.path, "/tmp/r.sock");
}

TEST(url_query_on_tcp)
{
    redis_url_t u = parse_ok("redis://h:1?db=9&username=u&password=p");
    CHECK_INT(u.db, 9);
    CHECK_STR(u.user, "u");
    CHECK_STR(u.password, "p");
}

TEST(url_refusals)
{
    parse_bad("http://host", "unsupported Redis URL");
    parse_bad("", "empty");
    parse_bad("redis://host:0", "bad port");
    parse_bad("redis://host:70000", "bad port");
    parse_bad("redis://host:abc", "bad port");
    parse_bad("redis://host/x", "database");
    parse_bad("redis://host/-1", "database");
    parse_bad("redis://[::1:6379", "IPv6");
    parse_bad("unix://", "no socket path");
    parse_bad("unix://relative/path", "absolute path");
    parse_bad("redis://:%zz@host", "password");
    parse_bad("redis://host?color=red", "unknown query parameter");
    parse_bad("redis://host?db", "name=value");
    /* TLS is set by the environment, and the refusal says so. */
    parse_bad("rediss://host?verify=0", "TICKQ_REDIS_TLS_VERIFY");
    parse_bad("rediss://host?ssl_cert_reqs=none", "TICKQ_REDIS_CACERT");
    parse_bad("redis://host?tls=1", "unknown query parameter");
}

TEST(url_rediss_is_tls)
{
    redis_url_t u = parse_ok("rediss://app:pw@cache.example:6380/2");
    CHECK(u.tls.enabled);
    CHECK(u.tls.verify);
    CHECK_STR(u.tls.cacert, "");
    CHECK_STR(u.host, "cache.example");
    CHECK_INT(u.port, 6380);
    CHECK_INT(u.db, 2);
    CHECK_STR(u.user, "app");
    CHECK_STR(u.password, "pw");
    u = parse_ok("rediss://[::1]");
    CHECK(u.tls.enabled);
    CHECK_STR(u.host, "::1");
    CHECK_INT(u.port, 6379);
    u = parse_ok("redis://h");
    CHECK(!u.tls.enabled);
    CHECK(u.tls.verify);
    u = parse_ok("unix:///tmp/r.sock");
    CHECK(!u.tls.enabled);
    char out[512];
    u = parse_ok("rediss://bob:hunter2@db.example:6380/5");
    redis_url_describe(&u, out, sizeof out);
    CHECK_STR(out, "rediss://bob:***@db.example:6380/5");
}

/* redis_url_set_tls on `url`, expected to succeed. */
static redis_url_t tls_ok(const char *url, const char *ca, const char *cert, const char *key, const char *verify)
{
    redis_url_t u = parse_ok(url);
    char err[512] = "";
    if (redis_url_set_tls(&u, ca, cert, key, verify, err, sizeof err) != 0)
        unit_fail(__FILE__, __LINE__, "TLS settings for '%s' should be taken, got: %s", url, err);
    return u;
}

static void tls_bad(const char *url, const char *ca, const char *cert, const char *key, const char *verify,
                    const char *needle)
{
    redis_url_t u = parse_ok(url);
    char err[512] = "";
    if (redis_url_set_tls(&u, ca, cert, key, verify, err, sizeof err) == 0)
        unit_fail(__FILE__, __LINE__, "TLS settings for '%s' should be refused (%s)", url, needle);
    else if (strstr(err, needle) == NULL)
        unit_fail(__FILE__, __LINE__, "error for '%s' is '%s', should mention '%s'", url, err, needle);
}

TEST(url_tls_settings)
{
    redis_url_t u = tls_ok("rediss://h", NULL, NULL, NULL, NULL);
    CHECK(u.tls.verify);
    CHECK_STR(u.tls.cacert, "");
    CHECK_STR(u.tls.cert, "");
    u = tls_ok("rediss://h", "/etc/ca.pem", "/etc/c.pem", "/etc/c.key", "1");
    CHECK(u.tls.verify);
    CHECK_STR(u.tls.cacert, "/etc/ca.pem");
    CHECK_STR(u.tls.cert, "/etc/c.pem");
    CHECK_STR(u.tls.key, "/etc/c.key");
    u = tls_ok("rediss://h", "", "", "", "0"); /* empty is unset */
    CHECK(!u.tls.verify);
    CHECK_STR(u.tls.cacert, "");
    char out[512];
    redis_url_describe(&u, out, sizeof out);
    CHECK_STR(out, "rediss://h:6379/0 (TLS certificate not verified)");
    u = tls_ok("redis://h", NULL, "", NULL, NULL); /* nothing set: plain stays plain */
    CHECK(!u.tls.enabled);

    tls_bad("rediss://h", NULL, NULL, NULL, "yes", "TICKQ_REDIS_TLS_VERIFY='yes' is not 0 or 1");
    tls_bad("rediss://h", NULL, NULL, NULL, "false", "TICKQ_REDIS_TLS_VERIFY='false'");
    tls_bad("rediss://h", NULL, "/c.pem", NULL, NULL, "TICKQ_REDIS_CERT is set but TICKQ_REDIS_KEY is not");
    tls_bad("rediss://h", NULL, NULL, "/c.key", NULL, "TICKQ_REDIS_KEY is set but TICKQ_REDIS_CERT is not");
    tls_bad("rediss://h", "/ca.pem", NULL, NULL, "0", "TICKQ_REDIS_CACERT is set but TICKQ_REDIS_TLS_VERIFY=0");
    tls_bad("redis://h", "/ca.pem", NULL, NULL, NULL, "TICKQ_REDIS_CACERT is set but the Redis URL is not rediss://");
    tls_bad("unix:///tmp/r.sock", NULL, NULL, NULL, "1", "TICKQ_REDIS_TLS_VERIFY is set but");
    tls_bad("redis://h", NULL, "/c.pem", "/c.key", NULL, "TICKQ_REDIS_CERT is set but the Redis URL is not");
    char longpath[REDIS_TLS_PATH_MAX + 8];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    tls_bad("rediss://h", longpath, NULL, NULL, NULL, "TICKQ_REDIS_CACERT is too long");
}

TEST(url_describe_masks_password)
{
    redis_url_t u = parse_ok("redis://bob:hunter2@db.example:6380/5");
    char out[512];
    redis_url_describe(&u, out, sizeof out);
    CHECK_STR(out, "redis://bob:***@db.example:6380/5");
    CHECK(strstr(out, "hunter2") == NULL);
    u = parse_ok("unix:///tmp/x.sock?db=2");
    redis_url_describe(&u, out, sizeof out);
    CHECK_STR(out, "unix:///tmp/x.sock?db=2");
}
