/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The next boot's parsers on real-world files (tests/fixtures/boot, tests/fixtures/modprobe,
 * sources in their SOURCES.md): GRUB's grub.cfg and grubenv (probe/bootloader.c, following
 * grub-mkconfig's output and GRUB's normal/menu.c), BLS entries and loader.conf, modprobe.d
 * (probe/modprobe-conf.c, libkmod's libkmod-config.c) and the kernel command line
 * (probe/kcmdline.c, the kernel's lib/cmdline.c next_arg() and libkmod's
 * kmod_config_parse_kcmdline()).
 */

#include <stdlib.h>
#include <string.h>

#include "probe/bootloader.h"
#include "probe/kcmdline.h"
#include "probe/modprobe-conf.h"
#include "test.h"
#include "util/strv.h"

static void grub_cfg(const char *rel, NpBootConfig *c)
{
        size_t size;
        _cleanup_free_ char *data = read_fixture(rel, &size);

        ASSERT_OK(np_grub_cfg_parse(data, size, c));
}

static char **grubenv(const char *rel)
{
        size_t size;
        _cleanup_free_ char *data = read_fixture(rel, &size);
        char **env = NULL;

        ASSERT_OK(np_grubenv_parse(data, size, &env));
        return env;
}

TEST(grub_debian12)
{
        _cleanup_(np_boot_config_done) NpBootConfig c = {};
        _cleanup_strv_free_ char **env = grubenv("boot/grubenv.debian12"),
                                 **saved = grubenv("boot/grubenv.debian12-saved");
        const NpBootEntry *e;

        grub_cfg("boot/grub.cfg.debian12", &c);
        ASSERT_NULL(c.unknown);
        ASSERT_TRUE(c.next_entry);
        ASSERT_TRUE(!c.blscfg);
        ASSERT_STREQ(c.default_value, "0"); /* set default="0" outside the next_entry branch */
        /* the simple entry, three in the submenu; the firmware entry has no linux line */
        ASSERT_EQ(c.n_entries, 4U);
        e = np_boot_config_find(&c, c.default_value);
        ASSERT_TRUE(e);
        ASSERT_STREQ(e->path, "0");
        ASSERT_STREQ(e->kernel, "/boot/vmlinuz-6.1.0-28-amd64");
        ASSERT_STREQ(e->version, "6.1.0-28-amd64");
        ASSERT_CONTAINS(e->options, "root=UUID=2d1c8a4e-7f1b-4c55-9a33-0b8e1f0e6b11 ro");
        ASSERT_CONTAINS(e->options, "quiet");
        ASSERT_STREQ(c.entries[2].path, "1>1");
        ASSERT_CONTAINS(c.entries[2].options, "single");

        /* An empty environment block: only the padding, no variable. */
        ASSERT_EQ(strv_length(env), 0U);
        /* saved_entry as grub-reboot/grub-set-default write it: "submenu id>entry id". */
        ASSERT_EQ(strv_length(saved), 1U);
        e = np_boot_config_find(&c, strchr(saved[0], '=') + 1);
        ASSERT_TRUE(e);
        ASSERT_STREQ(e->version, "6.1.0-18-amd64");
        ASSERT_CONTAINS(e->options, "module_blacklist=iscsi_tcp");
        /* by numeric path and by title */
        ASSERT_STREQ(np_boot_config_find(&c, "1>2")->version, "6.1.0-18-amd64");
        ASSERT_STREQ(np_boot_config_find(&c, "Debian GNU/Linux")->path, "0");
        ASSERT_NULL(np_boot_config_find(&c, "7"));
}

TEST(grub_rhel9_bls)
{
        _cleanup_(np_boot_config_done) NpBootConfig c = {};
        _cleanup_strv_free_ char **env = grubenv("boot/grubenv.rhel9");
        _cleanup_(np_boot_entry_done) NpBootEntry e = {}, old = {};
        _cleanup_free_ char *line = NULL, *unset = NULL, *line2 = NULL, *unset2 = NULL;
        _cleanup_free_ char *d1 = NULL, *d2 = NULL;
        size_t s1, s2;

        grub_cfg("boot/grub.cfg.rhel9", &c);
        ASSERT_NULL(c.unknown);
        ASSERT_TRUE(c.blscfg);
        ASSERT_TRUE(c.next_entry);
        ASSERT_STREQ(c.default_value, "${saved_entry}");
        ASSERT_EQ(c.n_entries, 0U);
        /* set kernelopts= inside "if [ -z ${kernelopts} ]" is a fallback, not a top-level var */
        STRV_FOREACH (v, c.vars)
                ASSERT_TRUE(!startswith(*v, "kernelopts="));

        ASSERT_EQ(strv_length(env), 5U);
        ASSERT_STREQ(env[0], "saved_entry=3a5e1c0c2d8f4b1a9e7d6c5b4a392817-5.14.0-427.13.1.el9_4."
                             "x86_64");

        d1 = read_fixture("boot/bls.rhel9-427.conf", &s1);
        ASSERT_OK(np_bls_entry_parse("3a5e1c0c2d8f4b1a9e7d6c5b4a392817-5.14.0-427.13.1.el9_4."
                                     "x86_64.conf",
                                     d1, s1, &e));
        ASSERT_STREQ(e.id, "3a5e1c0c2d8f4b1a9e7d6c5b4a392817-5.14.0-427.13.1.el9_4.x86_64");
        ASSERT_STREQ(e.version, "5.14.0-427.13.1.el9_4.x86_64");
        ASSERT_STREQ(e.options, "$kernelopts $tuned_params");
        ASSERT_EQ(e.line, 5U);
        /* $kernelopts from grubenv, $tuned_params from grub.cfg's "set tuned_params=" */
        ASSERT_OK(np_boot_expand(e.options, c.vars, env, &line, &unset));
        ASSERT_NULL(unset);
        ASSERT_CONTAINS(line, "root=/dev/mapper/rhel-root ro crashkernel=");
        ASSERT_CONTAINS(line, "rhgb quiet");
        /* without grubenv, kernelopts is unset: reported, not guessed */
        ASSERT_OK(np_boot_expand(e.options, c.vars, NULL, &line2, &unset2));
        ASSERT_STREQ(unset2, "kernelopts");

        d2 = read_fixture("boot/bls.rhel9-362.conf", &s2);
        ASSERT_OK(np_bls_entry_parse("old.conf", d2, s2, &old));
        ASSERT_CONTAINS(old.options, "selinux=0");
        /* blscfg sorts entries by version, newest first (rpmvercmp) */
        ASSERT_TRUE(np_boot_version_cmp(e.version, old.version) > 0);
        ASSERT_TRUE(np_boot_version_cmp("5.14.0-70.13.1", "5.14.0-427.13.1") < 0);
        ASSERT_EQ(np_boot_version_cmp("6.1.0-28-amd64", "6.1.0-28-amd64"), 0);
        ASSERT_TRUE(np_boot_version_cmp("6.1.0~rc1", "6.1.0") < 0);
}

TEST(systemd_boot)
{
        _cleanup_(np_boot_entry_done) NpBootEntry e = {};
        _cleanup_free_ char *conf = NULL, *def = NULL, *data = NULL;
        size_t size;

        conf = read_fixture("boot/loader.conf.systemd-boot", &size);
        ASSERT_OK(np_loader_conf_default(conf, size, &def));
        ASSERT_STREQ(def, "6a9857a393724b7a981ebb5b8495b9ea-*"); /* a commented default is not */

        data = read_fixture("boot/bls.systemd-boot.conf", &size);
        ASSERT_OK(np_bls_entry_parse("6a9857a393724b7a981ebb5b8495b9ea-6.1.0-28-amd64.conf", data,
                                     size, &e));
        ASSERT_STREQ(e.version, "6.1.0-28-amd64");
        ASSERT_STREQ(e.title, "Debian GNU/Linux 12 (bookworm)");
        /* two options lines are joined */
        ASSERT_STREQ(e.options, "root=UUID=2d1c8a4e-7f1b-4c55-9a33-0b8e1f0e6b11 ro quiet "
                                "security=selinux selinux=1 enforcing=0");
        /* an entry without a linux line is not a Linux entry */
        ASSERT_EQ(np_bls_entry_parse("x.conf", "title x\noptions a\n", 18, &(NpBootEntry){}),
                  -EINVAL);
}

TEST(grub_odd)
{
        _cleanup_(np_boot_config_done) NpBootConfig a = {}, b = {}, c = {};
        const char *unbalanced = "menuentry 'x {\n linux /vmlinuz-1 ro\n}\n";
        const char *open = "menuentry 'x' {\n linux /vmlinuz-1 ro\n";
        const char *vars = "set timeout=5\nset extra=\"audit=1 selinux=0\"\n"
                           "menuentry 'x' --id=x {\n linux /vmlinuz-1 ro $extra\n}\n";
        _cleanup_free_ char *line = NULL, *unset = NULL;

        ASSERT_OK(np_grub_cfg_parse(unbalanced, strlen(unbalanced), &a));
        ASSERT_TRUE(a.unknown);
        ASSERT_OK(np_grub_cfg_parse(open, strlen(open), &b));
        ASSERT_CONTAINS(b.unknown, "ends inside a menu entry");
        ASSERT_OK(np_grub_cfg_parse(vars, strlen(vars), &c));
        ASSERT_NULL(c.unknown);
        ASSERT_STREQ(c.entries[0].id, "x");
        ASSERT_NULL(c.default_value); /* no "set default": GRUB boots entry 0 */
        ASSERT_STREQ(np_boot_config_find(&c, NULL)->id, "x");
        ASSERT_OK(np_boot_expand(c.entries[0].options, c.vars, NULL, &line, &unset));
        ASSERT_STREQ(line, "ro audit=1 selinux=0");
        ASSERT_NULL(unset);
}

static void modprobe(const char *rel, NpModprobeConf *c)
{
        char file[256];
        size_t size;
        _cleanup_free_ char *data = read_fixture(rel, &size);

        snprintf(file, sizeof(file), "/etc/modprobe.d/%s", strrchr(rel, '/') + 1);
        ASSERT_OK(np_modprobe_conf_parse(file, data, size, false, c));
}

static const NpModprobeDirective *find(const NpModprobeConf *c, NpModprobeKind k,
                                       const char *module)
{
        FOREACH_ARRAY (d, c->directives, c->n_directives)
                if (d->kind == k && streq(d->module, module))
                        return d;
        return NULL;
}

TEST(modprobe_cis)
{
        _cleanup_(np_modprobe_conf_done) NpModprobeConf c = {};
        const NpModprobeDirective *d;

        modprobe("modprobe/cis.conf", &c);
        ASSERT_EQ(c.n_directives, 8U);
        d = find(&c, NP_MODPROBE_INSTALL, "usb_storage"); /* '-' folded as libkmod does */
        ASSERT_TRUE(d);
        ASSERT_STREQ(d->arg, "/bin/true");
        ASSERT_STREQ(d->file, "/etc/modprobe.d/cis.conf");
        ASSERT_EQ(d->line, 7U);
        ASSERT_EQ(np_install_command_effect(d->arg, "usb_storage"), NP_INSTALL_NOTHING);
        d = find(&c, NP_MODPROBE_INSTALL, "cramfs");
        ASSERT_EQ(np_install_command_effect(d->arg, "cramfs"), NP_INSTALL_FAILS);
        ASSERT_TRUE(find(&c, NP_MODPROBE_BLACKLIST, "dccp"));
}

TEST(modprobe_debian12)
{
        _cleanup_(np_modprobe_conf_done) NpModprobeConf c = {};
        const NpModprobeDirective *d;

        modprobe("modprobe/debian12.conf", &c);
        d = find(&c, NP_MODPROBE_ALIAS, "net_pf_10");
        ASSERT_TRUE(d);
        ASSERT_STREQ(d->arg, "off");
        ASSERT_TRUE(find(&c, NP_MODPROBE_BLACKLIST, "evbug"));
        d = find(&c, NP_MODPROBE_SOFTDEP, "uhci_hcd");
        ASSERT_TRUE(d);
        ASSERT_EQ(strv_length(d->pre), 1U);
        ASSERT_STREQ(d->pre[0], "ehci_hcd");
        ASSERT_EQ(strv_length(d->post), 0U);
        /* a backslash continues the line; the directive is numbered by its first line */
        d = find(&c, NP_MODPROBE_OPTIONS, "iscsi_tcp");
        ASSERT_TRUE(d);
        ASSERT_CONTAINS(d->arg, "max_lun=1024");
        ASSERT_EQ(d->line, 13U);
        d = find(&c, NP_MODPROBE_INSTALL, "iscsi_tcp");
        ASSERT_TRUE(d);
        ASSERT_EQ(np_install_command_effect(d->arg, "iscsi_tcp"), NP_INSTALL_INSERTS);
        ASSERT_TRUE(find(&c, NP_MODPROBE_REMOVE, "iscsi_tcp"));
}

TEST(modprobe_rhel9)
{
        _cleanup_(np_modprobe_conf_done) NpModprobeConf c = {};
        const NpModprobeDirective *d;

        modprobe("modprobe/rhel9.conf", &c);
        d = find(&c, NP_MODPROBE_SOFTDEP, "nf_conntrack");
        ASSERT_TRUE(d);
        ASSERT_STREQ(d->pre[0], "nf_conntrack_ipv4");
        ASSERT_STREQ(d->post[0], "nf_nat");
        d = find(&c, NP_MODPROBE_ALIAS, "scsi_hostadapter*");
        ASSERT_TRUE(d);
        ASSERT_STREQ(d->arg, "megaraid_sas");
        ASSERT_EQ(np_install_command_effect("/bin/false", "bluetooth"), NP_INSTALL_FAILS);
        ASSERT_EQ(np_install_command_effect("/bin/true # CIS 1.1.1.1", "x"), NP_INSTALL_NOTHING);
        ASSERT_EQ(np_install_command_effect("exit 1", "x"), NP_INSTALL_FAILS);
        ASSERT_EQ(np_install_command_effect("/usr/local/sbin/load-x", "x"), NP_INSTALL_UNKNOWN);
        ASSERT_EQ(np_install_command_effect("/sbin/modprobe --ignore-install y", "x"),
                  NP_INSTALL_UNKNOWN);
}

TEST(kcmdline)
{
        _cleanup_(np_kcmdline_done) NpKcmdline c = {};
        _cleanup_strv_free_ char **ml = NULL;
        const char *line = "BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=2d1c ro quiet "
                           "modprobe.blacklist=usb-storage,cramfs iscsi_tcp.max_lun=512 "
                           "module_blacklist=floppy module_blacklist=dccp,sctp "
                           "\"dyndbg=file x +p\" modules_load=iscsi_tcp modules-load=dm_multipath "
                           "selinux=0 -- enforcing=1 modules_load=not_me";
        const NpKcmdlineWord *w;

        ASSERT_OK(np_kcmdline_parse(line, strlen(line), &c));
        /* module_blacklist= is a charp: the last one wins */
        w = np_kcmdline_last(&c, "module_blacklist");
        ASSERT_STREQ(w->value, "dccp,sctp");
        /* quotes removed as next_arg() does */
        ASSERT_STREQ(np_kcmdline_last(&c, "dyndbg")->value, "file x +p");
        /* after "--" the words are init's, not the kernel's */
        ASSERT_STREQ(np_kcmdline_last(&c, "selinux")->value, "0");
        w = np_kcmdline_last(&c, "enforcing");
        ASSERT_TRUE(!w || w->init);
        /* systemd-modules-load: modules_load= and modules-load= alike, kernel words only */
        ASSERT_OK(np_kcmdline_values(&c, "modules_load", false, &ml));
        ASSERT_EQ(strv_length(ml), 2U);
        ASSERT_STREQ(ml[0], "iscsi_tcp");
        ASSERT_STREQ(ml[1], "dm_multipath");
        /* libkmod: modprobe.blacklist= names as written, module.param options folded */
        ASSERT_TRUE(strv_contains(c.kmod_blacklist, "usb-storage") ||
                    strv_contains(c.kmod_blacklist, "usb_storage"));
        ASSERT_TRUE(strv_contains(c.kmod_blacklist, "cramfs"));
        ASSERT_EQ(c.n_kmod_options, 1U);
        ASSERT_STREQ(c.kmod_options[0].module, "iscsi_tcp");
        ASSERT_STREQ(c.kmod_options[0].param, "max_lun=512");
        ASSERT_TRUE(np_kcmdline_key_eq("modules-load", "modules_load"));
}

/* next_arg() keeps looking for '=' while equals is 0: a word that begins with '=' splits at
 * its second one, and a quote opened inside a word keeps the spaces up to its close. */
TEST(kcmdline_equals_first)
{
        _cleanup_(np_kcmdline_done) NpKcmdline c = {};
        const char *line = "=a=b =\" \"e=f =x";

        ASSERT_OK(np_kcmdline_parse(line, strlen(line), &c));
        ASSERT_EQ(c.n_words, 3U);
        ASSERT_STREQ(c.words[0].key, "=a");
        ASSERT_STREQ(c.words[0].value, "b");
        ASSERT_STREQ(c.words[1].key, "=\" \"e");
        ASSERT_STREQ(c.words[1].value, "f");
        ASSERT_STREQ(c.words[2].key, "=x");
        ASSERT_NULL(c.words[2].value);
}

static const TestCase tests[] = {
        T(grub_debian12),  T(grub_rhel9_bls), T(systemd_boot),
        T(grub_odd),       T(modprobe_cis),   T(modprobe_debian12),
        T(modprobe_rhel9), T(kcmdline),       T(kcmdline_equals_first),
};
RUN_TESTS(tests)
