/* strategy_format.c — string.format's fast path for strategies.
 *
 * A screening's strategy may format a message for each of 50,000
 * instances; Lua's string.format hands each "%.1f" to printf, whose exact
 * float formatting costs a quarter of a microsecond, more than the rest of
 * the call. The common formats are written here instead: literal text,
 * "%%", "%s" of a string or a number, "%d"/"%i" of a number with an
 * integer value and "%f"/"%.<p>f" of a number, each with no flags and no
 * width. Anything else, and any value that is not plainly one of those
 * (a table for %s, a string for %d, a float that is not whole for %d,
 * missing arguments, a result longer than FAST_MAX), is declined before a
 * byte is pushed, and the caller runs Lua's own string.format, with its
 * checks and errors. The text is byte for byte what Lua's would be: %s of
 * a number is Lua's own conversion (lua_tolstring), %d is LUA_INTEGER_FMT's
 * "%lld" (numfmt_integer), %f is numfmt_fixed, which is printf's rounding
 * exactly (tests/unit/test_strategy_format.c holds both to Lua's). */
#include <lua.h>
#include <string.h>

#include "core/numfmt.h"
#include "strategy/strategy_internal.h"

#define FAST_MAX 512             /* longest result written here */

typedef struct {
    char text[FAST_MAX];
    size_t len;
} fast_out_t;

static int put(fast_out_t *o, const char *s, size_t n)
{
    if (n > FAST_MAX - o->len)
        return -1;
    memcpy(o->text + o->len, s, n);
    o->len += n;
    return 0;
}

/* One conversion of argument `arg`; -1 to decline. */
static int convert(lua_State *L, int arg, char conv, int prec, fast_out_t *o)
{
    int type = lua_type(L, arg);
    if (conv != 's' && type != LUA_TNUMBER)
        return -1;               /* Lua would convert a string ("12"); declined */
    switch (conv) {
    case 's': {
        if (type != LUA_TSTRING && type != LUA_TNUMBER)
            return -1;
        size_t n;
        const char *s;
        if (type == LUA_TSTRING) {
            s = lua_tolstring(L, arg, &n);
            return put(o, s, n);
        }
        lua_pushvalue(L, arg); /* converted in place: a copy, so the argument stays a number */
        s = lua_tolstring(L, -1, &n);
        int rc = put(o, s, n);
        lua_pop(L, 1);
        return rc;
    }
    case 'd': {
        int whole;
        lua_Integer v = lua_tointegerx(L, arg, &whole);
        if (!whole)
            return -1;
        char buf[NUMFMT_INTEGER_MAX];
        return put(o, buf, (size_t)numfmt_integer((long long)v, buf)); /* LUA_INTEGER_FMT is "%lld" */
    }
    default: { /* 'f' */
        char buf[NUMFMT_FIXED_MAX];
        int n = numfmt_fixed((double)lua_tonumber(L, arg), prec, buf);
        return n < 0 ? -1 : put(o, buf, (size_t)n);
    }
    }
}

int strategy_format_fast(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TSTRING)
        return 0;
    size_t len;
    const char *fmt = lua_tolstring(L, 1, &len);
    int top = lua_gettop(L), arg = 1;
    fast_out_t o;
    o.len = 0;
    size_t i = 0;
    while (i < len) {
        const char *pct = memchr(fmt + i, '%', len - i);
        size_t plain = (pct != NULL ? (size_t)(pct - fmt) : len) - i;
        if (put(&o, fmt + i, plain) != 0)
            return 0;
        i += plain;
        if (i >= len)
            break;
        i++; /* past '%' */
        if (i < len && fmt[i] == '%') {
            if (put(&o, "%", 1) != 0)
                return 0;
            i++;
            continue;
        }
        int prec = -1;
        if (i < len && fmt[i] == '.') { /* up to two digits, as Lua allows; none is 0 */
            prec = 0;
            i++;
            for (int d = 0; d < 2 && i < len && fmt[i] >= '0' && fmt[i] <= '9'; d++, i++)
                prec = prec * 10 + (fmt[i] - '0');
        }
        if (i >= len || ++arg > top)
            return 0;
        char conv = fmt[i++];    /* a third digit, a flag or a width is declined here */
        if (conv == 'i')
            conv = 'd';
        if ((conv != 's' && conv != 'd' && conv != 'f') || (prec >= 0 && conv != 'f'))
            return 0;
        if (convert(L, arg, conv, prec < 0 ? 6 : prec, &o) != 0)
            return 0;
    }
    lua_pushlstring(L, o.text, o.len);
    return 1;
}
