/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every host-file check on hand-made facts: a pass, a fail, an unknown and (where it applies) a
 * skip. */

#include "check/check.h"
#include "test.h"
#include "util/strv.h"

static NpProfile profile;

/* A check definition as a profile would give it. */
static NpCheckDef def(const NpCheckType *t, const char *instance)
{
        NpCheckDef d = {
                .severity = NP_SEVERITY_REQUIRED,
                .instance = instance ? strdup(instance) : NULL,
                .title = strdup(t->default_title),
        };

        ASSERT_OK(np_check_def_init(&d, t));
        d.id = instance ? strprintf("%s:%s", t->name, instance) : strdup(t->name);
        ASSERT_TRUE(d.id && d.title);
        return d;
}

/* A [Check] parameter, as a profile line would set it. */
static void set(NpCheckDef *d, const char *key, const char *value)
{
        _cleanup_free_ char *error = NULL;

        ASSERT_OK(np_check_def_set_param(d, key, value, &error));
}

static void def_done(NpCheckDef *d)
{
        np_check_def_done(d);
}

static NpResult run_def(const NpCheckDef *d, const NpFacts *f)
{
        NpCheckContext ctx = { .facts = f, .profile = &profile, .settings = &profile.settings };
        NpResult r;

        ASSERT_OK(np_check_run(&ctx, d, &r));
        return r;
}

static NpResult run(const NpCheckType *t, const char *instance, const NpFacts *f)
{
        NpCheckDef d = def(t, instance);
        NpResult r = run_def(&d, f);

        def_done(&d);
        return r;
}

#define ASSERT_STATUS(res, s)                                                                      \
        do {                                                                                       \
                NpResult _r_ = (res);                                                              \
                if (_r_.status != (s)) {                                                           \
                        fprintf(stderr, "%s:%d: status %s, expected %s: %s / %s\n", __FILE__,      \
                                __LINE__, np_status_to_string(_r_.status), np_status_to_string(s), \
                                strna(_r_.observed), strna(_r_.message));                          \
                        abort();                                                                   \
                }                                                                                  \
                np_result_done(&_r_);                                                              \
        } while (0)

static NpFacts *facts(void)
{
        NpFacts *f = np_facts_new();

        ASSERT_TRUE(f);
        f->system.distro = NP_DISTRO_DEBIAN;
        f->system.kernel = strdup("6.1.0-28-amd64");
        return f;
}

TEST(selinux_runtime)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpResult r;

        f->selinux.runtime = NP_SELINUX_PERMISSIVE;
        ASSERT_STATUS(run(&np_check_selinux_runtime, NULL, f), NP_STATUS_PASS);
        f->selinux.runtime = NP_SELINUX_DISABLED;
        ASSERT_STATUS(run(&np_check_selinux_runtime, NULL, f), NP_STATUS_PASS);
        f->selinux.runtime = NP_SELINUX_ENFORCING;
        r = run(&np_check_selinux_runtime, NULL, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_STREQ(r.remedy, "setenforce 0");
        np_result_done(&r);
        f->selinux.runtime_unknown = strdup("/sys/fs/selinux/enforce: Permission denied");
        r = run(&np_check_selinux_runtime, NULL, f);
        ASSERT_EQ(r.status, NP_STATUS_UNKNOWN);
        ASSERT_CONTAINS(r.message, "Permission denied");
        ASSERT_NULL(r.remedy);
        np_result_done(&r);
}

TEST(selinux_config)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpResult r;

        /* The check maps the probe's next-boot model (lib/probe/selinux.c). */
        f->selinux.next_mode = NP_SELINUX_DISABLED;
        f->selinux.next_detail = strdup("SELinux is not active in the kernel: CONFIG_LSM");
        ASSERT_STATUS(run(&np_check_selinux_config, NULL, f), NP_STATUS_PASS);

        f->selinux.config_present = true;
        f->selinux.config_set = true;
        f->selinux.config = NP_SELINUX_ENFORCING;
        f->selinux.config_value = strdup("enforcing");
        f->selinux.config_line = 22;
        f->selinux.next_mode = NP_SELINUX_ENFORCING;
        r = run(&np_check_selinux_config, NULL, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.observed, "/etc/selinux/config:22");
        ASSERT_CONTAINS(r.remedy, "SELINUX=permissive");
        np_result_done(&r);

        /* enforcing=1 on the next command line: the remedy is the boot loader's. */
        f->selinux.config = NP_SELINUX_PERMISSIVE;
        f->selinux.cmdline_enforcing = 1;
        r = run(&np_check_selinux_config, NULL, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.remedy, "enforcing=1");
        np_result_done(&r);

        /* SELINUX=enforcing with enforcing=0: permissive after the boot. */
        f->selinux.config = NP_SELINUX_ENFORCING;
        f->selinux.cmdline_enforcing = 0;
        f->selinux.next_mode = NP_SELINUX_PERMISSIVE;
        ASSERT_STATUS(run(&np_check_selinux_config, NULL, f), NP_STATUS_PASS);

        f->selinux.next_unknown = strdup("no /boot/config-6.1.0-28-amd64");
        r = run(&np_check_selinux_config, NULL, f);
        ASSERT_EQ(r.status, NP_STATUS_UNKNOWN);
        ASSERT_CONTAINS(r.message, "no /boot/config");
        np_result_done(&r);

        f->selinux.config_unknown = strdup("/etc/selinux/config: Permission denied");
        ASSERT_STATUS(run(&np_check_selinux_config, NULL, f), NP_STATUS_UNKNOWN);
}

TEST(iscsi_installed)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpResult r;

        r = run(&np_check_iscsi_installed, NULL, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_STREQ(r.remedy, "apt-get install -y open-iscsi");
        np_result_done(&r);
        f->system.distro = NP_DISTRO_RHEL;
        r = run(&np_check_iscsi_installed, NULL, f);
        ASSERT_STREQ(r.remedy, "dnf install -y iscsi-initiator-utils");
        np_result_done(&r);
        f->system.distro = NP_DISTRO_SUSE;
        r = run(&np_check_iscsi_installed, NULL, f);
        ASSERT_STREQ(r.remedy, "zypper install -y open-iscsi");
        np_result_done(&r);

        /* iscsiadm alone is not enough: the iscsid unit must exist too. */
        f->iscsi.iscsiadm_path = strdup("/usr/sbin/iscsiadm");
        ASSERT_STATUS(run(&np_check_iscsi_installed, NULL, f), NP_STATUS_FAIL);
        ASSERT_OK(strv_extend(&f->iscsi.unit_files, "/lib/systemd/system/iscsid.socket"));
        ASSERT_STATUS(run(&np_check_iscsi_installed, NULL, f), NP_STATUS_PASS);
}

static void conf_set(NpFacts *f, const char *key, const char *value, unsigned line)
{
        NpIscsiRecord *rec = &f->iscsi.conf;

        rec->settings = reallocarray(rec->settings, rec->n_settings + 1, sizeof(NpKeyValue));
        ASSERT_TRUE(rec->settings);
        rec->settings[rec->n_settings++] =
            (NpKeyValue){ .key = strdup(key), .value = strdup(value), .line = line };
}

TEST(iscsi_conf)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpCheckDef startup = def(&np_check_iscsi_conf, "node.startup");
        NpCheckDef mrdsl = def(&np_check_iscsi_conf, "node.conn[0].iscsi.MaxRecvDataSegmentLength");
        NpResult r;

        set(&startup, "Expect", "manual");
        set(&mrdsl, "Min", "163840");

        /* No iscsid.conf: fail (the shipped file decides, and RHEL ships automatic). */
        ASSERT_STATUS(run_def(&startup, f), NP_STATUS_FAIL);

        f->iscsi.conf_present = true;
        /* Absent from the file: iscsid's defaults (manual, 262144). */
        r = run_def(&startup, f);
        ASSERT_EQ(r.status, NP_STATUS_PASS);
        ASSERT_CONTAINS(r.observed, "default");
        np_result_done(&r);
        ASSERT_STATUS(run_def(&mrdsl, f), NP_STATUS_PASS);

        conf_set(f, "node.startup", "automatic", 48);
        conf_set(f, "node.conn[0].iscsi.MaxRecvDataSegmentLength", "32768", 260);
        r = run_def(&startup, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_STREQ(r.observed, "automatic (/etc/iscsi/iscsid.conf:48)");
        ASSERT_STREQ(r.expected, "node.startup = manual");
        ASSERT_CONTAINS(r.remedy, "line 48");
        np_result_done(&r);
        r = run_def(&mrdsl, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.remedy, "node.conn[0].iscsi.MaxRecvDataSegmentLength = 163840");
        np_result_done(&r);

        /* As recommended, the failure is a warning. */
        mrdsl.severity = NP_SEVERITY_RECOMMENDED;
        ASSERT_STATUS(run_def(&mrdsl, f), NP_STATUS_WARN);
        mrdsl.severity = NP_SEVERITY_REQUIRED;

        /* iscsid's number: 0x28000 reads as 0, out of range, so 262144 is used. */
        free(f->iscsi.conf.settings[1].value);
        f->iscsi.conf.settings[1].value = strdup("0x28000");
        r = run_def(&mrdsl, f);
        ASSERT_EQ(r.status, NP_STATUS_PASS);
        ASSERT_CONTAINS(r.observed, "iscsid uses 262144");
        np_result_done(&r);
        /* 163843 is rounded down to 163840: still enough. 163839 -> 163836: not. */
        free(f->iscsi.conf.settings[1].value);
        f->iscsi.conf.settings[1].value = strdup("163843");
        ASSERT_STATUS(run_def(&mrdsl, f), NP_STATUS_PASS);
        free(f->iscsi.conf.settings[1].value);
        f->iscsi.conf.settings[1].value = strdup("163839");
        ASSERT_STATUS(run_def(&mrdsl, f), NP_STATUS_FAIL);

        free(f->iscsi.conf.settings[0].value);
        f->iscsi.conf.settings[0].value = strdup("manual");
        ASSERT_STATUS(run_def(&startup, f), NP_STATUS_PASS);

        /* New records copy node.conn[0].startup as well, and --loginall=automatic takes a
         * record when either key says automatic: node.startup = manual alone is not enough. */
        conf_set(f, "node.conn[0].startup", "automatic", 52);
        r = run_def(&startup, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_STREQ(r.observed, "manual (/etc/iscsi/iscsid.conf:48), but node.conn[0].startup = "
                                 "automatic (/etc/iscsi/iscsid.conf:52)");
        ASSERT_CONTAINS(r.remedy, "\"node.conn[0].startup = manual\" on line 52");
        np_result_done(&r);
        /* Both automatic: one remedy names both lines. */
        free(f->iscsi.conf.settings[0].value);
        f->iscsi.conf.settings[0].value = strdup("automatic");
        r = run_def(&startup, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.remedy, "set \"node.startup = manual\" on line 48 and "
                                  "\"node.conn[0].startup = manual\" on line 52");
        np_result_done(&r);
        free(f->iscsi.conf.settings[0].value);
        f->iscsi.conf.settings[0].value = strdup("manual");
        free(f->iscsi.conf.settings[2].value);
        f->iscsi.conf.settings[2].value = strdup("manual");
        ASSERT_STATUS(run_def(&startup, f), NP_STATUS_PASS);

        f->iscsi.conf_unknown = strdup("/etc/iscsi/iscsid.conf: Permission denied");
        ASSERT_STATUS(run_def(&startup, f), NP_STATUS_UNKNOWN);
        def_done(&startup);
        def_done(&mrdsl);
}

static NpIscsiNode *add_node(NpFacts *f, const char *startup, const char *conn_startup)
{
        NpIscsiFacts *i = &f->iscsi;
        NpIscsiNode *n;

        i->nodes = reallocarray(i->nodes, i->n_nodes + 1, sizeof(NpIscsiNode));
        ASSERT_TRUE(i->nodes);
        n = &i->nodes[i->n_nodes++];
        *n = (NpIscsiNode){
                .path = strdup("/etc/iscsi/nodes/iqn.2003-01.org.example:t1/10.0.0.1,3260,1/"
                               "default"),
                .target = strdup("iqn.2003-01.org.example:t1"),
                .portal = strdup("10.0.0.1,3260,1"),
        };
        n->record.settings = calloc(2, sizeof(NpKeyValue));
        n->record.settings[0] =
            (NpKeyValue){ .key = strdup("node.startup"), .value = strdup(startup) };
        n->record.settings[1] =
            (NpKeyValue){ .key = strdup("node.conn[0].startup"), .value = strdup(conn_startup) };
        n->record.n_settings = 2;
        return n;
}

TEST(iscsi_node_records)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpCheckDef checks[2] = { def(&np_check_iscsi_conf, "node.startup"),
                                 def(&np_check_iscsi_node_records, NULL) };
        NpResult r;

        set(&checks[0], "Expect", "manual");
        checks[1].severity = NP_SEVERITY_RECOMMENDED;
        profile.checks = checks;
        profile.n_checks = 2;

        r = run_def(&checks[1], f);
        ASSERT_EQ(r.status, NP_STATUS_PASS);
        ASSERT_STREQ(r.observed, "no discovered targets");
        np_result_done(&r);

        add_node(f, "manual", "manual");
        ASSERT_STATUS(run_def(&checks[1], f), NP_STATUS_PASS);

        /* --loginall=automatic logs in when either startup key says automatic. */
        free(f->iscsi.nodes[0].record.settings[1].value);
        f->iscsi.nodes[0].record.settings[1].value = strdup("automatic");
        r = run_def(&checks[1], f);
        ASSERT_EQ(r.status, NP_STATUS_WARN);
        ASSERT_CONTAINS(r.observed, "node.conn[0].startup = automatic");
        ASSERT_CONTAINS(r.remedy, "iscsiadm -m node -T iqn.2003-01.org.example:t1 -p "
                                  "10.0.0.1:3260 -o update -n node.conn[0].startup -v manual");
        np_result_done(&r);

        add_node(f, "automatic", "manual");
        r = run_def(&checks[1], f);
        ASSERT_CONTAINS(r.observed, "2 of 2 record(s) disagree");
        np_result_done(&r);

        f->iscsi.nodes[1].unknown = strdup("/etc/iscsi/nodes/...: Permission denied");
        ASSERT_STATUS(run_def(&checks[1], f), NP_STATUS_UNKNOWN);

        /* Nothing to compare with: skip. */
        profile.n_checks = 0;
        ASSERT_STATUS(run_def(&checks[1], f), NP_STATUS_SKIP);
        profile.checks = NULL;
        def_done(&checks[0]);
        def_done(&checks[1]);
}

static NpModuleFacts *module(NpFacts *f, NpModuleState state)
{
        NpModuleFacts *m = np_facts_add_module(f, "iscsi_tcp");

        ASSERT_TRUE(m);
        m->state = state;
        free(m->canonical);
        m->canonical = strdup("iscsi_tcp");
        return m;
}

TEST(kmod)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpModuleFacts *m;
        NpResult r;

        ASSERT_STATUS(run(&np_check_kmod_loaded, "iscsi_tcp", f), NP_STATUS_UNKNOWN);

        m = module(f, NP_MODULE_LOADED);
        ASSERT_STATUS(run(&np_check_kmod_loaded, "iscsi_tcp", f), NP_STATUS_PASS);
        m->state = NP_MODULE_BUILTIN;
        ASSERT_STATUS(run(&np_check_kmod_loaded, "iscsi_tcp", f), NP_STATUS_PASS);
        /* Built into the next boot's kernel counts as persistent. */
        m->next_state = NP_MODULE_BUILTIN;
        m->next_detail = strdup("built into kernel 6.1.0-28-amd64");
        ASSERT_STATUS(run(&np_check_kmod_persistent, "iscsi_tcp", f), NP_STATUS_PASS);
        m->next_state = NP_MODULE_AVAILABLE;

        m->state = NP_MODULE_AVAILABLE;
        r = run(&np_check_kmod_loaded, "iscsi_tcp", f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_STREQ(r.remedy, "modprobe iscsi_tcp");
        np_result_done(&r);
        m->state = NP_MODULE_MISSING;
        ASSERT_STATUS(run(&np_check_kmod_loaded, "iscsi_tcp", f), NP_STATUS_FAIL);
        m->unknown = strdup("cannot tell whether iscsi_tcp is built in");
        ASSERT_STATUS(run(&np_check_kmod_loaded, "iscsi_tcp", f), NP_STATUS_UNKNOWN);
        /* The next kernel unknown (installed kernels disagree): unknown, not fail. */
        m->next_unknown = strdup("the installed kernels disagree");
        m->persisted_in = calloc(1, sizeof(char *));
        ASSERT_STATUS(run(&np_check_kmod_persistent, "iscsi_tcp", f), NP_STATUS_UNKNOWN);
        m->persisted_in = strv_free(m->persisted_in);
        m->next_unknown = mfree(m->next_unknown);
        m->unknown = mfree(m->unknown);

        /* Persistence */
        m->state = NP_MODULE_LOADED;
        m->persisted_in = calloc(1, sizeof(char *));
        r = run(&np_check_kmod_persistent, "iscsi_tcp", f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_STREQ(r.remedy, "echo iscsi_tcp > /etc/modules-load.d/iscsi_tcp.conf");
        np_result_done(&r);

        ASSERT_OK(strv_extend(&m->not_applied,
                              "/etc/modules:3: \"iscsi_tcp # iomesh\": systemd-modules-load takes "
                              "the whole line"));
        r = run(&np_check_kmod_persistent, "iscsi_tcp", f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.message, "whole line");
        np_result_done(&r);

        ASSERT_OK(strv_extend(&m->persisted_in, "/etc/modules-load.d/iscsi_tcp.conf:1"));
        ASSERT_STATUS(run(&np_check_kmod_persistent, "iscsi_tcp", f), NP_STATUS_PASS);

        /* Listed but prevented: blacklisted, or an install command replaces the load. */
        m->prevented = strdup("/etc/modprobe.d/cis.conf:3: install iscsi_tcp /bin/true: libkmod "
                              "runs this command instead of inserting iscsi_tcp");
        r = run(&np_check_kmod_persistent, "iscsi_tcp", f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.message, "cis.conf:3");
        np_result_done(&r);
        m->prevented = mfree(m->prevented);
        m->prevented_unknown = strdup("install iscsi_tcp /usr/local/bin/x");
        ASSERT_STATUS(run(&np_check_kmod_persistent, "iscsi_tcp", f), NP_STATUS_UNKNOWN);
        m->prevented_unknown = mfree(m->prevented_unknown);
        /* Not installed for the next kernel: listed means nothing. */
        m->next_state = NP_MODULE_MISSING;
        m->next_detail = mfree(m->next_detail);
        m->next_detail = strdup("neither built into kernel 6.12.9 nor in its modules.dep");
        ASSERT_STATUS(run(&np_check_kmod_persistent, "iscsi_tcp", f), NP_STATUS_FAIL);
        m->next_state = NP_MODULE_AVAILABLE;

        m->persist_unknown = strdup("cannot list /etc/modules-load.d: Permission denied");
        ASSERT_STATUS(run(&np_check_kmod_persistent, "iscsi_tcp", f), NP_STATUS_UNKNOWN);
}

static void unit(NpFacts *f, const char *name, const char *load, const char *active,
                 const char *file_state)
{
        NpUnitFacts *u = np_facts_add_unit(f, name);

        ASSERT_TRUE(u);
        free(u->load_state);
        free(u->active_state);
        free(u->unit_file_state);
        free(u->sub_state);
        u->load_state = strdup(load);
        u->active_state = strdup(active);
        u->sub_state = strdup("dead");
        u->unit_file_state = strdup(file_state);
}

TEST(units)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpResult r;

        /* Not probed: unknown. */
        ASSERT_STATUS(run(&np_check_unit_enabled, "iscsid", f), NP_STATUS_UNKNOWN);

        unit(f, "iscsid.service", "not-found", "inactive", "");
        unit(f, "iscsid.socket", "not-found", "inactive", "");
        r = run(&np_check_unit_enabled, "iscsid", f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.message, "none of");
        np_result_done(&r);

        unit(f, "iscsid.service", "loaded", "inactive", "disabled");
        unit(f, "iscsid.socket", "loaded", "inactive", "disabled");
        r = run(&np_check_unit_enabled, "iscsid", f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        /* Prefer the socket where it exists (Debian's iscsid is socket-activated). */
        ASSERT_STREQ(r.remedy, "systemctl enable --now iscsid.socket");
        np_result_done(&r);
        ASSERT_STATUS(run(&np_check_unit_active, "iscsid", f), NP_STATUS_FAIL);

        /* Either unit counts. */
        unit(f, "iscsid.socket", "loaded", "active", "enabled");
        ASSERT_STATUS(run(&np_check_unit_enabled, "iscsid", f), NP_STATUS_PASS);
        ASSERT_STATUS(run(&np_check_unit_active, "iscsid", f), NP_STATUS_PASS);
        /* static is not enabled. */
        unit(f, "iscsid.socket", "loaded", "active", "static");
        ASSERT_STATUS(run(&np_check_unit_enabled, "iscsid", f), NP_STATUS_FAIL);
        /* enabled-runtime lives in /run: gone after a reboot. */
        unit(f, "iscsid.socket", "loaded", "active", "enabled-runtime");
        ASSERT_STATUS(run(&np_check_unit_enabled, "iscsid", f), NP_STATUS_FAIL);
        unit(f, "iscsid.socket", "loaded", "active", "enabled");

        /* A masked service: its enabled, listening socket cannot start it. */
        unit(f, "iscsid.service", "masked", "inactive", "masked");
        r = run(&np_check_unit_enabled, "iscsid", f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.message, "iscsid.service is masked");
        ASSERT_STREQ(r.remedy, "systemctl unmask iscsid.service");
        np_result_done(&r);
        ASSERT_STATUS(run(&np_check_unit_active, "iscsid", f), NP_STATUS_FAIL);
        /* A failed service behind a listening socket is not running. */
        unit(f, "iscsid.service", "loaded", "failed", "disabled");
        ASSERT_STATUS(run(&np_check_unit_enabled, "iscsid", f), NP_STATUS_PASS);
        r = run(&np_check_unit_active, "iscsid", f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.message, "iscsid.service has failed");
        np_result_done(&r);
        /* Reloading is running. */
        unit(f, "iscsid.service", "loaded", "reloading", "enabled");
        ASSERT_STATUS(run(&np_check_unit_active, "iscsid", f), NP_STATUS_PASS);
        unit(f, "iscsid.service", "loaded", "inactive", "disabled");

        /* An unknown unit could be the good one: unknown, not fail. */
        free(f->units[1].unknown);
        f->units[1].unknown = strdup("no systemd system bus");
        ASSERT_STATUS(run(&np_check_unit_enabled, "iscsid", f), NP_STATUS_UNKNOWN);
}

TEST(fs_free)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpCheckDef d = def(&np_check_fs_free, "/opt");
        NpFsFacts *s;
        NpResult r;

        set(&d, "MinFree", "100GB");
        ASSERT_STATUS(run_def(&d, f), NP_STATUS_UNKNOWN);

        s = np_facts_add_fs(f, "/opt");
        s->probed_path = strdup("/");
        s->mount_point = strdup("/");
        s->fs_type = strdup("ext4");
        s->free_bytes = 99999999999ULL;
        s->total_bytes = 200000000000ULL;
        r = run_def(&d, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.observed, "/opt does not exist yet; /");
        np_result_done(&r);
        s->free_bytes = 100000000000ULL;
        ASSERT_STATUS(run_def(&d, f), NP_STATUS_PASS);
        s->unknown = strdup("/opt: Permission denied");
        ASSERT_STATUS(run_def(&d, f), NP_STATUS_UNKNOWN);
        def_done(&d);
}

TEST(kubelet)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpCheckDef d = def(&np_check_kubelet_version, NULL);
        NpToolFacts *t;
        NpResult r;

        set(&d, "MinVersion", "1.17");
        set(&d, "MaxVersion", "1.21");

        /* The kubelet is a tool: facts.tools[] "kubelet". */
        t = np_facts_add_tool(f, "kubelet");
        r = run_def(&d, f);
        ASSERT_EQ(r.status, NP_STATUS_SKIP);
        ASSERT_STREQ(r.observed, "no kubelet");
        np_result_done(&r);
        t->path = strdup("/usr/bin/kubelet");
        t->has_version = true;
        ASSERT_OK(np_parse_version("1.21.14", &t->version));
        ASSERT_STATUS(run_def(&d, f), NP_STATUS_PASS);
        ASSERT_OK(np_parse_version("1.17.0", &t->version));
        ASSERT_STATUS(run_def(&d, f), NP_STATUS_PASS);
        ASSERT_OK(np_parse_version("1.22.0", &t->version));
        r = run_def(&d, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.message, "above");
        ASSERT_CONTAINS(r.remedy, "run a Kubernetes version in the range 1.17 to 1.21.x");
        np_result_done(&r);
        ASSERT_OK(np_parse_version("1.16.15", &t->version));
        ASSERT_STATUS(run_def(&d, f), NP_STATUS_FAIL);
        t->unknown = strdup("/usr/bin/kubelet --version: timed out");
        ASSERT_STATUS(run_def(&d, f), NP_STATUS_UNKNOWN);
        def_done(&d);
}

/* One model: kubelet.version and tool.version are one implementation; Missing= says whether a
 * program that is not there skips or fails, whichever row. */
TEST(missing_skip_or_fail)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpCheckDef kubelet = def(&np_check_kubelet_version, NULL);
        NpCheckDef kubelet_tool = def(&np_check_tool_version, "kubelet");
        NpCheckDef helm = def(&np_check_tool_version, "helm");
        _cleanup_free_ char *error = NULL;
        NpToolFacts *t;
        NpResult r;

        np_facts_add_tool(f, "kubelet");
        np_facts_add_tool(f, "helm");
        set(&kubelet, "MinVersion", "1.25");
        set(&kubelet, "Missing", "fail");
        ASSERT_OK(kubelet.type->verify(&kubelet, &error));
        r = run_def(&kubelet, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_STREQ(r.observed, "not found in PATH");
        ASSERT_STREQ(r.message, "kubelet is not installed on this machine");
        np_result_done(&r);
        /* tool.version:kubelet reads the same facts; it fails when missing by default. */
        ASSERT_STATUS(run_def(&kubelet_tool, f), NP_STATUS_FAIL);
        set(&kubelet_tool, "Missing", "skip");
        ASSERT_STATUS(run_def(&kubelet_tool, f), NP_STATUS_SKIP);
        set(&helm, "Missing", "skip");
        r = run_def(&helm, f);
        ASSERT_EQ(r.status, NP_STATUS_SKIP);
        ASSERT_STREQ(r.observed, "no helm");
        np_result_done(&r);
        /* The kubelet found inside k3s passes or fails on its version like any other. */
        t = (NpToolFacts *)np_facts_tool(f, "kubelet");
        t->path = strdup("/usr/local/bin/k3s");
        t->found = "k3s";
        t->has_version = true;
        ASSERT_OK(np_parse_version("1.24.17", &t->version));
        ASSERT_STATUS(run_def(&kubelet, f), NP_STATUS_FAIL);
        ASSERT_OK(np_parse_version("1.28.3", &t->version));
        ASSERT_STATUS(run_def(&kubelet, f), NP_STATUS_PASS);
        ASSERT_STATUS(run_def(&kubelet_tool, f), NP_STATUS_PASS);
        /* Only skip and fail; kubelet.version still needs a range, tool.version does not. */
        set(&helm, "Missing", "maybe");
        ASSERT_EQ(helm.type->verify(&helm, &error), -EINVAL);
        ASSERT_STREQ(error, "Missing=maybe: expected skip or fail");
        error = mfree(error);
        def_done(&kubelet);
        kubelet = def(&np_check_kubelet_version, NULL);
        ASSERT_EQ(kubelet.type->verify(&kubelet, &error), -EINVAL);
        ASSERT_STREQ(error, "needs MinVersion= and/or MaxVersion=");
        ASSERT_OK(kubelet_tool.type->verify(&kubelet_tool, &error));
        def_done(&kubelet);
        def_done(&kubelet_tool);
        def_done(&helm);
}

TEST(ignored_and_remedy_override)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpCheckDef d = def(&np_check_selinux_runtime, NULL);
        NpResult r;

        f->selinux.runtime = NP_SELINUX_ENFORCING;
        d.ignored = true;
        d.override = strdup("nodeprep.conf:3: Ignore=yes (lab)");
        d.remedy = strdup("ask the security team");
        r = run_def(&d, f);
        /* The status is still the truth; the report records why it does not count. */
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_TRUE(r.ignored);
        ASSERT_TRUE(!np_result_counts(&r));
        ASSERT_STREQ(r.remedy, "ask the security team");
        ASSERT_STREQ(r.override, "nodeprep.conf:3: Ignore=yes (lab)");
        np_result_done(&r);
        def_done(&d);
}

TEST(sys)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpCheckDef cpus = def(&np_check_sys_cpus, NULL), mem = def(&np_check_sys_memory, NULL);

        set(&cpus, "Min", "8");
        set(&mem, "MinSize", "32GB");
        ASSERT_STATUS(run_def(&cpus, f), NP_STATUS_UNKNOWN);
        ASSERT_STATUS(run_def(&mem, f), NP_STATUS_UNKNOWN);
        f->system.cpus = 4;
        f->system.memory_bytes = 16ULL << 30;
        ASSERT_STATUS(run_def(&cpus, f), NP_STATUS_FAIL);
        ASSERT_STATUS(run_def(&mem, f), NP_STATUS_FAIL);
        /* An m6i.2xlarge: 8 vCPUs, MemTotal just under 32 GiB but over 32 GB. */
        f->system.cpus = 8;
        f->system.memory_bytes = 32295000ULL * 1024;
        ASSERT_STATUS(run_def(&cpus, f), NP_STATUS_PASS);
        ASSERT_STATUS(run_def(&mem, f), NP_STATUS_PASS);
        def_done(&cpus);
        def_done(&mem);
}

static NpEndpointFacts *endpoint(NpFacts *f, const char *name, const char *address)
{
        NpEndpointFacts *e = np_facts_add_endpoint(f, name);

        ASSERT_TRUE(e);
        free(e->address);
        e->address = strdup(address);
        return e;
}

TEST(net_reachable)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpEndpointFacts *e;
        char *err = NULL;
        NpResult r;

        /* Not configured: skip, saying how to configure it. */
        r = run(&np_check_net_reachable, "postgres", f);
        ASSERT_EQ(r.status, NP_STATUS_SKIP);
        ASSERT_CONTAINS(r.message, "[Endpoint postgres] Address=HOST:PORT");
        np_result_done(&r);

        ASSERT_OK(np_settings_set_named(&profile.settings, NP_NAMED_ENDPOINT, "postgres",
                                        "db.example:5432", "nodeprep.conf:4", &err));
        /* Configured but not probed: unknown. */
        ASSERT_STATUS(run(&np_check_net_reachable, "postgres", f), NP_STATUS_UNKNOWN);

        e = endpoint(f, "postgres", "db.example:5432");
        e->reachable = true;
        e->connected = strdup("10.0.0.5:5432");
        ASSERT_STATUS(run(&np_check_net_reachable, "postgres", f), NP_STATUS_PASS);

        e->reachable = false;
        e->error_kind = strdup("refused");
        e->error = strdup("db.example:5432 via 10.0.0.5:5432: Connection refused");
        r = run(&np_check_net_reachable, "postgres", f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.observed, "refused");
        ASSERT_CONTAINS(r.message, "nodeprep.conf:4");
        np_result_done(&r);

        /* Facts for another address (the site file changed since): not trusted. */
        free(e->address);
        e->address = strdup("old.example:5432");
        ASSERT_STATUS(run(&np_check_net_reachable, "postgres", f), NP_STATUS_UNKNOWN);
        np_settings_done(&profile.settings);
        np_settings_init(&profile.settings);
}

TEST(tool_version)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpCheckDef helm = def(&np_check_tool_version, "helm");
        NpToolFacts *t;
        NpResult r;

        set(&helm, "MinVersion", "3.8");
        ASSERT_STATUS(run_def(&helm, f), NP_STATUS_UNKNOWN);

        t = np_facts_add_tool(f, "helm");
        r = run_def(&helm, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_STREQ(r.observed, "not found in PATH");
        np_result_done(&r);

        t->path = strdup("/usr/local/bin/helm");
        t->output = strdup("v3.7.2+g663a896");
        ASSERT_OK(np_parse_version("3.7.2", &t->version));
        t->has_version = true;
        r = run_def(&helm, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.message, "below");
        np_result_done(&r);
        ASSERT_OK(np_parse_version("3.12.0", &t->version));
        ASSERT_STATUS(run_def(&helm, f), NP_STATUS_PASS);

        t->has_version = false;
        ASSERT_STATUS(run_def(&helm, f), NP_STATUS_UNKNOWN);
        /* Presence only (no range): any version will do. */
        def_done(&helm);
        helm = def(&np_check_tool_version, "helm");
        ASSERT_STATUS(run_def(&helm, f), NP_STATUS_PASS);
        def_done(&helm);
}

static NpLayoutEntry *layout_entry(NpLayoutFacts *l, const char *rel, bool dir, uint32_t uid)
{
        NpLayoutEntry *e;

        l->entries = reallocarray(l->entries, l->n_entries + 1, sizeof(NpLayoutEntry));
        ASSERT_TRUE(l->entries);
        e = &l->entries[l->n_entries++];
        *e = (NpLayoutEntry){ .path = strdup(rel),
                              .exists = true,
                              .is_dir = dir,
                              .is_regular = !dir,
                              .uid = uid,
                              .gid = uid };
        return e;
}

TEST(dir_layout)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpCheckDef d = def(&np_check_dir_layout, "tts-blob");
        NpLayoutFacts *l;
        char *err = NULL;
        NpResult r;

        set(&d, "Owner", "886:886");
        set(&d, "Directories", "edcs plugins");
        set(&d, "Files", "edcs/config.yml plugins/plugins.yml");

        ASSERT_STATUS(run_def(&d, f), NP_STATUS_SKIP);
        ASSERT_OK(np_settings_set_named(&profile.settings, NP_NAMED_PATH, "tts-blob", "/srv/blob",
                                        "--set", &err));
        ASSERT_STATUS(run_def(&d, f), NP_STATUS_UNKNOWN);

        l = np_facts_add_layout(f, "/srv/blob");
        layout_entry(l, "", true, 886);
        layout_entry(l, "edcs", true, 886);
        layout_entry(l, "plugins", true, 0);
        layout_entry(l, "edcs/config.yml", false, 886)->exists = false;
        layout_entry(l, "plugins/plugins.yml", false, 886);
        r = run_def(&d, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.observed, "plugins owned by 0:0");
        ASSERT_CONTAINS(r.observed, "edcs/config.yml missing");
        ASSERT_CONTAINS(r.remedy, "chown -R 886:886 /srv/blob");
        np_result_done(&r);

        l->entries[2].uid = l->entries[2].gid = 886;
        l->entries[3].exists = true;
        ASSERT_STATUS(run_def(&d, f), NP_STATUS_PASS);
        l->entries[3].unknown = strdup("/srv/blob/edcs/config.yml: Input/output error");
        ASSERT_STATUS(run_def(&d, f), NP_STATUS_UNKNOWN);
        def_done(&d);
        np_settings_done(&profile.settings);
        np_settings_init(&profile.settings);
}

/* Two valid values of each parameter type, different from each other. */
static const char *const samples[_NP_PARAM_TYPE_MAX][2] = {
        [NP_PARAM_STRING] = { "manual", "automatic" },
        [NP_PARAM_ABS_PATH] = { "/srv/a", "/srv/b" },
        [NP_PARAM_U64] = { "8", "16" },
        [NP_PARAM_SECONDS] = { "5", "30" },
        [NP_PARAM_SIZE] = { "100GB", "2GiB" },
        [NP_PARAM_VERSION] = { "1.21", "1.21.0" },
        [NP_PARAM_OWNER] = { "886:886", "886:0" },
        [NP_PARAM_BOOL] = { "yes", "no" },
        [NP_PARAM_ARGS] = { "version --short", "--short version" },
        [NP_PARAM_NAMES] = { "a.service b.socket", "a.service" },
        [NP_PARAM_RELPATHS] = { "edcs plugins", "edcs interop" },
};

/* Every parameter of every shipped check type: two profiles that differ in it conflict, unless
 * its row says it never does; the same value, or none in either, agrees. */
TEST(params_conflict)
{
        const NpCheckType *const *types;
        size_t n_types;

        types = np_check_types(&n_types);
        for (size_t t = 0; t < n_types; t++)
                for (size_t i = 0; i < types[t]->n_params; i++) {
                        const NpParam *p = &types[t]->params[i];
                        NpCheckDef a = def(types[t], types[t]->instance ? "x" : NULL),
                                   b = def(types[t], types[t]->instance ? "x" : NULL);
                        const char *key = NULL;

                        ASSERT_TRUE(np_check_defs_agree(&a, &b, &key));
                        set(&a, p->key, samples[p->type][0]);
                        /* One profile sets it, the other does not. */
                        ASSERT_EQ(np_check_defs_agree(&a, &b, &key),
                                  p->conflict == NP_PARAM_CONFLICT_NEVER);
                        set(&b, p->key, samples[p->type][1]);
                        key = NULL;
                        ASSERT_EQ(np_check_defs_agree(&a, &b, &key),
                                  p->conflict == NP_PARAM_CONFLICT_NEVER);
                        if (p->conflict != NP_PARAM_CONFLICT_NEVER)
                                ASSERT_STREQ(key, p->key);
                        set(&b, p->key, samples[p->type][0]);
                        ASSERT_TRUE(np_check_defs_agree(&a, &b, &key));
                        def_done(&a);
                        def_done(&b);
                }
}

/* A check type of every parameter type: parse, bad values, amending, comparing, freeing. */
typedef struct AllParams {
        char *string, *path;
        NpParamU64 u64, seconds, size;
        NpParamVersion version;
        NpParamOwner owner;
        NpParamBool boolean;
        char **args, **names, **relpaths;
} AllParams;

static const NpParam all_params[] = {
        NP_PARAM("String", NP_PARAM_STRING, AllParams, string, NP_PARAM_CONFLICT_DIFFERENT, "s"),
        NP_PARAM("Path", NP_PARAM_ABS_PATH, AllParams, path, NP_PARAM_CONFLICT_DIFFERENT, "p"),
        NP_PARAM("U64", NP_PARAM_U64, AllParams, u64, NP_PARAM_CONFLICT_DIFFERENT, "n"),
        NP_PARAM("Seconds", NP_PARAM_SECONDS, AllParams, seconds, NP_PARAM_CONFLICT_NEVER, "t"),
        NP_PARAM("Size", NP_PARAM_SIZE, AllParams, size, NP_PARAM_CONFLICT_DIFFERENT, "z"),
        NP_PARAM("Version", NP_PARAM_VERSION, AllParams, version, NP_PARAM_CONFLICT_DIFFERENT, "v"),
        NP_PARAM("Owner", NP_PARAM_OWNER, AllParams, owner, NP_PARAM_CONFLICT_DIFFERENT, "o"),
        NP_PARAM("Bool", NP_PARAM_BOOL, AllParams, boolean, NP_PARAM_CONFLICT_DIFFERENT, "b"),
        NP_PARAM("Args", NP_PARAM_ARGS, AllParams, args, NP_PARAM_CONFLICT_DIFFERENT, "a"),
        NP_PARAM("Names", NP_PARAM_NAMES, AllParams, names, NP_PARAM_CONFLICT_DIFFERENT, "w"),
        NP_PARAM("RelPaths", NP_PARAM_RELPATHS, AllParams, relpaths, NP_PARAM_CONFLICT_DIFFERENT,
                 "r"),
};

static const NpCheckType all_type = {
        .name = "test.all",
        NP_CHECK_PARAMS(all_params, AllParams),
        .default_title = "every parameter type",
};

TEST(param_types)
{
        static const struct {
                const char *key, *bad;
        } bad[] = {
                { "Path", "relative" },  { "Path", "/a/../b" },    { "U64", "-1" },
                { "Seconds", "5s" },     { "Size", "100QB" },      { "Version", "1.x" },
                { "Owner", "886" },      { "Owner", "root:root" }, { "Bool", "maybe" },
                { "Args", " " },         { "Names", "" },          { "RelPaths", "../etc" },
                { "RelPaths", "a/./b" }, { "RelPaths", "/abs" },
        };
        NpCheckDef a = def(&all_type, NULL), b = def(&all_type, NULL);
        const AllParams *v = a.params;
        const char *key = NULL;
        char *error = NULL;

        for (size_t i = 0; i < ELEMENTSOF(all_params); i++) {
                set(&a, all_params[i].key, samples[all_params[i].type][0]);
                set(&b, all_params[i].key, samples[all_params[i].type][0]);
        }
        ASSERT_STREQ(v->string, "manual");
        ASSERT_STREQ(v->path, "/srv/a");
        ASSERT_TRUE(v->u64.set && v->u64.value == 8);
        ASSERT_TRUE(v->seconds.set && v->seconds.value == 5);
        ASSERT_TRUE(v->size.set && v->size.value == 100000000000ULL);
        ASSERT_TRUE(v->version.set && v->version.value.major == 1 && v->version.value.minor == 21 &&
                    !v->version.value.has_patch);
        ASSERT_TRUE(v->owner.set && v->owner.uid == 886 && v->owner.gid == 886);
        ASSERT_TRUE(v->boolean.set && v->boolean.value);
        ASSERT_EQ(strv_length(v->args), 2U);
        ASSERT_TRUE(np_check_defs_agree(&a, &b, &key));

        /* Order: arguments keep theirs, sets of names and paths do not. */
        set(&b, "Names", "b.socket a.service");
        set(&b, "RelPaths", "plugins edcs");
        ASSERT_TRUE(np_check_defs_agree(&a, &b, &key));
        set(&b, "Args", "--short version");
        ASSERT_TRUE(!np_check_defs_agree(&a, &b, &key));
        ASSERT_STREQ(key, "Args");
        /* A later line (a drop-in) replaces the value, lists included. */
        set(&b, "Args", "version --short");
        set(&b, "Seconds", "30");
        ASSERT_TRUE(np_check_defs_agree(&a, &b, &key));
        set(&a, "RelPaths", "edcs");
        ASSERT_EQ(strv_length(v->relpaths), 1U);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *want = strprintf("%s=%s: expected ", bad[i].key, bad[i].bad);

                ASSERT_EQ(np_check_def_set_param(&a, bad[i].key, bad[i].bad, &error), -EINVAL);
                ASSERT_TRUE(want && startswith(error, want));
                error = mfree(error);
        }
        ASSERT_EQ(np_check_def_set_param(&a, "Expect", "x", &error), -EINVAL);
        ASSERT_CONTAINS(error, "unknown key Expect= (check type test.all takes String=, Path=, ");
        error = mfree(error);
        ASSERT_TRUE(np_check_def_param(&a, "Owner") == &v->owner);
        ASSERT_NULL(np_check_def_param(&a, "Expect"));
        def_done(&a);
        def_done(&b);
}

TEST(kata)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        NpResult r;

        ASSERT_STATUS(run(&np_check_virt_kvm, NULL, f), NP_STATUS_SKIP);
        ASSERT_STATUS(run(&np_check_runtime_kata, NULL, f), NP_STATUS_SKIP);
        profile.settings.use_kata = true;
        r = run(&np_check_virt_kvm, NULL, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.message, "neither vmx nor svm");
        np_result_done(&r);
        /* A /dev/kvm node alone (kmod static nodes, a paravirtual KVM) is not enough. */
        f->virt.kvm_device = true;
        r = run(&np_check_virt_kvm, NULL, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.message, "/dev/kvm exists, but the CPU shows neither vmx nor svm");
        np_result_done(&r);
        f->virt.cpu_unknown = strdup("/proc/cpuinfo: Permission denied");
        ASSERT_STATUS(run(&np_check_virt_kvm, NULL, f), NP_STATUS_UNKNOWN);
        free(f->virt.cpu_unknown);
        f->virt.cpu_unknown = NULL;
        f->virt.kvm_device = false;
        f->virt.cpu_flag = strdup("vmx");
        r = run(&np_check_virt_kvm, NULL, f);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_STREQ(r.remedy, "modprobe kvm_intel");
        np_result_done(&r);
        f->virt.kvm_device = true;
        ASSERT_STATUS(run(&np_check_virt_kvm, NULL, f), NP_STATUS_PASS);
        ASSERT_STATUS(run(&np_check_runtime_kata, NULL, f), NP_STATUS_FAIL);
        f->virt.kata_path = strdup("/opt/kata/bin/containerd-shim-kata-v2");
        ASSERT_STATUS(run(&np_check_runtime_kata, NULL, f), NP_STATUS_PASS);
        profile.settings.use_kata = false;
}

/* mount.propagation:PATH judged as the container runtimes judge it: shared is "shared:", slave
 * is "shared:" or "master:", private neither; unknown with the probe's reason. */
static NpMountFacts *add_mount(NpFacts *f, const char *path, unsigned peer_group, unsigned master,
                               const char *propagation)
{
        NpMountFacts *m = reallocarray(f->mounts, f->n_mounts + 1, sizeof(*m));

        ASSERT_TRUE(m);
        f->mounts = m;
        m = &f->mounts[f->n_mounts++];
        *m = (NpMountFacts){ .path = strdup(path),
                             .probed_path = strdup(path),
                             .exists = true,
                             .mount_point = strdup("/"),
                             .mount_id = 24,
                             .propagation = strdup(propagation),
                             .peer_group = peer_group,
                             .master = master };
        ASSERT_TRUE(m->path && m->probed_path && m->mount_point && m->propagation);
        return m;
}

static NpResult run_mount(const NpFacts *f, const char *path, const char *expect)
{
        const NpCheckType *t = np_check_type_find("mount.propagation");
        NpCheckDef d;
        NpResult r;

        ASSERT_TRUE(t);
        d = def(t, path);
        if (expect)
                set(&d, "Expect", expect);
        r = run_def(&d, f);
        def_done(&d);
        return r;
}

TEST(mount_propagation)
{
        _cleanup_(np_facts_freep) NpFacts *f = facts();
        const NpCheckType *t = np_check_type_find("mount.propagation");
        NpCheckDef bad = def(t, "/var/lib/kubelet");
        _cleanup_free_ char *error = NULL;
        NpResult r;

        add_mount(f, "/shared", 1, 0, "shared");
        add_mount(f, "/private", 0, 0, "private");
        add_mount(f, "/slave", 0, 3, "slave");
        add_mount(f, "/both", 9, 3, "shared,slave");
        add_mount(f, "/unbindable", 0, 0, "unbindable");
        ASSERT_TRUE((f->mounts[1].line = strdup("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw")));

        /* Expect=shared, the default */
        r = run_mount(f, "/shared", NULL);
        ASSERT_EQ(r.status, NP_STATUS_PASS);
        ASSERT_STREQ(r.observed, "shared (mount 24 on /)");
        ASSERT_STREQ(r.expected, "shared");
        ASSERT_NULL(r.remedy);
        np_result_done(&r);
        r = run_mount(f, "/private", NULL);
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_STREQ(r.observed, "private (mount 24 on /)");
        ASSERT_CONTAINS(r.message, "not shared: Bidirectional");
        ASSERT_CONTAINS(r.remedy, "mount --make-rshared / (now");
        ASSERT_CONTAINS(r.remedy, "\"rshared\" to its options in /etc/fstab");
        np_result_done(&r);
        ASSERT_STATUS(run_mount(f, "/slave", NULL), NP_STATUS_FAIL);
        ASSERT_STATUS(run_mount(f, "/both", "shared"), NP_STATUS_PASS);
        ASSERT_STATUS(run_mount(f, "/unbindable", NULL), NP_STATUS_FAIL);

        /* Expect=slave: shared or slave (HostToContainer) */
        ASSERT_STATUS(run_mount(f, "/slave", "slave"), NP_STATUS_PASS);
        ASSERT_STATUS(run_mount(f, "/shared", "slave"), NP_STATUS_PASS);
        r = run_mount(f, "/private", "slave");
        ASSERT_EQ(r.status, NP_STATUS_FAIL);
        ASSERT_CONTAINS(r.remedy, "mount --make-rslave /");
        np_result_done(&r);

        /* Expect=private */
        ASSERT_STATUS(run_mount(f, "/private", "private"), NP_STATUS_PASS);
        ASSERT_STATUS(run_mount(f, "/unbindable", "private"), NP_STATUS_PASS);
        ASSERT_STATUS(run_mount(f, "/slave", "private"), NP_STATUS_FAIL);
        ASSERT_STATUS(run_mount(f, "/both", "private"), NP_STATUS_FAIL);

        /* a path not there yet names the ancestor it was judged by */
        f->mounts[0].exists = false;
        free(f->mounts[0].probed_path);
        ASSERT_TRUE((f->mounts[0].probed_path = strdup("/")));
        r = run_mount(f, "/shared", NULL);
        ASSERT_EQ(r.status, NP_STATUS_PASS);
        ASSERT_STREQ(r.observed, "shared (mount 24 on /; /shared does not exist yet, / looked at)");
        np_result_done(&r);

        /* unknown: the probe's reason; not probed */
        ASSERT_TRUE((f->mounts[1].unknown = strdup("/proc/1/mountinfo: Permission denied")));
        r = run_mount(f, "/private", NULL);
        ASSERT_EQ(r.status, NP_STATUS_UNKNOWN);
        ASSERT_STREQ(r.message, "/proc/1/mountinfo: Permission denied");
        ASSERT_STREQ(r.expected, "shared");
        np_result_done(&r);
        ASSERT_STATUS(run_mount(f, "/elsewhere", NULL), NP_STATUS_UNKNOWN);

        /* Expect= takes three words; the instance is a clean absolute path */
        ASSERT_EQ(np_check_def_set_param(&bad, "Expect", "rshared", &error), 0);
        ASSERT_EQ(t->verify(&bad, &error), -EINVAL);
        ASSERT_STREQ(error, "Expect=rshared: expected shared, slave or private");
        error = mfree(error);
        ASSERT_EQ(t->verify_instance("var/lib/kubelet", &error), -EINVAL);
        error = mfree(error);
        ASSERT_EQ(t->verify_instance("/var/../etc", &error), -EINVAL);
        def_done(&bad);
}

static const TestCase tests[] = {
        T(selinux_runtime),
        T(selinux_config),
        T(iscsi_installed),
        T(iscsi_conf),
        T(iscsi_node_records),
        T(kmod),
        T(units),
        T(fs_free),
        T(mount_propagation),
        T(kubelet),
        T(missing_skip_or_fail),
        T(ignored_and_remedy_override),
        T(sys),
        T(net_reachable),
        T(tool_version),
        T(dir_layout),
        T(kata),
        T(params_conflict),
        T(param_types),
};

int main(void)
{
        np_settings_init(&profile.settings);
        for (size_t i = 0; i < ELEMENTSOF(tests); i++) {
                tests[i].fn();
                printf("ok %zu - %s\n", i + 1, tests[i].name);
        }
        printf("1..%zu\n", ELEMENTSOF(tests));
        return 0;
}
