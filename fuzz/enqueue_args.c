/* enqueue_args.c — fuzz target: job args as a client submits them:
 * `tickq enqueue` whole (src/cmd_enqueue.c: its flags, ARGS_JSON,
 * --arg-file KEY=PATH files merged into the args, the job checks) and the
 * check of the args against every registered task's table and own check
 * (task_check, src/task_schema.c), as a client and as the worker.
 *
 * Input, in parts separated by a line "--":
 *   1. the command line after `tickq enqueue`, words separated by spaces
 *      ("backtest --queue q --timeout 5m");
 *   2. ARGS_JSON (absent when the input has one part);
 *   3. and on: one --arg-file each: a first line KEY, then the file's text
 *      (written to a temp file, passed as KEY=PATH); a first line starting
 *      with '!' is passed as the option's value as it is ("!=x").
 * REDIS_URL is unset and --redis-url dropped, so a job that passes every
 * check stops where the command would connect (exit 78) and nothing leaves
 * the process.
 *
 * Properties: the command exits 0 (--help), 64, 65, 71 or 78; every task's
 * check of the args returns 0, or -1 with a message. */
#include <stdint.h>
#include <string.h>
#include <getopt.h>
#include <sysexits.h>

#include "cmd/commands.h"
#include "cmd/tasks_all.h"
#include "fuzz.h"
#include "core/task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_PARTS 20
#define MAX_WORDS 32

static char folder[64];

static void remove_folder(void) { fuzz_remove_temp_folder(folder); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    unsetenv("REDIS_URL");
    unsetenv("TICKQ_PROVIDER_ALLOW");
    unsetenv("TICKQ_MARKET_DATA_PROVIDER");
    tasks_register_all();
    fuzz_temp_folder(folder, "args");
    atexit(remove_folder);
    if (freopen("/dev/null", "r", stdin) == NULL) /* ARGS_JSON '-' reads an empty text */
        fuzz_fail("cannot read /dev/null");
    fuzz_quiet_stdio();
    return 0;
}

/* Every task's check of args: 0, or -1 with a message. */
static void check_tasks(const uint8_t *text, size_t len)
{
    json_error_t jerr;
    json_t *args = json_loadb((const char *)text, len, 0, &jerr);
    if (!json_is_object(args)) {
        json_decref(args);
        return;
    }
    size_t n;
    const task_def_t *const *tasks = task_all(&n);
    for (size_t i = 0; i < n; i++) {
        for (int where = TASK_CHECK_CLIENT; where <= TASK_CHECK_WORKER; where++) {
            char msg[4096] = "";
            int rc = task_check(tasks[i], args, (task_check_where_t)where, msg, sizeof msg);
            if ((rc != 0 && rc != -1) || (rc == -1 && msg[0] == '\0'))
                fuzz_fail("%s: task_check returned %d, message '%s'", tasks[i]->name, rc, msg);
        }
    }
    json_decref(args);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[MAX_PARTS];
    size_t len[MAX_PARTS];
    size_t nparts = fuzz_split(data, size, FUZZ_SEP, part, len, MAX_PARTS);

    char *argv[2 + MAX_WORDS + 1 + 2 * MAX_PARTS + 1];
    char *owned[MAX_WORDS + MAX_PARTS + 1];
    int argc = 0, nowned = 0;
    argv[argc++] = (char *)"enqueue";
    char *line = fuzz_strndup(part[0], len[0]);
    owned[nowned++] = line;
    for (char *w = strtok(line, " "); w != NULL && argc < 1 + MAX_WORDS; w = strtok(NULL, " "))
        if (strncmp(w, "--red", 5) != 0) /* --redis-url and its abbreviations: no Redis to reach */
            argv[argc++] = w;
    if (nparts > 1)
        argv[argc++] = owned[nowned++] = fuzz_strndup(part[1], len[1]);
    for (size_t i = 2; i < nparts; i++) {
        const uint8_t *nl = memchr(part[i], '\n', len[i]);
        size_t klen = nl ? (size_t)(nl - part[i]) : len[i];
        char *opt;
        if (klen > 0 && part[i][0] == '!') {
            opt = fuzz_strndup(part[i] + 1, klen - 1);
        } else {
            char path[128];
            snprintf(path, sizeof path, "%s/f%zu", folder, i);
            FILE *f = fopen(path, "wb");
            size_t tlen = nl ? len[i] - klen - 1 : 0;
            if (f == NULL || (tlen > 0 && fwrite(nl + 1, 1, tlen, f) != tlen) || fclose(f) != 0)
                fuzz_fail("cannot write %s", path);
            opt = malloc(klen + strlen(path) + 2);
            if (opt == NULL)
                abort();
            memcpy(opt, part[i], klen);
            opt[klen] = '=';
            strcpy(opt + klen + 1, path);
        }
        owned[nowned++] = opt;
        argv[argc++] = (char *)"--arg-file";
        argv[argc++] = opt;
    }
    argv[argc] = NULL;

    /* getopt keeps its place between calls: start it afresh, as a new
     * process would. */
    optind = 0;
    char *none[] = { (char *)"x", NULL };
    static const struct option no_options[] = { { 0, 0, 0, 0 } };
    while (getopt_long(1, none, "", no_options, NULL) != -1)
        ;
    int rc = cmd_enqueue(argc, argv);
    if (rc != 0 && rc != EX_USAGE && rc != EX_DATAERR && rc != EX_OSERR && rc != EX_CONFIG)
        fuzz_fail("tickq enqueue exited %d", rc);

    if (nparts > 1)
        check_tasks(part[1], len[1]);
    for (int i = 0; i < nowned; i++)
        free(owned[i]);
    return 0;
}
