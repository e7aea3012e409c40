/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel modules: loaded / built in / available for the running kernel, and whether
 * systemd-modules-load will load them at boot.
 *
 * libkmod resolves names and aliases against /lib/modules/KVER and modprobe.d under the root;
 * its kmod_module_get_initstate() reads the host's /sys/module whatever the root, so the state
 * is read here from /sys/module/NAME/initstate under the root instead. A /sys/module/NAME
 * directory alone does not mean "loaded": built-in modules with parameters have one too.
 */

#include <dirent.h>
#include <libkmod.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe/modules-load.h"
#include "probe/probe.h"
#include "util/strv.h"

static void kmod_log_silent(void *data, int priority, const char *file, int line, const char *fn,
                            const char *format, va_list args)
{
        /* libkmod's complaints about a missing index become our "unknown" reasons instead. */
        (void)data, (void)priority, (void)file, (void)line, (void)fn, (void)format, (void)args;
}

typedef struct KmodEnv {
        struct kmod_ctx *ctx;
        char *kernel;       /* release of the kernel the state is about */
        char *modules_dir;  /* /lib/modules/KVER as on the described host */
        char *modules_host; /* the same with the root prefix: how module paths are shown */
        char **builtin;     /* normalised names from modules.builtin, NULL if unreadable */
        char *builtin_unknown;
        char **blacklist;   /* normalised names from libkmod's modprobe.d configuration */
        char *view;         /* the private directory handed to libkmod, see view_build() */
        char *view_unknown; /* a configuration or index file libkmod cannot be given */
        int *fds;
        size_t n_fds;
} KmodEnv;

static void view_remove(KmodEnv *e)
{
        static const char *const subdirs[] = { "modules", "modprobe.d" };

        if (!e->view)
                return;
        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                _cleanup_free_ char *d = strprintf("%s/%s", e->view, subdirs[i]);
                DIR *dir = d ? opendir(d) : NULL;
                struct dirent *de;

                if (!dir)
                        continue;
                while ((de = readdir(dir)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                (void)unlinkat(dirfd(dir), de->d_name, 0);
                closedir(dir);
                (void)rmdir(d);
        }
        (void)rmdir(e->view);
        free(e->view);
        e->view = NULL;
}

static void kmod_env_done(KmodEnv *e)
{
        if (e->ctx)
                kmod_unref(e->ctx);
        view_remove(e);
        for (size_t i = 0; i < e->n_fds; i++)
                safe_close(e->fds[i]);
        free(e->fds);
        free(e->kernel);
        free(e->modules_dir);
        free(e->modules_host);
        strv_free(e->builtin);
        free(e->builtin_unknown);
        strv_free(e->blacklist);
        free(e->view_unknown);
}

/*
 * Put the file at path (inside the root) into the view as sub/name: opened by
 * np_root_open_regular() (resolved inside the root, a regular file, never a FIFO or device) and
 * linked as /proc/self/fd/N, so that libkmod's own open() by path reaches exactly that file.
 * A file that vanished is left out; one that is not a regular file makes the view unknown.
 */
static int view_add(KmodEnv *e, const NpRoot *root, const char *path, const char *sub,
                    const char *name)
{
        _cleanup_free_ char *link = NULL, *target = NULL;
        _cleanup_close_ int fd = -EBADF;
        int *a;

        fd = np_root_open_regular(root, path, false, NULL);
        if (fd == -ENOENT || fd == -EISDIR)
                return 0; /* libkmod skips directories in modprobe.d as well */
        if (fd < 0) {
                if (fd == -ENOMEM)
                        return fd;
                if (!e->view_unknown && !(e->view_unknown = np_probe_reason(root, path, fd)))
                        return -ENOMEM;
                return 0;
        }
        link = strprintf("%s/%s/%s", e->view, sub, name);
        target = strprintf("/proc/self/fd/%d", fd);
        if (!link || !target)
                return -ENOMEM;
        a = reallocarray(e->fds, e->n_fds + 1, sizeof(int));
        if (!a)
                return -ENOMEM;
        e->fds = a;
        if (symlink(target, link) < 0)
                return -errno;
        e->fds[e->n_fds++] = TAKE_FD(fd);
        return 0;
}

/*
 * libkmod opens its configuration and index files by path with plain open(): a FIFO in
 * modprobe.d would block it for ever and a symlink in a --root tree would be followed on the
 * host. So it never sees the tree: it gets a private directory (mkdtemp, removed when done)
 * with modules/ holding the modules.* files of /lib/modules/KVER and modprobe.d/ holding the
 * configuration files libkmod would read, each a link to a descriptor nodeprep opened itself.
 * The configuration follows kmod_config_new() in kmod's libkmod-config.c: the directories in
 * order, names ending in .conf or .alias not starting with '.', the first file of a name wins.
 */
static int view_build(KmodEnv *e, const NpRoot *root)
{
        static const char *const modprobe_dirs[] = {
                "/etc/modprobe.d",     "/run/modprobe.d", "/usr/local/lib/modprobe.d",
                "/usr/lib/modprobe.d", "/lib/modprobe.d",
        };
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *)), **entries = NULL;
        _cleanup_free_ char *tmpl = NULL, *sub = NULL;
        const char *tmp = getenv("TMPDIR");
        int r;

        if (!names)
                return -ENOMEM;
        tmpl = strprintf("%s/nodeprep-kmod-XXXXXX", isempty(tmp) ? "/tmp" : tmp);
        if (!tmpl)
                return -ENOMEM;
        if (!mkdtemp(tmpl))
                return -errno;
        e->view = TAKE_PTR(tmpl);
        for (size_t i = 0; i < 2; i++) {
                free(sub);
                sub = strprintf("%s/%s", e->view, i == 0 ? "modules" : "modprobe.d");
                if (!sub)
                        return -ENOMEM;
                if (mkdir(sub, 0700) < 0)
                        return -errno;
        }

        r = np_root_list_dir(root, e->modules_dir, &entries);
        if (r == -ENOMEM)
                return r;
        STRV_FOREACH (n, entries) {
                _cleanup_free_ char *p = NULL;

                if (!startswith(*n, "modules."))
                        continue;
                p = strprintf("%s/%s", e->modules_dir, *n);
                if (!p)
                        return -ENOMEM;
                r = view_add(e, root, p, "modules", *n);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < ELEMENTSOF(modprobe_dirs); i++) {
                entries = strv_free(entries);
                r = np_root_list_dir(root, modprobe_dirs[i], &entries);
                if (r == -ENOMEM)
                        return r;
                STRV_FOREACH (n, entries) {
                        _cleanup_free_ char *p = NULL;

                        if ((*n)[0] == '.' || strv_contains(names, *n) ||
                            !(endswith(*n, ".conf") || endswith(*n, ".alias")))
                                continue;
                        p = strprintf("%s/%s", modprobe_dirs[i], *n);
                        if (!p || strv_extend(&names, *n) < 0)
                                return -ENOMEM;
                        r = view_add(e, root, p, "modprobe.d", *n);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* "kernel/drivers/scsi/iscsi_tcp.ko" -> "iscsi_tcp" (whatever the compression suffix). */
static int builtin_name(const char *line, char **ret)
{
        const char *base = strrchr(line, '/');
        _cleanup_free_ char *name = NULL;
        char *ko;

        name = strdup(base ? base + 1 : line);
        if (!name)
                return -ENOMEM;
        ko = strstr(name, ".ko");
        if (ko)
                *ko = '\0';
        return np_module_name_normalize(name, ret);
}

static int kmod_env_init(const NpRoot *root, const char *kernel, KmodEnv *e)
{
        _cleanup_free_ char *dir = NULL, *conf = NULL, *builtin_path = NULL, *data = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        struct kmod_config_iter *it;
        int r;

        e->kernel = strdup(kernel);
        e->modules_dir = strprintf("/lib/modules/%s", kernel);
        e->modules_host = np_root_prefix(root, strna(e->modules_dir));
        if (!e->kernel || !e->modules_dir || !e->modules_host)
                return -ENOMEM;
        r = view_build(e, root);
        if (r < 0)
                return r;
        dir = strprintf("%s/modules", e->view);
        conf = strprintf("%s/modprobe.d", e->view);
        if (!dir || !conf)
                return -ENOMEM;
        e->ctx = kmod_new(dir, (const char *const[]){ conf, NULL });
        if (!e->ctx)
                return -ENOMEM;
        kmod_set_log_fn(e->ctx, kmod_log_silent, NULL);

        builtin_path = strprintf("%s/modules.builtin", e->modules_dir);
        if (!builtin_path)
                return -ENOMEM;
        r = np_root_read_file(root, builtin_path, 16U * 1024U * 1024U, &data, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                e->builtin_unknown = np_probe_reason(root, builtin_path, r);
                if (!e->builtin_unknown)
                        return -ENOMEM;
        } else {
                r = strv_split(data, "\n", &lines);
                if (r < 0)
                        return r;
                e->builtin = calloc(1, sizeof(char *));
                if (!e->builtin)
                        return -ENOMEM;
                STRV_FOREACH (l, lines) {
                        char *n = NULL;

                        if (builtin_name(strstrip(*l), &n) == -ENOMEM ||
                            (n && strv_consume(&e->builtin, n) < 0))
                                return -ENOMEM;
                }
        }

        e->blacklist = calloc(1, sizeof(char *));
        if (!e->blacklist)
                return -ENOMEM;
        it = kmod_config_get_blacklists(e->ctx);
        while (it && kmod_config_iter_next(it)) {
                char *n = NULL;

                if (np_module_name_normalize(kmod_config_iter_get_key(it), &n) == -ENOMEM ||
                    (n && strv_consume(&e->blacklist, n) < 0)) {
                        kmod_config_iter_free_iter(it);
                        return -ENOMEM;
                }
        }
        if (it)
                kmod_config_iter_free_iter(it);
        return 0;
}

/* The module name(s) a modules-load.d line or a profile name resolves to, via libkmod. */
static int kmod_resolve(KmodEnv *e, const char *name, char ***ret)
{
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        _cleanup_free_ char *norm = NULL;
        struct kmod_list *list = NULL, *it;
        int r;

        if (!names)
                return -ENOMEM;
        r = np_module_name_normalize(name, &norm);
        if (r < 0)
                return r;
        r = strv_extend(&names, norm);
        if (r < 0)
                return r;
        if (kmod_module_new_from_lookup(e->ctx, name, &list) >= 0) {
                kmod_list_foreach(it, list)
                {
                        struct kmod_module *m = kmod_module_get_module(it);

                        r = strv_extend_unique(&names, kmod_module_get_name(m));
                        kmod_module_unref(m);
                        if (r < 0)
                                break;
                }
                kmod_module_unref_list(list);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

static int probe_state(const NpRoot *root, KmodEnv *e, NpModuleFacts *m)
{
        _cleanup_free_ char *initstate_path = NULL, *state = NULL, *sysdir = NULL;
        _cleanup_strv_free_ char **names = NULL;
        struct kmod_list *list = NULL;
        bool available = false;
        int r;

        r = kmod_resolve(e, m->name, &names);
        if (r == -EINVAL) {
                m->unknown = strprintf("\"%s\" is not a valid module name", m->name);
                return m->unknown ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        /* The kernel's name: the alias target when libkmod knows one, else the normalised name. */
        m->canonical = strdup(names[strv_length(names) > 1 ? 1 : 0]);
        if (!m->canonical)
                return -ENOMEM;

        initstate_path = strprintf("/sys/module/%s/initstate", m->canonical);
        sysdir = strprintf("/sys/module/%s", m->canonical);
        if (!initstate_path || !sysdir)
                return -ENOMEM;
        r = np_root_read_file(root, initstate_path, 64, &state, NULL);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                const char *s = strstrip(state);

                if (streq(s, "live")) {
                        m->state = NP_MODULE_LOADED;
                        m->state_detail = strprintf("%s: live", initstate_path);
                } else
                        m->unknown = strprintf("%s: \"%s\" (the module is being loaded or "
                                               "unloaded)",
                                               initstate_path, s);
                return (m->state_detail || m->unknown) ? 0 : -ENOMEM;
        }
        if (r != -ENOENT) {
                m->unknown = np_probe_reason(root, initstate_path, r);
                return m->unknown ? 0 : -ENOMEM;
        }

        if (e->builtin) {
                if (strv_contains(e->builtin, m->canonical)) {
                        m->state = NP_MODULE_BUILTIN;
                        m->state_detail = strprintf("built into kernel %s (%s/modules.builtin)",
                                                    e->kernel, e->modules_dir);
                        return m->state_detail ? 0 : -ENOMEM;
                }
        } else if (np_root_exists(root, sysdir) > 0) {
                /* No modules.builtin, but a /sys/module entry without initstate: built in. */
                m->state = NP_MODULE_BUILTIN;
                m->state_detail = strprintf("built in (%s has no initstate)", sysdir);
                return m->state_detail ? 0 : -ENOMEM;
        } else {
                m->unknown = strprintf("not loaded, and cannot tell whether it is built into "
                                       "kernel %s: %s",
                                       e->kernel, e->builtin_unknown);
                return m->unknown ? 0 : -ENOMEM;
        }

        if (kmod_module_new_from_lookup(e->ctx, m->canonical, &list) >= 0 && list) {
                struct kmod_module *mod = kmod_module_get_module(list);
                const char *path = kmod_module_get_path(mod);

                if (path) {
                        _cleanup_free_ char *view_dir = strprintf("%s/modules", e->view);
                        const char *rest = view_dir ? startswith(path, view_dir) : NULL;

                        available = true;
                        /* Shown where it is on the described host, not in the private view. */
                        m->state_detail =
                            rest ? strprintf("%s%s", e->modules_host, rest) : strdup(path);
                }
                kmod_module_unref(mod);
                kmod_module_unref_list(list);
        }
        m->state = available ? NP_MODULE_AVAILABLE : NP_MODULE_MISSING;
        if (!available)
                m->state_detail = strprintf("not in %s/modules.dep", e->modules_dir);
        return m->state_detail ? 0 : -ENOMEM;
}

static int probe_persistence(KmodEnv *e, const NpModulesLoad *ml, NpModuleFacts *m)
{
        int r;

        if (!m->canonical)
                return 0;
        m->persisted_in = calloc(1, sizeof(char *));
        if (!m->persisted_in)
                return -ENOMEM;
        if (strv_contains(e->blacklist, m->canonical)) {
                m->blacklisted = strprintf("\"blacklist %s\" in modprobe.d: systemd-modules-load "
                                           "refuses to load it",
                                           m->canonical);
                if (!m->blacklisted)
                        return -ENOMEM;
        }
        FOREACH_ARRAY (l, ml->lines, ml->n_lines) {
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_free_ char *first = NULL;
                size_t wl = strcspn(l->text, " \t");

                r = kmod_resolve(e, l->text, &names);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && strv_contains(names, m->canonical)) {
                        if (l->applied)
                                r = strv_consume(&m->persisted_in,
                                                 strprintf("%s:%u", l->file, l->line));
                        else
                                r = strv_consume(&m->not_applied,
                                                 strprintf("%s:%u: the file is hidden by %s",
                                                           l->file, l->line, l->hidden_by));
                        if (r < 0)
                                return r;
                        continue;
                }
                /* "iscsi_tcp # comment" or "iscsi_tcp param=1": systemd looks up the whole line. */
                if (l->text[wl] == '\0')
                        continue;
                first = strndup(l->text, wl);
                if (!first)
                        return -ENOMEM;
                names = strv_free(names);
                r = kmod_resolve(e, first, &names);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && strv_contains(names, m->canonical)) {
                        r = strv_consume(&m->not_applied,
                                         strprintf("%s:%u: \"%s\": systemd-modules-load takes the "
                                                   "whole line as the module name (no comments or "
                                                   "parameters), so nothing is loaded",
                                                   l->file, l->line, l->text));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/*
 * systemctl mask systemd-modules-load.service (or --runtime): a symlink to /dev/null, or an
 * empty file, in /etc or /run. Then nothing in modules-load.d is loaded at boot.
 */
static int modules_load_masked(const NpRoot *root, char **ret)
{
        static const char *const paths[] = {
                "/etc/systemd/system.control/systemd-modules-load.service",
                "/run/systemd/system.control/systemd-modules-load.service",
                "/run/systemd/transient/systemd-modules-load.service",
                "/etc/systemd/system/systemd-modules-load.service",
                "/run/systemd/system/systemd-modules-load.service",
        };

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                _cleanup_free_ char *p = np_root_prefix(root, paths[i]);
                char target[PATH_MAX];
                struct stat st;
                ssize_t n;

                if (!p)
                        return -ENOMEM;
                if (lstat(p, &st) < 0)
                        continue;
                if (S_ISLNK(st.st_mode)) {
                        n = readlink(p, target, sizeof(target) - 1);
                        if (n <= 0)
                                continue;
                        target[n] = '\0';
                        if (!streq(target, "/dev/null"))
                                continue;
                } else if (!S_ISREG(st.st_mode) || st.st_size != 0)
                        return 0; /* the first unit file systemd finds is a real one */
                *ret = strdup(paths[i]);
                return *ret ? 0 : -ENOMEM;
        }
        return 0;
}

int np_probe_modules(const NpRoot *root, char *const *names, NpFacts *f)
{
        _cleanup_(kmod_env_done) KmodEnv e = {};
        _cleanup_(np_modules_load_done) NpModulesLoad ml = {};
        _cleanup_free_ char *ml_error = NULL;
        const char *kernel = f->system.kernel;
        int r;

        if (strv_length((char **)names) == 0)
                return 0;
        STRV_FOREACH (n, (char **)names)
                if (!np_facts_add_module(f, *n))
                        return -ENOMEM;

        if (!kernel) {
                FOREACH_ARRAY (m, f->modules, f->n_modules)
                        if (!(m->unknown = strdup("the running kernel's release is unknown "
                                                  "(/proc/sys/kernel/osrelease unreadable)")))
                                return -ENOMEM;
                return 0;
        }
        r = kmod_env_init(root, kernel, &e);
        if (r < 0)
                return r;
        if (e.view_unknown) {
                /* What libkmod (modprobe, systemd-modules-load) makes of the configuration is
                 * unknown: they would block on a FIFO or fail on a device there. */
                FOREACH_ARRAY (m, f->modules, f->n_modules)
                        if (!(m->unknown = strprintf("%s; libkmod (modprobe, "
                                                     "systemd-modules-load) cannot read it",
                                                     e.view_unknown)))
                                return -ENOMEM;
                return 0;
        }
        r = np_modules_load_read(root, &ml, &ml_error);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !f->modules_load_dirs_unknown &&
            !(f->modules_load_dirs_unknown = strdup(strna(ml_error))))
                return -ENOMEM;
        r = modules_load_masked(root, &f->modules_load_masked);
        if (r < 0)
                return r;

        FOREACH_ARRAY (m, f->modules, f->n_modules) {
                r = probe_state(root, &e, m);
                if (r < 0)
                        return r;
                if (f->modules_load_dirs_unknown) {
                        if (!(m->persist_unknown = strdup(f->modules_load_dirs_unknown)))
                                return -ENOMEM;
                        continue;
                }
                r = probe_persistence(&e, &ml, m);
                if (r < 0)
                        return r;
        }
        return 0;
}
