/* database_url.c — fuzz target: where the database is, from DATABASE_URL or
 * a SQLite path (db_locate in src/db.c), and the URL with its password
 * masked that log lines and errors show.
 *
 * tickq reads only the scheme of DATABASE_URL and masks the password for
 * display; libpq parses the rest when it connects (db_pg_open). This
 * target asks libpq's own parser (PQconninfoParse, not instrumented: it
 * adds no coverage, only the oracle) which password a URL carries, and
 * checks that the masked text does not carry it.
 *
 * Input: the URL (or path) text, cut at a NUL. Properties: a PostgreSQL
 * URL is accepted, anything else refused with a message; the masked URL
 * gives libpq no password but "***"; a SQLite path comes back absolute. */
#include <libpq-fe.h>
#include <stdint.h>
#include <string.h>

#include "data/db.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The password libpq reads from conninfo (a malloc'd copy; NULL for none
 * or when libpq refuses the text). */
static char *libpq_password(const char *conninfo)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    PQfreemem(err);
    if (opts == NULL)
        return NULL;
    char *pw = NULL;
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0')
            pw = strdup(o->val);
    PQconninfoFree(opts);
    return pw;
}

static void check_url(const char *url)
{
    db_location_t loc;
    char err[1024] = "";
    int st = db_locate(url, NULL, &loc, NULL, err, sizeof err);
    int pg = strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
    if (!pg) {
        if (url[0] != '\0' && (st == 0 || err[0] == '\0'))
            fuzz_fail("a URL that is not PostgreSQL was not refused with a message");
        return;
    }
    if (st != 0 || loc.kind != DB_POSTGRES)
        fuzz_fail("a PostgreSQL URL was refused: %s", err);
    if (memchr(loc.where, '\0', sizeof loc.where) == NULL)
        fuzz_fail("the masked URL is not terminated");
    char *shown = libpq_password(loc.where);
    if (shown != NULL && strcmp(shown, "***") != 0) {
        char *real = libpq_password(url);
        /* A text cut at DB_WHERE_MAX may end inside a longer password's
         * mask; what libpq reads from the shown text must not be the real one. */
        if (real != NULL && strcmp(shown, real) == 0)
            fuzz_fail("the masked URL '%s' still carries the password '%s'", loc.where, real);
        free(real);
    }
    free(shown);
}

static void check_path(const char *path)
{
    db_location_t loc;
    char err[1024] = "";
    if (db_locate(NULL, path, &loc, NULL, err, sizeof err) != 0) {
        if (err[0] == '\0')
            fuzz_fail("a SQLite path was refused without a message");
        return;
    }
    if (loc.kind != DB_SQLITE || loc.where[0] != '/')
        fuzz_fail("the SQLite path '%s' did not become absolute: '%s'", path, loc.where);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    check_url(text);
    check_path(text);
    free(text);
    return 0;
}
