/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Facts only a comparison across hosts uses (`nodeprepctl cluster`): /etc/machine-id, the
 * firmware's product UUID and the open-iscsi version. Two workers cloned from one image share a
 * machine-id (systemd, journald and Kubernetes' node identity key on it) or a DMI UUID
 * (kubeadm's preflight refuses a duplicate product_uuid); no single host can see that.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "probe/probe.h"
#include "util/strv.h"

/* Read a small file under the root and strip white space; the reason on failure. */
static int read_value(const NpRoot *root, const char *path, char **ret, char **ret_unknown)
{
        _cleanup_free_ char *data = NULL;
        int r;

        r = np_root_read_file(root, path, 4096, &data, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_unknown =
                    r == -EACCES || r == -EPERM
                        ? strprintf("%s: permission denied (readable by root only)", path)
                        : np_probe_reason(root, path, r);
                return *ret_unknown ? 0 : -ENOMEM;
        }
        *ret = strdup(strstrip(data));
        return *ret ? 0 : -ENOMEM;
}

/* systemd's machine-id format (sd_id128_from_string without dashes): 32 hex digits. */
static bool machine_id_valid(const char *s)
{
        if (strlen(s) != 32)
                return false;
        for (const char *c = s; *c; c++)
                if (!isxdigit((unsigned char)*c))
                        return false;
        return true;
}

static void lowercase(char *s)
{
        for (; s && *s; s++)
                *s = (char)tolower((unsigned char)*s);
}

int np_probe_identity(const NpRoot *root, NpFacts *f)
{
        NpSystemFacts *s = &f->system;
        _cleanup_free_ char *id = NULL;
        int r;

        s->machine_id = mfree(s->machine_id);
        s->machine_id_unknown = mfree(s->machine_id_unknown);
        s->product_uuid = mfree(s->product_uuid);
        s->product_uuid_unknown = mfree(s->product_uuid_unknown);

        r = read_value(root, "/etc/machine-id", &id, &s->machine_id_unknown);
        if (r < 0)
                return r;
        if (id && !machine_id_valid(id)) {
                /* "uninitialized" (systemd >= 247, first boot) or empty (an image prepared to get
                 * a new id at its first boot): not an identity yet. */
                s->machine_id_unknown =
                    strprintf("/etc/machine-id holds \"%.40s\", not an id", isempty(id) ? "" : id);
                if (!s->machine_id_unknown)
                        return -ENOMEM;
        } else if (id) {
                lowercase(id);
                s->machine_id = TAKE_PTR(id);
        }

        r = read_value(root, "/sys/class/dmi/id/product_uuid", &s->product_uuid,
                       &s->product_uuid_unknown);
        if (r < 0)
                return r;
        lowercase(s->product_uuid);
        return 0;
}

/* "1:2.1.8-1ubuntu1" -> "2.1.8": Debian's epoch and revision off, the upstream version kept. */
static char *upstream_version(const char *v)
{
        const char *colon = strchr(v, ':'), *dash;

        if (colon)
                v = colon + 1;
        dash = strrchr(v, '-');
        return dash ? strndup(v, (size_t)(dash - v)) : strdup(v);
}

int np_probe_iscsi_version(const NpRoot *root, NpFacts *f)
{
        NpIscsiFacts *i = &f->iscsi;
        _cleanup_free_ char *status = NULL, *version = NULL, *output = NULL;
        NpVersion v;
        int r, exit_status = 0;

        i->version = mfree(i->version);
        i->version_source = mfree(i->version_source);
        i->version_unknown = mfree(i->version_unknown);

        /* Debian and Ubuntu: the package database, a text file (no program run). */
        r = np_root_read_file(root, "/var/lib/dpkg/status", 64U << 20, &status, NULL);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                r = np_dpkg_installed_version(status, "open-iscsi", &version);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0) {
                        i->version = upstream_version(version);
                        i->version_source = strprintf("dpkg: open-iscsi %s", version);
                        return i->version && i->version_source ? 0 : -ENOMEM;
                }
        }
        if (!i->iscsiadm_path) {
                i->version_unknown = strdup("open-iscsi is not installed");
                return i->version_unknown ? 0 : -ENOMEM;
        }
        /* RHEL and SUSE keep no text database: ask the program, on the running system only
         * (a tree under --root is data, never run). */
        if (!root->host) {
                i->version_unknown = strprintf("no open-iscsi in %s/var/lib/dpkg/status, and "
                                               "programs under --root are not run",
                                               root->path);
                return i->version_unknown ? 0 : -ENOMEM;
        }
        r = np_probe_run(root, i->iscsiadm_path, STRV_MAKE("--version"), &output, &exit_status);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || exit_status != 0 || np_version_find(output, &v) < 0) {
                _cleanup_free_ char *line = output ? np_first_line(output) : NULL;

                i->version_unknown = strprintf("%s --version: %s", i->iscsiadm_path,
                                               r < 0  ? np_probe_run_error(r)
                                               : line ? line
                                                      : "no version in its output");
                return i->version_unknown ? 0 : -ENOMEM;
        }
        i->version = np_first_line(output);
        /* "iscsiadm version 2.1.8": the version word. */
        if (i->version) {
                const char *w = strrchr(i->version, ' ');

                if (w) {
                        char *t = strdup(w + 1);

                        free_and_replace(&i->version, t);
                }
        }
        i->version_source = strprintf("%s --version", i->iscsiadm_path);
        return i->version && i->version_source ? 0 : -ENOMEM;
}
