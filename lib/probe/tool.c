/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Command-line tools on the machine that runs an install (kubectl, helm, crane): found in PATH
 * (the standard directories under --root), version read from the tool's own version output.
 */

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probe/probe.h"
#include "util/strv.h"

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

static int probe_tool(const NpRoot *root, char *const *dirs, const NpToolRequest *req,
                      NpToolFacts *t)
{
        _cleanup_free_ char *output = NULL;
        int r, status = 0;

        STRV_FOREACH (d, (char **)dirs) {
                _cleanup_free_ char *p = strprintf("%s/%s", *d, req->name);
                struct stat st;

                if (!p)
                        return -ENOMEM;
                if (np_root_stat(root, p, &st) >= 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
                        t->path = TAKE_PTR(p);
                        break;
                }
        }
        if (!t->path)
                return 0;
        if (!root->host) {
                /* Never run a program of the tree: only what files say. */
                r = np_probe_version_from_files(root, t->path, &t->output, &t->unknown);
                if (r < 0 || t->unknown)
                        return r;
                t->has_version = np_version_find(t->output, &t->version) >= 0;
                return 0;
        }
        r = np_probe_run(root, t->path, req->args, &output, &status);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                _cleanup_free_ char *cmd = strv_join(req->args, " ");

                t->unknown = strprintf("%s %s: %s", t->path, strna(cmd), np_probe_run_error(r));
                return t->unknown ? 0 : -ENOMEM;
        }
        t->output = np_first_line(output);
        if (!t->output)
                return -ENOMEM;
        /* A tool that fails to run (an asdf shim with no version set, a missing library, an
         * unknown subcommand) is not a working install, whatever it printed. */
        if (status != 0) {
                _cleanup_free_ char *cmd = strv_join(req->args, " ");

                t->unknown = strprintf("%s %s exited with status %d: \"%s\"", t->path, strna(cmd),
                                       status, t->output);
                return t->unknown ? 0 : -ENOMEM;
        }
        t->has_version = np_version_find(output, &t->version) >= 0;
        return 0;
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
