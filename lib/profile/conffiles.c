/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Configuration file lookup with systemd's precedence, drop-ins and masking. */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "profile/internal.h"
#include "util/strv.h"

static int conf_path_add(NpConfPath *p, const NpRoot *root, const char *path)
{
        p->dirs[p->n] = (NpConfDir){ .path = strdup(path), .root = root };
        return p->dirs[p->n++].path ? 0 : -ENOMEM;
}

int np_conf_path_profiles(const NpRoot *root, NpConfPath *ret)
{
        const char *env = getenv("NODEPREP_PROFILE_PATH");
        NpConfPath p = {};
        int r;

        r = conf_path_add(&p, root, NP_SYSCONFDIR "/nodeprep/profiles");
        if (r >= 0)
                r = conf_path_add(&p, root, "/run/nodeprep/profiles");
        if (r >= 0 && isempty(env))
                r = conf_path_add(&p, root, NP_DATADIR "/nodeprep/profiles");
        else if (r >= 0) {
                /* A development tree's conf/profiles, on this machine whatever --root says. */
                if (!root->host)
                        r = np_root_new("/", &p.host);
                if (r >= 0)
                        r = conf_path_add(&p, root->host ? root : p.host, env);
        }
        if (r < 0) {
                np_conf_path_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

int np_conf_path_site(const NpRoot *root, NpConfPath *ret)
{
        NpConfPath p = {};
        int r = conf_path_add(&p, root, NP_SYSCONFDIR "/nodeprep");

        if (r < 0) {
                np_conf_path_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

void np_conf_path_done(NpConfPath *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->dirs[i].path);
        np_root_free(p->host);
        *p = (NpConfPath){};
}

char *np_conf_path_to_string(const NpConfPath *p)
{
        _cleanup_strv_free_ char **l = NULL;

        for (size_t i = 0; i < p->n; i++)
                if (strv_consume(&l, np_root_prefix(p->dirs[i].root, p->dirs[i].path)) < 0)
                        return NULL;
        return strv_join(l, ", ");
}

void np_conf_file_done(NpConfFile *f)
{
        free(f->name);
        free(f->path);
        free(f->shown);
        free(f->shadows);
        *f = (NpConfFile){};
}

void np_conf_files_free(NpConfFile *f, size_t n)
{
        for (size_t i = 0; i < n; i++)
                np_conf_file_done(&f[i]);
        free(f);
}

int np_conf_file_new(const NpRoot *root, const char *path, NpConfFile *ret)
{
        const char *slash = strrchr(path, '/');
        NpConfFile f = {
                .name = strdup(slash ? slash + 1 : path),
                .path = strdup(path),
                .root = root,
                .shown = np_root_prefix(root, path),
        };

        if (!f.name || !f.path || !f.shown) {
                np_conf_file_done(&f);
                return -ENOMEM;
        }
        *ret = f;
        return 0;
}

static int conf_file_cmp(const void *a, const void *b)
{
        return strcmp(((const NpConfFile *)a)->name, ((const NpConfFile *)b)->name);
}

int np_conf_find(const NpConfPath *p, const char *subdir, const char *suffix, bool skip_masked,
                 NpConfFile **ret, size_t *ret_n)
{
        NpConfFile *found = NULL;
        size_t n = 0;
        int r = 0;

        for (size_t d = 0; r >= 0 && d < p->n; d++) {
                _cleanup_strv_free_ char **entries = NULL;
                _cleanup_free_ char *dir =
                    subdir ? strprintf("%s/%s", p->dirs[d].path, subdir) : strdup(p->dirs[d].path);
                const NpRoot *root = p->dirs[d].root;

                if (!dir) {
                        r = -ENOMEM;
                        break;
                }
                r = np_root_list_dir(root, dir, &entries);
                if (r == -ENOENT || r == -ENOTDIR) {
                        r = 0;
                        continue;
                }
                STRV_FOREACH (e, entries) {
                        _cleanup_free_ char *path = NULL;
                        const char *sfx = endswith(*e, suffix);
                        NpConfFile *hit = NULL, *a;

                        if (!sfx || sfx == *e || (*e)[0] == '.')
                                continue;
                        path = strprintf("%s/%s", dir, *e);
                        if (!path) {
                                r = -ENOMEM;
                                break;
                        }
                        for (size_t i = 0; i < n; i++)
                                if (streq(found[i].name, *e))
                                        hit = &found[i];
                        if (hit) {
                                if (!hit->shadows && !(hit->shadows = np_root_prefix(root, path)))
                                        r = -ENOMEM;
                                continue;
                        }
                        a = reallocarray(found, n + 1, sizeof(NpConfFile));
                        if (!a) {
                                r = -ENOMEM;
                                break;
                        }
                        found = a;
                        r = np_conf_file_new(root, path, &found[n]);
                        if (r < 0)
                                break;
                        n++;
                }
        }
        /* Drop masked entries only now: a mask must still hide the files below it. */
        for (size_t i = 0; r >= 0 && skip_masked && i < n;) {
                int m = np_conf_masked(found[i].root, found[i].path);

                if (m < 0)
                        r = m;
                else if (m > 0) {
                        np_conf_file_done(&found[i]);
                        memmove(&found[i], &found[i + 1], (n - i - 1) * sizeof(NpConfFile));
                        n--;
                } else
                        i++;
        }
        if (r < 0) {
                np_conf_files_free(found, n);
                return r;
        }
        if (n > 1)
                qsort(found, n, sizeof(NpConfFile), conf_file_cmp);
        *ret = found;
        *ret_n = n;
        return 0;
}

int np_conf_file_read(const NpConfFile *f, char **ret, size_t *ret_size, bool *ret_quote)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        /* 1 MiB: the largest shipped profile is a few KiB; more is not a configuration file. */
        fd = np_root_open_regular(f->root, f->path, false, &st);
        if (fd < 0)
                return fd;
        *ret_quote = !f->named || (st.st_mode & S_IROTH);
        return np_read_fd(fd, 1024 * 1024, ret, ret_size);
}

int np_conf_masked(const NpRoot *root, const char *path)
{
        _cleanup_close_ int fd = np_root_open(root, path, O_PATH | O_NOFOLLOW);
        char target[64];
        struct stat st;
        ssize_t n;

        if (fd < 0)
                return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISLNK(st.st_mode))
                return 0;
        n = readlinkat(fd, "", target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = '\0';
        return streq(target, "/dev/null");
}
