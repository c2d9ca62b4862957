/* strategy_json.c — fuzz target: the reader of a Python strategy's result
 * (src/strategy/strategy_json.c), which the worker runs on the text an
 * evaluation child wrote: a hostile strategy can write any bytes there.
 *
 * Input: the text, as is (NULs included).
 *
 * Properties: the reader answers 0 with exactly one value pushed, or -1
 * with a message and nothing pushed, within the Lua state's memory cap
 * (1 MiB, so that large inputs meet the out-of-memory path); a value it
 * read, written back as JSON (strategy_write_value, as the tasks write
 * results: valid JSON, which jansson reads) and read again, writes back to
 * the same JSON value (keys in any order: a Lua table has none). */
#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <string.h>

#include "core/json_writer.h"
#include "fuzz.h"
#include "strategy/strategy_internal.h"
#include "strategy/strategy_json.h"
#include "strategy/strategy_result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value at the top as JSON text (malloc'd), or NULL when the writer
 * refuses it (nesting past its depth). */
static char *write_back(lua_State *L, size_t *len)
{
    json_writer_t w;
    jw_init(&w);
    char why[300];
    if (strategy_write_value(L, -1, &w, 1, why, sizeof why) != 0) {
        jw_free(&w);
        return NULL;
    }
    return jw_take(&w, len);
}

static int read_text(lua_State *L, const char *text, size_t len, char *why, size_t whylen)
{
    int top = lua_gettop(L);
    why[0] = '\0';
    int rc = strategy_json_push(L, text, len, why, whylen);
    if (rc == 0 && lua_gettop(L) != top + 1)
        fuzz_fail("read %zu bytes: %d values pushed", len, lua_gettop(L) - top);
    if (rc != 0 && (lua_gettop(L) != top || why[0] == '\0'))
        fuzz_fail("refused %zu bytes: %d values left, message \"%s\"", len, lua_gettop(L) - top, why);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    strategy_eval_t e;
    memset(&e, 0, sizeof e);
    e.cap = 1 << 20;
    lua_State *L = strategy_state_new(&e);
    if (L == NULL)
        fuzz_fail("cannot create a Lua state");
    char why[300];
    if (read_text(L, (const char *)data, size, why, sizeof why) == 0) {
        e.cap = SIZE_MAX; /* writing back is not what is under test */
        size_t len1, len2;
        char *first = write_back(L, &len1);
        if (first != NULL) {
            lua_settop(L, 0);
            if (read_text(L, first, len1, why, sizeof why) != 0)
                fuzz_fail("its own text does not read back: %s\n%s", why, first);
            char *second = write_back(L, &len2);
            json_error_t jerr;
            json_t *a = json_loadb(first, len1, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
            if (a == NULL)
                fuzz_fail("written back as text that is not JSON (%s):\n%s", jerr.text, first);
            json_t *b = second != NULL ? json_loadb(second, len2, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr) : NULL;
            if (b == NULL || !json_equal(a, b))
                fuzz_fail("written back differently:\n%s\n%s", first, second ? second : "(refused)");
            json_decref(a);
            json_decref(b);
            free(second);
            free(first);
        }
    }
    lua_close(L);
    return 0;
}
