/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* System facts: hostname, os-release, kernel, package tool, CPUs, memory (the kubelet is a tool:
 * tool.c). */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe/probe.h"
#include "util/strv.h"

char *np_probe_reason(const NpRoot *root, const char *path, int error)
{
        return np_root_read_error(root, path, error);
}

/* Read a small file and strip trailing white space; NULL with -errno on failure. */
static int read_small(const NpRoot *root, const char *path, char **ret)
{
        _cleanup_free_ char *data = NULL;
        int r;

        r = np_root_read_file(root, path, 64 * 1024, &data, NULL);
        if (r < 0)
                return r;
        *ret = strdup(strstrip(data));
        return *ret ? 0 : -ENOMEM;
}

/* Unquote a shell-style os-release value ("Debian GNU/Linux 12 (bookworm)"). */
static char *os_release_value(const char *v)
{
        size_t n = strlen(v), o = 0;
        char *r;

        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                v++;
                n -= 2;
        }
        r = strndup(v, n);
        if (!r)
                return NULL;
        /* Drop shell escapes in place: the result is never longer. */
        for (size_t i = 0; i < n; i++) {
                if (r[i] == '\\' && i + 1 < n)
                        i++;
                r[o++] = r[i];
        }
        r[o] = '\0';
        return r;
}

static int probe_os_release(const NpRoot *root, NpSystemFacts *s)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        const char *path = "/etc/os-release";
        int r;

        r = np_root_read_file(root, path, 64 * 1024, &data, NULL);
        if (r == -ENOENT) {
                path = "/usr/lib/os-release";
                r = np_root_read_file(root, path, 64 * 1024, &data, NULL);
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                s->os_unknown = np_probe_reason(root, path, r);
                return s->os_unknown ? 0 : -ENOMEM;
        }
        r = strv_split(data, "\n", &lines);
        if (r < 0)
                return r;
        STRV_FOREACH (l, lines) {
                char *line = strstrip(*l), *eq = strchr(line, '=');
                _cleanup_free_ char *v = NULL;

                if (line[0] == '#' || !eq)
                        continue;
                *eq = '\0';
                v = os_release_value(eq + 1);
                if (!v)
                        return -ENOMEM;
                if (streq(line, "ID"))
                        free_and_replace(&s->os_id, TAKE_PTR(v));
                else if (streq(line, "VERSION_ID"))
                        free_and_replace(&s->os_version_id, TAKE_PTR(v));
                else if (streq(line, "PRETTY_NAME"))
                        free_and_replace(&s->os_pretty_name, TAKE_PTR(v));
                else if (streq(line, "ID_LIKE")) {
                        s->os_id_like = strv_free(s->os_id_like);
                        r = strv_split(v, " ", &s->os_id_like);
                        if (r < 0)
                                return r;
                }
        }
        s->distro = np_distro_family_from_os_release(s->os_id, s->os_id_like);
        return 0;
}

/* "0-3,8,10-11" -> 7 */
static unsigned count_cpu_list(const char *s)
{
        unsigned n = 0;

        while (*s) {
                char *end;
                unsigned long a = strtoul(s, &end, 10), b = a;

                if (end == s)
                        return 0;
                s = end;
                if (*s == '-') {
                        b = strtoul(s + 1, &end, 10);
                        if (end == s + 1 || b < a)
                                return 0;
                        s = end;
                }
                n += (unsigned)(b - a + 1);
                if (*s == ',')
                        s++;
                else if (*s && !isspace((unsigned char)*s))
                        return 0;
                else
                        break;
        }
        return n;
}

static int probe_hardware(const NpRoot *root, NpSystemFacts *s)
{
        _cleanup_free_ char *online = NULL, *meminfo = NULL;
        const char *p;
        int r;

        r = read_small(root, "/sys/devices/system/cpu/online", &online);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                s->cpus = count_cpu_list(online);

        r = np_root_read_file(root, "/proc/meminfo", 1024 * 1024, &meminfo, NULL);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && (p = strstr(meminfo, "MemTotal:"))) {
                unsigned long long kb = strtoull(p + strlen("MemTotal:"), NULL, 10);

                s->memory_bytes = kb * 1024ULL;
        }
        return 0;
}

/* The tool a package is installed with (fix/plan/iscsi.c's package-install): the distribution
 * family's; on the RHEL family dnf where /usr/bin/dnf exists (RHEL 8 and later), else yum. */
static int probe_package_tool(const NpRoot *root, NpSystemFacts *s)
{
        const char *tool;

        switch (s->distro) {
        case NP_DISTRO_DEBIAN:
                tool = "apt-get";
                break;
        case NP_DISTRO_RHEL:
                tool = np_root_exists(root, "/usr/bin/dnf") > 0 ? "dnf" : "yum";
                break;
        case NP_DISTRO_SUSE:
                tool = "zypper";
                break;
        default:
                return 0;
        }
        s->package_tool = strdup(tool);
        return s->package_tool ? 0 : -ENOMEM;
}

int np_probe_system(const NpRoot *root, NpFacts *f)
{
        NpSystemFacts *s = &f->system;
        int r;

        r = read_small(root, "/proc/sys/kernel/hostname", &s->hostname);
        if (r == -ENOMEM)
                return r;
        r = read_small(root, "/proc/sys/kernel/osrelease", &s->kernel);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && root->host) {
                struct utsname u;

                if (uname(&u) >= 0 && !(s->kernel = strdup(u.release)))
                        return -ENOMEM;
        }
        r = probe_os_release(root, s);
        if (r >= 0)
                r = probe_package_tool(root, s);
        if (r < 0)
                return r;
        return probe_hardware(root, s);
}

char *np_first_line(const char *output)
{
        output = strempty(output);
        return str_escape_printable(output, strcspn(output, "\n"), 200);
}
