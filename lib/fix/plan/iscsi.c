/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iSCSI fixes: iscsid.conf keys (iscsi.conf:KEY), already-discovered targets
 * (iscsi.node-records, through iscsiadm: it takes open-iscsi's node database lock) and the
 * initiator package itself (iscsi.installed, through the distribution's package tool).
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fix/engine/fix-internal.h"
#include "fix/plan/conf-edit.h"
#include "probe/iscsid-conf.h"
#include "util/strv.h"

#define ISCSID_CONF "/etc/iscsi/iscsid.conf"

static const char *expect_of(const NpCheckDef *def)
{
        return ((const NpIscsiConfParams *)def->params)->expect;
}

/* The value a fix writes for an iscsi.conf check: Expect=, or Min= itself. */
static char *wanted_value(const NpCheckDef *def)
{
        const NpIscsiConfParams *p = def->params;

        return p->expect ? strdup(p->expect) : strprintf("%llu", (unsigned long long)p->min.value);
}

typedef struct KeyValueEdit {
        const char *key;
        const char *value;
        const char *also_key; /* a second key set in the same edit, or NULL */
        const char *also_value;
} KeyValueEdit;

static int edit_iscsid_conf(const char *data, size_t size, void *userdata, char **ret,
                            size_t *ret_size, char **ret_where, char **ret_error)
{
        const KeyValueEdit *kv = userdata;

        if (!data) {
                *ret_error = strdup("the file does not exist (is open-iscsi installed?)");
                return -ENOENT;
        }
        _cleanup_free_ char *first = NULL, *where1 = NULL, *where2 = NULL;
        size_t first_size = 0;
        int r, r2;

        r = np_iscsi_conf_set(data, size, kv->key, kv->value, kv->also_key ? &first : ret,
                              kv->also_key ? &first_size : ret_size, &where1, ret_error);
        if (r < 0 || !kv->also_key) {
                if (ret_where)
                        *ret_where = TAKE_PTR(where1);
                return r;
        }
        r2 = np_iscsi_conf_set(first, first_size, kv->also_key, kv->also_value, ret, ret_size,
                               &where2, ret_error);
        if (r2 < 0)
                return r2;
        if (ret_where) {
                *ret_where =
                    r && r2 ? strprintf("%s; %s = %s: %s", strempty(where1), kv->also_key,
                                        kv->also_value, strempty(where2))
                    : r2 ? strprintf("%s = %s: %s", kv->also_key, kv->also_value, strempty(where2))
                         : TAKE_PTR(where1);
                if (!*ret_where)
                        return -ENOMEM;
        }
        return r || r2;
}

static int plan_iscsid_conf(NpFixContext *c, const NpCheckDef *def, const NpResult *res,
                            NpFixEntry *e)
{
        const NpIscsiFacts *i = &c->facts->iscsi;
        _cleanup_free_ char *value = wanted_value(def), *fmt = NULL;
        KeyValueEdit kv = { .key = def->instance };
        int r;

        if (!value)
                return -ENOMEM;
        kv.value = value;
        if (i->conf_unknown)
                return np_fix_entry_manual(e, res->remedy, "%s", i->conf_unknown);
        if (!i->conf_present && !i->iscsiadm_path)
                return np_fix_entry_manual(e, res->remedy,
                                           ISCSID_CONF " does not exist: install open-iscsi "
                                                       "first (iscsi.installed)");
        if (!i->conf_present)
                return np_fix_entry_manual(e, res->remedy,
                                           "open-iscsi is installed without " ISCSID_CONF
                                           " (iscsid uses its built-in defaults); nodeprep "
                                           "edits that file but does not create it");
        /* node.startup = manual means nothing while node.conn[0].startup = automatic. */
        if (streq(def->instance, "node.startup") && streq_ptr(expect_of(def), "manual")) {
                const NpKeyValue *conn =
                    np_key_values_get(i->conf.settings, i->conf.n_settings, "node.conn[0].startup");

                if (conn && !streq(conn->value, "manual")) {
                        kv.also_key = "node.conn[0].startup";
                        kv.also_value = "manual";
                }
        }
        fmt = kv.also_key
                  ? strprintf("set \"%s = %s\" and \"%s = %s\" in " ISCSID_CONF " (%%s)",
                              def->instance, value, kv.also_key, kv.also_value)
                  : strprintf("set \"%s = %s\" in " ISCSID_CONF " (%%s)", def->instance, value);
        if (!fmt)
                return -ENOMEM;
        r = np_fix_edit_file(c, e, ISCSID_CONF, 0600, edit_iscsid_conf, &kv, fmt);
        if (r > 0 && i->n_nodes > 0)
                return np_fix_entry_note(e,
                                         "iscsid.conf seeds only new discoveries: the %zu "
                                         "already-discovered target record(s) keep their "
                                         "own value (iscsi.node-records)",
                                         i->n_nodes);
        return r < 0 ? r : 0;
}

const NpFixType np_fix_iscsid_conf_set = {
        .id = "iscsid-conf-set",
        .plan = plan_iscsid_conf,
};

/* --- iscsi.node-records ------------------------------------------------------------------------
 */

/* "192.0.2.10,3260,1" -> "192.0.2.10:3260"; IPv6 addresses in brackets, as iscsiadm -p wants. */
static char *portal_arg(const char *portal)
{
        _cleanup_free_ char *addr = strndup(portal, strcspn(portal, ","));
        const char *comma = strchr(portal, ',');
        _cleanup_free_ char *port = comma ? strndup(comma + 1, strcspn(comma + 1, ",")) : NULL;
        bool v6 = addr && strchr(addr, ':') && addr[0] != '[';

        if (!addr || (comma && !port))
                return NULL;
        return strprintf("%s%s%s%s%s", v6 ? "[" : "", addr, v6 ? "]" : "", port ? ":" : "",
                         strempty(port));
}

char **np_iscsi_update_argv(const char *iscsiadm, const char *target, const char *portal,
                            const char *key, const char *value)
{
        char **l = NULL;

        STRV_FOREACH (w, STRV_MAKE((char *)iscsiadm, "-m", "node", "-T", (char *)target, "-p",
                                   (char *)portal, "-o", "update", "-n", (char *)key, "-v",
                                   (char *)value))
                if (strv_extend(&l, *w) < 0)
                        return strv_free(l);
        return l;
}

static bool only_chars(const char *s, const char *allowed, size_t max)
{
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n <= max && s[0] != '-' && strspn(s, allowed) == n;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* What nodeprep passes to iscsiadm: RFC 3720 names (iqn./eui./naa., at most 223 bytes), a
 * portal as portal_arg() writes it, a node.* key; nothing that could be read as an option. */
bool np_iscsi_update_fields_valid(const char *target, const char *portal, const char *key)
{
        return only_chars(target, ALNUM ".:-", 223) &&
               (strncasecmp(target, "iqn.", 4) == 0 || strncasecmp(target, "eui.", 4) == 0 ||
                strncasecmp(target, "naa.", 4) == 0) &&
               only_chars(portal, ALNUM ".:[]%_-", 300) && only_chars(key, ALNUM "_.[]", 128) &&
               startswith(key, "node.");
}

bool np_iscsi_value_valid(const char *value)
{
        return only_chars(value, ALNUM "_.,:=+/@-", 255);
}

typedef struct RecordFix {
        const char *key;
        char *want;
        const NpCheckDef *def; /* judge with this check's rule; NULL: exact match with want */
} RecordFix;

static int plan_one_record(NpFixContext *c, NpFixEntry *e, const NpIscsiNode *node,
                           const RecordFix *fix)
{
        const NpIscsiRecord *rec = &node->record;
        const NpKeyValue *kv = np_key_values_get(rec->settings, rec->n_settings, fix->key);
        const char *have = kv ? kv->value : np_iscsi_default(fix->key);
        _cleanup_free_ char *portal = NULL, *cmd = NULL;
        bool ok =
            have && (fix->def ? np_iscsi_value_meets(fix->def, have) : streq(have, fix->want));
        NpStep s = {
                .kind = NP_STEP_COMMAND,
                .phase = NP_PHASE_NODE_RECORDS,
                .running_system = true,
                .timeout_sec = 60,
                .needs = np_fix_consent_option(NP_CONSENT_NODE_RECORDS),
                .state = np_fix_options_consent(c->options, NP_CONSENT_NODE_RECORDS)
                             ? NP_STEP_PLANNED
                             : NP_STEP_NOT_RUN,
        };

        if (ok)
                return 0;
        portal = portal_arg(node->portal);
        if (!portal)
                return -ENOMEM;
        /* Several iface records of one target and portal: one iscsiadm call updates them all. */
        FOREACH_ARRAY (other, c->run->steps, c->run->n_steps)
                if (other->kind == NP_STEP_COMMAND &&
                    other->command == NP_COMMAND_ISCSI_NODE_UPDATE &&
                    streq(other->target, node->target) && streq(other->portal, portal) &&
                    streq(other->key, fix->key))
                        return 0;
        if (!np_iscsi_update_fields_valid(node->target, portal, fix->key) ||
            !np_iscsi_value_valid(fix->want))
                return np_fix_entry_failed(e,
                                           "the record %s names a target, portal or setting "
                                           "nodeprep does not pass to iscsiadm; update it by hand",
                                           node->path);
        s.command = NP_COMMAND_ISCSI_NODE_UPDATE;
        s.target = strdup(node->target);
        s.portal = strdup(portal);
        s.key = strdup(fix->key);
        s.value = strdup(fix->want);
        s.argv = np_iscsi_update_argv(c->facts->iscsi.iscsiadm_path, node->target, portal, fix->key,
                                      fix->want);
        /* Rollback runs the same update with the old value: only one it could pass on. */
        if (have && np_iscsi_value_valid(have))
                s.old_value = strdup(have);
        else if (have)
                s.cannot_undo = strprintf("nodeprep does not pass the old value of %s (\"%s\") "
                                          "to iscsiadm: put it back by hand",
                                          fix->key, have);
        else
                s.cannot_undo = strprintf("%s was not set in %s and has no default to put back",
                                          fix->key, node->path);
        cmd = s.argv ? np_argv_to_text(s.argv) : NULL;
        s.summary = strprintf("set %s = %s in the record of %s at %s (was %s): %s", fix->key,
                              fix->want, node->target, portal, have ? have : "not set", strna(cmd));
        if (!s.argv || !s.target || !s.portal || !s.key || !s.value ||
            (!s.old_value && !s.cannot_undo) || !s.summary) {
                np_step_done(&s);
                return -ENOMEM;
        }
        return np_fix_add_step(c, e, &s);
}

static int plan_node_records(NpFixContext *c, const NpCheckDef *def, const NpResult *res,
                             NpFixEntry *e)
{
        const NpIscsiFacts *i = &c->facts->iscsi;
        size_t skipped_recommended = 0;
        int r;
        (void)def;

        if (!i->iscsiadm_path)
                return np_fix_entry_manual(e, res->remedy,
                                           "iscsiadm is not installed, so the records cannot "
                                           "be updated");
        FOREACH_ARRAY (node, i->nodes, i->n_nodes) {
                if (node->unknown)
                        return np_fix_entry_manual(e, res->remedy, "%s", node->unknown);
                FOREACH_ARRAY (conf, c->profile->checks, c->profile->n_checks) {
                        RecordFix fixes[2] = {};
                        size_t n = 0;

                        if (conf->type != &np_check_iscsi_conf || conf->ignored)
                                continue;
                        if (conf->severity == NP_SEVERITY_RECOMMENDED && !c->include_recommended &&
                            !strv_contains(c->options->only, conf->id)) {
                                skipped_recommended++;
                                continue;
                        }
                        fixes[n++] = (RecordFix){ conf->instance, wanted_value(conf), conf };
                        /* --loginall=automatic honours either startup key: both must say so. */
                        if (streq(conf->instance, NP_ISCSI_KEY_STARTUP) && expect_of(conf))
                                fixes[n++] = (RecordFix){ NP_ISCSI_KEY_CONN_STARTUP,
                                                          strdup(expect_of(conf)), NULL };
                        r = 0;
                        for (size_t k = 0; k < n; k++) {
                                if (r >= 0)
                                        r = fixes[k].want ? plan_one_record(c, e, node, &fixes[k])
                                                          : -ENOMEM;
                                free(fixes[k].want);
                        }
                        if (r < 0)
                                return r;
                }
        }
        if (skipped_recommended > 0)
                return np_fix_entry_note(e, "recommended settings are left as they are in the "
                                            "records (--include-recommended updates them too)");
        return 0;
}

const NpFixType np_fix_iscsi_node_update = {
        .id = "iscsi-node-update",
        .running_system = true,
        .consent = NP_CONSENT_NODE_RECORDS,
        .plan = plan_node_records,
};

/* --- iscsi.installed ---------------------------------------------------------------------------
 */

/* The package tools nodeprep runs (the system facts' package_tool), and what it installs with
 * each. */
static const struct {
        const char *tool;
        const char *package;
        const char *argv[5];
} package_tools[] = {
        { "apt-get", "open-iscsi", { "apt-get", "install", "-y", "open-iscsi" } },
        { "dnf", "iscsi-initiator-utils", { "dnf", "install", "-y", "iscsi-initiator-utils" } },
        { "yum", "iscsi-initiator-utils", { "yum", "install", "-y", "iscsi-initiator-utils" } },
        { "zypper", "open-iscsi", { "zypper", "--non-interactive", "install", "open-iscsi" } },
};

char **np_package_install_argv(const char *tool, const char *package)
{
        for (size_t i = 0; i < ELEMENTSOF(package_tools); i++)
                if (streq_ptr(package_tools[i].tool, tool) &&
                    streq_ptr(package_tools[i].package, package))
                        return strv_copy((char **)package_tools[i].argv);
        return NULL;
}

static int plan_package(NpFixContext *c, const NpCheckDef *def, const NpResult *res, NpFixEntry *e)
{
        NpStep s = {
                .kind = NP_STEP_COMMAND,
                .command = NP_COMMAND_PACKAGE_INSTALL,
                .phase = NP_PHASE_PACKAGE,
                .running_system = true,
                .timeout_sec = 900,
                .needs = np_fix_consent_option(NP_CONSENT_PACKAGES),
        };
        const char *tool = NULL, *package = NULL;
        _cleanup_free_ char *cmd = NULL;

        (void)def;
        for (size_t i = 0; !tool && i < ELEMENTSOF(package_tools); i++)
                if (streq_ptr(package_tools[i].tool, c->facts->system.package_tool)) {
                        tool = package_tools[i].tool;
                        package = package_tools[i].package;
                }
        if (!tool)
                return np_fix_entry_manual(e, res->remedy,
                                           "nodeprep knows no package tool for this "
                                           "distribution");
        s.argv = np_package_install_argv(tool, package);
        if (s.argv && streq(tool, "apt-get"))
                s.env = strv_copy(STRV_MAKE("DEBIAN_FRONTEND=noninteractive"));
        s.package = strdup(package);
        cmd = s.argv ? np_argv_to_text(s.argv) : NULL;
        if (!cmd || !s.package) {
                np_step_done(&s);
                return -ENOMEM;
        }
        if (!np_fix_options_consent(c->options, NP_CONSENT_PACKAGES)) {
                _cleanup_free_ char *remedy = strprintf("%s (nodeprepctl apply "
                                                        "--install-packages runs it)",
                                                        cmd);
                np_step_done(&s);
                return remedy ? np_fix_entry_manual(e, remedy,
                                                    "packages are installed only "
                                                    "with --install-packages")
                              : -ENOMEM;
        }
        s.summary = strprintf("install %s: %s", package, cmd);
        s.cannot_undo =
            strprintf("nodeprep does not remove packages it installed (%s stays)", package);
        if (!s.summary || !s.cannot_undo) {
                np_step_done(&s);
                return -ENOMEM;
        }
        return np_fix_add_step(c, e, &s);
}

const NpFixType np_fix_package_install = {
        .id = "package-install",
        .running_system = true,
        .consent = NP_CONSENT_PACKAGES,
        .plan = plan_package,
};
