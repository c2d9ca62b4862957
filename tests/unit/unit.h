/* unit.h — a minimal unit test harness: TEST() registers a function,
 * CHECK()/CHECK_STR()/CHECK_INT() record failures without stopping the test.
 * test_main.c runs every registered test and prints "N passed, N failed". */
#ifndef TICKQ_UNIT_H
#define TICKQ_UNIT_H

#include <stdio.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, unit_fn fn);
void unit_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define TEST(name)                                                       \
    static void test_##name(void);                                       \
    __attribute__((constructor)) static void register_##name(void)       \
    {                                                                    \
        unit_register(#name, test_##name);                               \
    }                                                                    \
    static void test_##name(void)

#define CHECK(cond)                                                      \
    do {                                                                 \
        if (!(cond))                                                     \
            unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);           \
    } while (0)

#define CHECK_STR(got, want)                                             \
    do {                                                                 \
        const char *g_ = (got), *w_ = (want);                            \
        if (g_ == NULL || strcmp(g_, w_) != 0)                           \
            unit_fail(__FILE__, __LINE__, "%s is \"%s\", want \"%s\"",   \
                      #got, g_ ? g_ : "(null)", w_);                     \
    } while (0)

#define CHECK_INT(got, want)                                             \
    do {                                                                 \
        long long g_ = (long long)(got), w_ = (long long)(want);         \
        if (g_ != w_)                                                    \
            unit_fail(__FILE__, __LINE__, "%s is %lld, want %lld",       \
                      #got, g_, w_);                                     \
    } while (0)

#endif
