/* test_handler_schema.c — the argument schema a handler announces in its
 * hello: parsed into task_schema tables that check a job's args, and every
 * malformed declaration refused naming the type, argument and key. */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "handlers/handler_schema.h"
#include "handlers/handler_wire.h"
#include "unit.h"

static int hello(const char *line, handler_hello_t *h, char *err)
{
    return handler_wire_hello(line, strlen(line), h, err, 600);
}

#define HELLO_WITH(schema) "{\"msg\":\"hello\",\"protocol\":1,\"types\":[\"report\",\"other\"],\"schema\":" schema "}"

static const char good[] = HELLO_WITH(
    "{\"report\":["
    "{\"name\":\"day\",\"type\":\"date\",\"required\":true,\"doc\":\"the trading day\"},"
    "{\"name\":\"format\",\"type\":\"enum\",\"choices\":[\"pdf\",\"html\"],\"default\":\"pdf\",\"doc\":\"output\"},"
    "{\"name\":\"top\",\"type\":\"integer\",\"min\":1,\"max\":100,\"default\":10,\"doc\":\"rows\"},"
    "{\"name\":\"scale\",\"type\":\"number\",\"min\":0,\"doc\":\"a factor\"},"
    "{\"name\":\"symbols\",\"type\":\"list\",\"max\":3,\"doc\":\"which\"},"
    "{\"name\":\"title\",\"type\":\"string\",\"max\":10,\"doc\":\"a title\"},"
    "{\"name\":\"dry\",\"type\":\"boolean\",\"default\":false,\"doc\":\"no writes\"},"
    "{\"name\":\"extra\",\"type\":\"object\",\"doc\":\"anything\"}]}");

static int check(const task_arg_t *t, const char *args, char *err)
{
    json_t *a = json_loads(args, 0, NULL);
    int rc = task_schema_check("report", t, a, err, 600);
    json_decref(a);
    return rc;
}

TEST(announced_schema_checks_job_args)
{
    handler_hello_t h;
    char err[600];
    CHECK_INT(hello(good, &h, err), 0);
    if (h.schema == NULL) {
        fprintf(stderr, "    %s\n", err);
        return;
    }
    CHECK(h.schema != NULL);
    const task_arg_t *t = handler_schema_table(h.schema, "report");
    CHECK(t != NULL);
    CHECK(handler_schema_table(h.schema, "other") == NULL); /* announced without a schema: unchecked */
    CHECK_INT(check(t, "{\"day\":\"2026-12-03\"}", err), 0);
    CHECK_INT(check(t, "{\"day\":\"2026-12-03\",\"format\":\"html\",\"top\":100,\"scale\":0.5,"
                       "\"symbols\":[\"A\",\"B\"],\"title\":\"x\",\"dry\":true,\"extra\":{\"k\":1}}", err), 0);
    CHECK_INT(check(t, "{\"day\":\"2026-12-03\",\"dayy\":1}", err), -1);
    CHECK(strstr(err, "unknown argument 'dayy' (did you mean 'day'?)") != NULL);
    CHECK_INT(check(t, "{}", err), -1);
    CHECK(strstr(err, "missing day: the trading day") != NULL);
    CHECK_INT(check(t, "{\"day\":\"2026-12-03\",\"top\":101}", err), -1);
    CHECK(strstr(err, "top must be an integer from 1 to 100, got 101") != NULL);
    CHECK_INT(check(t, "{\"day\":\"2026-12-03\",\"scale\":-1}", err), -1);
    CHECK(strstr(err, "scale must be a number at least 0, got -1") != NULL);
    CHECK_INT(check(t, "{\"day\":\"2026-12-03\",\"format\":\"csv\"}", err), -1);
    CHECK(strstr(err, "format must be one of pdf, html") != NULL);
    CHECK_INT(check(t, "{\"day\":\"2026-12-03\",\"symbols\":[\"A\",\"B\",\"C\",\"D\"]}", err), -1);
    CHECK(strstr(err, "symbols has 4 entries") != NULL);
    CHECK_INT(check(t, "{\"day\":\"2026-12-03\",\"title\":\"eleven bytes\"}", err), -1);
    CHECK_INT(check(t, "{\"day\":\"tomorrow\"}", err), -1);
    CHECK_INT(check(t, "{\"day\":\"2026-12-03\",\"extra\":[1]}", err), -1);
    CHECK(strstr(err, "extra must be an object") != NULL);
    /* Defaults as the docs show them; an optional one without: the handler's. */
    const task_arg_t *top = task_schema_find(t, "top"), *scale = task_schema_find(t, "scale");
    CHECK(top->num == 10 && !(top->flags & TASK_ARG_REQUIRED));
    CHECK_STR(task_schema_find(t, "format")->str, "pdf");
    char text[200];
    task_schema_default_text(scale, text, sizeof text);
    CHECK_STR(text, "not set (the handler decides)");
    task_schema_type_doc(scale, text, sizeof text);
    CHECK_STR(text, "number at least 0");
    CHECK(isinf(scale->max));
    handler_hello_clear(&h);
    CHECK(h.schema == NULL);
}

/* The declaration fails, and the message holds `want`. */
static void refused(const char *line, const char *want)
{
    handler_hello_t h;
    char err[600];
    int rc = hello(line, &h, err);
    if (rc == 0)
        handler_hello_clear(&h);
    CHECK_INT(rc, -1);
    if (strstr(err, want) == NULL)
        fprintf(stderr, "    got: %s\n    want: %s\n", err, want);
    CHECK(strstr(err, want) != NULL);
}

TEST(malformed_schemas_are_refused_naming_what)
{
    refused(HELLO_WITH("[]"), "\"schema\" must be an object");
    refused(HELLO_WITH("{\"nope\":[]}"), "\"schema\" names 'nope', which is not in \"types\"");
    refused(HELLO_WITH("{\"report\":{}}"), "\"schema\" of 'report': must be a list of arguments");
    refused(HELLO_WITH("{\"report\":[{\"name\":\"a\",\"type\":\"integer\",\"doc\":\"d\",\"colour\":1}]}"),
            "argument 0: unknown key 'colour'");
    refused(HELLO_WITH("{\"report\":[{\"type\":\"integer\",\"doc\":\"d\"}]}"), "\"name\" must be a string");
    refused(HELLO_WITH("{\"report\":[{\"name\":\"a\",\"type\":\"float\",\"doc\":\"d\"}]}"),
            "a: \"type\" must be one of");
    refused(HELLO_WITH("{\"report\":[{\"name\":\"a\",\"type\":\"integer\"}]}"), "a: \"doc\" must be");
    refused(HELLO_WITH("{\"report\":[{\"name\":\"a\",\"type\":\"enum\",\"doc\":\"d\"}]}"),
            "a: an enum needs \"choices\"");
    refused(HELLO_WITH("{\"report\":[{\"name\":\"a\",\"type\":\"string\",\"choices\":[\"x\"],\"doc\":\"d\"}]}"),
            "a: only an enum takes \"choices\"");
    refused(HELLO_WITH("{\"report\":[{\"name\":\"a\",\"type\":\"enum\",\"choices\":[\"x,y\"],\"doc\":\"d\"}]}"),
            "\"choices\" item 0 must be a non-empty string without commas");
    refused(HELLO_WITH("{\"report\":[{\"name\":\"a\",\"type\":\"integer\",\"min\":5,\"max\":1,\"doc\":\"d\"}]}"),
            "\"min\" 5 is above \"max\" 1");
    refused(HELLO_WITH("{\"report\":[{\"name\":\"a\",\"type\":\"boolean\",\"max\":1,\"doc\":\"d\"}]}"),
            "boolean takes no \"max\"");
    refused(HELLO_WITH("{\"report\":[{\"name\":\"a\",\"type\":\"integer\",\"max\":9,\"default\":10,\"doc\":\"d\"}]}"),
            "a: its \"default\" does not fit it: a must be an integer at most 9, got 10");
    refused(HELLO_WITH("{\"report\":[{\"name\":\"a\",\"type\":\"integer\",\"required\":true,\"default\":1,"
                       "\"doc\":\"d\"}]}"), "a required argument has no \"default\"");
    refused(HELLO_WITH("{\"report\":[{\"name\":\"a\",\"type\":\"list\",\"default\":[\"x\"],\"doc\":\"d\"}]}"),
            "a list takes no \"default\"");
    refused(HELLO_WITH("{\"report\":[{\"name\":\"a\",\"type\":\"integer\",\"doc\":\"d\"},"
                       "{\"name\":\"a\",\"type\":\"string\",\"doc\":\"e\"}]}"), "a is declared twice");
}
