/* list_import.c — fuzz target: the users' list protocol, end to end. Each
 * input's entries are LPUSHed onto strategy_queue in a real redis-server
 * ($REDIS_URL, which `make fuzz` starts privately) and imported by the real
 * function (queue_list_import: tickq_p1_list_import, src/lua/
 * list_import.lua, which decodes the entries in Redis's Lua 5.1 with
 * cjson), then checked.
 *
 * What the guidance sees: libFuzzer instruments only C, so code coverage
 * comes from tickq's C side (the FCALL, the reply's events: queue.c) and
 * hiredis is not instrumented. The decoder itself is Lua inside Redis, out
 * of reach of any instrumentation; to steer towards its branches anyway,
 * the target feeds libFuzzer its own counters (the __libfuzzer_extra_counters
 * section): one per kind of outcome the import reports, an error message
 * with its numbers and quoted text taken out counting as one kind. An
 * input that makes the decoder answer in a new way is kept like one that
 * reaches new C code.
 *
 * Input: up to 4 rounds separated by a line "==", each up to 100 entries
 * (LIST_BATCH_MAX) separated by a line "--". Each round is pushed and
 * imported; between rounds every job is marked completed, as if a worker
 * had run it, so that an id pushed again is a re-run. The database is
 * flushed before each input, which is why the target refuses to start on
 * a Redis that holds any key.
 *
 * Properties, per round: the import succeeds (a Lua error would leave the
 * popped entries nowhere); the list is empty after it; every entry is
 * accounted for exactly once (moved, duplicate or rejected); no valid task
 * is rejected (counted by a check script in the same server, from the
 * protocol's rules); events are well formed (a rejection has its error and
 * the id of the kept copy, a re-run a run number above 1); and the args
 * stored with each job decode (cjson, in the same server) to the args of
 * an entry pushed with its id: the import's own JSON scanning copies the
 * args text byte for byte, and this catches it copying the wrong bytes. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "core/config.h"
#include "core/queue.h"
#include "core/rconn.h"
#include "core/redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define LIST "strategy_queue"
#define TARGET_QUEUE "backtest"
#define MAX_ROUNDS 4
#define MAX_ENTRIES (MAX_ROUNDS * LIST_BATCH_MAX)

/* Behaviour counters for libFuzzer (reset before each input). */
#define OUTCOMES 4096
__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t outcomes[OUTCOMES];

static rconn_t *conn;
static queue_t q;
static list_import_t got;

/* The import's stored args against the entries pushed with the same id,
 * and how many entries of this round the protocol must take (docs/
 * protocol.md: an object with a usable task_id, a task_type of 1-64 of
 * A-Z a-z 0-9 _ - ., args absent or an object; an empty {} or [] is not
 * counted, cjson decodes both alike). ARGV: prefix, the index of the
 * round's first entry, every entry so far. Returns {"ok" or what is
 * wrong, that count}. */
static const char check_script[] =
    "local function same(a, b)\n"
    "  if type(a) ~= type(b) then return false end\n"
    "  if type(a) ~= 'table' then return a == b or (a ~= a and b ~= b) end\n"
    "  for k, v in pairs(a) do if not same(v, b[k]) then return false end end\n"
    "  for k in pairs(b) do if a[k] == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "local function must_take(raw, t)\n"
    "  if type(t) ~= 'table' or not string.find(raw, '^[ \\t\\r\\n]*{') then return false end\n"
    "  local id, ty, a = t.task_id, t.task_type, t.args\n"
    "  if type(id) ~= 'string' or id == '' or #id > 128 or string.find(id, '[%c ]') then return false end\n"
    "  if type(ty) ~= 'string' or #ty > 64 or not string.match(ty, '^[%w_.-]+$') then return false end\n"
    "  return a == nil or (type(a) == 'table' and next(a) ~= nil and a[1] == nil)\n"
    "end\n"
    "local pushed, take = {}, 0\n"
    "for i = 3, #ARGV do\n"
    "  local ok, t = pcall(cjson.decode, ARGV[i])\n"
    "  if ok and i - 2 >= tonumber(ARGV[2]) and must_take(ARGV[i], t) then take = take + 1 end\n"
    "  if ok and type(t) == 'table' and type(t.task_id) == 'string' then\n"
    "    local a = t.args\n"
    "    if a == nil then a = {} end\n"
    "    if type(a) == 'table' then\n"
    "      pushed[t.task_id] = pushed[t.task_id] or {}\n"
    "      table.insert(pushed[t.task_id], a)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "for id, list in pairs(pushed) do\n"
    "  local stored = redis.call('HGET', ARGV[1] .. ':job:' .. id, 'args')\n"
    "  if stored then\n"
    "    local ok, s = pcall(cjson.decode, stored)\n"
    "    if not ok or type(s) ~= 'table' then return {'job ' .. id .. ': its args do not decode: ' .. stored, take} end\n"
    "    local found = false\n"
    "    for _, a in ipairs(list) do if same(a, s) then found = true; break end end\n"
    "    if not found then return {'job ' .. id .. ': its args ' .. stored .. ' are no entry\\'s args', take} end\n"
    "  end\n"
    "end\n"
    "return {'ok', take}\n";

/* Marks every job completed (a worker ran it). */
static const char complete_script[] =
    "for _, k in ipairs(redis.call('KEYS', ARGV[1] .. ':job:*')) do\n"
    "  redis.call('HSET', k, 'state', 'completed')\n"
    "end\n"
    "return 0\n";

static redisReply *command(int argc, const char **argv, const size_t *lens)
{
    char err[512];
    redisReply *r = rconn_argv(conn, argc, argv, lens, err, sizeof err);
    if (r == NULL)
        fuzz_fail("Redis: %s", err);
    if (r->type == REDIS_REPLY_ERROR)
        fuzz_fail("Redis refused %s: %s", argv[0], r->str);
    return r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *url = getenv("REDIS_URL");
    if (url == NULL || *url == '\0')
        fuzz_fail("list_import needs REDIS_URL: a redis-server of its own (make fuzz starts one)");
    redis_url_t u;
    char err[1024];
    if (redis_url_parse(url, &u, err, sizeof err) != 0)
        fuzz_fail("REDIS_URL: %s", err);
    if ((conn = rconn_open(&u, 10000, err, sizeof err)) == NULL)
        fuzz_fail("cannot connect to %s: %s", url, err);
    const char *dbsize[] = { "DBSIZE" };
    redisReply *r = command(1, dbsize, NULL);
    if (r->integer != 0)
        fuzz_fail("list_import flushes its Redis database before each input, and %s holds %lld keys: give it "
                  "an empty one (make fuzz starts a private redis-server)", url, r->integer);
    freeReplyObject(r);
    config_t defaults; /* the queue's settings without flags or environment */
    config_defaults(&defaults);
    queue_init(&q, conn);
    config_apply(&defaults, &q);
    return 0;
}

/* One counter per kind of outcome: the kind and its text with numbers and
 * quoted or trailing specifics ("near ...", "(got ...)") taken out. */
static void count_outcome(const char *kind, const char *text)
{
    uint32_t h = 2166136261u;
    for (const char *p = kind; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    int quoted = 0;
    for (const char *p = text; *p; p++) {
        if (strncmp(p, ", near", 6) == 0 || strncmp(p, " (got", 5) == 0)
            break;
        if (*p == '"' || *p == '\'')
            quoted = !quoted;
        if (quoted || (*p >= '0' && *p <= '9'))
            continue;
        h = (h ^ (uint8_t)*p) * 16777619u;
    }
    outcomes[h % OUTCOMES] = 1;
}

/* Checks a round's events and counts; returns how many were rejected. */
static size_t check_events(const list_import_t *li, size_t pushed)
{
    size_t rejected = 0, duplicates = 0, reruns = 0;
    for (size_t i = 0; i < li->nevents; i++) {
        const list_event_t *e = &li->events[i];
        switch (e->kind) {
        case LIST_REJECTED:
            rejected++;
            if (e->error[0] == '\0' || e->rejected_id[0] == '\0')
                fuzz_fail("a rejection without its error or kept copy: '%s' '%s'", e->error, e->rejected_id);
            count_outcome("rejected", e->error);
            count_outcome(e->task_id[0] ? "rejected with id" : "rejected without id", "");
            break;
        case LIST_DUPLICATE:
            duplicates++;
            if (e->task_id[0] == '\0' || e->state[0] == '\0')
                fuzz_fail("a duplicate without its id or state");
            count_outcome("duplicate", e->state);
            break;
        case LIST_RERUN:
            reruns++;
            if (e->task_id[0] == '\0' || e->run < 2)
                fuzz_fail("a re-run of '%s' as run %lld", e->task_id, e->run);
            count_outcome("rerun", e->state);
            break;
        }
    }
    if (li->remaining != 0)
        fuzz_fail("%lld entries left in the list", li->remaining);
    if ((size_t)li->moved + duplicates + rejected != pushed || (size_t)li->duplicates != duplicates ||
        (size_t)li->reruns != reruns)
        fuzz_fail("%zu pushed: %lld moved, %lld (%zu) duplicates, %zu rejected, %lld (%zu) re-runs", pushed,
                  li->moved, li->duplicates, duplicates, rejected, li->reruns, reruns);
    return rejected;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t *round[MAX_ROUNDS];
    static size_t round_len[MAX_ROUNDS];
    static const char *argv[5 + MAX_ENTRIES];
    static size_t lens[5 + MAX_ENTRIES];
    char err[1024];

    const char *flush[] = { "FLUSHDB" };
    freeReplyObject(command(1, flush, NULL));

    size_t nrounds = fuzz_split(data, size, "\n==\n", round, round_len, MAX_ROUNDS);
    /* Every entry so far, for the check script: EVAL script 0 prefix first entries... */
    size_t all = 0;
    for (size_t r = 0; r < nrounds; r++) {
        const uint8_t *entry[LIST_BATCH_MAX];
        size_t len[LIST_BATCH_MAX];
        size_t n = fuzz_split(round[r], round_len[r], FUZZ_SEP, entry, len, LIST_BATCH_MAX);
        const char *push[1 + 1 + LIST_BATCH_MAX];
        size_t push_len[1 + 1 + LIST_BATCH_MAX];
        push[0] = "LPUSH";
        push[1] = LIST;
        push_len[0] = 5;
        push_len[1] = strlen(LIST);
        for (size_t i = 0; i < n; i++) {
            push[2 + i] = (const char *)entry[i];
            push_len[2 + i] = len[i];
            argv[5 + all] = (const char *)entry[i];
            lens[5 + all] = len[i];
            all++;
        }
        freeReplyObject(command((int)(2 + n), push, push_len));

        queue_status_t st = queue_list_import(&q, LIST, TARGET_QUEUE, LIST_BATCH_MAX, &got, err, sizeof err);
        if (st != QUEUE_OK)
            fuzz_fail("the import failed (status %d): %s", (int)st, err);
        size_t rejected = check_events(&got, n);
        list_import_clear(&got);

        char first[24];
        snprintf(first, sizeof first, "%zu", all - n + 1);
        argv[0] = "EVAL";
        argv[1] = check_script;
        argv[2] = "0";
        argv[3] = q.prefix;
        argv[4] = first;
        for (int i = 0; i < 5; i++)
            lens[i] = strlen(argv[i]);
        redisReply *res = command((int)(5 + all), argv, lens);
        if (res->type != REDIS_REPLY_ARRAY || res->elements != 2 || res->element[0]->type != REDIS_REPLY_STRING)
            fuzz_fail("unexpected reply from the check script");
        if (strcmp(res->element[0]->str, "ok") != 0)
            fuzz_fail("round %zu: %s", r + 1, res->element[0]->str);
        if (rejected > n - (size_t)res->element[1]->integer)
            fuzz_fail("round %zu: %zu of %zu entries rejected, but %lld are valid tasks", r + 1, rejected, n,
                      res->element[1]->integer);
        freeReplyObject(res);

        if (r + 1 < nrounds) {
            const char *complete[] = { "EVAL", complete_script, "0", q.prefix };
            freeReplyObject(command(4, complete, NULL));
        }
    }
    return 0;
}
