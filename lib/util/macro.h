/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small macros used everywhere: cleanup attributes, ownership transfer, array helpers. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f)         __attribute__((cleanup(f)))
#define _unused_             __attribute__((unused))
#define _pure_               __attribute__((pure))
#define _const_              __attribute__((const))
#define _printf_(a, b)       __attribute__((format(printf, a, b)))
#define _noreturn_           __attribute__((noreturn))
#define _sentinel_           __attribute__((sentinel))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x)        (sizeof(x) / sizeof((x)[0]))

#define MIN(a, b)            ((a) < (b) ? (a) : (b))
#define MAX(a, b)            ((a) > (b) ? (a) : (b))

/* Hand ownership of a pointer or file descriptor on, leaving the source empty. */
#define TAKE_PTR(p)                  \
        ({                           \
                typeof(p) _p_ = (p); \
                (p) = NULL;          \
                _p_;                 \
        })
#define TAKE_FD(fd)              \
        ({                       \
                int _fd_ = (fd); \
                (fd) = -EBADF;   \
                _fd_;            \
        })

static inline void *mfree(void *p)
{
        free(p);
        return NULL;
}

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                (void)close(fd); /* close() errors on read-only fds carry no information */
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd)
{
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        if (*f)
                (void)fclose(*f); /* only used on streams we read */
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Define func##p(type *) that calls func() on a non-NULL pointer, for _cleanup_(). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
        static inline void func##p(type *p)     \
        {                                       \
                if (*p)                         \
                        func(*p);               \
        }

#define streq(a, b)     (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
#define strcaseeq(a, b) (strcasecmp((a), (b)) == 0)
#define isempty(s)      (!(s) || (s)[0] == '\0')
#define strempty(s)     ((s) ? (s) : "")
#define strna(s)        ((s) ? (s) : "n/a")
#define yes_no(b)       ((b) ? "yes" : "no")
#define ERRNO_VALUE(e)  (abs(e))

static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

/* Grow *p (an array of n elements of *p's type) to hold at least need elements. */
#define GREEDY_REALLOC(p, allocated, need)                                       \
        ({                                                                       \
                bool _ok_ = true;                                                \
                if ((need) > (allocated)) {                                      \
                        size_t _n_ = MAX((size_t)(need), (size_t)(allocated)*2); \
                        if (_n_ < 8)                                             \
                                _n_ = 8;                                         \
                        typeof(p) _q_ = reallocarray((p), _n_, sizeof(*(p)));    \
                        if (_q_) {                                               \
                                (p) = _q_;                                       \
                                (allocated) = _n_;                               \
                        } else                                                   \
                                _ok_ = false;                                    \
                }                                                                \
                _ok_;                                                            \
        })

#define FOREACH_ARRAY(i, array, num) \
        for (typeof(array[0]) *i = (array); i && i < (array) + (num); i++)
