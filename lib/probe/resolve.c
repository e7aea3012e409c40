/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Name resolution with a deadline, for probes that must not hang on a dead resolver: glibc's
 * getaddrinfo_a() runs the lookups in its threads, gai_suspend() waits for them, and what is still
 * running at the deadline is cancelled (or, when glibc cannot cancel it any more, waited out: its
 * thread writes into the caller's request, which must outlive it).
 */

#include <time.h>

#include "probe/probe.h"

uint64_t np_probe_now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static bool any_in_progress(struct gaicb **list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (gai_error(list[i]) == EAI_INPROGRESS)
                        return true;
        return false;
}

int np_resolve(struct gaicb **list, size_t n, uint64_t deadline_usec, bool *ret_timed_out,
               int *ret_gai)
{
        int r;

        for (size_t i = 0; i < n; i++)
                ret_timed_out[i] = false;
        if (n == 0)
                return 0;
        r = getaddrinfo_a(GAI_NOWAIT, list, (int)n, NULL);
        if (r != 0) {
                *ret_gai = r;
                return r == EAI_MEMORY ? -ENOMEM : -EIO;
        }
        /* gai_suspend() may return on any notification, not only ours: only gai_error() says a
         * request is over. */
        while (any_in_progress(list, n)) {
                uint64_t now = np_probe_now_usec();
                struct timespec ts;

                if (now >= deadline_usec)
                        break;
                ts = (struct timespec){ .tv_sec = (time_t)((deadline_usec - now) / 1000000),
                                        .tv_nsec = (long)((deadline_usec - now) % 1000000) * 1000 };
                (void)gai_suspend((const struct gaicb *const *)list, (int)n, &ts);
        }
        for (size_t i = 0; i < n; i++) {
                if (gai_error(list[i]) != EAI_INPROGRESS)
                        continue;
                ret_timed_out[i] = true;
                if (gai_cancel(list[i]) != EAI_CANCELED)
                        /* Still running in glibc's thread: wait it out (bounded by the resolver's
                         * own timeouts); the request must not be freed under it. */
                        while (gai_error(list[i]) == EAI_INPROGRESS)
                                (void)gai_suspend((const struct gaicb *const *)&list[i], 1, NULL);
                if (list[i]->ar_result) {
                        freeaddrinfo(list[i]->ar_result);
                        list[i]->ar_result = NULL;
                }
        }
        return 0;
}
