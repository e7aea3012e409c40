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
        char *kernel;      /* release of the kernel the state is about */
        char *modules_dir; /* /lib/modules/KVER as on the described host */
        char **builtin;    /* normalised names from modules.builtin, NULL if unreadable */
        char *builtin_unknown;
        char **blacklist; /* normalised names from libkmod's modprobe.d configuration */
} KmodEnv;

static void kmod_env_done(KmodEnv *e)
{
        if (e->ctx)
                kmod_unref(e->ctx);
        free(e->kernel);
        free(e->modules_dir);
        strv_free(e->builtin);
        free(e->builtin_unknown);
        strv_free(e->blacklist);
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
        static const char *const modprobe_dirs[] = {
                "/etc/modprobe.d",     "/run/modprobe.d", "/usr/local/lib/modprobe.d",
                "/usr/lib/modprobe.d", "/lib/modprobe.d",
        };
        _cleanup_free_ char *dir = NULL, *builtin_path = NULL, *data = NULL;
        _cleanup_strv_free_ char **lines = NULL, **config = NULL;
        struct kmod_config_iter *it;
        int r;

        e->kernel = strdup(kernel);
        e->modules_dir = strprintf("/lib/modules/%s", kernel);
        dir = np_root_prefix(root, strna(e->modules_dir));
        if (!e->kernel || !e->modules_dir || !dir)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(modprobe_dirs); i++) {
                r = strv_consume(&config, np_root_prefix(root, modprobe_dirs[i]));
                if (r < 0)
                        return r;
        }
        e->ctx = kmod_new(dir, (const char *const *)config);
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
                        available = true;
                        m->state_detail = strdup(path);
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
