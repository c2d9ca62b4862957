/* test_handlers.c — the handler messages (strict decoding), the [handler]
 * and [pool] sections, and cutting a text at a whole UTF-8 character. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errmsg.h"
#include "core/utf8.h"
#include "handlers/handler_config.h"
#include "handlers/handler_wire.h"
#include "handlers/pool_config.h"
#include "unit.h"

TEST(utf8_trim_drops_only_a_cut_character)
{
    char a[] = "caf\xc3\xa9", b[] = "caf\xc3", c[] = "x\xe2\x82", d[] = "x\xe2\x82\xac", e[] = "plain";
    errmsg_utf8_trim(a);
    errmsg_utf8_trim(b);
    errmsg_utf8_trim(c);
    errmsg_utf8_trim(d);
    errmsg_utf8_trim(e);
    CHECK_STR(a, "caf\xc3\xa9");
    CHECK_STR(b, "caf");
    CHECK_STR(c, "x");
    CHECK_STR(d, "x\xe2\x82\xac");
    CHECK_STR(e, "plain");
}

static int hello(const char *line, handler_hello_t *h, char *err)
{
    return handler_wire_hello(line, strlen(line), h, err, 400);
}

TEST(handler_hello_is_checked_strictly)
{
    handler_hello_t h;
    char err[400];
    CHECK_INT(hello("{\"msg\":\"hello\",\"protocol\":1,\"types\":[\"a\",\"b\"],\"max_jobs\":4}", &h, err), 0);
    CHECK_INT(h.max_jobs, 4);
    CHECK_INT(json_array_size(h.types), 2);
    handler_hello_clear(&h);
    CHECK_INT(hello("{\"msg\":\"hello\",\"protocol\":1,\"types\":[\"a\"]}", &h, err), 0);
    CHECK_INT(h.max_jobs, 1);
    handler_hello_clear(&h);
    CHECK_INT(hello("{\"msg\":\"hello\",\"protocol\":1,\"types\":[\"a\"],\"colour\":1}", &h, err), -1);
    CHECK(strstr(err, "unknown key 'colour'") != NULL);
    CHECK_INT(hello("{\"msg\":\"hello\",\"protocol\":2,\"types\":[\"a\"]}", &h, err), -1);
    CHECK(strstr(err, "protocol") != NULL);
    CHECK_INT(hello("{\"msg\":\"hello\",\"protocol\":1,\"types\":[]}", &h, err), -1);
    CHECK_INT(hello("{\"msg\":\"hello\",\"protocol\":1,\"types\":[\"a\"],\"max_jobs\":0}", &h, err), -1);
    CHECK_INT(hello("{\"msg\":\"result\",\"id\":\"x\",\"data\":1}", &h, err), -1);
    CHECK(strstr(err, "first message must be \"hello\"") != NULL);
    CHECK_INT(hello("not json", &h, err), -1);
    CHECK(strstr(err, "not JSON") != NULL);
}

static int msg(const char *line, handler_msg_t *m, char *err)
{
    return handler_wire_message(line, strlen(line), m, err, 400);
}

TEST(handler_messages_are_checked_strictly)
{
    handler_msg_t m;
    char err[400];
    CHECK_INT(msg("{\"msg\":\"progress\",\"id\":\"j\",\"fraction\":0.5,\"message\":\"half\"}", &m, err), 0);
    CHECK(m.kind == HANDLER_MSG_PROGRESS && m.fraction == 0.5 && strcmp(m.message, "half") == 0);
    handler_msg_clear(&m);
    CHECK_INT(msg("{\"msg\":\"progress\",\"id\":\"j\",\"fraction\":1.5}", &m, err), -1);
    CHECK_INT(msg("{\"msg\":\"result\",\"id\":\"j\",\"data\":{\"rows\":10}}", &m, err), 0);
    CHECK(m.kind == HANDLER_MSG_RESULT && json_integer_value(json_object_get(m.data, "rows")) == 10);
    handler_msg_clear(&m);
    CHECK_INT(msg("{\"msg\":\"result\",\"id\":\"j\"}", &m, err), -1);
    CHECK(strstr(err, "needs \"data\"") != NULL);
    CHECK_INT(msg("{\"msg\":\"error\",\"id\":\"j\",\"error\":\"bad\",\"retry\":false}", &m, err), 0);
    CHECK(m.kind == HANDLER_MSG_ERROR && !m.retry && strcmp(m.error, "bad") == 0);
    handler_msg_clear(&m);
    CHECK_INT(msg("{\"msg\":\"error\",\"id\":\"j\",\"error\":\"bad\"}", &m, err), -1);
    CHECK(strstr(err, "retry") != NULL);
    CHECK_INT(msg("{\"msg\":\"error\",\"id\":\"j\",\"error\":\"bad\",\"retry\":true,\"x\":1}", &m, err), -1);
    CHECK(strstr(err, "unknown key 'x'") != NULL);
    CHECK_INT(msg("{\"msg\":\"done\",\"id\":\"j\"}", &m, err), -1);
    CHECK(strstr(err, "unknown message kind") != NULL);
    CHECK_INT(msg("{\"msg\":\"result\",\"data\":1}", &m, err), -1);
    CHECK(strstr(err, "\"id\"") != NULL);
    CHECK_INT(msg("[1]", &m, err), -1);
}

TEST(handler_message_tickq_cannot_read_names_its_job)
{
    handler_msg_t m;
    char err[400];
    /* A result holding what Jansson refuses, its own keys sound: unreadable,
     * with its kind and id, so that its job alone fails. */
    const char *results[][2] = {
        { "{\"msg\":\"result\",\"id\":\"j\",\"data\":{\"n\":18446744073709551616}}",
          "a number out of range at column 57 (too big integer near '18446744073709551616')" },
        { "{\"msg\":\"result\",\"id\":\"j\",\"data\":[-9223372036854775809]}", "too big negative integer" },
        { "{\"msg\":\"result\",\"id\":\"j\",\"data\":{\"s\":\"a\\u0000b\"}}",
          "a NUL character (\\u0000) in a string at column" },
        { "{\"msg\":\"result\",\"id\":\"j\",\"data\":{\"k\\u0000\":1}}", "a NUL character (\\u0000) in a key" },
        { "{\"data\":{\"a\":{\"b\":1,\"b\":2}},\"id\":\"j\",\"msg\":\"result\"}", "a key given twice in one object" },
    };
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++) {
        CHECK_INT(msg(results[i][0], &m, err), -1);
        CHECK_INT(m.unreadable, 1);
        CHECK(m.kind == HANDLER_MSG_RESULT && strcmp(m.id, "j") == 0 && m.data == NULL);
        if (strstr(err, results[i][1]) == NULL)
            unit_fail(__FILE__, __LINE__, "error '%s' should mention '%s'", err, results[i][1]);
    }
    /* The extremes of 64 bits read as they are. */
    CHECK_INT(msg("{\"msg\":\"result\",\"id\":\"j\",\"data\":[-9223372036854775808,9223372036854775807]}", &m, err), 0);
    CHECK(json_integer_value(json_array_get(m.data, 0)) == INT64_MIN);
    handler_msg_clear(&m);
    /* A NUL in the text of a progress or an error is taken as U+FFFD. */
    CHECK_INT(msg("{\"msg\":\"progress\",\"id\":\"j\",\"fraction\":0.5,\"message\":\"half\\u0000way\"}", &m, err), 0);
    CHECK_STR(m.message, "half" UTF8_REPLACEMENT "way");
    handler_msg_clear(&m);
    CHECK_INT(msg("{\"msg\":\"error\",\"id\":\"j\",\"error\":\"bad\\u0000input\",\"retry\":true}", &m, err), 0);
    CHECK(m.kind == HANDLER_MSG_ERROR && m.retry && strcmp(m.error, "bad" UTF8_REPLACEMENT "input") == 0);
    handler_msg_clear(&m);
    /* An escaped backslash before u0000 is no NUL: the text as written. */
    CHECK_INT(msg("{\"msg\":\"error\",\"id\":\"j\",\"error\":\"a\\\\u0000\",\"retry\":false}", &m, err), 0);
    CHECK_STR(m.error, "a\\u0000");
    handler_msg_clear(&m);
    /* Not for sure whose: the message's own keys repeat (Jansson would keep
     * the last id), or it is not JSON at all: malformed. */
    const char *bad[][2] = {
        { "{\"msg\":\"result\",\"id\":\"j\",\"id\":\"k\",\"data\":1}",
          "the message gives one of its own keys twice" },
        { "{\"msg\":\"result\",\"id\":\"j\",\"id\":\"j\",\"data\":18446744073709551616}",
          "the message gives one of its own keys twice" },
        { "{\"msg\":\"result\",\"id\":\"j\",\"data\":1e999}",
          "a number out of range at column 37 (real number overflow near '1e999')" },
        { "{\"msg\":\"result\",\"id\":\"j\",\"data\":{\"s\":\"a\\u0000b\"}", "not JSON" },
        { "{\"msg\":\"result\",\"id\":\"j\",\"data\":\"a\\u0000b\",\"extra\":1}", "unknown key 'extra'" },
        { "{\"msg\":\"result\",\"data\":\"a\\u0000b\"}", "needs the job's \"id\"" },
        { "[\"a\\u0000b\"]", "not a JSON object" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(msg(bad[i][0], &m, err), -1);
        CHECK_INT(m.unreadable, 0);
        if (strstr(err, bad[i][1]) == NULL)
            unit_fail(__FILE__, __LINE__, "error '%s' should mention '%s'", err, bad[i][1]);
    }
}

static int builtin_echo(const char *type)
{
    return strcmp(type, "echo") == 0;
}

static int parse_handlers(const char *text, handler_set_t *set, char *err)
{
    return handler_config_parse(set, text, "t.ini", builtin_echo, err, 600);
}

TEST(handler_sections_are_checked)
{
    handler_set_t set;
    char err[600];
    CHECK_INT(parse_handlers("[handler r]\ncommand = python3 -m tickq.handler app\ntypes = a, b\ncancel_grace = 500ms\n"
                             "[schedule x]\ncron = * * * * *\n", &set, err), 0);
    CHECK_INT(set.n, 1);
    CHECK_INT(set.items[0].ntypes, 2);
    CHECK_INT(set.items[0].cancel_grace_ms, 500);
    CHECK(handler_config_for_type(&set, "b") == &set.items[0]);
    CHECK(handler_config_for_type(&set, "c") == NULL);
    handler_config_free(&set);
    CHECK_INT(parse_handlers("[handler r]\ncommand = x\ntypes = a\ntimeout = 3\n", &set, err), -1);
    CHECK(strstr(err, "t.ini:4:") != NULL && strstr(err, "unknown key 'timeout'") != NULL);
    CHECK_INT(parse_handlers("[handler r]\ntypes = a\n", &set, err), -1);
    CHECK(strstr(err, "has no command") != NULL);
    CHECK_INT(parse_handlers("[handler r]\ncommand = x\n", &set, err), -1);
    CHECK(strstr(err, "has no types") != NULL);
    CHECK_INT(parse_handlers("[handler r]\ncommand = x\ntypes = echo\n", &set, err), -1);
    CHECK(strstr(err, "built into tickq") != NULL);
    CHECK_INT(parse_handlers("[handler r]\ncommand = x\ntypes = a\n[handler s]\ncommand = y\ntypes = a\n", &set, err),
              -1);
    CHECK(strstr(err, "t.ini:6:") != NULL && strstr(err, "served by [handler r] already") != NULL);
    CHECK_INT(parse_handlers("[handler r]\ncommand = x\ntypes = a b\n", &set, err), -1);
    /* An empty entry of a list is refused, as queues refuses one. */
    const char *empty[][2] = {
        { "types = a,,b", "t.ini:3: [handler r]: types: 'a,,b' has an empty name (two commas in a row, or one at "
                          "its start or end) as entry 2" },
        { "types = a, b,", "t.ini:3: [handler r]: types: 'a, b,' has an empty name (two commas in a row, or one at "
                           "its start or end) as entry 3" },
        { "types = , a", "as entry 1" },
        { "types = a, ,b", "as entry 2" },
        { "types = ,", "t.ini:3: [handler r]: types names nothing (only commas and spaces)" },
        { "types =", "t.ini:3: [handler r]: types is empty" },
    };
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        char full[200];
        snprintf(full, sizeof full, "[handler r]\ncommand = x\n%s\n", empty[i][0]);
        CHECK_INT(parse_handlers(full, &set, err), -1);
        if (strstr(err, empty[i][1]) == NULL)
            unit_fail(__FILE__, __LINE__, "error '%s' should mention '%s'", err, empty[i][1]);
    }
    CHECK_INT(parse_handlers("[weird]\nx = 1\n", &set, err), -1);
    CHECK(strstr(err, "unknown section [weird]") != NULL);
}

TEST(handler_and_pool_messages_name_the_lines_inih_reads)
{
    /* Found by fuzz/handler_config: a key before any section was "t.ini:0:
     * unknown section []"; a header after a UTF-8 BOM was line 0; a name
     * longer than 41 characters was cut (inih keeps 49 bytes of a header),
     * so two such handlers were one "appearing twice". */
    handler_set_t set;
    pool_set_t pools;
    char err[600];
    CHECK_INT(parse_handlers("command = x\n[handler a]\ncommand = x\ntypes = t\n", &set, err), -1);
    CHECK_STR(err, "t.ini:1: the key 'command' comes before any section header: put it under one (known: "
                   "[scheduler], [schedule NAME], [handler NAME], [pool NAME])");
    CHECK_INT(parse_handlers("\xEF\xBB\xBF[handler a]\ncommand = x\n", &set, err), -1);
    CHECK_STR(err, "t.ini:1: [handler a] has no types (the task types it serves)");
    const char *a = "h123456789h123456789h123456789h123456789h123456789h123456789h12a";
    const char *b = "h123456789h123456789h123456789h123456789h123456789h123456789h12b";
    char text[400];
    snprintf(text, sizeof text, "[handler %s]\ncommand = x\ntypes = t\n[handler %s]\ncommand = y\ntypes = u\n"
             "[pool p]\nqueues = q\nhandlers = %s\n", a, b, b);
    CHECK_INT(parse_handlers(text, &set, err), 0);
    CHECK_INT(set.n, 2);
    if (set.n == 2) {
        CHECK_STR(set.items[0].name, a);
        CHECK_STR(set.items[1].name, b);
    }
    CHECK_INT(pool_config_parse(&pools, text, "t.ini", &set, builtin_echo, 256, err, sizeof err), 0);
    CHECK(pools.n == 1 && pool_uses_handler(&pools.items[0], b));
    pool_config_free(&pools);
    handler_config_free(&set);
    CHECK_INT(parse_handlers("", &set, err), 0);
    CHECK_INT(pool_config_parse(&pools, "queues = q\n[pool p]\nqueues = q\n", "t.ini", &set, builtin_echo, 256,
                                err, sizeof err), -1);
    CHECK(strncmp(err, "t.ini:1: the key 'queues' comes before any section header", 57) == 0);
    handler_config_free(&set);
}

TEST(pool_sections_are_checked)
{
    handler_set_t handlers;
    pool_set_t pools;
    char err[600];
    const char *text = "[handler r]\ncommand = x\ntypes = a, b\n"
                       "[pool p]\nqueues = reports\nworkers = 3\nhandlers = r\njob_timeout = 90s\n"
                       "[pool q]\nqueues = other\nhandlers = r\ntypes = a, echo\n";
    CHECK_INT(parse_handlers(text, &handlers, err), 0);
    CHECK_INT(pool_config_parse(&pools, text, "t.ini", &handlers, builtin_echo, 256, err, sizeof err), 0);
    const pool_def_t *p = pool_config_find(&pools, "p"), *q = pool_config_find(&pools, "q");
    CHECK(p != NULL && q != NULL && pool_config_find(&pools, "z") == NULL);
    CHECK_INT(p->workers, 3);
    CHECK_INT(p->job_timeout_ms, 90000);
    CHECK_INT(q->job_timeout_ms, 0); /* not set: the worker's --job-timeout */
    /* Without types: every built-in one and its handlers'. */
    CHECK(pool_serves(&pools, p, "a") && pool_serves(&pools, p, "b") && pool_serves(&pools, p, "echo"));
    CHECK(!pool_serves(&pools, p, "zzz"));
    /* With types: those only. */
    CHECK(pool_serves(&pools, q, "a") && pool_serves(&pools, q, "echo") && !pool_serves(&pools, q, "b"));
    pool_config_free(&pools);
    const char *bad[][2] = {
        { "[pool p]\nworkers = 2\n", "has no queues" },
        { "[pool p]\nqueues = q\nworkers = 0\n", "not a number from 1 to 256" },
        { "[pool p]\nqueues = q\nhandlers = nope\n", "no [handler nope]" },
        { "[pool p]\nqueues = q\ntypes = b\n", "t.ini:6:" },
        { "[pool p]\nqueues = q\njob_timeout = 0\n",
          "t.ini:6: [pool p]: job_timeout = 0 is not a duration of more than 0 and at most 7 days" },
        { "[pool p]\nqueues = q\njob_timeout = 0.0001\n", "job_timeout = 0.0001 is not a duration" },
        { "[pool p]\nqueues = q\njob_timeout = -5\n", "job_timeout = -5 is not a duration" },
        { "[pool p]\nqueues = q\njob_timeout = 8d\n", "job_timeout = 8d is not a duration" },
        { "[pool p]\nqueues = q\njob_timeout = 169h\n", "job_timeout = 169h is not a duration" },
        { "[pool p]\nqueues = q\njob_timeout = soon\n", "job_timeout = soon is not a duration" },
        { "[pool p]\nqueues = q\njob_timeout =\n", "job_timeout =  is not a duration" },
        { "[pool p]\nqueues = q\njob_timeout = 5m\njob_timeout = 5m\n", "t.ini:7: [pool p]: job_timeout is given twice" },
        { "[pool p]\nqueues = q\ncolour = red\n",
          "unknown key 'colour' (known: queues, workers, types, handlers, job_timeout)" },
        { "[pool p]\nqueues = q\nhandlers = r,,\n",
          "t.ini:6: [pool p]: handlers: 'r,,' has an empty name (two commas in a row, or one at its start or end) "
          "as entry 2" },
        { "[pool p]\nqueues = q\ntypes = a,,\n",
          "t.ini:6: [pool p]: types: 'a,,' has an empty name (two commas in a row, or one at its start or end) "
          "as entry 2" },
        { "[pool p]\nqueues = q\ntypes = , ,\n", "t.ini:6: [pool p]: types names nothing" },
        { "[pool p]\nqueues = q\ntypes =\n", "t.ini:6: [pool p]: types is empty" },
        { "[pool p]\nqueues = q,,r\n", "t.ini:5: [pool p]: queues: 'q,,r' has an empty name" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char full[400];
        snprintf(full, sizeof full, "[handler r]\ncommand = x\ntypes = a, b\n%s", bad[i][0]);
        CHECK_INT(pool_config_parse(&pools, full, "t.ini", &handlers, builtin_echo, 256, err, sizeof err), -1);
        if (strstr(err, bad[i][1]) == NULL)
            unit_fail(__FILE__, __LINE__, "error '%s' should mention '%s'", err, bad[i][1]);
    }
    /* The bounds themselves are taken: 7 days, and a millisecond. */
    const char *good[][2] = { { "168h", "604800000" }, { "604800", "604800000" }, { "1ms", "1" }, { "10m", "600000" } };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char full[400];
        snprintf(full, sizeof full, "[pool p]\nqueues = q\njob_timeout = %s\n", good[i][0]);
        CHECK_INT(pool_config_parse(&pools, full, "t.ini", &handlers, builtin_echo, 256, err, sizeof err), 0);
        CHECK_INT(pools.n == 1 ? pools.items[0].job_timeout_ms : -1, atoll(good[i][1]));
        pool_config_free(&pools);
    }
    handler_config_free(&handlers);
}

TEST(handler_durations_have_bounds_and_are_given_once)
{
    handler_set_t set;
    char err[600];
    const char *bad[][2] = {
        { "cancel_grace = 99999h",
          "t.ini:4: [handler r]: cancel_grace = 99999h is not a duration from 0 to 1 min (e.g. 2s, 500ms): 99999 h "
          "is too long" },
        { "cancel_grace = 61s", "t.ini:4: [handler r]: cancel_grace = 61s is not a duration from 0 to 1 min" },
        { "cancel_grace = soon", "cancel_grace = soon is not a duration from 0 to 1 min (e.g. 2s, 500ms): not a "
                                 "decimal number" },
        { "start_timeout = 99999h",
          "t.ini:4: [handler r]: start_timeout = 99999h is not a duration from 100 ms to 10 min (e.g. 2s, 500ms): "
          "99999 h is too long" },
        { "start_timeout = 601s", "start_timeout = 601s is not a duration from 100 ms to 10 min" },
        { "start_timeout = 99ms", "start_timeout = 99ms is not a duration from 100 ms to 10 min (e.g. 2s, 500ms): "
                                  "99 ms is too short" },
        { "cancel_grace = 1s\ncancel_grace = 2s", "t.ini:5: [handler r]: cancel_grace is given twice" },
        { "start_timeout = 1s\nstart_timeout = 1s", "t.ini:5: [handler r]: start_timeout is given twice" },
        /* an inline comment that cut the value is named */
        { "cancel_grace = 5 #0s", "cancel_grace = 5 #0s" },
        { "start_timeout = 20m ;x", "(the value was cut at ' ;' on line 4: a ';' after a space starts an inline "
                                    "comment" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[300];
        snprintf(text, sizeof text, "[handler r]\ncommand = x\ntypes = a\n%s\n", bad[i][0]);
        int rc = parse_handlers(text, &set, err);
        if (i == 8) { /* 5 s, a comment after it: taken */
            CHECK_INT(rc, 0);
            CHECK_INT(rc == 0 ? set.items[0].cancel_grace_ms : -1, 5000);
            if (rc == 0)
                handler_config_free(&set);
            continue;
        }
        CHECK_INT(rc, -1);
        if (rc != -1 || strstr(err, bad[i][1]) == NULL)
            unit_fail(__FILE__, __LINE__, "'%s': error '%s' should mention '%s'", bad[i][0], err, bad[i][1]);
    }
    /* The bounds themselves are taken. */
    const char *good[][3] = { { "0", "60s", "0" }, { "1m", "100ms", "60000" }, { "500ms", "10m", "500" } };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[300];
        snprintf(text, sizeof text, "[handler r]\ncommand = x\ntypes = a\ncancel_grace = %s\nstart_timeout = %s\n",
                 good[i][0], good[i][1]);
        CHECK_INT(parse_handlers(text, &set, err), 0);
        CHECK_INT(set.n == 1 ? set.items[0].cancel_grace_ms : -1, atoll(good[i][2]));
        handler_config_free(&set);
    }
}

TEST(pool_job_timeout_cut_by_a_comment_says_so)
{
    handler_set_t handlers;
    pool_set_t pools;
    char err[700];
    CHECK_INT(parse_handlers("[handler r]\ncommand = x\ntypes = a\n", &handlers, err), 0);
    const char *text = "[pool p]\nqueues = q\njob_timeout = 10 #m\n[pool s]\nqueues = s\njob_timeout = 9d ;x\n";
    CHECK_INT(pool_config_parse(&pools, text, "t.ini", &handlers, builtin_echo, 256, err, sizeof err), -1);
    CHECK(strstr(err, "t.ini:6: [pool s]: job_timeout = 9d is not a duration of more than 0 and at most 7 days "
                      "(e.g. 600, 90s, 10m, 2h)") != NULL);
    CHECK(strstr(err, "(the value was cut at ' ;' on line 6") != NULL);
    /* A name cut by a comment: the note comes with the message. */
    CHECK_INT(pool_config_parse(&pools, "[pool p]\nqueues = q ;x\nworkers = 2 #x\nhandlers = nope #r\n", "t.ini",
                                &handlers, builtin_echo, 256, err, sizeof err), -1);
    CHECK(strstr(err, "t.ini:4: [pool p]: handlers: there is no [handler nope] in this file (the value was cut at "
                      "' #' on line 4") != NULL);
    handler_config_free(&handlers);
}
