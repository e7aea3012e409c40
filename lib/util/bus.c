/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The system bus, with a limit on the connection as well as on each call (see bus.h). */

#include <errno.h>
#include <time.h>

#include "util/bus.h"
#include "util/compat.h"

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

int np_bus_open_system(sd_bus **ret, uint64_t timeout_usec)
{
        uint64_t end = now_usec() + timeout_usec;
        sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);

        if (r >= 0)
                r = sd_bus_set_method_call_timeout(bus, timeout_usec);
        /* sd_bus_is_ready() (systemd 237): authenticated and Hello answered. */
        while (r >= 0 && (r = sd_bus_is_ready(bus)) == 0) {
                uint64_t now;

                r = sd_bus_process(bus, NULL);
                if (r != 0)
                        continue; /* progress, or the error ends the loop */
                now = now_usec();
                r = now >= end ? -ETIMEDOUT : sd_bus_wait(bus, end - now);
        }
        if (r < 0) {
                /* Not sd_bus_flush_close_unref(): flushing waits for the connection, unlimited. */
                if (bus)
                        sd_bus_close(bus);
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}
