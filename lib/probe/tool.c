/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Versioned programs (facts.tools[]): the node's kubelet (also RKE2's, k3s's and MicroK8s's) and
 * the client tools an install runs (kubectl, helm, crane). One model for all: a program is
 * looked for at its known install locations, then in the search path (PATH on the running
 * system, the standard directories), then inside the programs that carry it (k3s runs a
 * kubelet); its version is read from its own version output (under --root from the dpkg
 * database only: nothing of the tree is run). What differs per program is one row of the table
 * below; a program without a row is looked for in the search path and asked `--version`.
 */

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probe/probe.h"
#include "util/strv.h"

typedef struct ToolRow {
        const char *name;
        char *const *args;  /* the version command */
        const char *marker; /* the version ("vX.Y") follows this text; NULL: the first version */
        char *const *locations; /* known install locations, looked at before the search path */
        char *const *carriers;  /* programs that carry this one, looked for when it is not found */
        const char *unread;     /* why nodeprep does not read this program's version, or NULL */
} ToolRow;

static const ToolRow tool_rows[] = {
        {
            .name = "kubelet",
            .args = STRV_MAKE("--version"),
            .marker = "Kubernetes ",
            .locations =
                STRV_MAKE("/usr/bin/kubelet",       /* deb/rpm from pkgs.k8s.io */
                          "/usr/local/bin/kubelet", /* kubeadm binary installs */
                          "/opt/bin/kubelet",       /* Flatcar, CoreOS */
                          "/usr/sbin/kubelet", "/var/lib/rancher/rke2/bin/kubelet"), /* RKE2 */
            .carriers = STRV_MAKE("k3s", "microk8s"),
        },
        {
            /* "k3s version v1.20.15+k3s1 (8a7d5cb4)": k3s runs its kubelet inside this binary. */
            .name = "k3s",
            .args = STRV_MAKE("--version"),
            .marker = "k3s version ",
            .locations = STRV_MAKE("/usr/local/bin/k3s", "/usr/bin/k3s"),
        },
        {
            /* MicroK8s: the kubelet runs as kubelite in the snap. */
            .name = "microk8s",
            .locations = STRV_MAKE("/snap/bin/microk8s"),
            .unread = "a Kubernetes distribution whose kubelet version nodeprep does not read",
        },
        { .name = "kubectl", .args = STRV_MAKE("version", "--client") },
        { .name = "helm", .args = STRV_MAKE("version", "--short") },
        { .name = "crane", .args = STRV_MAKE("version") },
};

/* A program without a row of its own. */
static const ToolRow other_row = { .args = STRV_MAKE("--version") };

static const ToolRow *tool_row(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(tool_rows); i++)
                if (streq(tool_rows[i].name, name))
                        return &tool_rows[i];
        return &other_row;
}

static const char *const standard_dirs[] = {
        "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", "/snap/bin",
};

static int search_path(const NpRoot *root, char ***ret)
{
        _cleanup_strv_free_ char **dirs = calloc(1, sizeof(char *));
        const char *path = getenv("PATH");
        int r;

        if (!dirs)
                return -ENOMEM;
        /* On the running system the user's PATH is what "installed" means for a client tool. */
        if (root->host && !isempty(path)) {
                _cleanup_strv_free_ char **l = NULL;

                r = strv_split(path, ":", &l);
                if (r < 0)
                        return r;
                STRV_FOREACH (d, l)
                        if ((*d)[0] == '/' && strv_extend_unique(&dirs, *d) < 0)
                                return -ENOMEM;
        }
        for (size_t i = 0; i < ELEMENTSOF(standard_dirs); i++)
                if (strv_extend_unique(&dirs, standard_dirs[i]) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(dirs);
        return 0;
}

/* Is path a program? 1 yes, 0 no. A known location (strict) that cannot be looked at sets
 * t->unknown and gives 1: the program may be there. A search path directory is passed over as a
 * shell does. */
static int is_program(const NpRoot *root, const char *path, bool strict, NpToolFacts *t)
{
        struct stat st;
        int r = np_root_stat(root, path, &st);

        if (r >= 0)
                return S_ISREG(st.st_mode) && (st.st_mode & 0111);
        if (r == -ENOMEM)
                return r;
        if (!strict || r == -ENOENT || r == -ENOTDIR)
                return 0;
        t->unknown = np_probe_reason(root, path, r);
        return t->unknown ? 1 : -ENOMEM;
}

/* Look for name (of row) at its known locations, then in the search path: 1 when
 * found (t->path, t->found) or t->unknown is set, 0 when not found. found_as: the carrier's
 * name when looking inside another program. */
static int find_program(const NpRoot *root, char *const *dirs, const char *name, const ToolRow *row,
                        const char *found_as, NpToolFacts *t)
{
        int r;

        STRV_FOREACH (l, (char **)row->locations) {
                r = is_program(root, *l, true, t);
                if (r < 0)
                        return r;
                if (r > 0 && t->unknown)
                        return 1;
                if (r > 0) {
                        t->found = found_as ? found_as : "location";
                        t->path = strdup(*l);
                        return t->path ? 1 : -ENOMEM;
                }
        }
        STRV_FOREACH (d, (char **)dirs) {
                _cleanup_free_ char *p = strprintf("%s/%s", *d, name);

                if (!p)
                        return -ENOMEM;
                r = is_program(root, p, false, t);
                if (r < 0)
                        return r;
                if (r > 0) {
                        t->found = found_as ? found_as : "search-path";
                        t->path = TAKE_PTR(p);
                        return 1;
                }
        }
        return 0;
}

static int set_unknown(NpToolFacts *t, char *text)
{
        t->unknown = text;
        return text ? 0 : -ENOMEM;
}

/* The version from the output of `path args`: after row->marker when the row has one (only the
 * version the program names as its own, never any number it logs), else the first. */
static int read_output(const ToolRow *row, const char *cmd, const char *output, NpToolFacts *t)
{
        const char *marker = row->marker, *at;

        if (!marker) {
                t->has_version = np_version_find(output, &t->version) >= 0;
                return 0;
        }
        at = strstr(output, marker);
        if (!at || !startswith(at + strlen(marker), "v") ||
            np_version_find(at + strlen(marker), &t->version) < 0)
                return set_unknown(t, strprintf("%s %s printed no version after \"%s\": \"%s\"",
                                                t->path, cmd, marker, t->output));
        t->has_version = true;
        return 0;
}

static int read_version(const NpRoot *root, const ToolRow *row, char *const *args, NpToolFacts *t)
{
        _cleanup_free_ char *output = NULL, *cmd = NULL;
        int r, status = 0;

        if (row->unread)
                return set_unknown(t, strprintf("%s: %s", t->path, row->unread));
        if (!root->host) {
                /* Never run a program of the tree: only what files say. */
                r = np_probe_version_from_files(root, t->path, &t->output, &t->unknown);
                if (r < 0 || t->unknown)
                        return r;
                t->has_version = np_version_find(t->output, &t->version) >= 0;
                return t->has_version ? 0
                                      : set_unknown(t, strprintf("%s: no version in \"%s\"",
                                                                 t->path, t->output));
        }
        cmd = strv_join((char **)args, " ");
        if (!cmd)
                return -ENOMEM;
        r = np_probe_run(root, t->path, args, &output, &status);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return set_unknown(t, strprintf("%s %s: %s", t->path, cmd, np_probe_run_error(r)));
        t->output = np_first_line(output);
        if (!t->output)
                return -ENOMEM;
        /* A program that fails to run (an asdf shim with no version set, a missing library, an
         * unknown subcommand) is not a working install, whatever it printed. */
        if (status != 0)
                return set_unknown(t, strprintf("%s %s exited with status %d: \"%s\"", t->path, cmd,
                                                status, t->output));
        return read_output(row, cmd, strempty(output), t);
}

static int probe_tool(const NpRoot *root, char *const *dirs, const NpToolRequest *req,
                      NpToolFacts *t)
{
        const ToolRow *own = tool_row(req->name), *row = own;
        int r;

        r = find_program(root, dirs, req->name, row, NULL, t);
        STRV_FOREACH (c, (char **)own->carriers) {
                if (r != 0)
                        break;
                row = tool_row(*c);
                r = find_program(root, dirs, *c, row, *c, t);
        }
        if (r <= 0 || t->unknown)
                return r;
        /* Args= of a profile replace the version command of the program itself, not of a
         * program that carries it. */
        return read_version(root, row,
                            row == own && strv_length(req->args) > 0 ? req->args : row->args, t);
}

int np_probe_tools(const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        _cleanup_strv_free_ char **dirs = NULL;
        int r;

        if (req->n_tools == 0)
                return 0;
        r = search_path(root, &dirs);
        if (r < 0)
                return r;
        FOREACH_ARRAY (tr, req->tools, req->n_tools) {
                NpToolFacts *t = np_facts_add_tool(f, tr->name);

                if (!t)
                        return -ENOMEM;
                r = probe_tool(root, dirs, tr, t);
                if (r < 0)
                        return r;
        }
        return 0;
}
