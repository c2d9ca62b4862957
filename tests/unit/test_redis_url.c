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
    parse_bad("rediss://host:6380", "TLS");
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
