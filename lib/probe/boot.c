/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The next boot: which installed kernel it runs and with which command line.
 *
 *  - installed kernels: /lib/modules/KVER with a modules.dep and an image (/boot/vmlinuz-KVER
 *    or /lib/modules/KVER/vmlinuz); without any image (/boot not mounted), every modules.dep;
 *  - one installed kernel is the next one whatever the boot loader says;
 *  - several: the boot loader's default entry (GRUB's grub.cfg + grubenv, BLS entries through
 *    blscfg, systemd-boot's loader.conf), else unknown;
 *  - the command line: the default entry's options, variables expanded from grub.cfg and
 *    grubenv, else /proc/cmdline (the running boot's), and the facts say which.
 */

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probe/bootloader.h"
#include "probe/probe.h"
#include "util/strv.h"

static const char *const grub_cfgs[] = {
        "/boot/grub/grub.cfg",
        "/boot/grub2/grub.cfg",
};
static const char *const esp_dirs[] = { "/boot/efi", "/efi", "/boot" };

/* CONFIG_ options the SELinux model reads from the next kernel's build configuration. */
static const char *const config_keys[] = {
        "CONFIG_SECURITY_SELINUX=",
        "CONFIG_SECURITY_SELINUX_BOOTPARAM=",
        "CONFIG_SECURITY_SELINUX_DISABLE=",
        "CONFIG_SECURITY_SELINUX_DEVELOP=",
        "CONFIG_LSM=",
        "CONFIG_DEFAULT_SECURITY_SELINUX=",
        "CONFIG_SECURITY_APPARMOR=",
        "CONFIG_SECURITY_SMACK=",
        "CONFIG_SECURITY_APPARMOR_BOOTPARAM_VALUE=",
};

/* An error of np_root_exists() or np_root_list_dir() on path: *unknown says why (the first). */
static int note_unknown(const NpRoot *root, const char *path, int error, char **unknown)
{
        if (error == -ENOMEM)
                return error;
        if (!*unknown && !(*unknown = np_probe_reason(root, path, error)))
                return -ENOMEM;
        return 0;
}

/* Installed kernels; *ret_unknown when /lib/modules or a kernel's files cannot be looked at
 * (a symlink loop, an I/O error): which kernels are installed is then not known. */
static int list_kernels(const NpRoot *root, char ***ret, char **ret_unknown)
{
        _cleanup_strv_free_ char **dirs = NULL, **with_dep = calloc(1, sizeof(char *)),
                                 **with_image = calloc(1, sizeof(char *));
        int r;

        if (!with_dep || !with_image)
                return -ENOMEM;
        r = np_root_list_dir(root, "/lib/modules", &dirs);
        if (r < 0 && r != -ENOENT && note_unknown(root, "/lib/modules", r, ret_unknown) < 0)
                return -ENOMEM;
        STRV_FOREACH (d, dirs) {
                _cleanup_free_ char *dep = strprintf("/lib/modules/%s/modules.dep", *d),
                                    *img1 = strprintf("/boot/vmlinuz-%s", *d),
                                    *img2 = strprintf("/lib/modules/%s/vmlinuz", *d);
                int e1, e2;

                if (!dep || !img1 || !img2)
                        return -ENOMEM;
                r = np_root_exists(root, dep);
                if (r < 0 && note_unknown(root, dep, r, ret_unknown) < 0)
                        return -ENOMEM;
                if (r <= 0)
                        continue;
                if (strv_extend(&with_dep, *d) < 0)
                        return -ENOMEM;
                e1 = np_root_exists(root, img1);
                e2 = np_root_exists(root, img2);
                if ((e1 < 0 && note_unknown(root, img1, e1, ret_unknown) < 0) ||
                    (e2 < 0 && note_unknown(root, img2, e2, ret_unknown) < 0))
                        return -ENOMEM;
                if ((e1 > 0 || e2 > 0) && strv_extend(&with_image, *d) < 0)
                        return -ENOMEM;
        }
        if (*ret_unknown) {
                /* a partial list says nothing: no kernel is judged (np_probe_modules()) */
                *ret = calloc(1, sizeof(char *));
                return *ret ? 0 : -ENOMEM;
        }
        *ret = strv_length(with_image) > 0 ? TAKE_PTR(with_image) : TAKE_PTR(with_dep);
        strv_sort(*ret);
        return 0;
}

/* A file that exists but cannot be read (not a regular file, over its bound, an I/O error):
 * what it says is unknown. One that does not exist is absent (-ENOENT, -ENOTDIR). */
static bool read_failed(int r)
{
        return r < 0 && r != -ENOENT && r != -ENOTDIR;
}

/* Bounds of the boot loader's files: GRUB's grubenv is a 1024-byte block and loader.conf a few
 * lines, a BLS entry a few hundred bytes; a kernel's build configuration about 300 KiB. */
#define GRUBENV_MAX       (64U * 1024U)
#define LOADER_CONF_MAX   (64U * 1024U)
#define BLS_ENTRY_MAX     (1024U * 1024U)
#define KERNEL_CONFIG_MAX (4U * 1024U * 1024U)

/* BLS entries of one directory, in blscfg's order (newest version first). An entry (or the
 * directory) that cannot be read leaves c->unknown set: the menu, and so the default, is then
 * not known. */
static int read_bls(const NpRoot *root, const char *dir, NpBootConfig *c)
{
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = np_root_list_dir(root, dir, &names);
        if (r == -ENOMEM)
                return r;
        if (read_failed(r)) {
                c->unknown = np_probe_reason(root, dir, r);
                return c->unknown ? 0 : -ENOMEM;
        }
        if (r < 0)
                return 0;
        STRV_FOREACH (n, names) {
                _cleanup_free_ char *path = strprintf("%s/%s", dir, *n), *data = NULL;
                NpBootEntry e = {}, *a;
                size_t size;

                if (!path)
                        return -ENOMEM;
                if (!endswith(*n, ".conf") || (*n)[0] == '.')
                        continue;
                r = np_root_read_file(root, path, BLS_ENTRY_MAX, &data, &size);
                if (r == -ENOMEM)
                        return r;
                if (read_failed(r)) {
                        /* a FIFO, a directory, a file past the bound, an I/O error: what the
                         * boot loader makes of that entry is not known */
                        c->unknown = np_probe_reason(root, path, r);
                        return c->unknown ? 0 : -ENOMEM;
                }
                if (r < 0)
                        continue;
                r = np_bls_entry_parse(*n, data, size, &e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                a = reallocarray(c->entries, c->n_entries + 1, sizeof(NpBootEntry));
                if (!a) {
                        np_boot_entry_done(&e);
                        return -ENOMEM;
                }
                c->entries = a;
                e.path = strdup("");
                a[c->n_entries++] = e;
        }
        /* newest version first, then id (what grub2's blscfg and systemd-boot show) */
        for (size_t i = 1; i < c->n_entries; i++)
                for (size_t j = i; j > 0; j--) {
                        NpBootEntry *x = &c->entries[j - 1], *y = &c->entries[j], t;
                        int k = np_boot_version_cmp(strempty(y->version), strempty(x->version));

                        if (k < 0 || (k == 0 && strcmp(y->id, x->id) >= 0))
                                break;
                        t = *x, *x = *y, *y = t;
                }
        for (size_t i = 0; i < c->n_entries; i++) {
                free(c->entries[i].path);
                c->entries[i].path = strprintf("%zu", i);
                if (!c->entries[i].path)
                        return -ENOMEM;
        }
        return 0;
}

static const char *env_get(char *const *env, const char *key)
{
        size_t n = strlen(key);

        STRV_FOREACH (e, (char **)env)
                if (strncmp(*e, key, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

typedef struct Default {
        const NpBootEntry *entry;
        char *file; /* where the entry's options are */
        char *how;  /* "GRUB default (saved_entry=... in /boot/grub/grubenv)" */
        char *unknown;
        char *options;
        char *unset_var;
} Default;

static void default_done(Default *d)
{
        free(d->file);
        free(d->how);
        free(d->unknown);
        free(d->options);
        free(d->unset_var);
}

/* Read a boot loader file: 1 read, 0 absent; 0 with d->unknown when it exists and cannot be
 * read ("NAME cannot be read (WHY): CONSEQUENCE"). */
static int read_loader_file(const NpRoot *root, const char *path, size_t max, const char *name,
                            const char *consequence, char **ret, Default *d)
{
        int r = np_root_read_file(root, path, max, ret, NULL);

        if (r == -ENOMEM)
                return r;
        if (read_failed(r)) {
                _cleanup_free_ char *why = np_probe_reason(root, path, r);

                d->unknown =
                    why ? strprintf("%s cannot be read (%s): %s", name, why, consequence) : NULL;
                return d->unknown ? 0 : -ENOMEM;
        }
        return r < 0 ? 0 : 1;
}

static int grub_default(const NpRoot *root, NpBootConfig *c, NpBootConfig *bls, const char *cfg,
                        Default *d)
{
        _cleanup_free_ char *envpath = NULL, *envdata = NULL, *dir = strdup(cfg);
        _cleanup_strv_free_ char **env = NULL;
        const NpBootConfig *menu = c;
        const char *value = c->default_value, *how = "set default= in grub.cfg";
        int r;

        if (!dir)
                return -ENOMEM;
        *strrchr(dir, '/') = '\0';
        envpath = strprintf("%s/grubenv", dir);
        if (!envpath)
                return -ENOMEM;
        /* saved_entry, next_entry and the variables of the options are there: an unreadable
         * grubenv is not an empty one. */
        r = read_loader_file(root, envpath, GRUBENV_MAX, "GRUB's environment block",
                             "saved_entry, next_entry and the variables of the kernel options "
                             "are unknown",
                             &envdata, d);
        if (r < 0 || d->unknown)
                return r;
        if (r > 0) {
                r = np_grubenv_parse(envdata, strlen(envdata), &env);
                if (r < 0)
                        return r;
        }
        if (c->unknown) {
                d->unknown = strprintf("%s %s", cfg, c->unknown);
                return d->unknown ? 0 : -ENOMEM;
        }
        if (c->boot_counter_default && !isempty(env_get(env, "boot_counter"))) {
                /* 08_fallback_counting: the default changes when the counter runs out. */
                d->unknown = strprintf("%s sets another default entry when boot_counter=%s in "
                                       "%s runs out (greenboot's boot counting)",
                                       cfg, env_get(env, "boot_counter"), envpath);
                return d->unknown ? 0 : -ENOMEM;
        }
        if (c->blscfg) {
                r = read_bls(root, "/boot/loader/entries", bls);
                if (r < 0)
                        return r;
                if (bls->unknown) {
                        d->unknown = strprintf("%s reads the BLS entries (blscfg), and one cannot "
                                               "be read: %s",
                                               cfg, bls->unknown);
                        return d->unknown ? 0 : -ENOMEM;
                }
                menu = bls;
        }
        /* 00_header: a one-time next_entry wins, then the default (often "${saved_entry}"). */
        if (c->next_entry && !isempty(env_get(env, "next_entry"))) {
                value = env_get(env, "next_entry");
                how = "next_entry= in grubenv (a one-time choice for the next boot)";
        } else if (value && (streq(value, "${saved_entry}") || streq(value, "$saved_entry"))) {
                value = strempty(env_get(env, "saved_entry"));
                how = "saved_entry= in grubenv";
        } else if (value && strchr(value, '$')) {
                d->unknown = strprintf("%s: default=\"%s\" names a variable nodeprep does not "
                                       "follow",
                                       cfg, value);
                return d->unknown ? 0 : -ENOMEM;
        }
        d->entry = np_boot_config_find(menu, value);
        if (!d->entry) {
                d->unknown = strprintf("%s: the default \"%s\" (%s) matches no menu entry", cfg,
                                       strempty(value), how);
                return d->unknown ? 0 : -ENOMEM;
        }
        d->file = c->blscfg ? strprintf("/boot/loader/entries/%s.conf", d->entry->id) : strdup(cfg);
        d->how = strprintf("GRUB's default entry \"%s\" (%s%s%s)", strempty(d->entry->title), how,
                           isempty(value) ? "" : ": ", strempty(value));
        if (!d->file || !d->how)
                return -ENOMEM;
        return np_boot_expand(d->entry->options, c->vars, env, &d->options, &d->unset_var);
}

static int sdboot_default(const NpRoot *root, const char *esp, NpBootConfig *bls, Default *d)
{
        _cleanup_free_ char *conf = strprintf("%s/loader/loader.conf", esp), *data = NULL,
                            *pattern = NULL, *entries = strprintf("%s/loader/entries", esp);
        int r;

        if (!conf || !entries)
                return -ENOMEM;
        r = read_loader_file(root, conf, LOADER_CONF_MAX, "systemd-boot's loader.conf",
                             "its default entry is unknown", &data, d);
        if (r <= 0)
                return r;
        r = np_loader_conf_default(data, strlen(data), &pattern);
        if (r < 0)
                return r;
        r = read_bls(root, entries, bls);
        if (r < 0)
                return r;
        if (bls->unknown) {
                d->unknown = strprintf("systemd-boot's entries (%s) cannot all be read: %s",
                                       entries, bls->unknown);
                return d->unknown ? 0 : -ENOMEM;
        }
        /* The EFI variables LoaderEntryDefault/LoaderEntryOneShot override loader.conf. */
        if (np_root_exists(root, "/sys/firmware/efi/efivars/"
                                 "LoaderEntryOneShot-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f") > 0 ||
            np_root_exists(root, "/sys/firmware/efi/efivars/"
                                 "LoaderEntryDefault-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f") > 0) {
                d->unknown = strdup("systemd-boot: an EFI variable (LoaderEntryDefault or "
                                    "LoaderEntryOneShot) chooses the default; nodeprep does not "
                                    "read it");
                return d->unknown ? 0 : -ENOMEM;
        }
        if (!pattern) {
                d->unknown = strprintf("%s has no \"default\" line", conf);
                return d->unknown ? 0 : -ENOMEM;
        }
        FOREACH_ARRAY (e, bls->entries, bls->n_entries) {
                _cleanup_free_ char *file = strprintf("%s.conf", e->id);

                if (!file)
                        return -ENOMEM;
                if (fnmatch(pattern, e->id, 0) == 0 || fnmatch(pattern, file, 0) == 0) {
                        d->entry = e;
                        d->file = strprintf("%s/%s.conf", entries, e->id);
                        d->how = strprintf("systemd-boot's default entry \"%s\" (default %s in %s)",
                                           e->id, pattern, conf);
                        d->options = strdup(e->options);
                        return d->file && d->how && d->options ? 0 : -ENOMEM;
                }
        }
        d->unknown = strprintf("%s: default %s matches no entry in %s", conf, pattern, entries);
        return d->unknown ? 0 : -ENOMEM;
}

static int read_kernel_config(const NpRoot *root, NpBootFacts *b)
{
        _cleanup_strv_free_ char **lines = NULL;
        const char *paths[2];
        int r;

        if (!b->kernel)
                return 0;
        _cleanup_free_ char *p1 = strprintf("/boot/config-%s", b->kernel),
                            *p2 = strprintf("/lib/modules/%s/config", b->kernel);
        if (!p1 || !p2)
                return -ENOMEM;
        paths[0] = p1, paths[1] = p2;
        for (size_t i = 0; i < 2; i++) {
                _cleanup_free_ char *data = NULL;

                r = np_root_read_file(root, paths[i], KERNEL_CONFIG_MAX, &data, NULL);
                if (r == -ENOMEM)
                        return r;
                if (read_failed(r)) {
                        /* not the same as no configuration: the next paths are not tried */
                        b->config_unknown = np_probe_reason(root, paths[i], r);
                        return b->config_unknown ? 0 : -ENOMEM;
                }
                if (r < 0)
                        continue;
                b->config_path = strdup(paths[i]);
                b->config = calloc(1, sizeof(char *));
                if (!b->config_path || !b->config || strv_split(data, "\n", &lines) < 0)
                        return -ENOMEM;
                STRV_FOREACH (l, lines)
                        for (size_t k = 0; k < ELEMENTSOF(config_keys); k++)
                                if (startswith(*l, config_keys[k]) &&
                                    strv_extend(&b->config, *l) < 0)
                                        return -ENOMEM;
                return 0;
        }
        return 0;
}

int np_probe_boot(const NpRoot *root, NpFacts *f)
{
        NpBootFacts *b = &f->boot;
        _cleanup_(default_done) Default d = {};
        _cleanup_(np_boot_config_done) NpBootConfig grub = {}, bls = {};
        _cleanup_free_ char *proc = NULL, *kernels_unknown = NULL;
        const char *running = f->system.kernel;
        int r;

        if (b->probed)
                return 0;
        b->probed = true;
        r = list_kernels(root, &b->kernels, &kernels_unknown);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(grub_cfgs) && !d.entry && !d.unknown; i++) {
                _cleanup_free_ char *data = NULL;

                r = np_root_read_file(root, grub_cfgs[i], NP_READ_MAX_DEFAULT, &data, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r == -ENOENT || r == -ENOTDIR)
                        continue;
                if (r < 0) {
                        d.unknown = np_probe_reason(root, grub_cfgs[i], r);
                        if (!d.unknown)
                                return -ENOMEM;
                        break;
                }
                r = np_grub_cfg_parse(data, strlen(data), &grub);
                if (r < 0)
                        return r;
                r = grub_default(root, &grub, &bls, grub_cfgs[i], &d);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(esp_dirs) && !d.entry && !d.unknown; i++) {
                np_boot_config_done(&bls);
                r = sdboot_default(root, esp_dirs[i], &bls, &d);
                if (r < 0)
                        return r;
        }

        /* The kernel. */
        if (kernels_unknown) {
                b->kernel_unknown =
                    strprintf("the installed kernels cannot be told: %s", kernels_unknown);
                if (!b->kernel_unknown)
                        return -ENOMEM;
        } else if (strv_length(b->kernels) == 1) {
                b->kernel = strdup(b->kernels[0]);
                b->kernel_source =
                    strprintf("the only installed kernel (/lib/modules/%s)", b->kernels[0]);
        } else if (d.entry && d.entry->version && strv_contains(b->kernels, d.entry->version)) {
                b->kernel = strdup(d.entry->version);
                b->kernel_source = strdup(d.how);
        } else if (strv_length(b->kernels) == 0 && running) {
                b->kernel = strdup(running);
                b->kernel_source = strdup("the running kernel (no /lib/modules/*/modules.dep "
                                          "found)");
        } else {
                _cleanup_free_ char *list = strv_join(b->kernels, ", ");

                b->kernel_unknown =
                    d.entry ? strprintf("%s boots image %s, which is none of the installed "
                                        "kernels (%s)",
                                        d.how, strna(d.entry->kernel), strna(list))
                            : strprintf("%zu kernels are installed (%s) and the boot loader's "
                                        "default cannot be read: %s",
                                        strv_length(b->kernels), strna(list),
                                        d.unknown ? d.unknown
                                                  : "no GRUB or systemd-boot configuration found");
                if (!b->kernel_unknown)
                        return -ENOMEM;
        }
        if ((b->kernel && !b->kernel_source) || (!b->kernel && !b->kernel_unknown))
                return -ENOMEM;

        /* The command line. */
        if (d.entry) {
                b->cmdline = TAKE_PTR(d.options);
                b->cmdline_source =
                    d.unset_var ? strprintf("%s:%u, %s; $%s is set nowhere nodeprep reads, so "
                                            "taken as empty",
                                            d.file, d.entry->line, d.how, d.unset_var)
                                : strprintf("%s:%u, %s", d.file, d.entry->line, d.how);
                if (!b->cmdline || !b->cmdline_source)
                        return -ENOMEM;
        } else {
                r = np_root_read_file(root, "/proc/cmdline", 64 * 1024, &proc, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r == -ENOENT && !root->host) {
                        /* a fixture tree without /proc: no command line */
                        b->cmdline = strdup("");
                        b->cmdline_source = strdup("no /proc/cmdline in the root: an empty "
                                                   "command line");
                } else if (r < 0) {
                        b->cmdline_unknown = np_probe_reason(root, "/proc/cmdline", r);
                        if (!b->cmdline_unknown)
                                return -ENOMEM;
                } else {
                        b->cmdline = strdup(strstrip(proc));
                        b->cmdline_source = strprintf(
                            "/proc/cmdline (the running boot's; %s)",
                            d.unknown ? d.unknown : "no GRUB or systemd-boot configuration found");
                }
                if (!b->cmdline_unknown && (!b->cmdline || !b->cmdline_source))
                        return -ENOMEM;
        }
        return read_kernel_config(root, b);
}
