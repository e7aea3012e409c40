/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* System facts: hostname, os-release, kernel, package tool, CPUs, memory, kubelet version. */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static const struct {
        const char *path;
        const char *marker; /* the version follows this text in the --version output */
} kubelet_paths[] = {
        { "/usr/bin/kubelet", "Kubernetes " },       /* deb/rpm packages from pkgs.k8s.io */
        { "/usr/local/bin/kubelet", "Kubernetes " }, /* kubeadm binary installs */
        { "/opt/bin/kubelet", "Kubernetes " },       /* Flatcar, CoreOS */
        { "/usr/sbin/kubelet", "Kubernetes " },
        { "/var/lib/rancher/rke2/bin/kubelet", "Kubernetes " }, /* RKE2 */
        /* k3s runs its kubelet inside the k3s binary: "k3s version v1.20.15+k3s1 (...)". */
        { "/usr/local/bin/k3s", "k3s version " },
        { "/usr/bin/k3s", "k3s version " },
};

/* Kubernetes distributions whose kubelet version nodeprep does not read. */
static const char *const other_kubelets[] = {
        "/snap/bin/microk8s", /* MicroK8s: kubelite in the snap */
};

static int probe_kubelet(const NpRoot *root, NpSystemFacts *s)
{
        for (size_t i = 0; i < ELEMENTSOF(kubelet_paths); i++) {
                const char *path = kubelet_paths[i].path, *at;
                _cleanup_free_ char *output = NULL;
                struct stat st;
                int r, status = 0;

                r = np_root_stat(root, path, &st);
                if (r == -ENOENT || r == -ENOTDIR)
                        continue;
                if (r < 0) {
                        s->kubelet_unknown = np_probe_reason(root, path, r);
                        return s->kubelet_unknown ? 0 : -ENOMEM;
                }
                if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
                        continue;
                s->kubelet_path = strdup(path);
                if (!s->kubelet_path)
                        return -ENOMEM;
                if (!root->host) {
                        /* Never run a program of the tree: only what files say. */
                        r = np_probe_version_from_files(root, path, &s->kubelet_output,
                                                        &s->kubelet_unknown);
                        if (r < 0 || s->kubelet_unknown)
                                return r;
                        if (np_version_find(s->kubelet_output, &s->kubelet_version) >= 0)
                                return 0;
                        s->kubelet_unknown =
                            strprintf("%s: no version in \"%s\"", path, s->kubelet_output);
                        return s->kubelet_unknown ? 0 : -ENOMEM;
                }
                r = np_probe_run(root, path, STRV_MAKE("--version"), &output, &status);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        s->kubelet_unknown =
                            strprintf("%s --version: %s", path, np_probe_run_error(r));
                        return s->kubelet_unknown ? 0 : -ENOMEM;
                }
                s->kubelet_output = np_first_line(output);
                if (!s->kubelet_output)
                        return -ENOMEM;
                if (status != 0) {
                        s->kubelet_unknown = strprintf("%s --version exited with status %d: "
                                                       "\"%s\"",
                                                       path, status, s->kubelet_output);
                        return s->kubelet_unknown ? 0 : -ENOMEM;
                }
                /* Only the version the program names as its own, never any number it logs. */
                at = output ? strstr(output, kubelet_paths[i].marker) : NULL;
                if (!at ||
                    np_version_find(at + strlen(kubelet_paths[i].marker), &s->kubelet_version) <
                        0 ||
                    !startswith(at + strlen(kubelet_paths[i].marker), "v")) {
                        s->kubelet_unknown =
                            strprintf("%s --version printed no version after "
                                      "\"%s\": \"%s\"",
                                      path, kubelet_paths[i].marker, s->kubelet_output);
                        return s->kubelet_unknown ? 0 : -ENOMEM;
                }
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(other_kubelets); i++)
                if (np_root_exists(root, other_kubelets[i]) > 0) {
                        s->kubelet_path = strdup(other_kubelets[i]);
                        s->kubelet_unknown = strprintf("%s: a Kubernetes distribution whose "
                                                       "kubelet version nodeprep does not read",
                                                       other_kubelets[i]);
                        return s->kubelet_path && s->kubelet_unknown ? 0 : -ENOMEM;
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

int np_probe_system(const NpRoot *root, bool kubelet, NpFacts *f)
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
        r = probe_hardware(root, s);
        if (r < 0)
                return r;
        return kubelet ? probe_kubelet(root, s) : 0;
}

char *np_first_line(const char *output)
{
        output = strempty(output);
        return str_escape_printable(output, strcspn(output, "\n"), 200);
}
