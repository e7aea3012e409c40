/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel modules: loaded / built in / available for the running kernel, and whether the next
 * boot gets them into the kernel.
 *
 * Now: libkmod resolves names and aliases against /lib/modules/KVER and modprobe.d under the
 * root; its kmod_module_get_initstate() reads the host's /sys/module whatever the root, so the
 * state is read here from /sys/module/NAME/initstate under the root instead. A
 * /sys/module/NAME directory alone does not mean "loaded": built-in modules with parameters have
 * one too.
 *
 * The next boot (README "How files owned by other programs are read"): the kernel and command
 * line of NpFacts.boot, modules-load.d and modprobe.d without /run, and what
 * systemd-modules-load does with each name: module_load_and_warn() in systemd's
 * src/shared/module-util.c (247-257: kmod_module_new_from_lookup(), built-in and live modules
 * skipped, kmod_module_probe_insert_module() with KMOD_PROBE_APPLY_BLACKLIST only, so install
 * commands run and softdeps are followed), and what libkmod then does:
 * kmod_module_probe_insert_module() and __kmod_module_get_probe_list() in
 * libkmod/libkmod-module.c (kmod 28-34 alike). libkmod is used for the kernel's indexes only
 * (modules.dep, modules.alias, modules.builtin, symbols); the configuration is read with
 * probe/modprobe-conf.c so that every verdict can name its file and line, and libkmod's own
 * reading of /proc/cmdline (the running boot's) stays out of the next boot's answer.
 */

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libkmod.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probe/kcmdline.h"
#include "probe/modprobe-conf.h"
#include "probe/modules-load.h"
#include "probe/probe.h"
#include "util/strv.h"

static void kmod_log_silent(void *data, int priority, const char *file, int line, const char *fn,
                            const char *format, va_list args)
{
        /* libkmod's complaints about a missing index become our "unknown" reasons instead. */
        (void)data, (void)priority, (void)file, (void)line, (void)fn, (void)format, (void)args;
}

/* libkmod's configuration directories: kmod 30 (Debian 12) and older read /etc, /run,
 * /usr/local/lib and /lib; kmod 33 and later also DISTCONFDIR (/usr/lib) before /lib. */
static const char *const modprobe_dirs[] = {
        "/etc/modprobe.d",     "/run/modprobe.d", "/usr/local/lib/modprobe.d",
        "/usr/lib/modprobe.d", "/lib/modprobe.d",
};

/* --- what libkmod is given: a private view of vetted descriptors and copies ----------------- */

/* A /dev/null mask (the name's file is a symlink to it, or the device itself): libkmod reads
 * it as an empty file. */
static bool is_dev_null(const NpRoot *root, const char *path)
{
        struct stat st;

        return np_root_stat(root, path, &st) >= 0 && S_ISCHR(st.st_mode) &&
               st.st_rdev == makedev(1, 3);
}

/* How much modprobe configuration nodeprep reads for one boot, all files together. libkmod has
 * no bound (neither on the number of files nor on their size); nodeprep keeps the whole parsed
 * configuration in memory, so the total is bounded instead of the number of files: beyond it
 * the answer is unknown, naming the file where the bound was reached. A real host has a few
 * kilobytes. */
#define MODPROBE_CONF_MAX_TOTAL (16U * 1024U * 1024U)

typedef struct KmodView {
        char *dir;          /* the private directory handed to libkmod, see view_build() */
        char *modules_host; /* /lib/modules/KVER with the root prefix: how module paths are shown */
        char *unknown;      /* a configuration or index file libkmod cannot be given */
        int *fds;
        size_t n_fds;
        size_t copied; /* bytes of modprobe configuration copied into the view */
} KmodView;

static void view_done(KmodView *v)
{
        static const char *const subdirs[] = { "modules", "modprobe.d" };

        for (size_t i = 0; v->dir && i < ELEMENTSOF(subdirs); i++) {
                _cleanup_free_ char *d = strprintf("%s/%s", v->dir, subdirs[i]);
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
        if (v->dir)
                (void)rmdir(v->dir);
        for (size_t i = 0; i < v->n_fds; i++)
                safe_close(v->fds[i]);
        free(v->fds);
        free(v->dir);
        free(v->modules_host);
        free(v->unknown);
        *v = (KmodView){};
}

/*
 * Put the file at path (inside the root) into the view as sub/name: opened by
 * np_root_open_regular() (resolved inside the root, a regular file, never a FIFO or device) and
 * linked as /proc/self/fd/N, so that libkmod's own open() by path reaches exactly that file.
 * A file that vanished is left out; one that is not a regular file makes the view unknown.
 */
static int view_add(KmodView *v, const NpRoot *root, const char *path, const char *sub,
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
                if (!v->unknown && !(v->unknown = np_probe_reason(root, path, fd)))
                        return -ENOMEM;
                return 0;
        }
        link = strprintf("%s/%s/%s", v->dir, sub, name);
        target = strprintf("/proc/self/fd/%d", fd);
        if (!link || !target)
                return -ENOMEM;
        a = reallocarray(v->fds, v->n_fds + 1, sizeof(int));
        if (!a)
                return -ENOMEM;
        v->fds = a;
        if (symlink(target, link) < 0)
                return -errno;
        v->fds[v->n_fds++] = TAKE_FD(fd);
        return 0;
}

static int view_unknown(KmodView *v, char *why)
{
        if (!why)
                return -ENOMEM;
        if (v->unknown)
                free(why);
        else
                v->unknown = why;
        return 0;
}

/*
 * Put a copy of the configuration file at path (inside the root) into the view as
 * modprobe.d/name. libkmod reads its whole configuration in kmod_new() (kmod_config_new() in
 * libkmod/libkmod-config.c, kmod 30 and 34 alike), so a copy is what it would read, and the view
 * holds no descriptor per file: a modprobe.d with thousands of files does not run into the
 * limit of open files. Read with np_root_read_file() (inside the root, a regular file, never a
 * FIFO or device), bounded in total like read_modprobe_d(). A name that vanished or is a
 * directory is left out (libkmod skips directories), a /dev/null mask is an empty file; any
 * other file that cannot be read makes the view unknown.
 */
static int view_copy(KmodView *v, const NpRoot *root, const char *path, const char *name)
{
        _cleanup_free_ char *data = NULL, *copy = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size = 0;
        int r;

        if (v->unknown)
                return 0;
        r = np_root_read_file(root, path, MODPROBE_CONF_MAX_TOTAL - v->copied, &data, &size);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT || r == -EISDIR)
                return 0;
        if (r == -EFBIG) {
                _cleanup_free_ char *shown = np_root_prefix(root, path);

                return view_unknown(v, shown ? strprintf("%s: the modprobe configuration passes "
                                                         "%u MiB in total here, more than "
                                                         "nodeprep reads",
                                                         shown, MODPROBE_CONF_MAX_TOTAL >> 20)
                                             : NULL);
        }
        if (r < 0 && !is_dev_null(root, path))
                return view_unknown(v, np_probe_reason(root, path, r));
        v->copied += size;
        copy = strprintf("%s/modprobe.d/%s", v->dir, name);
        if (!copy)
                return -ENOMEM;
        /* the private directory's own failures (a full TMPDIR) are errors, as in view_build() */
        fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < size;) {
                ssize_t k = write(fd, data + done, size - done);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                done += (size_t)k;
        }
        return close(TAKE_FD(fd)) < 0 ? -errno : 0;
}

/*
 * libkmod opens its configuration and index files by path with plain open(): a FIFO in
 * modprobe.d would block it for ever and a symlink in a --root tree would be followed on the
 * host. So it never sees the tree: it gets a private directory (mkdtemp, removed when done)
 * with modules/ holding the modules.* files of modules_dir (/lib/modules/KVER of the running or
 * the next kernel), each a link to a descriptor nodeprep opened itself (libkmod opens the
 * indexes when it first needs them), and, when config is set, modprobe.d/ holding copies of the
 * configuration files libkmod would read (view_copy()). The configuration follows
 * kmod_config_new() in kmod's libkmod-config.c: the directories in order, names ending in .conf
 * or .alias not starting with '.', the first file of a name wins. Without config, libkmod gets
 * the indexes only (the next boot's configuration is read by probe/modprobe-conf.c). *ret_ctx:
 * a libkmod context on the view.
 */
static int view_build(KmodView *v, const NpRoot *root, const char *modules_dir, bool config,
                      struct kmod_ctx **ret_ctx)
{
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *)), **entries = NULL;
        _cleanup_free_ char *tmpl = NULL, *mods = NULL, *conf = NULL;
        const char *tmp = getenv("TMPDIR");
        int r;

        v->modules_host = np_root_prefix(root, modules_dir);
        tmpl = strprintf("%s/nodeprep-kmod-XXXXXX", isempty(tmp) ? "/tmp" : tmp);
        if (!names || !v->modules_host || !tmpl)
                return -ENOMEM;
        if (!mkdtemp(tmpl))
                return -errno;
        v->dir = TAKE_PTR(tmpl);
        mods = strprintf("%s/modules", v->dir);
        conf = strprintf("%s/modprobe.d", v->dir);
        if (!mods || !conf)
                return -ENOMEM;
        if (mkdir(mods, 0700) < 0 || mkdir(conf, 0700) < 0)
                return -errno;

        r = np_root_list_dir(root, modules_dir, &entries);
        if (r == -ENOMEM)
                return r;
        STRV_FOREACH (n, entries) {
                _cleanup_free_ char *p = NULL;

                if (!startswith(*n, "modules."))
                        continue;
                p = strprintf("%s/%s", modules_dir, *n);
                if (!p)
                        return -ENOMEM;
                r = view_add(v, root, p, "modules", *n);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; config && i < ELEMENTSOF(modprobe_dirs); i++) {
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
                        r = view_copy(v, root, p, *n);
                        if (r < 0)
                                return r;
                }
        }
        /* An empty list of configuration paths: libkmod reads no modprobe.d at all. */
        *ret_ctx = kmod_new(mods, config ? (const char *const[]){ conf, NULL }
                                         : (const char *const[]){ NULL });
        if (!*ret_ctx)
                return -ENOMEM;
        kmod_set_log_fn(*ret_ctx, kmod_log_silent, NULL);
        return 0;
}

/* Where a module file libkmod names in the view is on the described host. */
static char *view_host_path(const KmodView *v, const char *path)
{
        _cleanup_free_ char *mods = strprintf("%s/modules", v->dir);
        const char *rest = mods ? startswith(path, mods) : NULL;

        return rest ? strprintf("%s%s", v->modules_host, rest) : strdup(path);
}

/* --- built-in modules ---------------------------------------------------------------------- */

/*
 * What a kernel has built in, from the two lists kbuild writes next to its modules. libkmod
 * (kmod 28-34 alike; libkmod/libkmod.c) reads neither directly: depmod turns modules.builtin
 * into modules.builtin.bin (the names, kmod_lookup_alias_from_builtin_file(),
 * kmod_module_is_builtin()) and the "MOD.alias=PATTERN" records of modules.builtin.modinfo into
 * modules.builtin.alias.bin (kmod_lookup_alias_from_kernel_builtin_file(), the last step of
 * kmod_module_new_from_lookup()); tools/depmod.c output_builtin_bin(),
 * output_builtin_alias_bin(). A module named in either list is in the kernel image whatever
 * depmod made of it, so both count: a kernel without modules.builtin (no modules.builtin.bin,
 * libkmod then calls the name "not found") still has what modules.builtin.modinfo names, and
 * a name that is only an alias there reaches the built-in module as libkmod does once depmod
 * has run.
 */
typedef struct Builtin {
        char **names;   /* normalised names from modules.builtin; NULL if unreadable */
        char **modinfo; /* module names in modules.builtin.modinfo; NULL if unreadable */
        char **aliases; /* pattern, module, pattern, module, ...: "MOD.alias=PATTERN" records */
        char *unknown;  /* neither list is readable: why */
} Builtin;

static void builtin_done(Builtin *bi)
{
        strv_free(bi->names);
        strv_free(bi->modinfo);
        strv_free(bi->aliases);
        free(bi->unknown);
        *bi = (Builtin){};
}

/* The list that says name is built in ("modules.builtin", "modules.builtin.modinfo"), or NULL. */
static const char *builtin_has(const Builtin *bi, const char *name)
{
        if (bi->names && strv_contains(bi->names, name))
                return "modules.builtin";
        if (bi->modinfo && strv_contains(bi->modinfo, name))
                return "modules.builtin.modinfo";
        return NULL;
}

/* alias_normalize() in kmod's shared/util.c: '-' becomes '_' outside [...]; an unmatched
 * bracket makes the alias invalid (depmod skips it). */
static int alias_normalize(const char *alias, char **ret)
{
        _cleanup_free_ char *s = strdup(alias);

        if (!s)
                return -ENOMEM;
        for (char *c = s; *c; c++) {
                if (*c == ']')
                        return -EINVAL;
                if (*c == '[') {
                        c = strchr(c, ']');
                        if (!c)
                                return -EINVAL;
                } else if (*c == '-')
                        *c = '_';
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* Add the built-in modules whose modules.builtin.modinfo alias matches name (index_searchwild()
 * of modules.builtin.alias.bin: fnmatch() of each pattern) to *mods. */
static int builtin_alias_lookup(const Builtin *bi, const char *name, char ***mods)
{
        for (size_t i = 0; bi->aliases && bi->aliases[i] && bi->aliases[i + 1]; i += 2)
                if (fnmatch(bi->aliases[i], name, 0) == 0 &&
                    strv_extend_unique(mods, bi->aliases[i + 1]) < 0)
                        return -ENOMEM;
        return 0;
}

/* modules.builtin.modinfo: "MOD.KEY=VALUE" records, each ended by '\0' (depmod's
 * output_builtin_alias_bin() reads it the same way). */
static int parse_builtin_modinfo(const char *data, size_t size, Builtin *bi)
{
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *)),
                                 **aliases = calloc(1, sizeof(char *));

        if (!names || !aliases)
                return -ENOMEM;
        for (const char *rec = data, *end = data + size; rec < end;
             rec += strnlen(rec, (size_t)(end - rec)) + 1) {
                size_t len = strnlen(rec, (size_t)(end - rec));
                const char *dot = memchr(rec, '.', len), *eq;
                _cleanup_free_ char *mod = NULL, *norm = NULL, *value = NULL, *pattern = NULL;
                int r;

                if (!dot || dot == rec)
                        continue;
                mod = strndup(rec, (size_t)(dot - rec));
                if (!mod)
                        return -ENOMEM;
                r = np_module_name_normalize(mod, &norm);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                if (strv_extend_unique(&names, norm) < 0)
                        return -ENOMEM;
                eq = memchr(dot, '=', len - (size_t)(dot - rec));
                if (!eq || (size_t)(eq - dot - 1) != strlen("alias") ||
                    strncmp(dot + 1, "alias", strlen("alias")) != 0 || eq + 1 == rec + len)
                        continue;
                value = strndup(eq + 1, len - (size_t)(eq + 1 - rec));
                if (!value)
                        return -ENOMEM;
                r = alias_normalize(value, &pattern);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                if (strv_extend(&aliases, pattern) < 0 || strv_extend(&aliases, norm) < 0)
                        return -ENOMEM;
        }
        bi->modinfo = TAKE_PTR(names);
        bi->aliases = TAKE_PTR(aliases);
        return 0;
}

/* --- the running kernel: state now ---------------------------------------------------------- */

typedef struct KmodEnv {
        struct kmod_ctx *ctx;
        KmodView view;
        char *kernel;      /* release of the kernel the state is about */
        char *modules_dir; /* /lib/modules/KVER as on the described host */
        Builtin builtin;
} KmodEnv;

static void kmod_env_done(KmodEnv *e)
{
        if (e->ctx)
                kmod_unref(e->ctx);
        view_done(&e->view);
        free(e->kernel);
        free(e->modules_dir);
        builtin_done(&e->builtin);
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

/* modules.builtin and modules.builtin.modinfo of a kernel; bi->unknown when neither is
 * readable. Each is read whole with the safe reader, bounded like every file nodeprep reads. */
static int read_builtin(const NpRoot *root, const char *modules_dir, Builtin *bi)
{
        _cleanup_free_ char *path = strprintf("%s/modules.builtin", modules_dir), *data = NULL,
                            *mpath = strprintf("%s/modules.builtin.modinfo", modules_dir),
                            *mdata = NULL, *why = NULL;
        _cleanup_strv_free_ char **lines = NULL, **names = NULL;
        size_t msize;
        int r, k;

        if (!path || !mpath)
                return -ENOMEM;
        r = np_root_read_file(root, path, 16U * 1024U * 1024U, &data, NULL);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                names = calloc(1, sizeof(char *));
                if (!names || strv_split(data, "\n", &lines) < 0)
                        return -ENOMEM;
                STRV_FOREACH (l, lines) {
                        char *n = NULL;

                        if (builtin_name(strstrip(*l), &n) == -ENOMEM ||
                            (n && strv_consume(&names, n) < 0))
                                return -ENOMEM;
                }
                bi->names = TAKE_PTR(names);
        } else if (!(why = np_probe_reason(root, path, r)))
                return -ENOMEM;
        k = np_root_read_file(root, mpath, 64U * 1024U * 1024U, &mdata, &msize);
        if (k == -ENOMEM)
                return k;
        if (k >= 0)
                return parse_builtin_modinfo(mdata, msize, bi);
        if (r >= 0)
                return 0; /* kernels before 5.2 have no modules.builtin.modinfo */
        if (k == -ENOENT)
                bi->unknown = TAKE_PTR(why);
        else {
                _cleanup_free_ char *mwhy = np_probe_reason(root, mpath, k);

                bi->unknown = mwhy ? strprintf("%s; %s", why, mwhy) : NULL;
        }
        return bi->unknown ? 0 : -ENOMEM;
}

static int kmod_env_init(const NpRoot *root, const char *kernel, KmodEnv *e)
{
        int r;

        e->kernel = strdup(kernel);
        e->modules_dir = strprintf("/lib/modules/%s", kernel);
        if (!e->kernel || !e->modules_dir)
                return -ENOMEM;
        r = view_build(&e->view, root, e->modules_dir, true, &e->ctx);
        if (r < 0)
                return r;
        return read_builtin(root, e->modules_dir, &e->builtin);
}

/* Add the names of the modules kmod_module_new_from_lookup() finds for name to *names. */
static int lookup_names(struct kmod_ctx *ctx, const char *name, char ***names)
{
        struct kmod_list *list = NULL, *it;
        int r = 0;

        if (kmod_module_new_from_lookup(ctx, name, &list) < 0)
                return 0;
        kmod_list_foreach(it, list)
        {
                struct kmod_module *m = kmod_module_get_module(it);

                r = strv_extend_unique(names, kmod_module_get_name(m));
                kmod_module_unref(m);
                if (r < 0)
                        break;
        }
        kmod_module_unref_list(list);
        return r;
}

/* A module file of exactly this name in the kernel's modules.dep (kmod_module_new_from_name()
 * reads no configuration: a modprobe.d alias does not count). */
static bool ctx_has_path(struct kmod_ctx *ctx, const char *name)
{
        struct kmod_module *mod = NULL;
        bool found;

        if (kmod_module_new_from_name(ctx, name, &mod) < 0)
                return false;
        found = kmod_module_get_path(mod) != NULL;
        kmod_module_unref(mod);
        return found;
}

/* Is there a module of exactly this (normalised) name: loaded, built in or in modules.dep? */
static bool names_a_module(const NpRoot *root, KmodEnv *e, const char *norm)
{
        _cleanup_free_ char *sysdir = strprintf("/sys/module/%s", norm);

        if (sysdir && np_root_exists(root, sysdir) > 0)
                return true;
        if (builtin_has(&e->builtin, norm))
                return true;
        return ctx_has_path(e->ctx, norm);
}

/* The module name(s) a profile name resolves to now, via libkmod. */
static int kmod_resolve(const NpRoot *root, KmodEnv *e, const char *name, char ***ret)
{
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        _cleanup_free_ char *norm = NULL;
        int r;

        if (!names)
                return -ENOMEM;
        r = np_module_name_normalize(name, &norm);
        if (r < 0)
                return r;
        r = strv_extend(&names, norm);
        if (r < 0)
                return r;
        r = lookup_names(e->ctx, name, &names);
        if (r < 0)
                return r;
        /* Nothing else found: a modules.builtin.modinfo alias (even without depmod's
         * modules.builtin.alias.bin) names the built-in module. */
        if (strv_length(names) == 1 && !names_a_module(root, e, norm)) {
                r = builtin_alias_lookup(&e->builtin, norm, &names);
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

        r = kmod_resolve(root, e, m->name, &names);
        if (r == -EINVAL) {
                m->unknown = strprintf("\"%s\" is not a valid module name", m->name);
                return m->unknown ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        /* The kernel's name: the normalised name when a module has it, else the alias target
         * when libkmod knows one. A modprobe.d "alias iscsi_tcp other" does not rename the
         * module the profile asks for (it changes what loading it does, judged below). */
        m->canonical =
            strdup(names[strv_length(names) > 1 && !names_a_module(root, e, names[0]) ? 1 : 0]);
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

        if (!e->builtin.unknown) {
                const char *in = builtin_has(&e->builtin, m->canonical);

                if (in) {
                        m->state = NP_MODULE_BUILTIN;
                        m->state_detail = strprintf("built into kernel %s (%s/%s)", e->kernel,
                                                    e->modules_dir, in);
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
                                       e->kernel, e->builtin.unknown);
                return m->unknown ? 0 : -ENOMEM;
        }

        if (kmod_module_new_from_lookup(e->ctx, m->canonical, &list) >= 0 && list) {
                struct kmod_module *mod = kmod_module_get_module(list);
                const char *path = kmod_module_get_path(mod);

                if (path) {
                        available = true;
                        /* Shown where it is on the described host, not in the private view. */
                        m->state_detail = view_host_path(&e->view, path);
                }
                kmod_module_unref(mod);
                kmod_module_unref_list(list);
        }
        m->state = available ? NP_MODULE_AVAILABLE : NP_MODULE_MISSING;
        if (!available)
                m->state_detail = strprintf("not in %s/modules.dep", e->modules_dir);
        return m->state_detail ? 0 : -ENOMEM;
}

/* --- a boot: a kernel, modprobe.d and a command line --------------------------------------- */

typedef struct Boot {
        char *kernel;
        char *modules_dir;
        struct kmod_ctx *ctx; /* the kernel's indexes only: no configuration */
        KmodView view;
        char *unknown; /* a modprobe.d or index file that libkmod would not read as nodeprep does */
        Builtin builtin;
        NpModprobeConf conf;
        NpKcmdline cmdline;
        char *cmdline_where; /* "the kernel command line (SOURCE)" */
} Boot;

static void boot_done(Boot *b)
{
        free(b->kernel);
        free(b->modules_dir);
        if (b->ctx)
                kmod_unref(b->ctx);
        view_done(&b->view);
        free(b->unknown);
        builtin_done(&b->builtin);
        np_modprobe_conf_done(&b->conf);
        np_kcmdline_done(&b->cmdline);
        free(b->cmdline_where);
        *b = (Boot){};
}

typedef struct ConfFile {
        char *name, *path;
        bool late;
} ConfFile;

static int conf_file_cmp(const void *a, const void *b)
{
        return strcmp(((const ConfFile *)a)->name, ((const ConfFile *)b)->name);
}

static void conf_files_free(ConfFile *files, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(files[i].name);
                free(files[i].path);
        }
        free(files);
}

/* conf_files_list() in libkmod/libkmod-config.c: "*.conf" and "*.alias", not hidden, the first
 * directory with a name wins, then all files in name order (the kernel's modules.softdep among
 * them), however many there are. next_boot leaves out /run/modprobe.d. */
static int list_modprobe_d(const NpRoot *root, const Boot *b, bool next_boot, ConfFile **ret,
                           size_t *ret_n)
{
        ConfFile *files = NULL;
        size_t n = 0;
        struct stat usr_lib, lib;
        bool split_usr;
        int r = 0;

        split_usr = np_root_stat(root, "/usr/lib/modprobe.d", &usr_lib) >= 0 &&
                    !(np_root_stat(root, "/lib/modprobe.d", &lib) >= 0 &&
                      usr_lib.st_dev == lib.st_dev && usr_lib.st_ino == lib.st_ino);
        for (size_t d = 0; r >= 0 && d < ELEMENTSOF(modprobe_dirs) + 1; d++) {
                _cleanup_strv_free_ char **names = NULL;
                const char *dir = d < ELEMENTSOF(modprobe_dirs) ? modprobe_dirs[d] : b->modules_dir;

                if (next_boot && streq(dir, "/run/modprobe.d"))
                        continue;
                r = np_root_list_dir(root, dir, &names);
                if (r == -ENOMEM)
                        break;
                r = 0;
                STRV_FOREACH (nm, names) {
                        ConfFile *a;
                        bool dup = false;

                        if (d == ELEMENTSOF(modprobe_dirs)
                                ? !streq(*nm, "modules.softdep")
                                : ((*nm)[0] == '.' ||
                                   (!endswith(*nm, ".conf") && !endswith(*nm, ".alias"))))
                                continue;
                        for (size_t i = 0; i < n && !dup; i++)
                                dup = streq(files[i].name, *nm);
                        if (dup)
                                continue;
                        a = reallocarray(files, n + 1, sizeof(ConfFile));
                        if (!a) {
                                r = -ENOMEM;
                                break;
                        }
                        files = a;
                        files[n] = (ConfFile){
                                .name = strdup(*nm),
                                .path = strprintf("%s/%s", dir, *nm),
                                .late = split_usr && streq(dir, "/usr/lib/modprobe.d"),
                        };
                        n++;
                        if (!files[n - 1].name || !files[n - 1].path) {
                                r = -ENOMEM;
                                break;
                        }
                }
        }
        if (r < 0) {
                conf_files_free(files, n);
                return r;
        }
        if (n > 0)
                qsort(files, n, sizeof(ConfFile), conf_file_cmp);
        *ret = files;
        *ret_n = n;
        return 0;
}

/* Read and parse the configuration of boot b into c; b->unknown says why when it cannot be. */
static int read_modprobe_d(const NpRoot *root, Boot *b, bool next_boot, NpModprobeConf *c)
{
        ConfFile *files = NULL;
        size_t n = 0, total = 0;
        bool over = false;
        int r;

        r = list_modprobe_d(root, b, next_boot, &files, &n);
        for (size_t i = 0; r >= 0 && !over && i < n; i++) {
                _cleanup_free_ char *data = NULL, *shown = NULL;
                size_t size;
                int k;

                k = np_root_read_file(root, files[i].path, MODPROBE_CONF_MAX_TOTAL - total, &data,
                                      &size);
                if (k == -ENOMEM)
                        r = k;
                else if (k >= 0) {
                        total += size;
                        r = np_modprobe_conf_parse(files[i].path, data, size, files[i].late, c);
                } else if (k == -EFBIG) {
                        over = true;
                        shown = np_root_prefix(root, files[i].path);
                        free(b->unknown);
                        b->unknown = shown ? strprintf("%s: the modprobe configuration (modprobe.d "
                                                       "directories and modules.softdep) passes "
                                                       "%u MiB in total here, more than nodeprep "
                                                       "reads",
                                                       shown, MODPROBE_CONF_MAX_TOTAL >> 20)
                                           : NULL;
                        if (!b->unknown)
                                r = -ENOMEM;
                } else if (k != -ENOENT && k != -EISDIR && !is_dev_null(root, files[i].path) &&
                           !b->unknown) {
                        /* A dangling symlink or a /dev/null mask reads as nothing;
                         * libkmod's open() would block on a FIFO or fail on a device. */
                        _cleanup_free_ char *why = np_probe_reason(root, files[i].path, k);

                        b->unknown = why ? strprintf("%s; libkmod cannot read it", why) : NULL;
                        if (!b->unknown)
                                r = -ENOMEM;
                }
        }
        conf_files_free(files, n);
        return r;
}

static int boot_init(const NpRoot *root, const char *kernel, bool next_boot, const char *cmdline,
                     const char *cmdline_source, Boot *b)
{
        int r;

        b->kernel = strdup(kernel);
        b->modules_dir = strprintf("/lib/modules/%s", kernel);
        b->cmdline_where = strprintf("the kernel command line (%s)", cmdline_source);
        if (!b->kernel || !b->modules_dir || !b->cmdline_where)
                return -ENOMEM;
        /* The indexes of this kernel through the same vetted view as the running kernel's. */
        r = view_build(&b->view, root, b->modules_dir, false, &b->ctx);
        if (r < 0)
                return r;
        if (b->view.unknown &&
            !(b->unknown = strprintf("%s; libkmod cannot read it", b->view.unknown)))
                return -ENOMEM;
        r = read_builtin(root, b->modules_dir, &b->builtin);
        if (r < 0)
                return r;
        r = read_modprobe_d(root, b, next_boot, &b->conf);
        if (r < 0)
                return r;
        return np_kcmdline_parse(strempty(cmdline), strlen(strempty(cmdline)), &b->cmdline);
}

static bool has_path(Boot *b, const char *name)
{
        return ctx_has_path(b->ctx, name);
}

static const NpModprobeDirective *first_directive(const Boot *b, NpModprobeKind kind,
                                                  const char *module, bool pattern)
{
        FOREACH_ARRAY (d, b->conf.directives, b->conf.n_directives)
                if (d->kind == kind &&
                    (pattern ? fnmatch(d->module, module, 0) == 0 : streq(d->module, module)))
                        return d;
        return NULL;
}

/*
 * kmod_module_new_from_lookup(): modprobe.d aliases (every match, fnmatch()), modules.dep,
 * symbols, install/remove commands, modules.alias, modules.builtin, modules.builtin.modinfo
 * aliases. *ret_alias: the alias line used, if any.
 */
static int boot_lookup(Boot *b, const char *name, char ***ret,
                       const NpModprobeDirective **ret_alias)
{
        _cleanup_strv_free_ char **mods = calloc(1, sizeof(char *));
        _cleanup_free_ char *norm = NULL;
        int r;

        *ret_alias = NULL;
        if (!mods)
                return -ENOMEM;
        r = np_module_name_normalize(name, &norm);
        if (r < 0)
                return r;
        FOREACH_ARRAY (d, b->conf.directives, b->conf.n_directives)
                if (d->kind == NP_MODPROBE_ALIAS && fnmatch(d->module, norm, 0) == 0) {
                        if (!*ret_alias)
                                *ret_alias = d;
                        if (strv_extend_unique(&mods, d->arg) < 0)
                                return -ENOMEM;
                }
        if (strv_length(mods) == 0 && has_path(b, norm) && strv_extend(&mods, norm) < 0)
                return -ENOMEM;
        if (strv_length(mods) == 0 &&
            (first_directive(b, NP_MODPROBE_INSTALL, norm, false) ||
             first_directive(b, NP_MODPROBE_REMOVE, norm, false)) &&
            strv_extend(&mods, norm) < 0)
                return -ENOMEM;
        if (strv_length(mods) == 0) {
                r = lookup_names(b->ctx, norm, &mods);
                if (r < 0)
                        return r;
        }
        /* The built-in lists themselves, for a kernel whose depmod indexes lack them (see
         * Builtin): the name, then the modules.builtin.modinfo aliases. */
        if (strv_length(mods) == 0 && builtin_has(&b->builtin, norm) &&
            strv_extend(&mods, norm) < 0)
                return -ENOMEM;
        if (strv_length(mods) == 0) {
                r = builtin_alias_lookup(&b->builtin, norm, &mods);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(mods);
        return 0;
}

static char *where(const NpModprobeDirective *d)
{
        _cleanup_free_ char *text = np_modprobe_directive_text(d);

        return text ? strprintf("%s:%u: %s", d->file, d->line, text) : NULL;
}

/* Whether libkmod ignores M's install command: it does when M has softdeps that resolve
 * (__kmod_module_fill_softdep(): mod->ignorecmd = pre || post). */
static int install_ignored(Boot *b, const char *m, bool *ret)
{
        const NpModprobeDirective *s = first_directive(b, NP_MODPROBE_SOFTDEP, m, true);

        *ret = false;
        if (!s)
                return 0;
        for (char **l = s->pre; !*ret && l; l = (l == s->pre ? s->post : NULL))
                STRV_FOREACH (n, l) {
                        _cleanup_strv_free_ char **mods = NULL;
                        const NpModprobeDirective *a;
                        int r = boot_lookup(b, *n, &mods, &a);

                        if (r == -ENOMEM)
                                return r;
                        if (r >= 0 && strv_length(mods) > 0) {
                                *ret = true;
                                break;
                        }
                }
        return 0;
}

typedef enum Verdict {
        VERDICT_LOADS,
        VERDICT_BUILTIN,
        VERDICT_MISSING,   /* no module file, no install command */
        VERDICT_PREVENTED, /* something stops it: why */
        VERDICT_UNKNOWN,
} Verdict;

/* What an install command of module m (a dependency of target, or target) means. */
static int judge_install(Boot *b, const char *m, const char *target, char **why, Verdict *v)
{
        const NpModprobeDirective *d = first_directive(b, NP_MODPROBE_INSTALL, m, true);
        _cleanup_free_ char *w = NULL;
        bool ignored;
        int r;

        if (!d)
                return 0;
        r = install_ignored(b, m, &ignored);
        if (r < 0 || ignored)
                return r;
        w = where(d);
        if (!w)
                return -ENOMEM;
        switch (np_install_command_effect(d->arg, m)) {
        case NP_INSTALL_INSERTS:
                return 0;
        case NP_INSTALL_NOTHING:
        case NP_INSTALL_FAILS:
                *v = VERDICT_PREVENTED;
                *why =
                    streq(m, target)
                        ? strprintf("%s: libkmod runs this command instead of inserting %s", w, m)
                        : strprintf("%s: libkmod runs this command instead of inserting %s, "
                                    "which %s depends on",
                                    w, m, target);
                break;
        default:
                *v = VERDICT_UNKNOWN;
                *why = strprintf("%s: libkmod runs this command instead of inserting %s%s%s; "
                                 "nodeprep does not run it and cannot tell whether it inserts "
                                 "the module",
                                 w, m, streq(m, target) ? "" : ", a dependency of ",
                                 streq(m, target) ? "" : target);
        }
        if (*why && d->late) {
                char *s = strprintf("%s (only kmod 33 and later read /usr/lib/modprobe.d when it "
                                    "is not /lib/modprobe.d)",
                                    *why);
                free_and_replace(why, s);
                *v = VERDICT_UNKNOWN;
        }
        return *why ? 1 : -ENOMEM;
}

static const char *kernel_blacklisted(Boot *b, const char *m, const NpKcmdlineWord **ret_word)
{
        const NpKcmdlineWord *w = np_kcmdline_last(&b->cmdline, "module_blacklist");
        _cleanup_strv_free_ char **names = NULL;

        *ret_word = w;
        /* blacklisted() in the kernel's kernel/module/main.c: strcmp() on each comma-separated
         * name of the last module_blacklist= (a charp core_param). */
        if (!w || strv_split(w->value, ",", &names) < 0)
                return NULL;
        return strv_contains(names, m) ? w->value : NULL;
}

/* Will "modprobe target" at boot (systemd-modules-load) get target into kernel b? */
static int judge(Boot *b, const char *target, char **why, char ***notes, Verdict *v)
{
        const NpModprobeDirective *d;
        const char *list;
        const NpKcmdlineWord *word;
        struct kmod_module *mod = NULL;
        struct kmod_list *deps = NULL, *it;
        int r = 0;

        *v = VERDICT_LOADS;
        if (b->unknown) {
                *v = VERDICT_UNKNOWN;
                *why = strdup(b->unknown);
                return *why ? 0 : -ENOMEM;
        }
        list = builtin_has(&b->builtin, target);
        if (list) {
                *v = VERDICT_BUILTIN;
                *why = strprintf("built into kernel %s (%s/%s)", b->kernel, b->modules_dir, list);
                return *why ? 0 : -ENOMEM;
        }
        /* KMOD_PROBE_APPLY_BLACKLIST: module_is_blacklisted() compares names with streq(). */
        d = first_directive(b, NP_MODPROBE_BLACKLIST, target, false);
        if (d) {
                _cleanup_free_ char *w = where(d);

                *v = d->late ? VERDICT_UNKNOWN : VERDICT_PREVENTED;
                *why = w ? strprintf("%s: systemd-modules-load refuses a blacklisted module "
                                     "(KMOD_PROBE_APPLY_BLACKLIST)%s",
                                     w,
                                     d->late ? "; only kmod 33 and later read "
                                               "/usr/lib/modprobe.d when it is not /lib/modprobe.d"
                                             : "")
                         : NULL;
                return *why ? 0 : -ENOMEM;
        }
        if (strv_contains(b->cmdline.kmod_blacklist, target)) {
                *v = VERDICT_PREVENTED;
                *why = strprintf("modprobe.blacklist=...%s... on %s: libkmod blacklists it", target,
                                 b->cmdline_where);
                return *why ? 0 : -ENOMEM;
        }
        r = judge_install(b, target, target, why, v);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!has_path(b, target)) {
                *v = VERDICT_MISSING;
                *why = !b->builtin.unknown
                           ? strprintf("neither built into kernel %s nor in %s/modules.dep",
                                       b->kernel, b->modules_dir)
                           : strprintf("not in %s/modules.dep, and %s", b->modules_dir,
                                       b->builtin.unknown);
                if (b->builtin.unknown)
                        *v = VERDICT_UNKNOWN;
                return *why ? 0 : -ENOMEM;
        }
        if (kernel_blacklisted(b, target, &word)) {
                *v = VERDICT_PREVENTED;
                *why = strprintf("module_blacklist=%s on %s: the kernel refuses to load it",
                                 word->value, b->cmdline_where);
                return *why ? 0 : -ENOMEM;
        }
        /* Its dependencies (modules.dep) are inserted first; a failing one stops it. */
        if (kmod_module_new_from_name(b->ctx, target, &mod) >= 0) {
                deps = kmod_module_get_dependencies(mod);
                kmod_list_foreach(it, deps)
                {
                        struct kmod_module *dm = kmod_module_get_module(it);
                        const char *dn = kmod_module_get_name(dm);

                        if (!builtin_has(&b->builtin, dn)) {
                                if (kernel_blacklisted(b, dn, &word)) {
                                        *v = VERDICT_PREVENTED;
                                        *why = strprintf("module_blacklist=%s on %s: the kernel "
                                                         "refuses %s, which %s depends on",
                                                         word->value, b->cmdline_where, dn, target);
                                        r = *why ? 1 : -ENOMEM;
                                } else
                                        r = judge_install(b, dn, target, why, v);
                        }
                        kmod_module_unref(dm);
                        if (r != 0)
                                break;
                }
                kmod_module_unref_list(deps);
                kmod_module_unref(mod);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        /* Softdeps and options never stop the insertion: say what they are. */
        d = first_directive(b, NP_MODPROBE_SOFTDEP, target, true);
        if (d) {
                _cleanup_free_ char *w = where(d);

                if (!w || strv_consume(notes, strprintf("%s: soft dependencies are loaded too; "
                                                        "libkmod ignores their failures",
                                                        w)) < 0)
                        return -ENOMEM;
        }
        FOREACH_ARRAY (o, b->conf.directives, b->conf.n_directives)
                if (o->kind == NP_MODPROBE_OPTIONS && streq(o->module, target)) {
                        _cleanup_free_ char *w = where(o);

                        if (!w || strv_consume(notes, strprintf("%s: passed to the kernel when "
                                                                "it loads %s",
                                                                w, target)) < 0)
                                return -ENOMEM;
                }
        FOREACH_ARRAY (o, b->cmdline.kmod_options, b->cmdline.n_kmod_options)
                if (streq(o->module, target) &&
                    strv_consume(notes, strprintf("%s.%s on %s: passed to the kernel when it "
                                                  "loads %s",
                                                  o->module, o->param, b->cmdline_where, target)) <
                        0)
                        return -ENOMEM;
        return 0;
}

/* --- the next boot ------------------------------------------------------------------------ */

/*
 * Is the initrd built by dracut? Its systemd runs systemd-modules-load, which reads
 * rd.modules_load= (PROC_CMDLINE_STRIP_RD_PREFIX: "rd." keys only in the initrd); Debian's and
 * Ubuntu's initramfs-tools does not. 1 dracut, 0 initramfs-tools, -1 neither or both.
 */
static int initrd_is_dracut(const NpRoot *root)
{
        bool dracut = np_root_exists(root, "/usr/lib/dracut/modules.d") > 0,
             itools = np_root_exists(root, "/usr/share/initramfs-tools") > 0;

        return dracut == itools ? -1 : dracut;
}

static int add_source(NpModuleFacts *m, const char *text)
{
        return strv_extend(&m->persisted_in, text);
}

/* Which sources of the next boot name the module, and whether the next kernel will have it. */
static int judge_next(const NpRoot *root, Boot *b, const NpModulesLoad *ml, const char *masked,
                      NpModuleFacts *m)
{
        _cleanup_free_ char *why = NULL;
        _cleanup_strv_free_ char **notes = NULL, **words = NULL, **rd = NULL;
        Verdict v;
        int r;

        if (b->unknown)
                return free_and_strdup(&m->next_unknown, b->unknown);
        r = judge(b, m->canonical, &why, &notes, &v);
        if (r < 0)
                return r;
        m->next_state = v == VERDICT_BUILTIN   ? NP_MODULE_BUILTIN
                        : v == VERDICT_MISSING ? NP_MODULE_MISSING
                                               : NP_MODULE_AVAILABLE;
        if (v == VERDICT_UNKNOWN && startswith(strempty(why), "not in "))
                return free_and_strdup(&m->next_unknown, why);
        if (v == VERDICT_PREVENTED || v == VERDICT_UNKNOWN) {
                /* An install command or a blacklist is judged before the module file: the state
                 * is still what the kernel's files say, not "available". */
                if (!has_path(b, m->canonical) && b->builtin.unknown) {
                        m->next_unknown = strprintf("not in %s/modules.dep, and %s", b->modules_dir,
                                                    b->builtin.unknown);
                        return m->next_unknown ? 0 : -ENOMEM;
                }
                if (!has_path(b, m->canonical))
                        m->next_state = NP_MODULE_MISSING;
        }
        m->next_detail = m->next_state == NP_MODULE_MISSING && v != VERDICT_MISSING
                             ? strprintf("neither built into kernel %s nor in %s/modules.dep",
                                         b->kernel, b->modules_dir)
                         : v == VERDICT_BUILTIN || v == VERDICT_MISSING
                             ? strdup(why)
                             : strprintf("in %s/modules.dep", b->modules_dir);
        if (!m->next_detail)
                return -ENOMEM;
        m->notes = TAKE_PTR(notes);
        if (v == VERDICT_PREVENTED)
                m->prevented = strdup(why);
        else if (v == VERDICT_UNKNOWN)
                m->prevented_unknown = strdup(why);
        if ((v == VERDICT_PREVENTED && !m->prevented) ||
            (v == VERDICT_UNKNOWN && !m->prevented_unknown))
                return -ENOMEM;
        if (v == VERDICT_PREVENTED && strstr(why, ": blacklist ") &&
            !(m->blacklisted = strdup(why)))
                return -ENOMEM;
        if (v == VERDICT_PREVENTED && startswith(why, "modprobe.blacklist=") &&
            !(m->blacklisted = strdup(why)))
                return -ENOMEM;

        m->persisted_in = calloc(1, sizeof(char *));
        if (!m->persisted_in)
                return -ENOMEM;
        /* modules-load.d lines; the whole line is the name systemd looks up. */
        FOREACH_ARRAY (l, ml->lines, ml->n_lines) {
                _cleanup_strv_free_ char **mods = NULL;
                _cleanup_free_ char *norm = NULL, *first = NULL;
                const NpModprobeDirective *alias;
                size_t wl = strcspn(l->text, " \t");

                r = boot_lookup(b, l->text, &mods, &alias);
                if (r == -ENOMEM)
                        return r;
                if (np_module_name_normalize(l->text, &norm) == -ENOMEM)
                        return -ENOMEM;
                if (r >= 0 && strv_contains(mods, m->canonical)) {
                        if (l->applied)
                                r = strv_consume(&m->persisted_in,
                                                 strprintf("%s:%u", l->file, l->line));
                        else if (l->in_run)
                                r = strv_consume(&m->not_applied,
                                                 strprintf("%s:%u: /run is emptied at every boot, "
                                                           "so the next boot does not read it",
                                                           l->file, l->line));
                        else
                                r = strv_consume(&m->not_applied,
                                                 strprintf("%s:%u: the file is hidden by %s",
                                                           l->file, l->line, l->hidden_by));
                        if (r < 0)
                                return r;
                        continue;
                }
                if (r >= 0 && norm && streq(norm, m->canonical) && l->applied) {
                        /* the name itself, redirected elsewhere by a modprobe.d alias */
                        _cleanup_free_ char *w = alias ? where(alias) : NULL,
                                            *list = strv_join(mods, ", ");

                        if (!list || (alias && !w))
                                return -ENOMEM;
                        r = strv_consume(&m->not_applied,
                                         alias ? strprintf("%s:%u: %s makes \"%s\" load %s "
                                                           "instead",
                                                           l->file, l->line, w, l->text, list)
                                               : strprintf("%s:%u: \"%s\" finds no module in %s",
                                                           l->file, l->line, l->text,
                                                           b->modules_dir));
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
                mods = strv_free(mods);
                r = boot_lookup(b, first, &mods, &alias);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && strv_contains(mods, m->canonical)) {
                        r = strv_consume(&m->not_applied,
                                         strprintf("%s:%u: \"%s\": systemd-modules-load takes the "
                                                   "whole line as the module name (no comments or "
                                                   "parameters), so nothing is loaded",
                                                   l->file, l->line, l->text));
                        if (r < 0)
                                return r;
                }
        }
        /* modules_load= on the command line: systemd-modules-load's parse_proc_cmdline_item()
         * (every occurrence, comma-separated; "modules-load" is the same key). */
        r = np_kcmdline_values(&b->cmdline, "modules_load", true, &words);
        if (r < 0)
                return r;
        r = np_kcmdline_values(&b->cmdline, "rd.modules_load", true, &rd);
        if (r < 0)
                return r;
        for (int pass = 0; pass < 2; pass++)
                STRV_FOREACH (w, pass ? rd : words) {
                        _cleanup_strv_free_ char **names = NULL;

                        if (strv_split(*w, ",", &names) < 0)
                                return -ENOMEM;
                        STRV_FOREACH (n, names) {
                                _cleanup_strv_free_ char **mods = NULL;
                                const NpModprobeDirective *alias;
                                _cleanup_free_ char *text = NULL;
                                int dracut;

                                r = boot_lookup(b, *n, &mods, &alias);
                                if (r == -ENOMEM)
                                        return r;
                                if (r < 0 || !strv_contains(mods, m->canonical))
                                        continue;
                                text = strprintf("%smodules_load=%s on %s", pass ? "rd." : "", *w,
                                                 b->cmdline_where);
                                if (!text)
                                        return -ENOMEM;
                                dracut = pass ? initrd_is_dracut(root) : 1;
                                if (dracut > 0)
                                        r = add_source(m, text);
                                else
                                        r = strv_consume(
                                            &m->not_applied,
                                            strprintf("%s: only systemd in an initrd reads rd. "
                                                      "options, and %s",
                                                      text,
                                                      dracut == 0 ? "this host's initrd is "
                                                                    "initramfs-tools, which "
                                                                    "does not run it"
                                                                  : "nodeprep cannot tell which "
                                                                    "initrd this host builds"));
                                if (r < 0)
                                        return r;
                        }
                }
        (void)masked;
        return 0;
}

/*
 * systemctl mask systemd-modules-load.service: a symlink to /dev/null, or an empty file. Only
 * /etc counts for the next boot (a mask in /run is gone by then, and so is a unit file in /run
 * that hides one in /etc).
 */
static int modules_load_masked(const NpRoot *root, char **ret)
{
        static const char *const paths[] = {
                "/etc/systemd/system.control/systemd-modules-load.service",
                "/etc/systemd/system/systemd-modules-load.service",
        };

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                /* The link itself (O_PATH|O_NOFOLLOW), resolved inside the root and recorded
                 * as read (np_root_record()). */
                _cleanup_close_ int fd = np_root_open(root, paths[i], O_PATH | O_NOFOLLOW);
                char target[PATH_MAX];
                struct stat st;
                ssize_t n;

                if (fd == -ENOMEM)
                        return fd;
                if (fd < 0 || fstat(fd, &st) < 0)
                        continue;
                if (S_ISLNK(st.st_mode)) {
                        n = readlinkat(fd, "", target, sizeof(target) - 1);
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

/* The next kernel is not known: the answer stands if every installed kernel gives it. */
static int judge_all_kernels(const NpRoot *root, const NpFacts *f, NpModuleFacts *m)
{
        _cleanup_strv_free_ char **have = calloc(1, sizeof(char *)),
                                 **lack = calloc(1, sizeof(char *));
        _cleanup_free_ char *h = NULL, *l = NULL;

        if (!have || !lack)
                return -ENOMEM;
        STRV_FOREACH (k, f->boot.kernels) {
                _cleanup_(boot_done) Boot b = {};
                _cleanup_free_ char *why = NULL;
                _cleanup_strv_free_ char **notes = NULL;
                Verdict v;
                int r;

                r = boot_init(root, *k, true, f->boot.cmdline, strna(f->boot.cmdline_source), &b);
                if (r < 0)
                        return r;
                if (b.unknown)
                        return free_and_strdup(&m->next_unknown, b.unknown);
                r = judge(&b, m->canonical, &why, &notes, &v);
                if (r < 0)
                        return r;
                if (strv_extend(v == VERDICT_LOADS || v == VERDICT_BUILTIN ? &have : &lack, *k) < 0)
                        return -ENOMEM;
        }
        if (strv_length(have) == 0 || strv_length(lack) == 0)
                return 1; /* they agree: judge with any of them */
        h = strv_join(have, ", ");
        l = strv_join(lack, ", ");
        m->next_unknown = strprintf("the installed kernels disagree (%s can load %s, %s cannot) "
                                    "and the next boot's kernel is unknown: %s",
                                    strna(h), m->canonical, strna(l), f->boot.kernel_unknown);
        return m->next_unknown ? 0 : -ENOMEM;
}

/* --- now: the running kernel, modprobe.d with /run, /proc/cmdline -------------------------- */

static int judge_now(const NpRoot *root, const NpFacts *f, NpModuleFacts *m)
{
        _cleanup_(boot_done) Boot b = {};
        _cleanup_free_ char *cmdline = NULL, *cmdline_unknown = NULL, *why = NULL, *list = NULL;
        _cleanup_strv_free_ char **notes = NULL, **mods = NULL;
        const NpModprobeDirective *alias;
        Verdict v;
        int r;

        r = np_root_read_file(root, "/proc/cmdline", 64 * 1024, &cmdline, NULL);
        if (r == -ENOMEM)
                return r;
        /* A fixture tree without /proc has no command line (as in np_probe_boot()); one that
         * cannot be read is not an empty one: its modprobe.blacklist= and module_blacklist=
         * are unknown. */
        if (r < 0 && !(r == -ENOENT && !root->host) &&
            !(cmdline_unknown = np_probe_reason(root, "/proc/cmdline", r)))
                return -ENOMEM;
        r = boot_init(root, f->system.kernel, false, cmdline ? strstrip(cmdline) : "",
                      "/proc/cmdline", &b);
        if (r < 0)
                return r;
        /* np_kmod_load() looks the name up as libkmod does: a modprobe.d alias redirects it. */
        r = boot_lookup(&b, m->canonical, &mods, &alias);
        if (r == -ENOMEM)
                return r;
        if (alias && !strv_contains(mods, m->canonical)) {
                _cleanup_free_ char *w = where(alias);

                list = strv_join(mods, ", ");
                m->load_prevented = w && list ? strprintf("%s: loading \"%s\" loads %s instead", w,
                                                          m->canonical, list)
                                              : NULL;
                return m->load_prevented ? 0 : -ENOMEM;
        }
        r = judge(&b, m->canonical, &why, &notes, &v);
        if (r < 0)
                return r;
        if (v == VERDICT_PREVENTED)
                /* the command line only adds blacklists: what modprobe.d prevents stays so */
                m->load_prevented = TAKE_PTR(why);
        else if (v == VERDICT_UNKNOWN && !startswith(why, "not in "))
                m->load_prevented_unknown = TAKE_PTR(why);
        else if (v == VERDICT_LOADS && cmdline_unknown) {
                m->load_prevented_unknown =
                    strprintf("whether the running boot's command line blacklists %s "
                              "(modprobe.blacklist=, module_blacklist=) is unknown: %s",
                              m->canonical, cmdline_unknown);
                if (!m->load_prevented_unknown)
                        return -ENOMEM;
        }
        return 0;
}

/* /etc/modules-load.d, where a fix adds its file (fix/plan/kmod.c): a directory, missing, or not
 * usable and why. */
static int probe_modules_load_etc(const NpRoot *root, NpFacts *f)
{
        struct stat st;
        int r = np_root_stat(root, "/etc/modules-load.d", &st);

        if (r == -ENOENT) {
                f->modules_load_etc_missing = true;
                return 0;
        }
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && S_ISDIR(st.st_mode))
                return 0;
        f->modules_load_etc_unusable = strdup(r < 0 ? strerror(-r) : "not a directory");
        return f->modules_load_etc_unusable ? 0 : -ENOMEM;
}

int np_probe_modules(const NpRoot *root, char *const *names, NpFacts *f)
{
        _cleanup_(kmod_env_done) KmodEnv e = {};
        _cleanup_(np_modules_load_done) NpModulesLoad ml = {};
        _cleanup_(boot_done) Boot next = {};
        _cleanup_free_ char *ml_error = NULL;
        const char *kernel = f->system.kernel;
        bool have_next = false;
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
        r = np_probe_boot(root, f);
        if (r < 0)
                return r;
        r = kmod_env_init(root, kernel, &e);
        if (r < 0)
                return r;
        if (e.view.unknown) {
                /* What libkmod (modprobe, systemd-modules-load) makes of the configuration is
                 * unknown: they would block on a FIFO or fail on a device there. */
                FOREACH_ARRAY (m, f->modules, f->n_modules)
                        if (!(m->unknown = strprintf("%s; libkmod (modprobe, "
                                                     "systemd-modules-load) cannot read it",
                                                     e.view.unknown)))
                                return -ENOMEM;
                return 0;
        }
        r = np_modules_load_read_next_boot(root, &ml, &ml_error);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !f->modules_load_dirs_unknown &&
            !(f->modules_load_dirs_unknown = strdup(strna(ml_error))))
                return -ENOMEM;
        r = modules_load_masked(root, &f->modules_load_masked);
        if (r >= 0)
                r = probe_modules_load_etc(root, f);
        if (r < 0)
                return r;
        if (f->boot.kernel && !f->boot.cmdline_unknown) {
                r = boot_init(root, f->boot.kernel, true, f->boot.cmdline,
                              strna(f->boot.cmdline_source), &next);
                if (r < 0)
                        return r;
                have_next = true;
        }

        FOREACH_ARRAY (m, f->modules, f->n_modules) {
                r = probe_state(root, &e, m);
                if (r < 0)
                        return r;
                if (!m->canonical)
                        continue;
                r = judge_now(root, f, m);
                if (r < 0)
                        return r;
                if (f->modules_load_dirs_unknown) {
                        if (!(m->persist_unknown = strdup(f->modules_load_dirs_unknown)))
                                return -ENOMEM;
                        continue;
                }
                if (f->boot.cmdline_unknown) {
                        m->persist_unknown = strprintf("the next boot's kernel command line is "
                                                       "unknown: %s",
                                                       f->boot.cmdline_unknown);
                        if (!m->persist_unknown)
                                return -ENOMEM;
                        continue;
                }
                if (!have_next && strv_length(f->boot.kernels) == 0) {
                        /* no kernel to judge with (the installed ones cannot be told) */
                        m->next_unknown = strprintf("the next boot's kernel is unknown: %s",
                                                    strna(f->boot.kernel_unknown));
                        if (!m->next_unknown)
                                return -ENOMEM;
                        continue;
                }
                if (!have_next) {
                        _cleanup_(boot_done) Boot any = {};

                        /* unknown next kernel: fine when all installed kernels agree */
                        r = judge_all_kernels(root, f, m);
                        if (r < 0)
                                return r;
                        if (m->next_unknown)
                                continue;
                        r = boot_init(root, f->boot.kernels[0], true, f->boot.cmdline,
                                      strna(f->boot.cmdline_source), &any);
                        if (r < 0)
                                return r;
                        r = judge_next(root, &any, &ml, f->modules_load_masked, m);
                } else
                        r = judge_next(root, &next, &ml, f->modules_load_masked, m);
                if (r < 0)
                        return r;
        }
        return 0;
}
