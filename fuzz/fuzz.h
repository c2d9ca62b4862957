/* fuzz.h — what tickq's libFuzzer targets share (fuzz/README.md).
 *
 * Each fuzz/<target>.c defines LLVMFuzzerTestOneInput and links the
 * project's objects built with clang and -fsanitize=fuzzer-no-link,address,
 * undefined (`make fuzz`). A target reports a broken property with
 * fuzz_fail(), which aborts: libFuzzer counts it as a crash and keeps the
 * input, exactly as for a sanitizer report.
 *
 * Inputs that carry several parts (a task type, its args, files) split them
 * at a line "--" ("\n--\n"), so that seeds stay readable text. */
#ifndef TICKQ_FUZZ_H
#define TICKQ_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_SEP "\n--\n"

/* Where fuzz_fail reports: the real stderr, also after fuzz_quiet_stdio. */
static FILE *fuzz_report;

/* Reports a broken property and aborts. */
__attribute__((format(printf, 1, 2), noreturn)) static inline void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    FILE *out = fuzz_report != NULL ? fuzz_report : stderr;
    fputs("fuzz: property broken: ", out);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    fflush(out);
    va_end(ap);
    abort();
}

/* A NUL-terminated copy of data[0..size) (the caller frees it). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Splits [data, data+size) at `sep` into at most max parts; each part is a
 * pointer and a length into data. Returns the number of parts (at least 1). */
static inline size_t fuzz_split(const uint8_t *data, size_t size, const char *sep, const uint8_t **part,
                                size_t *len, size_t max)
{
    size_t n = 0, seplen = strlen(sep);
    const uint8_t *p = data, *end = data + size;
    while (n + 1 < max) {
        const uint8_t *hit = memmem(p, (size_t)(end - p), sep, seplen);
        if (hit == NULL)
            break;
        part[n] = p;
        len[n++] = (size_t)(hit - p);
        p = hit + seplen;
    }
    part[n] = p;
    len[n++] = (size_t)(end - p);
    return n;
}

/* Makes a temp folder "<base>/tickq-fuzz-<name>.XXXXXX" into out (64
 * bytes): base is $FUZZ_TMPDIR (scripts/fuzz sets it inside its own work
 * folder, which goes even when a target crashes), else /dev/shm when there
 * is one (files in memory: an fsync costs nothing, and the file system is
 * not what is tested), else /tmp. The caller removes it at exit. */
static inline void fuzz_temp_folder(char out[64], const char *name)
{
    const char *base = getenv("FUZZ_TMPDIR");
    if (base == NULL || *base == '\0')
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    if (snprintf(out, 64, "%s/tickq-fuzz-%s.XXXXXX", base, name) >= 64 || mkdtemp(out) == NULL)
        fuzz_fail("cannot make a temp folder under %s", base);
}

/* Removes a folder fuzz_temp_folder made, with what is in it (at exit). */
static inline void fuzz_remove_temp_folder(const char *folder)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", folder);
    if (system(cmd) != 0)
        fprintf(fuzz_report ? fuzz_report : stderr, "fuzz: could not remove %s\n", folder);
}

/* Sends the project's own stdout and stderr output (usage texts, error
 * messages) to /dev/null: libFuzzer and the sanitizers write to fd 2 and
 * their own streams, which stay. */
static inline void fuzz_quiet_stdio(void)
{
    FILE *null = fopen("/dev/null", "w");
    if (null == NULL)
        abort();
    fuzz_report = stderr;
    stdout = null;
    stderr = null;
}

#endif
