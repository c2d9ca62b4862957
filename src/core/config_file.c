/* config_file.c — tickq's configuration file: where it is, its section
 * kinds, and reading it with line numbers (config_file.h). */
#include "core/config_file.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_FILE "schedules.ini"

static const struct {
    const char *kind;
    config_section_t section;
    int named;
} kinds[] = {
    { "scheduler", CONFIG_SECTION_SCHEDULER, 0 },
    { "schedule", CONFIG_SECTION_SCHEDULE, 1 },
    { "handler", CONFIG_SECTION_HANDLER, 1 },
    { "pool", CONFIG_SECTION_POOL, 1 },
};

config_section_t config_file_section(const char *section, const char **name)
{
    *name = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t len = strlen(kinds[i].kind);
        if (strncmp(section, kinds[i].kind, len) != 0)
            continue;
        if (!kinds[i].named && section[len] == '\0')
            return kinds[i].section;
        if (kinds[i].named && section[len] == ' ') {
            *name = section + len + 1;
            return kinds[i].section;
        }
    }
    return CONFIG_SECTION_UNKNOWN;
}

const char *config_file_named(const char *given)
{
    const char *env = getenv("TICKQ_CONFIG");
    if (given != NULL)
        return given;
    return env != NULL && *env ? env : NULL;
}

const char *config_file_path(const char *given)
{
    const char *named = config_file_named(given);
    const char *old = getenv("TICKQ_SCHEDULES");
    if (named != NULL)
        return named;
    return old != NULL && *old ? old : DEFAULT_FILE;
}

char *config_file_read(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *t = realloc(text, cap);
            if (t == NULL) {
                free(text);
                fclose(f);
                snprintf(err, errlen, "%s: out of memory", path);
                return NULL;
            }
            text = t;
        }
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) { /* a directory, an I/O error: not an empty file */
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        free(text);
        fclose(f);
        return NULL;
    }
    fclose(f);
    text[len] = '\0';
    return text;
}

/* inih reads lines through read_line, so that each key knows its line. */
typedef struct {
    const char *p;
    int line;
    int section_line;            /* of the last section header read */
    int mid_line;                /* the last chunk did not end a line */
    config_file_key_fn on_key;
    void *user;
} reader_t;

static char *read_line(char *str, int num, void *stream)
{
    reader_t *r = stream;
    if (*r->p == '\0')
        return NULL;
    const char *nl = strchr(r->p, '\n');
    size_t len = nl ? (size_t)(nl - r->p) + 1 : strlen(r->p);
    if (len > (size_t)num - 1)
        len = (size_t)num - 1;
    memcpy(str, r->p, len);
    str[len] = '\0';
    r->p += len;
    if (!r->mid_line) {
        r->line++;
        const char *c = str;
        while (*c == ' ' || *c == '\t')
            c++;
        if (*c == '[') /* as inih reads a section header */
            r->section_line = r->line;
    }
    r->mid_line = len == 0 || str[len - 1] != '\n';
    return str;
}

static int on_ini_key(void *user, const char *section, const char *key, const char *value)
{
    reader_t *r = user;
    return r->on_key(r->user, section, key, value, r->line, r->section_line);
}

int config_file_parse(const char *text, config_file_key_fn on_key, void *user)
{
    reader_t rd = { text, 0, 0, 0, on_key, user };
    /* Long lines (JSON args) are fine; " #" or " ;" starts a comment. */
    ini_use_stack = false;
    ini_allow_realloc = true;
    ini_max_line = 1 << 20;
    ini_allow_inline_comments = true;
    ini_inline_comment_prefixes = (char *)";#";
    int rc = ini_parse_stream(read_line, &rd, on_ini_key, &rd);
    return rc < 0 ? -1 : rc;
}

typedef struct {
    const char *path;
    char *err;
    size_t errlen;
    int failed;
} check_t;

static int check_key(void *user, const char *section, const char *key, const char *value, int line,
                     int section_line)
{
    check_t *c = user;
    const char *name;
    (void)key;
    (void)value;
    (void)line;
    if (c->failed || config_file_section(section, &name) != CONFIG_SECTION_UNKNOWN)
        return !c->failed;
    snprintf(c->err, c->errlen, "%s:%d: unknown section [%s] (known: %s)", c->path, section_line, section,
             CONFIG_FILE_KNOWN_SECTIONS);
    c->failed = 1;
    return 0;
}

int config_file_check(const char *path, char *err, size_t errlen)
{
    char *text = config_file_read(path, err, errlen);
    if (text == NULL)
        return -1;
    check_t c = { path, err, errlen, 0 };
    int rc = config_file_parse(text, check_key, &c);
    free(text);
    if (c.failed)
        return -1;
    if (rc > 0)
        snprintf(err, errlen, "%s:%d: not a setting (write key = value or [section])", path, rc);
    else if (rc < 0)
        snprintf(err, errlen, "%s: out of memory", path);
    return rc == 0 ? 0 : -1;
}
