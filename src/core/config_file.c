/* config_file.c — tickq's configuration file: where it is, its section
 * kinds, and reading it with line numbers (config_file.h). */
#include "core/config_file.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

#define DEFAULT_FILE "schedules.ini"
/* The bytes of a section header's text libinih keeps (its MAX_SECTION 50,
 * with the NUL). */
#define INI_SECTION_KEPT 49
/* What starts an inline comment, after a space or tab. */
#define CONFIG_FILE_COMMENT_CHARS ";#"

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

/* inih reads lines through read_line, so that each key knows its line,
 * and where the line is in the text: a value inih hands over points into
 * its copy of the line, so its end there is its end in the text, where an
 * inline comment that cut it is found. */
typedef struct {
    const char *p;
    int line;
    int section_line;            /* of the last section header read (0: none yet) */
    char section[CONFIG_FILE_SECTION_MAX + 1]; /* its text, whole (libinih keeps 49 bytes of it) */
    int after_key;               /* a key line was read since it: an indented line continues its value */
    int mid_line;                /* the last chunk did not end a line */
    const char *line_text;       /* the current line in the text */
    uintptr_t line_copy;         /* where inih's copy of it starts (its line buffer); 0: none */
    size_t line_len;             /* the bytes of it given to inih so far */
    config_file_key_fn on_key;
    void *user;
} reader_t;

/* The first of `chars`, or of an inline comment (a ';' or '#' after a
 * blank), in [s, end); end when none: libinih's find_chars_or_comment. */
static const char *chars_or_comment(const char *s, const char *end, const char *chars)
{
    int was_space = 0;
    while (s < end && strchr(chars, *s) == NULL && !(was_space && strchr(CONFIG_FILE_COMMENT_CHARS, *s))) {
        was_space = isspace((unsigned char)*s);
        s++;
    }
    return s;
}

/* Follows what libinih (ini.c's ini_parse_stream) makes of the line [s,
 * end), to know the section of the keys it hands over and the line of its
 * header: after a UTF-8 BOM on line 1 and blanks (isspace, as its lskip),
 * a blank line or one starting with ';' or '#' is a comment; an indented
 * line after a key line of the section continues that key's value; '['
 * with a ']' before any inline comment is a section header (its text
 * between them; without the ']' the line is an error and the section stays
 * the one before); else a line with '=' or ':' is a key, which a
 * continuation may follow when its name is not empty. */
static void follow_line(reader_t *r, const char *s, const char *end)
{
    const char *start = s;
    if (r->line == 1 && end - s >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        start += 3;
    while (start < end && isspace((unsigned char)*start))
        start++;
    if (start == end || *start == ';' || *start == '#')
        return;
    if (r->after_key && start > s)
        return; /* a continuation */
    if (*start == '[') {
        const char *close = chars_or_comment(start + 1, end, "]");
        if (close < end && *close == ']') {
            size_t n = (size_t)(close - start - 1);
            if (n > CONFIG_FILE_SECTION_MAX)
                n = CONFIG_FILE_SECTION_MAX;
            memcpy(r->section, start + 1, n);
            r->section[n] = '\0';
            r->section_line = r->line;
            r->after_key = 0;
        }
        return;
    }
    const char *eq = chars_or_comment(start, end, "=:");
    if (eq < end && (*eq == '=' || *eq == ':')) {
        while (eq > start && isspace((unsigned char)eq[-1]))
            eq--;
        r->after_key = eq > start;
    }
}

static char *read_line(char *str, int num, void *stream)
{
    reader_t *r = stream;
    if (*r->p == '\0')
        return NULL;
    const char *nl = strchr(r->p, '\n');
    size_t len = nl ? (size_t)(nl - r->p) + 1 : strlen(r->p);
    if (len > (size_t)num - 1)
        len = (size_t)num - 1;
    if (!r->mid_line) {
        r->line_text = r->p;
        r->line_len = 0;
    }
    /* inih reads a long line in chunks, each after the last in its buffer
     * (which it may have moved) */
    r->line_copy = (uintptr_t)str - r->line_len;
    memcpy(str, r->p, len);
    str[len] = '\0';
    r->p += len;
    r->line_len += len;
    if (!r->mid_line) {
        r->line++;
        const char *end = nl ? nl : r->line_text + strlen(r->line_text);
        if (end - r->line_text > ini_max_line - 1) /* inih reads that much of a line, and drops the rest */
            end = r->line_text + ini_max_line - 1;
        follow_line(r, r->line_text, end);
    }
    r->mid_line = len == 0 || str[len - 1] != '\n';
    return str;
}

/* The inline comment that cut value, in the text, or NULL: inih cuts a
 * value at a ';' or '#' that follows a blank, and trims the blanks. */
static const char *comment_after(const reader_t *r, const char *value)
{
    uintptr_t v = (uintptr_t)value;
    if (r->line_copy == 0 || v < r->line_copy || v > r->line_copy + r->line_len)
        return NULL;
    size_t at = (size_t)(v - r->line_copy) + strlen(value);
    if (at > r->line_len)
        return NULL;
    while (at < r->line_len && r->line_text[at] != '\n' && isspace((unsigned char)r->line_text[at]))
        at++;
    if (at == 0 || at >= r->line_len || !isspace((unsigned char)r->line_text[at - 1]) ||
        r->line_text[at] == '\0' || strchr(CONFIG_FILE_COMMENT_CHARS, r->line_text[at]) == NULL)
        return NULL;
    return r->line_text + at;
}

static int on_ini_key(void *user, const char *section, const char *key, const char *value)
{
    reader_t *r = user;
    /* libinih keeps 49 bytes of a section's text (MAX_SECTION); ours is
     * the header's, whole, and the same when shorter */
    size_t n = strlen(section);
    const char *whole = strncmp(r->section, section, n) == 0 && (r->section[n] == '\0' || n >= INI_SECTION_KEPT)
                            ? r->section : section;
    config_key_t k = { whole, key, value, r->line, r->section_line, comment_after(r, value) };
    return r->on_key(r->user, &k);
}

int config_file_parse(const char *text, config_file_key_fn on_key, void *user)
{
    reader_t rd = { .p = text, .on_key = on_key, .user = user };
    /* Long lines (JSON args) are fine; " #" or " ;" starts a comment. */
    ini_use_stack = false;
    ini_allow_realloc = true;
    ini_max_line = 1 << 20;
    ini_allow_inline_comments = true;
    ini_inline_comment_prefixes = (char *)CONFIG_FILE_COMMENT_CHARS;
    int rc = ini_parse_stream(read_line, &rd, on_ini_key, &rd);
    return rc < 0 ? -1 : rc;
}

void config_file_cut_note(const config_key_t *k, char *out, size_t outlen)
{
    if (outlen > 0)
        out[0] = '\0';
    if (k->comment == NULL)
        return;
    char c = k->comment[0];
    snprintf(out, outlen, " (the value was cut at ' %c' on line %d: a '%c' after a space starts an inline "
             "comment; if it belongs to the value, write it with no space before it, or in a JSON string as "
             "\\u%04x)", c, k->line, c, (unsigned)(unsigned char)c);
}

/* The range of config_file_duration's message: "from 300 ms to 30 s", or
 * "of more than 0 and at most 7 days" when min_ms is 1. */
static void duration_range(int64_t min_ms, int64_t max_ms, char *out, size_t outlen)
{
    char min[64], max[64];
    clock_describe_ms(min_ms, min, sizeof min);
    clock_describe_ms(max_ms, max, sizeof max);
    if (min_ms == 1)
        snprintf(out, outlen, "of more than 0 and at most %s", max);
    else
        snprintf(out, outlen, "from %s to %s", min_ms == 0 ? "0" : min, max);
}

int config_file_duration(const config_key_t *k, int64_t min_ms, int64_t max_ms, const char *examples, int64_t *ms,
                         char *err, size_t errlen)
{
    char range[160], why[160];
    int64_t v = 0;
    const char *problem = clock_duration_problem(k->value, 1000, &v);
    if (problem == NULL && v >= min_ms && v <= max_ms) {
        *ms = v;
        return 0;
    }
    if (problem != NULL) {
        snprintf(why, sizeof why, "%s", problem);
    } else {
        char said[64];
        clock_describe_ms(v, said, sizeof said);
        snprintf(why, sizeof why, "%s is too %s", said, v < min_ms ? "short" : "long");
    }
    duration_range(min_ms, max_ms, range, sizeof range);
    snprintf(err, errlen, "%s = %.60s is not a duration %s (e.g. %s): %s", k->key, k->value, range, examples, why);
    return -1;
}

int config_file_unknown_section(const config_key_t *k, char *msg, size_t msglen)
{
    if (k->section_line == 0) {
        snprintf(msg, msglen, "the key '%.100s' comes before any section header: put it under one (known: %s)", k->key,
                 CONFIG_FILE_KNOWN_SECTIONS);
        return k->line;
    }
    snprintf(msg, msglen, "unknown section [%.100s] (known: %s)", k->section, CONFIG_FILE_KNOWN_SECTIONS);
    return k->section_line;
}

typedef struct {
    const char *path;
    char *err;
    size_t errlen;
    int failed;
} check_t;

static int check_key(void *user, const config_key_t *k)
{
    check_t *c = user;
    const char *name;
    if (c->failed || config_file_section(k->section, &name) != CONFIG_SECTION_UNKNOWN)
        return !c->failed;
    char msg[400];
    int line = config_file_unknown_section(k, msg, sizeof msg);
    snprintf(c->err, c->errlen, "%s:%d: %s", c->path, line, msg);
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
