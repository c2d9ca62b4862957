/* cmd_tasks.c — `tickq tasks [TYPE]`: the task types this build can run,
 * and the arguments each takes (from its table, task_schema.h). */
#include "cmd/commands.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "cmd/handler_setup.h"
#include "core/json_exact.h"
#include "core/log.h"
#include "core/task.h"
#include "handlers/handler_tasks.h"

static const char usage[] =
    "usage: tickq tasks [TYPE] [--json | --markdown]\n"
    "\n"
    "Without TYPE, lists the task types this tickq can run. With TYPE, prints\n"
    "the arguments that task takes: name, type and range, default, meaning.\n"
    "Unknown arguments, wrong types and values out of range are refused when a\n"
    "job is enqueued and again before it runs. For a handler's type (--config),\n"
    "the handler is started to read the schema it announces; without one its\n"
    "args go to it unchecked.\n"
    "\n"
    "  --json               machine-readable: the task (or every task) with its\n"
    "                       arguments\n"
    "  --markdown           TYPE's arguments as a Markdown table (the docs' tables\n"
    "                       are this output)\n"
    CLI_CONFIG_HELP
    "\n"
    "Exit status: 0 listed, 64 bad usage or unknown TYPE, 78 a bad --config file\n"
    "or a handler that does not start.\n";

enum { FORMAT_TEXT, FORMAT_JSON, FORMAT_MARKDOWN };

/* A task's arguments: its table, or for a handler type the one its handler
 * announces (NULL: any args). */
static json_t *task_json(const task_def_t *t, const task_arg_t *args)
{
    json_t *o = json_pack("{s:s, s:s}", "name", t->name, "summary", t->summary);
    if (args != NULL)
        json_object_set_new(o, "args", task_schema_json(args));
    else
        json_object_set_new(o, "any_args", json_true());
    if (t->inner != NULL)
        json_object_set_new(o, "other_args", json_string(t->inner_doc));
    return o;
}

static void print_json(json_t *v)
{
    char *s = json_exact_dumps(v, JSON_INDENT(2));
    if (s != NULL)
        puts(s);
    free(s);
    json_decref(v);
}

static void list_tasks(int format)
{
    size_t n, width = 0;
    const task_def_t *const *all = task_all(&n);
    if (format == FORMAT_JSON) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, task_json(all[i], all[i]->args));
        print_json(list);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (strlen(all[i]->name) > width)
            width = strlen(all[i]->name);
    for (size_t i = 0; i < n; i++)
        printf("%-*s  %s\n", (int)width, all[i]->name, all[i]->summary);
    puts("\n`tickq tasks TYPE` shows a task's arguments.");
}

/* Markdown cells hold no pipes. */
static void cell(const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", stdout);
        else
            putchar(*s);
    }
}

static void print_markdown(const task_arg_t *args)
{
    puts("| Arg | Type | Default | Meaning |");
    puts("| --- | --- | --- | --- |");
    for (const task_arg_t *a = args; a->name != NULL; a++) {
        char type[256], dflt[256];
        task_schema_type_doc(a, type, sizeof type);
        task_schema_default_text(a, dflt, sizeof dflt);
        printf("| `%s` | ", a->name);
        cell(type);
        fputs(" | ", stdout);
        cell(dflt);
        fputs(" | ", stdout);
        cell(a->doc);
        puts(" |");
    }
}

static void print_text(const task_def_t *t, const task_arg_t *args, int handler)
{
    printf("%s: %s\n\n", t->name, t->summary);
    if (args == NULL) {
        puts(handler ? "Its handler announces no argument schema: its args are passed to it unchecked\n"
                       "(any JSON object)."
                     : "Takes any JSON object as its args.");
        return;
    }
    if (handler)
        puts("Its args are checked against the schema its handler announces:\n");
    if (args[0].name == NULL) {
        puts("Takes no arguments: args must be {}.");
        return;
    }
    size_t width = 0;
    for (const task_arg_t *a = args; a->name != NULL; a++)
        if (strlen(a->name) > width)
            width = strlen(a->name);
    for (const task_arg_t *a = args; a->name != NULL; a++) {
        char type[256], dflt[256];
        task_schema_type_doc(a, type, sizeof type);
        task_schema_default_text(a, dflt, sizeof dflt);
        printf("  %-*s  %s\n", (int)width, a->name, a->doc);
        printf("  %-*s  %s; %s%s\n", (int)width, "", type, a->flags & TASK_ARG_REQUIRED ? "" : "default: ", dflt);
    }
    if (t->inner != NULL)
        printf("\nnull is the same as leaving an argument out.\n%s\nA key of neither is refused.\n", t->inner_doc);
    else
        puts("\nnull is the same as leaving an argument out; any other key is refused.");
}

int cmd_tasks(int argc, char **argv)
{
    int format = FORMAT_TEXT;
    const char *type = NULL, *config = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            format = FORMAT_JSON;
        } else if (strcmp(argv[i], "--markdown") == 0) {
            format = FORMAT_MARKDOWN;
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            config = argv[i] + 9;
        } else if (strcmp(argv[i], "--config") == 0) {
            if (++i == argc)
                return cli_usage_error(usage, "--config needs a FILE");
            config = argv[i];
        } else if (argv[i][0] == '-') {
            return cli_usage_error(usage, "unknown option '%s'", argv[i]);
        } else if (type != NULL) {
            return cli_usage_error(usage, "unexpected argument '%s' (one TYPE at a time)", argv[i]);
        } else {
            type = argv[i];
        }
    }
    int st = cli_check_config_file(config, &config);
    if (st != 0)
        return st;
    char err[1024];
    if (handler_setup(config, NULL, NULL, 0, 0, err, sizeof err) != 0)
        return cli_fail(EX_CONFIG, "%s", err);
    if (type == NULL) {
        if (format == FORMAT_MARKDOWN)
            return cli_usage_error(usage, "--markdown needs a TYPE");
        list_tasks(format);
        return 0;
    }
    const task_def_t *t = task_find(type);
    if (t == NULL) {
        char names[512], hint[96];
        task_names(names, sizeof names);
        task_name_hint(type, hint, sizeof hint);
        return cli_fail(EX_USAGE, "unknown task type '%s'%s (known: %s)", type, hint, names);
    }
    const task_arg_t *args = t->args;
    int handler = handler_tasks_serves(t->name);
    log_configure(LOG_FORMAT_LOGFMT, LOG_WARN); /* its "handler started" is no news here */
    if (handler && handler_tasks_describe(t->name, &args, err, sizeof err) < 0) {
        handler_tasks_describe_end();
        return cli_fail(EX_CONFIG, "cannot read the argument schema of '%s': %s", t->name, err);
    }
    if (format == FORMAT_JSON)
        print_json(task_json(t, args));
    else if (format == FORMAT_MARKDOWN && args != NULL && args[0].name != NULL)
        print_markdown(args);
    else if (format == FORMAT_MARKDOWN)
        puts(args != NULL ? "No arguments: args must be {}." : "Any JSON object.");
    else
        print_text(t, args, handler);
    handler_tasks_describe_end();
    return 0;
}
