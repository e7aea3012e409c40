/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SELinux: the kernel's mode now, and the mode the configuration selects at the next boot. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/kcmdline.h"
#include "probe/probe.h"
#include "probe/selinux-config.h"
#include "util/strv.h"

#define SELINUX_CONFIG "/etc/selinux/config"

/*
 * Where selinuxfs is mounted when it is not at /sys/fs/selinux: libselinux's init_selinuxmnt()
 * also tries the old /selinux and then any selinuxfs in /proc/mounts. *ret: the enforce file
 * there, or NULL. -errno (with *ret_path the file) when /proc/self/mounts exists but cannot be
 * read: where selinuxfs is is then unknown.
 */
static int other_enforce_path(const NpRoot *root, char **ret, const char **ret_path)
{
        static const char *const mounts_path = "/proc/self/mounts";
        _cleanup_free_ char *mounts = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        int r;

        *ret = NULL;
        *ret_path = mounts_path;
        if (np_root_exists(root, "/selinux/enforce") > 0)
                return (*ret = strdup("/selinux/enforce")) ? 0 : -ENOMEM;
        r = np_root_read_file(root, mounts_path, NP_READ_MAX_DEFAULT, &mounts, NULL);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0)
                return r;
        if (strv_split(mounts, "\n", &lines) < 0)
                return -ENOMEM;
        STRV_FOREACH (l, lines) {
                _cleanup_strv_free_ char **f = NULL;

                /* "selinuxfs /sys/fs/selinux selinuxfs rw,relatime 0 0": whole fields, however
                 * long (no fixed buffer that would shift the fields of a long device name);
                 * mount points with spaces (\040) are not where anyone mounts selinuxfs. */
                if (strv_split(*l, " \t", &f) < 0)
                        return -ENOMEM;
                if (strv_length(f) >= 3 && streq(f[2], "selinuxfs") && f[1][0] == '/')
                        return (*ret = strprintf("%s/enforce", streq(f[1], "/") ? "" : f[1]))
                                   ? 0
                                   : -ENOMEM;
        }
        return 0;
}

static int probe_runtime(const NpRoot *root, NpSelinuxFacts *s)
{
        _cleanup_free_ char *data = NULL, *other = NULL;
        const char *enforce = "/sys/fs/selinux/enforce";
        int r;

        r = np_root_read_file(root, enforce, 64, &data, NULL);
        if (r == -ENOENT && np_root_exists(root, "/sys/fs/selinux") > 0) {
                const char *mounts;
                int k = other_enforce_path(root, &other, &mounts);

                if (k == -ENOMEM)
                        return k;
                if (k < 0) {
                        s->runtime_unknown = np_probe_reason(root, mounts, k);
                        return s->runtime_unknown ? 0 : -ENOMEM;
                }
                if (other) {
                        enforce = other;
                        r = np_root_read_file(root, enforce, 64, &data, NULL);
                }
        }
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT) {
                /* No enforce file: either the LSM is not active (no /sys/fs/selinux at all) or it
                 * is active with no policy loaded (SELINUX=disabled on kernels >= 6.4, RHEL 9). */
                int dir = np_root_exists(root, "/sys/fs/selinux");

                s->runtime = NP_SELINUX_DISABLED;
                s->runtime_detail = strdup(dir > 0 ? "selinuxfs not mounted: no policy loaded"
                                                   : "no /sys/fs/selinux: SELinux not active "
                                                     "in this kernel");
                return s->runtime_detail ? 0 : -ENOMEM;
        }
        if (r < 0) {
                s->runtime_unknown = np_probe_reason(root, enforce, r);
                return s->runtime_unknown ? 0 : -ENOMEM;
        }
        /* The kernel writes "0" or "1" without a newline; libselinux sscanf()s an int. */
        if (streq(strstrip(data), "1"))
                s->runtime = NP_SELINUX_ENFORCING;
        else if (streq(strstrip(data), "0"))
                s->runtime = NP_SELINUX_PERMISSIVE;
        else {
                _cleanup_free_ char *shown = str_escape_printable(data, strlen(data), 32);

                s->runtime_unknown =
                    strprintf("%s holds \"%s\", not 0 or 1", enforce, strna(shown));
                return s->runtime_unknown ? 0 : -ENOMEM;
        }
        s->runtime_detail = strprintf("%s = %s", enforce, strstrip(data));
        return s->runtime_detail ? 0 : -ENOMEM;
}

static int probe_config(const NpRoot *root, NpSelinuxFacts *s)
{
        _cleanup_free_ char *data = NULL;
        NpSelinuxConfig c = {};
        size_t size;
        int r;

        r = np_root_read_file(root, SELINUX_CONFIG, NP_READ_MAX_DEFAULT, &data, &size);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                s->config_unknown = np_probe_reason(root, SELINUX_CONFIG, r);
                return s->config_unknown ? 0 : -ENOMEM;
        }
        s->config_present = true;
        r = np_selinux_config_parse(data, size, &c);
        if (r < 0)
                return r;
        /* A line longer than a 4 KiB page is cut where the page size says: for another root
         * (an image, a fixture) the page size of the machine that boots it is not known. */
        if (!root->host && np_selinux_config_has_long_line(data, size))
                for (size_t page = 4096; page <= 65536; page *= 4) {
                        _cleanup_(np_selinux_config_done) NpSelinuxConfig o = {};

                        r = np_selinux_config_parse_page(data, size, page, &o);
                        if (r < 0) {
                                np_selinux_config_done(&c);
                                return r;
                        }
                        if (o.set != c.set || (c.set && o.mode != c.mode)) {
                                np_selinux_config_done(&c);
                                s->config_unknown = strprintf(
                                    SELINUX_CONFIG " has a line longer than 4095 bytes: "
                                                   "libselinux reads it in page-size pieces, and "
                                                   "the mode it selects depends on the page size "
                                                   "of the machine that boots (4 KiB or 64 KiB)");
                                return s->config_unknown ? 0 : -ENOMEM;
                        }
                }
        s->config_set = c.set;
        s->config = c.mode;
        s->config_line = c.set ? c.line : c.ignored_line;
        if (c.set)
                s->config_value = TAKE_PTR(c.value);
        else
                s->config_value = TAKE_PTR(c.ignored_value);
        np_selinux_config_done(&c);
        return 0;
}

static int probe_cmdline(const NpBootFacts *b, NpSelinuxFacts *s)
{
        int r;

        if (b->cmdline_unknown) {
                s->cmdline_unknown = strdup(b->cmdline_unknown);
                return s->cmdline_unknown ? 0 : -ENOMEM;
        }
        r = np_selinux_cmdline_enforcing(b->cmdline, strlen(b->cmdline));
        if (r == -ENOMEM)
                return r;
        if (r == NP_SELINUX_CMDLINE_AMBIGUOUS) {
                s->cmdline_unknown = strprintf(
                    "the kernel command line's enforcing= reads differently in libselinux up to "
                    "3.9 (the first one, a word of its own) and in 3.10 and later (the last one; "
                    "any non-zero number enforces); nodeprep cannot tell which this host boots "
                    "with: leave a single enforcing=0 or 1");
                return s->cmdline_unknown ? 0 : -ENOMEM;
        }
        s->cmdline_enforcing = r;
        return 0;
}

/* "CONFIG_X=value" of the next kernel's configuration: the value, "" when "is not set" (absent),
 * NULL when the configuration was not read. */
static const char *kconfig(const NpBootFacts *b, const char *key)
{
        size_t n = strlen(key);

        if (!b->config)
                return NULL;
        STRV_FOREACH (l, b->config)
                if (strncmp(*l, key, n) == 0 && (*l)[n] == '=')
                        return *l + n + 1;
        return "";
}

static bool kconfig_y(const NpBootFacts *b, const char *key)
{
        return streq_ptr(kconfig(b, key), "y");
}

/* The LSM words that decide whether SELinux is active (the kernel's security/security.c and
 * security/selinux/hooks.c, apparmor's apparmor= too), "" when none. */
static char *lsm_words(const NpKcmdline *c)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return NULL;
        FOREACH_ARRAY (w, c->words, c->n_words)
                if (!w->init && w->value &&
                    (np_kcmdline_key_eq(w->key, "lsm") || np_kcmdline_key_eq(w->key, "security") ||
                     np_kcmdline_key_eq(w->key, "selinux") ||
                     np_kcmdline_key_eq(w->key, "apparmor")))
                        if (strv_consume(&l, np_kcmdline_word_text(w)) < 0)
                                return NULL;
        return strv_join(l, " ");
}

/* kstrtoul(, 0) as the kernel's __setup handlers use it: 1 true, 0 false, -1 not a number. */
static int kernel_ulong(const char *s)
{
        char *end;
        unsigned long v;

        if (isempty(s))
                return -1;
        errno = 0;
        v = strtoul(s, &end, 0);
        if (errno || (*end && !(*end == '\n' && end[1] == '\0')) || s[0] == '-' || s[0] == '+')
                return -1;
        return v != 0;
}

/*
 * Is the SELinux LSM active in the next kernel? 1, 0, or -1 with *ret_why the reason it is not
 * known. Linux 5.1+ (security/security.c ordered_lsm_init()): lsm= (the last one) replaces
 * CONFIG_LSM and makes security= ignored; security=X (the last one) disables the other legacy
 * major LSMs and adds X; the first enabled "exclusive" LSM in the order (SELinux, AppArmor,
 * Smack) wins; selinux=0 disables SELinux only with CONFIG_SECURITY_SELINUX_BOOTPARAM=y
 * (Debian's kernels do not set it; RHEL's do); apparmor=0 disables AppArmor.
 */
static int lsm_active(const NpBootFacts *b, const NpKcmdline *c, char **ret_why)
{
        const NpKcmdlineWord *lsm = np_kcmdline_last(c, "lsm"),
                             *sec = np_kcmdline_last(c, "security"),
                             *sel = np_kcmdline_last(c, "selinux"),
                             *aa = np_kcmdline_last(c, "apparmor");
        _cleanup_strv_free_ char **order = NULL;
        const char *cfg_lsm = kconfig(b, "CONFIG_LSM");

        if (!kconfig_y(b, "CONFIG_SECURITY_SELINUX")) {
                *ret_why =
                    strprintf("kernel %s is built without SELinux (%s)", b->kernel, b->config_path);
                return *ret_why ? 0 : -ENOMEM;
        }
        if (sel && kconfig_y(b, "CONFIG_SECURITY_SELINUX_BOOTPARAM") &&
            kernel_ulong(sel->value) == 0) {
                *ret_why = strprintf("selinux=%s on the next boot's command line (kernel %s "
                                     "honours it: CONFIG_SECURITY_SELINUX_BOOTPARAM=y)",
                                     sel->value, b->kernel);
                return *ret_why ? 0 : -ENOMEM;
        }
        if (isempty(cfg_lsm)) {
                /* before Linux 5.1: one major LSM, security= or CONFIG_DEFAULT_SECURITY_* */
                bool on = sec ? streq(sec->value, "selinux")
                              : kconfig_y(b, "CONFIG_DEFAULT_SECURITY_SELINUX");

                *ret_why = strprintf("%s (kernel %s has no CONFIG_LSM: one major LSM)",
                                     sec ? "security= on the command line"
                                         : "CONFIG_DEFAULT_SECURITY_* of the kernel",
                                     b->kernel);
                return *ret_why ? on : -ENOMEM;
        }
        if (strv_split(lsm ? lsm->value : cfg_lsm, ",\"", &order) < 0)
                return -ENOMEM;
        if (!lsm && sec && !strv_contains(order, sec->value) && strv_extend(&order, sec->value) < 0)
                return -ENOMEM;
        STRV_FOREACH (n, order) {
                bool enabled = false;

                if (streq(*n, "selinux")) {
                        if (!lsm && sec && !streq(sec->value, "selinux"))
                                continue; /* security=other disables SELinux */
                        *ret_why = strprintf("%s puts selinux first among the exclusive LSMs of "
                                             "kernel %s",
                                             lsm   ? "lsm= on the command line"
                                             : sec ? "security=selinux on the command line"
                                                   : "CONFIG_LSM",
                                             b->kernel);
                        return *ret_why ? 1 : -ENOMEM;
                }
                if (streq(*n, "apparmor"))
                        enabled =
                            kconfig_y(b, "CONFIG_SECURITY_APPARMOR") &&
                            !(aa && kernel_ulong(aa->value) == 0) &&
                            !(!aa &&
                              streq_ptr(kconfig(b, "CONFIG_SECURITY_APPARMOR_BOOTPARAM_VALUE"),
                                        "0"));
                else if (streq(*n, "smack"))
                        enabled = kconfig_y(b, "CONFIG_SECURITY_SMACK");
                if (enabled && !lsm && sec && !streq(sec->value, *n))
                        enabled = false; /* security=selinux disables the other majors */
                if (enabled) {
                        *ret_why = strprintf("%s comes before selinux in %s of kernel %s, and only "
                                             "one exclusive LSM runs",
                                             *n, lsm ? "lsm= on the command line" : "CONFIG_LSM",
                                             b->kernel);
                        return *ret_why ? 0 : -ENOMEM;
                }
        }
        *ret_why = strprintf("selinux is not in %s of kernel %s",
                             lsm ? "lsm= on the command line" : "CONFIG_LSM", b->kernel);
        return *ret_why ? 0 : -ENOMEM;
}

/* A kernel release at least major.minor? */
static bool kernel_at_least(const char *release, unsigned major, unsigned minor)
{
        unsigned a = 0, b = 0;

        if (sscanf(strempty(release), "%u.%u", &a, &b) != 2)
                return false;
        return a > major || (a == major && b >= minor);
}

/*
 * The mode after the next boot: the LSM (above), then selinux_init_load_policy() in libselinux's
 * src/load_policy.c (3.1-3.8 alike), which systemd's mac_selinux_setup() (src/core/selinux-setup.c)
 * calls: enforcing= (cmdline_enforcing) wins over the file; SELINUX=disabled asks for runtime
 * disable (security_disable()), which kernels without CONFIG_SECURITY_SELINUX_DISABLE (Linux 6.4
 * and later, RHEL 9, Debian 12's 6.1) refuse: libselinux then sets permissive, loads no policy and
 * unmounts selinuxfs, so nothing is enforced either way.
 */
static int probe_next(const NpRoot *root, const NpBootFacts *b, const char *running_kernel,
                      NpSelinuxFacts *s)
{
        _cleanup_(np_kcmdline_done) NpKcmdline next = {}, now = {};
        _cleanup_free_ char *why = NULL, *proc = NULL, *wn = NULL, *wp = NULL;
        int active, enforce, seconfig;
        bool same;
        int r;

        if (b->cmdline_unknown) {
                s->next_unknown = strprintf("the next boot's kernel command line is unknown: %s",
                                            b->cmdline_unknown);
                return s->next_unknown ? 0 : -ENOMEM;
        }
        r = np_kcmdline_parse(b->cmdline, strlen(b->cmdline), &next);
        if (r < 0)
                return r;
        if (b->config_unknown) {
                /* It exists and cannot be read: the running kernel is no stand-in for it. */
                s->next_lsm = -1;
                s->next_unknown = strprintf("cannot tell whether SELinux is active in the next "
                                            "boot: the kernel's build configuration cannot be "
                                            "read: %s",
                                            b->config_unknown);
                return s->next_unknown ? 0 : -ENOMEM;
        }
        if (b->config) {
                active = lsm_active(b, &next, &why);
                if (active < 0)
                        return active;
        } else {
                /* No build configuration: the running kernel tells, when the next boot runs the
                 * same kernel with the same LSM words on its command line. */
                r = np_root_read_file(root, "/proc/cmdline", 64 * 1024, &proc, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && !(r == -ENOENT && !root->host)) {
                        /* the running boot's LSM words are unknown, not empty (a fixture tree
                         * without /proc has none, as in np_probe_boot()) */
                        _cleanup_free_ char *reason = np_probe_reason(root, "/proc/cmdline", r);

                        s->next_lsm = -1;
                        s->next_unknown =
                            reason ? strprintf("cannot tell whether SELinux is active in the next "
                                               "boot: no /boot/config-%s to read, and the running "
                                               "boot's command line cannot be read: %s",
                                               strna(b->kernel), reason)
                                   : NULL;
                        return s->next_unknown ? 0 : -ENOMEM;
                }
                r = np_kcmdline_parse(r >= 0 ? proc : "", r >= 0 ? strlen(proc) : 0, &now);
                if (r < 0)
                        return r;
                wn = lsm_words(&next);
                wp = lsm_words(&now);
                if (!wn || !wp)
                        return -ENOMEM;
                same = b->kernel && streq_ptr(b->kernel, running_kernel) && streq(wn, wp);
                if (!same || s->runtime_unknown) {
                        s->next_lsm = -1;
                        s->next_unknown = strprintf(
                            "cannot tell whether SELinux is active in the next boot: no "
                            "/boot/config-%s to read, and %s%s",
                            strna(b->kernel),
                            s->runtime_unknown ? "the running kernel's state is unknown: " : "",
                            s->runtime_unknown ? s->runtime_unknown
                            : !b->kernel || !streq_ptr(b->kernel, running_kernel)
                                ? "it is not the running kernel"
                                : "its LSM options (lsm=, security=, selinux=, apparmor=) differ "
                                  "from the running boot's");
                        return s->next_unknown ? 0 : -ENOMEM;
                }
                active = !startswith(strempty(s->runtime_detail), "no /sys/fs/selinux");
                why = strprintf("the running kernel %s has SELinux %s, and the next boot runs it "
                                "with the same LSM options",
                                b->kernel, active ? "active" : "inactive");
                if (!why)
                        return -ENOMEM;
        }
        s->next_lsm = active;
        s->next_lsm_detail = TAKE_PTR(why);
        if (!active) {
                s->next_mode = NP_SELINUX_DISABLED;
                s->next_detail =
                    strprintf("SELinux is not active in the kernel: %s", s->next_lsm_detail);
                return s->next_detail ? 0 : -ENOMEM;
        }
        if (s->cmdline_unknown) {
                s->next_unknown = strdup(s->cmdline_unknown);
                return s->next_unknown ? 0 : -ENOMEM;
        }
        if (s->config_unknown) {
                s->next_unknown =
                    strprintf("cannot read /etc/selinux/config: %s", s->config_unknown);
                return s->next_unknown ? 0 : -ENOMEM;
        }
        seconfig = !s->config_set                       ? -2
                   : s->config == NP_SELINUX_ENFORCING  ? 1
                   : s->config == NP_SELINUX_PERMISSIVE ? 0
                                                        : -1;
        enforce = s->cmdline_enforcing >= 0 ? (s->cmdline_enforcing > 0)
                  : seconfig >= 0           ? seconfig
                                            : 0;
        if (seconfig == -1) {
                bool runtime_disable = b->config &&
                                       kconfig_y(b, "CONFIG_SECURITY_SELINUX_DISABLE") &&
                                       !kernel_at_least(b->kernel, 6, 4);

                s->next_mode = NP_SELINUX_DISABLED;
                s->next_detail = strprintf(
                    "SELINUX=disabled: %s",
                    runtime_disable ? "libselinux disables SELinux at boot (runtime disable)"
                    : b->config     ? "the kernel has no runtime disable (no "
                                      "CONFIG_SECURITY_SELINUX_DISABLE, always so from 6.4), so "
                                      "libselinux switches to permissive and loads no policy: "
                                      "nothing is enforced (selinux=0 would turn it off for real)"
                                    : "libselinux disables SELinux at runtime or, on kernels "
                                      "without runtime disable (6.4 and later, RHEL 9), loads no "
                                      "policy: nothing is enforced either way");
                return s->next_detail ? 0 : -ENOMEM;
        }
        if (!enforce && b->config && !kconfig_y(b, "CONFIG_SECURITY_SELINUX_DEVELOP")) {
                s->next_mode = NP_SELINUX_ENFORCING;
                s->next_detail = strprintf("kernel %s has no CONFIG_SECURITY_SELINUX_DEVELOP: it "
                                           "always enforces once a policy is loaded",
                                           b->kernel);
                return s->next_detail ? 0 : -ENOMEM;
        }
        s->next_mode = enforce ? NP_SELINUX_ENFORCING : NP_SELINUX_PERMISSIVE;
        if (s->cmdline_enforcing >= 0)
                s->next_detail = strprintf("the next boot's command line has enforcing=%d%s",
                                           s->cmdline_enforcing,
                                           seconfig >= 0 && (s->cmdline_enforcing > 0) != seconfig
                                               ? " (it overrides /etc/selinux/config)"
                                               : "");
        else
                s->next_detail =
                    strdup(seconfig >= 0       ? "/etc/selinux/config"
                           : s->config_present ? "no valid SELINUX= line: libselinux falls back to "
                                                 "permissive"
                                               : "no /etc/selinux/config: permissive");
        return s->next_detail ? 0 : -ENOMEM;
}

int np_probe_selinux(const NpRoot *root, NpFacts *f)
{
        int r;

        r = np_probe_boot(root, f);
        if (r < 0)
                return r;
        r = probe_runtime(root, &f->selinux);
        if (r < 0)
                return r;
        r = probe_config(root, &f->selinux);
        if (r < 0)
                return r;
        r = probe_cmdline(&f->boot, &f->selinux);
        if (r < 0)
                return r;
        /* The running kernel's release is an input (area.c area_inputs[]), read here and kept
         * nowhere in the SELinux facts, which the daemon moves between fact sets on their own. */
        return probe_next(root, &f->boot, f->system.kernel, &f->selinux);
}
