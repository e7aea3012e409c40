/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SELinux: the kernel's mode now, and the mode the configuration selects at the next boot. */

#include <stdlib.h>
#include <string.h>

#include "probe/probe.h"
#include "probe/selinux-config.h"
#include "util/strv.h"

#define SELINUX_CONFIG "/etc/selinux/config"

/*
 * Where selinuxfs is mounted when it is not at /sys/fs/selinux: libselinux's init_selinuxmnt()
 * also tries the old /selinux and then any selinuxfs in /proc/mounts. The enforce file there,
 * or NULL.
 */
static char *other_enforce_path(const NpRoot *root)
{
        _cleanup_free_ char *mounts = NULL;
        _cleanup_strv_free_ char **lines = NULL;

        if (np_root_exists(root, "/selinux/enforce") > 0)
                return strdup("/selinux/enforce");
        if (np_root_read_file(root, "/proc/self/mounts", NP_READ_MAX_DEFAULT, &mounts, NULL) < 0 ||
            strv_split(mounts, "\n", &lines) < 0)
                return NULL;
        STRV_FOREACH (l, lines) {
                char dev[64], mp[4096], type[64];

                /* "selinuxfs /sys/fs/selinux selinuxfs rw,relatime 0 0"; mount points with
                 * spaces (\040) are not where anyone mounts selinuxfs. */
                if (sscanf(*l, "%63s %4095s %63s", dev, mp, type) == 3 &&
                    streq(type, "selinuxfs") && mp[0] == '/')
                        return strprintf("%s/enforce", streq(mp, "/") ? "" : mp);
        }
        return NULL;
}

static int probe_runtime(const NpRoot *root, NpSelinuxFacts *s)
{
        _cleanup_free_ char *data = NULL, *other = NULL;
        const char *enforce = "/sys/fs/selinux/enforce";
        int r;

        r = np_root_read_file(root, enforce, 64, &data, NULL);
        if (r == -ENOENT && np_root_exists(root, "/sys/fs/selinux") > 0 &&
            (other = other_enforce_path(root))) {
                enforce = other;
                r = np_root_read_file(root, enforce, 64, &data, NULL);
        }
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT) {
                /* No enforce file: either the LSM is not active (no /sys/fs/selinux at all) or it
                 * is active with no policy loaded (SELINUX=disabled on kernels >= 6.4, RHEL 9). */
                int dir = np_root_exists(root, "/sys/fs/selinux");

                s->runtime = NP_SELINUX_DISABLED;
                s->runtime_detail = strdup(dir > 0 ? "selinuxfs not mounted: no policy loaded"
                                                   : "no /sys/fs/selinux: SELinux not active "
                                                     "in this kernel");
                return s->runtime_detail ? 0 : -ENOMEM;
        }
        if (r < 0) {
                s->runtime_unknown = np_probe_reason(root, enforce, r);
                return s->runtime_unknown ? 0 : -ENOMEM;
        }
        /* The kernel writes "0" or "1" without a newline; libselinux sscanf()s an int. */
        if (streq(strstrip(data), "1"))
                s->runtime = NP_SELINUX_ENFORCING;
        else if (streq(strstrip(data), "0"))
                s->runtime = NP_SELINUX_PERMISSIVE;
        else {
                _cleanup_free_ char *shown = str_escape_printable(data, strlen(data), 32);

                s->runtime_unknown =
                    strprintf("%s holds \"%s\", not 0 or 1", enforce, strna(shown));
                return s->runtime_unknown ? 0 : -ENOMEM;
        }
        s->runtime_detail = strprintf("%s = %s", enforce, strstrip(data));
        return s->runtime_detail ? 0 : -ENOMEM;
}

static int probe_config(const NpRoot *root, NpSelinuxFacts *s)
{
        _cleanup_free_ char *data = NULL;
        NpSelinuxConfig c = {};
        size_t size;
        int r;

        r = np_root_read_file(root, SELINUX_CONFIG, NP_READ_MAX_DEFAULT, &data, &size);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                s->config_unknown = np_probe_reason(root, SELINUX_CONFIG, r);
                return s->config_unknown ? 0 : -ENOMEM;
        }
        s->config_present = true;
        r = np_selinux_config_parse(data, size, &c);
        if (r < 0)
                return r;
        /* A line longer than a 4 KiB page is cut where the page size says: for another root
         * (an image, a fixture) the page size of the machine that boots it is not known. */
        if (!root->host && np_selinux_config_has_long_line(data, size))
                for (size_t page = 4096; page <= 65536; page *= 4) {
                        _cleanup_(np_selinux_config_done) NpSelinuxConfig o = {};

                        r = np_selinux_config_parse_page(data, size, page, &o);
                        if (r < 0) {
                                np_selinux_config_done(&c);
                                return r;
                        }
                        if (o.set != c.set || (c.set && o.mode != c.mode)) {
                                np_selinux_config_done(&c);
                                s->config_unknown = strprintf(
                                    SELINUX_CONFIG " has a line longer than 4095 bytes: "
                                                   "libselinux reads it in page-size pieces, and "
                                                   "the mode it selects depends on the page size "
                                                   "of the machine that boots (4 KiB or 64 KiB)");
                                return s->config_unknown ? 0 : -ENOMEM;
                        }
                }
        s->config_set = c.set;
        s->config = c.mode;
        s->config_line = c.set ? c.line : c.ignored_line;
        if (c.set)
                s->config_value = TAKE_PTR(c.value);
        else
                s->config_value = TAKE_PTR(c.ignored_value);
        np_selinux_config_done(&c);
        return 0;
}

static int probe_cmdline(const NpRoot *root, NpSelinuxFacts *s)
{
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = np_root_read_file(root, "/proc/cmdline", 64 * 1024, &data, &size);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT && !root->host)
                return 0; /* a fixture tree without /proc: no command line to honour */
        if (r < 0) {
                s->cmdline_unknown = np_probe_reason(root, "/proc/cmdline", r);
                return s->cmdline_unknown ? 0 : -ENOMEM;
        }
        r = np_selinux_cmdline_enforcing(data, size);
        if (r == -ENOMEM)
                return r;
        if (r == NP_SELINUX_CMDLINE_AMBIGUOUS) {
                s->cmdline_unknown = strprintf(
                    "the kernel command line's enforcing= reads differently in libselinux up to "
                    "3.9 (the first one, a word of its own) and in 3.10 and later (the last one; "
                    "any non-zero number enforces); nodeprep cannot tell which this host boots "
                    "with: leave a single enforcing=0 or 1");
                return s->cmdline_unknown ? 0 : -ENOMEM;
        }
        s->cmdline_enforcing = r;
        return 0;
}

int np_probe_selinux(const NpRoot *root, NpFacts *f)
{
        int r;

        r = probe_runtime(root, &f->selinux);
        if (r < 0)
                return r;
        r = probe_config(root, &f->selinux);
        if (r < 0)
                return r;
        return probe_cmdline(root, &f->selinux);
}
