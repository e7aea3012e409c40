/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Enable, disable and start units through systemd's D-Bus API (what systemctl does). */

#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "fix/exec/runtime.h"
#include "util/bus.h"
#include "util/strv.h"

#define SD_DEST    "org.freedesktop.systemd1"
#define SD_PATH    "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define CALL_USEC  (90ULL * 1000000ULL) /* Reload of a busy systemd can take a while */

static int bus_open(sd_bus **ret, char **ret_error)
{
        sd_bus *bus = NULL;
        int r = np_bus_open_system(&bus, CALL_USEC);

        if (r < 0) {
                *ret_error = strprintf("cannot reach systemd on the system bus: %s", strerror(-r));
                return r;
        }
        *ret = bus;
        return 0;
}

static char *bus_error_text(const char *what, const sd_bus_error *e, int r)
{
        return strprintf("%s: %s", what, e && e->message ? e->message : strerror(-r));
}

static int reload(sd_bus *bus, char **ret_error)
{
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Reload", &e, NULL, NULL);

        if (r < 0)
                *ret_error = bus_error_text("systemd Reload failed", &e, r);
        sd_bus_error_free(&e);
        return r;
}

/* "symlink /etc/...wants/x -> /lib/.../x; ..." from the a(sss) changes list. */
static int read_changes(sd_bus_message *m, char **ret)
{
        _cleanup_strv_free_ char **l = NULL;
        const char *type, *path, *source;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(sss)", &type, &path, &source)) > 0)
                if (strv_consume(&l, strprintf("%s %s -> %s", type, path, source)) < 0)
                        return -ENOMEM;
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = l ? strv_join(l, "; ") : strdup("no unit file changes (already enabled)");
        return *ret ? 0 : -ENOMEM;
}

int np_unit_enable(const char *unit, char **ret_detail, char **ret_error)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int carries = 0, r;

        r = bus_open(&bus, ret_error);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "EnableUnitFiles", &e, &reply,
                               "asbb", 1, unit, 0, 0);
        if (r < 0) {
                *ret_error = bus_error_text("EnableUnitFiles failed", &e, r);
                sd_bus_error_free(&e);
                return r;
        }
        r = sd_bus_message_read(reply, "b", &carries);
        if (r >= 0)
                r = read_changes(reply, ret_detail);
        sd_bus_message_unref(reply);
        if (r < 0) {
                *ret_error =
                    strprintf("cannot read systemd's EnableUnitFiles reply: %s", strerror(-r));
                return r;
        }
        return reload(bus, ret_error);
}

int np_unit_disable(const char *unit, char **ret_error)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = bus_open(&bus, ret_error);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "DisableUnitFiles", &e, NULL,
                               "asb", 1, unit, 0);
        if (r < 0) {
                *ret_error = bus_error_text("DisableUnitFiles failed", &e, r);
                sd_bus_error_free(&e);
                return r;
        }
        return reload(bus, ret_error);
}

typedef struct JobWait {
        char **jobs; /* "path result" of every JobRemoved seen */
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        JobWait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;
        (void)error;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0; /* not ours to judge */
        return strv_consume(&w->jobs, strprintf("%s %s", path, result)) < 0 ? -ENOMEM : 0;
}

static const char *job_result(const JobWait *w, const char *job)
{
        size_t n = strlen(job);

        STRV_FOREACH (j, w->jobs)
                if (strneq(*j, job, n) && (*j)[n] == ' ')
                        return *j + n + 1;
        return NULL;
}

static uint64_t now_usec_mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

int np_unit_start(const char *unit, unsigned timeout_sec, char **ret_error)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_free_ char *job = NULL;
        _cleanup_strv_free_ char **jobs = NULL;
        uint64_t deadline = now_usec_mono() + (uint64_t)timeout_sec * 1000000ULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        JobWait w = {};
        const char *path, *result;
        int r;

        r = bus_open(&bus, ret_error);
        if (r < 0)
                return r;
        /* Subscribe before StartUnit, or a fast job's JobRemoved is missed. */
        r = sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved",
                                on_job_removed, &w);
        if (r < 0) {
                *ret_error = strprintf("cannot watch systemd's jobs: %s", strerror(-r));
                return r;
        }
        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "StartUnit", &e, &reply, "ss",
                               unit, "replace");
        if (r < 0) {
                *ret_error = bus_error_text("StartUnit failed", &e, r);
                sd_bus_error_free(&e);
                strv_free(w.jobs);
                return r;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0 && !(job = strdup(path)))
                r = -ENOMEM;
        sd_bus_message_unref(reply);

        while (r >= 0 && !job_result(&w, job)) {
                uint64_t now = now_usec_mono();

                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                r = sd_bus_process(bus, NULL);
                if (r == 0)
                        r = sd_bus_wait(bus, deadline - now);
        }
        jobs = w.jobs; /* NOLINT(clang-analyzer-deadcode.DeadStores): freed by _cleanup_ */
        if (r == -ETIMEDOUT) {
                *ret_error = strprintf("starting %s did not finish within %u s (job %s)", unit,
                                       timeout_sec, job);
                return r;
        }
        if (r < 0) {
                *ret_error = strprintf("lost systemd while starting %s: %s", unit, strerror(-r));
                return r;
        }
        result = job_result(&w, job);
        if (!streq(result, "done")) {
                *ret_error = strprintf("systemd's start job for %s ended with \"%s\" (see "
                                       "systemctl status %s and journalctl -u %s)",
                                       unit, result, unit, unit);
                return -EIO;
        }
        return 0;
}
