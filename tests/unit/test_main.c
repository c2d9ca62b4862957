/* test_main.c — runs every unit test registered with TEST(). */
#include <stdarg.h>
#include <stdlib.h>

#include "cmd/tasks_all.h"
#include "unit.h"

#define MAX_TESTS 512

static struct { const char *name; unit_fn fn; } tests[MAX_TESTS];
static int n_tests;
static int current_failures;

void unit_register(const char *name, unit_fn fn)
{
    if (n_tests < MAX_TESTS) {
        tests[n_tests].name = name;
        tests[n_tests].fn = fn;
        n_tests++;
    }
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "    %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    current_failures++;
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    tasks_register_all();
    for (int i = 0; i < n_tests; i++) {
        if (only && strstr(tests[i].name, only) == NULL)
            continue;
        current_failures = 0;
        tests[i].fn();
        if (current_failures == 0) {
            passed++;
            printf("ok   unit/%s\n", tests[i].name);
        } else {
            failed++;
            printf("FAIL unit/%s\n", tests[i].name);
        }
        fflush(stdout);
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
