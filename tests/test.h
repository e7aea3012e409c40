/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A minimal test harness: TEST() functions run from main() in file order, asserts abort. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"

#define ASSERT_TRUE(expr)                                                                    \
        do {                                                                                 \
                if (!(expr)) {                                                               \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, \
                                #expr);                                                      \
                        abort();                                                             \
                }                                                                            \
        } while (0)

#define ASSERT_EQ(a, b)                                                                     \
        do {                                                                                \
                long long _a_ = (long long)(a), _b_ = (long long)(b);                       \
                if (_a_ != _b_) {                                                           \
                        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, \
                                __LINE__, #a, #b, _a_, _b_);                                \
                        abort();                                                            \
                }                                                                           \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                      \
        do {                                                                                    \
                const char *_a_ = (a), *_b_ = (b);                                              \
                if (!_a_ || !_b_ || strcmp(_a_, _b_) != 0) {                                    \
                        fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, \
                                __LINE__, #a, #b, _a_ ? _a_ : "(null)", _b_ ? _b_ : "(null)");  \
                        abort();                                                                \
                }                                                                               \
        } while (0)

#define ASSERT_NULL(a) ASSERT_TRUE((a) == NULL)
#define ASSERT_OK(expr)                                                                      \
        do {                                                                                 \
                int _r_ = (expr);                                                            \
                if (_r_ < 0) {                                                               \
                        fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, \
                                strerror(-_r_));                                             \
                        abort();                                                             \
                }                                                                            \
        } while (0)
#define ASSERT_CONTAINS(hay, needle)                                                         \
        do {                                                                                 \
                const char *_h_ = (hay);                                                     \
                if (!_h_ || !strstr(_h_, (needle))) {                                        \
                        fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, \
                                __LINE__, _h_ ? _h_ : "(null)", (needle));                   \
                        abort();                                                             \
                }                                                                            \
        } while (0)

typedef struct TestCase {
        const char *name;
        void (*fn)(void);
} TestCase;

#define TEST(n) static void test_##n(void)
#define T(n)                 \
        {                    \
#n, test_##n \
        }

/* Usage: static const TestCase tests[] = { T(a), T(b) }; RUN_TESTS(tests) */
#define RUN_TESTS(list)                                               \
        int main(void)                                                \
        {                                                             \
                for (size_t i = 0; i < ELEMENTSOF(list); i++) {       \
                        list[i].fn();                                 \
                        printf("ok %zu - %s\n", i + 1, list[i].name); \
                }                                                     \
                printf("1..%zu\n", ELEMENTSOF(list));                 \
                return 0;                                             \
        }

/* The source tree's tests/fixtures, passed by meson. */
#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

/* Read a fixture into memory (aborts on failure). */
static inline char *read_fixture(const char *rel, size_t *ret_size)
{
        char path[4096];
        FILE *f;
        char *buf;
        long n;

        snprintf(path, sizeof(path), "%s/%s", FIXTURES, rel);
        f = fopen(path, "rb");
        ASSERT_TRUE(f);
        ASSERT_TRUE(fseek(f, 0, SEEK_END) == 0);
        n = ftell(f);
        ASSERT_TRUE(n >= 0);
        rewind(f);
        buf = malloc((size_t)n + 1);
        ASSERT_TRUE(buf);
        ASSERT_TRUE(fread(buf, 1, (size_t)n, f) == (size_t)n);
        buf[n] = '\0';
        fclose(f);
        if (ret_size)
                *ret_size = (size_t)n;
        return buf;
}
