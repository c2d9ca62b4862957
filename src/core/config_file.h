/* config_file.h — tickq's configuration file: where it is, its section
 * kinds, and reading it with line numbers.
 *
 * One INI file, named by `--config FILE` on every command (else
 * $TICKQ_CONFIG), holds sections of four kinds: [scheduler] and
 * [schedule NAME] (sched/schedule_config.h), [handler NAME] and [pool NAME]
 * (read by the features that own them). Each reader takes its own sections,
 * skips the other known kinds and refuses an unknown kind, naming the
 * section, the file and the line. A command that reads no section checks a
 * named file with config_file_check, so a wrong file is never silently
 * ignored. */
#ifndef TICKQ_CONFIG_FILE_H
#define TICKQ_CONFIG_FILE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CONFIG_SECTION_UNKNOWN,
    CONFIG_SECTION_SCHEDULER,    /* [scheduler] */
    CONFIG_SECTION_SCHEDULE,     /* [schedule NAME] */
    CONFIG_SECTION_HANDLER,      /* [handler NAME] */
    CONFIG_SECTION_POOL          /* [pool NAME] */
} config_section_t;

/* What an unknown section's message lists as known. */
#define CONFIG_FILE_KNOWN_SECTIONS "[scheduler], [schedule NAME], [handler NAME], [pool NAME]"

/* The kind of a section header's text ("schedule daily"). *name gets the
 * NAME of a named kind ("daily"), NULL for [scheduler] and unknown kinds. */
config_section_t config_file_section(const char *section, const char **name);

/* The file the user named: `given` (--config FILE), else $TICKQ_CONFIG when
 * set and not empty, else NULL. */
const char *config_file_named(const char *given);

/* The file a reader of schedules reads: config_file_named(given), else
 * $TICKQ_SCHEDULES (the old name of $TICKQ_CONFIG), else schedules.ini in
 * the working directory. */
const char *config_file_path(const char *given);

/* The whole file as malloc'd text ending in '\0' (the caller frees it), or
 * NULL with err ("cannot read FILE: ..."). */
char *config_file_read(const char *path, char *err, size_t errlen);

/* The bytes of a section header's text a key carries: a longer one is cut
 * there (far past any valid name; libinih alone would keep 49). */
#define CONFIG_FILE_SECTION_MAX 200

/* One `key = value` of the file, as a reader's callback gets it. */
typedef struct {
    const char *section;         /* its section's header text ("schedule daily"); "" before any header */
    const char *key;
    const char *value;           /* trimmed, an inline comment cut off */
    int line;                    /* the line the key is on */
    int section_line;            /* the line of its section's header (for messages about the section);
                                  * 0 before any header */
    const char *comment;         /* NULL; or the inline comment that cut the value: the file's text
                                  * from its ';' or '#' (after a space) on */
} config_key_t;

/* Called for each key; returns nonzero to go on, 0 on an error it
 * recorded. */
typedef int (*config_file_key_fn)(void *user, const config_key_t *k);

/* Parses INI text: `#` or `;` after a space starts a comment; lines may be
 * long (JSON args). Returns 0; the line of the first line that is not a
 * setting, or of the first key on_key refused (>0); or -1 out of memory. */
int config_file_parse(const char *text, config_file_key_fn on_key, void *user);

/* For a reader refusing k, whose section is of no known kind: the message
 * into msg ("unknown section [S] (known: ...)", or for a key before any
 * section header "the key K comes before any section header ..."), and the line to
 * name with it: the header's, or the key's own. */
int config_file_unknown_section(const config_key_t *k, char *msg, size_t msglen);

/* Checks a file for a command that reads none of its sections: it can be
 * read, it is INI, and its sections are of the known kinds. 0, or -1 with
 * err naming the file and the line ("FILE:LINE: unknown section [x] ..."). */
int config_file_check(const char *path, char *err, size_t errlen);

/* When an inline comment cut k's value, a note for the message that
 * refuses the value, saying where and what to write instead: " (the value
 * was cut at ' ;' on line 4: ...)"; else "". */
void config_file_cut_note(const config_key_t *k, char *out, size_t outlen);

/* Reads k's value as a duration (a bare number is seconds, or 500ms, 90s,
 * 10m, 2h) from min_ms to max_ms (a min_ms of 1 reads "more than 0").
 * 0 with *ms, or -1 with err: "KEY = VALUE is not a duration from 300 ms
 * to 30 s (e.g. EXAMPLES): why" (the readers' failures add the cut note
 * when it applies, as to any of their messages about the key). */
int config_file_duration(const config_key_t *k, int64_t min_ms, int64_t max_ms, const char *examples, int64_t *ms,
                         char *err, size_t errlen);

#endif
