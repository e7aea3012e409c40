/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd units over the system bus (org.freedesktop.systemd1): load, active and unit-file state.
 * The bus describes the running host whatever --root says. With no bus (a container, CI) every
 * unit is unknown with the reason. Each unit's file is looked for in the root's unit directories.
 */

#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "probe/probe.h"
#include "probe/unit-exec.h"
#include "util/bus.h"
#include "util/strv.h"

const char *const np_unit_dirs[NP_UNIT_DIRS_MAX] = {
        "/etc/systemd/system",     "/run/systemd/system", "/usr/local/lib/systemd/system",
        "/usr/lib/systemd/system", "/lib/systemd/system",
};

/* The unit's file: the first of the unit directories that has it (what a fix needs to know the
 * unit exists when no systemd answers, under --root). */
static int probe_unit_file(const NpRoot *root, NpUnitFacts *u)
{
        for (size_t i = 0; i < ELEMENTSOF(np_unit_dirs); i++) {
                _cleanup_free_ char *p = strprintf("%s/%s", np_unit_dirs[i], u->name);

                if (!p)
                        return -ENOMEM;
                if (np_root_exists(root, p) > 0) {
                        u->file = TAKE_PTR(p);
                        return 0;
                }
        }
        return 0;
}

/* A service whose files keep systemd from starting it (probe/unit-exec.c): whatever the bus says
 * of it now, its next start fails. */
static int probe_start_fails(const NpRoot *root, NpUnitFacts *u)
{
        _cleanup_(np_exec_start_pre_done) NpExecStartPre e = {};
        int r;

        if (!u->file || !endswith(u->name, ".service"))
                return 0;
        r = np_unit_exec_start_pre(root, u->name, &e);
        if (r < 0)
                return r;
        u->start_fails = TAKE_PTR(e.fails);
        return 0;
}

static int get_unit_property(sd_bus *bus, const char *path, const char *property, char **ret,
                             sd_bus_error *error)
{
        return sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                          "org.freedesktop.systemd1.Unit", property, error, ret);
}

static int probe_unit(sd_bus *bus, NpUnitFacts *u)
{
        static const struct {
                const char *property;
                size_t offset;
        } props[] = {
                { "LoadState", offsetof(NpUnitFacts, load_state) },
                { "ActiveState", offsetof(NpUnitFacts, active_state) },
                { "SubState", offsetof(NpUnitFacts, sub_state) },
                { "UnitFileState", offsetof(NpUnitFacts, unit_file_state) },
        };
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *path;
        int r;

        /* LoadUnit, not GetUnit: GetUnit fails for units systemd has not loaded yet. */
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "LoadUnit", &error, &reply, "s",
                               u->name);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(props); i++)
                r = get_unit_property(bus, path, props[i].property,
                                      (char **)((char *)u + props[i].offset), &error);
        if (r == -ENOMEM) {
                sd_bus_error_free(&error);
                sd_bus_message_unref(reply);
                return r;
        }
        if (r < 0)
                u->unknown = strprintf("systemd did not answer for %s: %s", u->name,
                                       error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        return r < 0 && !u->unknown ? -ENOMEM : 0;
}

int np_probe_units(const NpRoot *root, char *const *names, NpFacts *f)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *why = NULL;
        int r;

        if (strv_length((char **)names) == 0)
                return 0;
        STRV_FOREACH (n, (char **)names)
                if (!np_facts_add_unit(f, *n))
                        return -ENOMEM;

        /* The system bus answers for the running host, not for another root's files: only a
         * bus named explicitly ($DBUS_SYSTEM_BUS_ADDRESS, e.g. a container's) may stand for it. */
        if (!root->host && !getenv("DBUS_SYSTEM_BUS_ADDRESS")) {
                why = strprintf("the system bus describes the running host, not %s (set "
                                "DBUS_SYSTEM_BUS_ADDRESS to the bus of the system in that root)",
                                root->path);
                r = why ? 0 : -ENOMEM;
        } else
                r = np_bus_open_system(&bus, 5 * 1000 * 1000);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !why) {
                why = strprintf("no systemd system bus (%s): is systemd running?", strerror(-r));
                if (!why)
                        return -ENOMEM;
        }
        FOREACH_ARRAY (u, f->units, f->n_units) {
                r = probe_unit_file(root, u);
                if (r < 0)
                        return r;
                r = probe_start_fails(root, u);
                if (r < 0)
                        return r;
                if (why) {
                        if (!(u->unknown = strdup(why)))
                                return -ENOMEM;
                        continue;
                }
                r = probe_unit(bus, u);
                if (r < 0)
                        return r;
        }
        return 0;
}
