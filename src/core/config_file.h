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

/* Called for each `key = value` with its section's header text, the line
 * the key is on and the line of the section's header (for messages about
 * the section); returns nonzero to go on, 0 on an error it recorded. */
typedef int (*config_file_key_fn)(void *user, const char *section, const char *key, const char *value, int line,
                                  int section_line);

/* Parses INI text: `#` or `;` after a space starts a comment; lines may be
 * long (JSON args). Returns 0; the line of the first line that is not a
 * setting, or of the first key on_key refused (>0); or -1 out of memory. */
int config_file_parse(const char *text, config_file_key_fn on_key, void *user);

/* Checks a file for a command that reads none of its sections: it can be
 * read, it is INI, and its sections are of the known kinds. 0, or -1 with
 * err naming the file and the line ("FILE:LINE: unknown section [x] ..."). */
int config_file_check(const char *path, char *err, size_t errlen);

#endif
