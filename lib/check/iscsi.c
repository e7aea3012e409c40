/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iSCSI initiator checks: iscsi.installed, iscsi.conf:KEY and iscsi.node-records.
 * Values are judged as iscsid uses them (see lib/probe/iscsid-conf.h for how they are read).
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "util/strv.h"

#define ISCSID_CONF "/etc/iscsi/iscsid.conf"

/* What iscsid uses for a key a file does not set, or when there is no iscsid.conf at all:
 * idbm_sync_config() in open-iscsi's usr/idbm.c fills the node record from
 * idbm_node_setup_defaults() and reads the file only if fopen() succeeds (values from
 * usr/iscsi_settings.h). */
static const struct {
        const char *key;
        const char *value;
} iscsi_defaults[] = {
        { "node.startup", "manual" },
        { "node.conn[0].startup", "manual" },
        { "node.conn[0].iscsi.MaxRecvDataSegmentLength", "262144" },
        { "node.session.timeo.replacement_timeout", "120" },
        { "node.conn[0].timeo.noop_out_interval", "5" },
        { "node.conn[0].timeo.noop_out_timeout", "5" },
        { "node.session.cmds_max", "128" },
        { "node.session.queue_depth", "32" },
        { "node.session.initial_login_retry_max", "4" },
};

static const char *iscsi_default(const char *key)
{
        for (size_t i = 0; i < ELEMENTSOF(iscsi_defaults); i++)
                if (streq(iscsi_defaults[i].key, key))
                        return iscsi_defaults[i].value;
        return NULL;
}

const char *np_iscsi_default(const char *key)
{
        return iscsi_default(key);
}

/*
 * The number iscsid works with: strtoul(, 10) truncated to int; for MaxRecvDataSegmentLength
 * also rounded down to a multiple of 4 and replaced by 262144 outside 512..16777215
 * (iscsi_copy_operational_params() in open-iscsi's usr/initiator_common.c).
 */
static uint64_t iscsi_number(const char *key, const char *value, bool *ret_adjusted)
{
        uint32_t v = (uint32_t)strtoul(value, NULL, 10), eff = v;

        if (streq(key, "node.conn[0].iscsi.MaxRecvDataSegmentLength")) {
                eff = v & ~3U;
                if (eff < 512 || eff > 16777215)
                        eff = 262144;
        }
        *ret_adjusted = eff != v || !isdigit((unsigned char)value[0]) ||
                        strspn(value, "0123456789") != strlen(value);
        return eff;
}

static int request_iscsi(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)def, (void)s;
        req->iscsi = true;
        return 0;
}

/* --- iscsi.installed ------------------------------------------------------------------------ */

static int run_installed(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpIscsiFacts *i = &ctx->facts->iscsi;
        _cleanup_free_ char *units = strv_join(i->unit_files, ", "), *observed = NULL,
                            *remedy = NULL;
        bool ok = i->iscsiadm_path && strv_length(i->unit_files) > 0;
        int k;
        (void)def;

        if (!units)
                return -ENOMEM;
        observed = strprintf("iscsiadm: %s; iscsid units: %s",
                             i->iscsiadm_path ? i->iscsiadm_path : "not found",
                             isempty(units) ? "none" : units);
        if (!observed)
                return -ENOMEM;
        if (ok)
                return np_result_set(r, NP_STATUS_PASS, observed, "iscsiadm and the iscsid unit",
                                     "the open-iscsi initiator is installed");
        k = np_result_set(r, NP_STATUS_FAIL, observed, "iscsiadm and the iscsid unit",
                          "the open-iscsi initiator is not installed");
        if (k < 0)
                return k;
        remedy = np_remedy_install(ctx->facts->system.distro, "open-iscsi", "iscsi-initiator-utils",
                                   "open-iscsi");
        if (!remedy)
                return -ENOMEM;
        free_and_replace(&r->remedy, TAKE_PTR(remedy));
        return 0;
}

/* --- iscsi.conf:KEY ------------------------------------------------------------------------- */

static int verify_conf_key(const char *key, char **ret_error)
{
        if (streq(key, "node.session.iscsi.MaxRecvDataSegmentLength")) {
                *ret_error = strdup("node.session.iscsi.MaxRecvDataSegmentLength is not an "
                                    "open-iscsi setting (iscsid ignores it); use "
                                    "node.conn[0].iscsi.MaxRecvDataSegmentLength");
                return -EINVAL;
        }
        for (const char *c = key; *c; c++)
                if (!isalnum((unsigned char)*c) && !strchr("._[]", *c)) {
                        *ret_error = strprintf("\"%s\" is not an iscsid.conf key", key);
                        return -EINVAL;
                }
        return 0;
}

static const NpParam conf_params[] = {
        NP_PARAM("Expect", NP_PARAM_STRING, NpIscsiConfParams, expect, NP_PARAM_CONFLICT_DIFFERENT,
                 "the exact value"),
        NP_PARAM("Min", NP_PARAM_U64, NpIscsiConfParams, min, NP_PARAM_CONFLICT_DIFFERENT,
                 "a decimal number"),
};

static int verify_conf(const NpCheckDef *def, char **ret_error)
{
        const NpIscsiConfParams *p = def->params;

        if (!p->expect == !p->min.set) {
                *ret_error = strdup("needs exactly one of Expect= or Min=");
                return -EINVAL;
        }
        return 0;
}

/* Does value meet the check's Expect=/Min=? Writes what iscsid makes of it to *ret_shown. */
static bool value_meets(const NpCheckDef *def, const char *key, const char *value, char **ret_shown)
{
        const NpIscsiConfParams *p = def->params;
        bool adjusted = false;
        uint64_t n;

        if (p->expect) {
                *ret_shown = strdup(value);
                return streq(value, p->expect);
        }
        n = iscsi_number(key, value, &adjusted);
        *ret_shown = adjusted ? strprintf("%s (iscsid uses %llu)", value, (unsigned long long)n)
                              : strdup(value);
        return n >= p->min.value;
}

bool np_iscsi_value_meets(const NpCheckDef *def, const char *value)
{
        _cleanup_free_ char *shown = NULL;

        return value_meets(def, def->instance, value, &shown);
}

static char *expected_text(const NpCheckDef *def)
{
        const NpIscsiConfParams *p = def->params;

        if (p->expect)
                return strprintf("%s = %s", def->instance, p->expect);
        return strprintf("%s >= %llu", def->instance, (unsigned long long)p->min.value);
}

/* The line to write into iscsid.conf (with the spaces iscsid insists on). */
static char *setting_line(const NpCheckDef *def)
{
        const NpIscsiConfParams *p = def->params;

        if (p->expect)
                return strprintf("%s = %s", def->instance, p->expect);
        return strprintf("%s = %llu", def->instance, (unsigned long long)p->min.value);
}

/* "line N: problem" for every rejected line about key, and a count of unattributed ones. */
static char *problems_for(const NpIscsiRecord *rec, const char *key)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t anonymous = 0;

        if (!l)
                return NULL;
        FOREACH_ARRAY (p, rec->problems, rec->n_problems)
                if (!p->key)
                        anonymous++;
        if (anonymous > 0 &&
            strv_consume(&l, strprintf("%zu line(s) of the file are not read as settings by "
                                       "iscsid (too long, no newline or binary; see "
                                       "nodeprepctl facts)",
                                       anonymous)) < 0)
                return NULL;
        FOREACH_ARRAY (p, rec->problems, rec->n_problems)
                if (p->key && (streq(p->key, key) ||
                               (streq(key, "node.conn[0].iscsi.MaxRecvDataSegmentLength") &&
                                streq(p->key, "node.session.iscsi.MaxRecvDataSegmentLength"))))
                        if (strv_consume(&l, strprintf("line %u: %s", p->line, p->problem)) < 0)
                                return NULL;
        return strv_join(l, "; ");
}

static int run_conf(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpIscsiFacts *i = &ctx->facts->iscsi;
        const NpIscsiConfParams *p = def->params;
        const char *key = def->instance;
        const NpKeyValue *kv;
        _cleanup_free_ char *expected = expected_text(def), *line = setting_line(def),
                            *shown = NULL, *observed = NULL, *problems = NULL;
        const char *value;
        bool ok;
        int k;

        if (!expected || !line)
                return -ENOMEM;
        if (i->conf_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s", i->conf_unknown);
        if (!i->conf_present && !i->iscsiadm_path) {
                k = np_result_set(r, NP_STATUS_FAIL, "no " ISCSID_CONF, expected,
                                  ISCSID_CONF " does not exist and open-iscsi is not installed");
                if (k < 0)
                        return k;
                return np_result_remedy(r, "install open-iscsi, then set \"%s\" in " ISCSID_CONF,
                                        line);
        }
        if (!i->conf_present) {
                /* open-iscsi is installed: iscsid and iscsiadm use their built-in defaults. */
                value = iscsi_default(key);
                if (!value)
                        return np_result_set(r, NP_STATUS_UNKNOWN, "no " ISCSID_CONF, expected,
                                             "without " ISCSID_CONF " iscsid uses its built-in "
                                             "default for %s, which nodeprep does not know",
                                             key);
                ok = value_meets(def, key, value, &shown);
                if (!shown)
                        return -ENOMEM;
                observed = strprintf("%s (no " ISCSID_CONF "; iscsid's built-in default)", shown);
                if (!observed)
                        return -ENOMEM;
                if (ok && i->start_fails)
                        /* iscsid does not start here at all, with the file or without it. */
                        return np_result_set(r, NP_STATUS_PASS, observed, expected,
                                             "new discoveries get iscsid's default %s = %s, but "
                                             "iscsid does not start on this host: %s",
                                             key, shown, i->start_fails);
                if (ok && i->start_requires_conf)
                        /* True of iscsid's defaults, but this host's iscsid will not run: say so
                         * (unit.active:iscsid fails on it). */
                        return np_result_set(
                            r, NP_STATUS_PASS, observed, expected,
                            "new discoveries get iscsid's default %s = %s, but "
                            "iscsid does not start on this host without " ISCSID_CONF ": %s",
                            key, shown, i->start_requires_conf);
                if (ok && i->start_unknown)
                        /* The defaults hold; whether iscsid runs here is what is not known. */
                        return np_result_set(
                            r, NP_STATUS_PASS, observed, expected,
                            "new discoveries get iscsid's default %s = %s, but whether iscsid "
                            "starts on this host without " ISCSID_CONF " is unknown: %s",
                            key, shown, i->start_unknown);
                if (ok)
                        return np_result_set(r, NP_STATUS_PASS, observed, expected,
                                             "new discoveries get iscsid's default %s = %s", key,
                                             shown);
                k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                  "without " ISCSID_CONF " new discoveries get iscsid's default "
                                  "%s = %s",
                                  key, shown);
                return k < 0 ? k : np_result_remedy(r, "add \"%s\" to " ISCSID_CONF, line);
        }

        kv = np_key_values_get(i->conf.settings, i->conf.n_settings, key);
        value = kv ? kv->value : iscsi_default(key);
        problems = problems_for(&i->conf, key);
        if (!problems)
                return -ENOMEM;
        if (!value) {
                k = np_result_set(r, NP_STATUS_FAIL, "not set", expected, "%s is not set in %s%s%s",
                                  key, ISCSID_CONF, isempty(problems) ? "" : "; ", problems);
                return k < 0 ? k : np_result_remedy(r, "add \"%s\" to " ISCSID_CONF, line);
        }
        ok = value_meets(def, key, value, &shown);
        if (!shown)
                return -ENOMEM;
        observed = kv ? strprintf("%s (" ISCSID_CONF ":%u)", shown, kv->line)
                      : strprintf("%s (not set; iscsid's default)", shown);
        if (!observed)
                return -ENOMEM;
        /* New records copy node.conn[0].startup too, and iscsiadm --loginall=automatic (the
         * boot-time login) takes a record when either startup key says automatic
         * (match_startup_mode() in open-iscsi's usr/iscsiadm.c). */
        if (ok && streq(key, "node.startup") && streq_ptr(p->expect, "manual")) {
                const NpKeyValue *c =
                    np_key_values_get(i->conf.settings, i->conf.n_settings, "node.conn[0].startup");

                if (c && !streq(c->value, "manual")) {
                        _cleanup_free_ char *both =
                            strprintf("%s, but node.conn[0].startup = %s (" ISCSID_CONF ":%u)",
                                      observed, c->value, c->line);

                        if (!both)
                                return -ENOMEM;
                        k = np_result_set(r, NP_STATUS_FAIL, both, expected,
                                          "targets discovered from now on get "
                                          "node.conn[0].startup = %s, and iscsiadm "
                                          "--loginall=%s logs them in at boot",
                                          c->value, c->value);
                        return k < 0 ? k
                                     : np_result_remedy(r,
                                                        "set \"node.conn[0].startup = manual\" on "
                                                        "line %u of " ISCSID_CONF,
                                                        c->line);
                }
        }
        if (ok && (i->start_fails || i->start_unknown))
                return np_result_set(r, NP_STATUS_PASS, observed, expected,
                                     "new discoveries get %s = %s%s%s, but %s on this host: %s",
                                     key, shown, isempty(problems) ? "" : "; note: ", problems,
                                     i->start_fails ? "iscsid does not start"
                                                    : "whether iscsid starts is unknown",
                                     i->start_fails ?: i->start_unknown);
        if (ok)
                return np_result_set(r, NP_STATUS_PASS, observed, expected,
                                     "new discoveries get %s = %s%s%s", key, shown,
                                     isempty(problems) ? "" : "; note: ", problems);
        k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                          "targets discovered from now on get %s = %s%s%s", key, shown,
                          isempty(problems) ? "" : "; ", problems);
        if (k < 0)
                return k;
        if (streq(key, "node.startup") && streq_ptr(p->expect, "manual")) {
                const NpKeyValue *c =
                    np_key_values_get(i->conf.settings, i->conf.n_settings, "node.conn[0].startup");

                if (c && !streq(c->value, "manual")) {
                        _cleanup_free_ char *where =
                            kv ? strprintf("on line %u", kv->line) : strdup("(a new line)");

                        return where ? np_result_remedy(r,
                                                        "set \"%s\" %s and \"node.conn[0].startup "
                                                        "= manual\" on line %u of " ISCSID_CONF
                                                        " (iscsid needs the space before '=')",
                                                        line, where, c->line)
                                     : -ENOMEM;
                }
        }
        if (kv)
                return np_result_remedy(r,
                                        "set \"%s\" on line %u of " ISCSID_CONF
                                        " (iscsid needs the space before '=')",
                                        line, kv->line);
        return np_result_remedy(r, "add \"%s\" to " ISCSID_CONF, line);
}

static int request_conf(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)def, (void)s;
        req->iscsi = true;
        return 0;
}

/* --- iscsi.node-records --------------------------------------------------------------------- */

static int request_nodes(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)def, (void)s;
        req->iscsi = true;
        req->iscsi_nodes = true;
        return 0;
}

/* Why a record disagrees with one iscsi.conf check of the profile, or NULL if it agrees. */
static char *record_disagrees(const NpIscsiRecord *rec, const NpCheckDef *conf)
{
        const NpIscsiConfParams *p = conf->params;
        const char *key = conf->instance;
        const NpKeyValue *kv = np_key_values_get(rec->settings, rec->n_settings, key);
        const char *value = kv ? kv->value : iscsi_default(key);
        _cleanup_free_ char *shown = NULL;

        if (!value)
                return p->expect ? strprintf("%s not set", key) : NULL;
        if (!value_meets(conf, key, value, &shown))
                return strprintf("%s = %s", key, strna(shown));
        /* --loginall=automatic logs a record in when either startup key says automatic. */
        if (streq(key, "node.startup") && p->expect && streq(p->expect, "manual")) {
                const NpKeyValue *c =
                    np_key_values_get(rec->settings, rec->n_settings, "node.conn[0].startup");
                if (c && !streq(c->value, "manual"))
                        return strprintf("node.conn[0].startup = %s", c->value);
        }
        return strdup("");
}

/* The iscsiadm command that makes one record agree with one setting. */
static char *update_command(const NpIscsiNode *node, const NpCheckDef *c, const char *why)
{
        const NpIscsiConfParams *p = c->params;
        const char *key =
            startswith(why, "node.conn[0].startup") ? "node.conn[0].startup" : c->instance;
        /* The legacy layout has no tpgt in the directory name; iscsiadm takes address,port. */
        _cleanup_free_ char *portal = strndup(node->portal, strcspn(node->portal, ","));
        const char *comma = strchr(node->portal, ',');
        _cleanup_free_ char *port = comma ? strndup(comma + 1, strcspn(comma + 1, ",")) : NULL;

        if (!portal || (comma && !port))
                return NULL;
        if (p->expect)
                return strprintf("iscsiadm -m node -T %s -p %s%s%s -o update -n %s -v %s",
                                 node->target, portal, port ? ":" : "", strempty(port), key,
                                 p->expect);
        return strprintf("iscsiadm -m node -T %s -p %s%s%s -o update -n %s -v %llu", node->target,
                         portal, port ? ":" : "", strempty(port), key,
                         (unsigned long long)p->min.value);
}

static int run_nodes(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        const NpIscsiFacts *i = &ctx->facts->iscsi;
        _cleanup_strv_free_ char **bad = NULL, **fixes = NULL, **wanted = NULL;
        _cleanup_free_ char *expected = NULL, *observed = NULL, *list = NULL;
        size_t n_conf = 0;
        (void)def;

        FOREACH_ARRAY (c, ctx->profile->checks, ctx->profile->n_checks)
                if (c->type == &np_check_iscsi_conf) {
                        _cleanup_free_ char *e = expected_text(c);

                        if (!e || strv_extend(&wanted, e) < 0)
                                return -ENOMEM;
                        n_conf++;
                }
        if (n_conf == 0)
                return np_result_set(r, NP_STATUS_SKIP, NULL, NULL,
                                     "the profile has no iscsi.conf check to compare with");
        expected = strv_join(wanted, ", ");
        if (!expected)
                return -ENOMEM;
        if (i->nodes_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s", i->nodes_unknown);
        if (i->n_nodes == 0)
                return np_result_set(r, NP_STATUS_PASS, "no discovered targets", expected,
                                     "the iSCSI node database is empty");

        FOREACH_ARRAY (node, i->nodes, i->n_nodes) {
                _cleanup_strv_free_ char **whys = NULL;
                _cleanup_free_ char *joined = NULL;

                if (node->unknown)
                        return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s",
                                             node->unknown);
                FOREACH_ARRAY (c, ctx->profile->checks, ctx->profile->n_checks) {
                        _cleanup_free_ char *why = NULL;

                        if (c->type != &np_check_iscsi_conf)
                                continue;
                        why = record_disagrees(&node->record, c);
                        if (!why)
                                return -ENOMEM;
                        if (isempty(why))
                                continue;
                        if (strv_extend(&whys, why) < 0 ||
                            strv_consume(&fixes, update_command(node, c, why)) < 0)
                                return -ENOMEM;
                }
                if (strv_length(whys) == 0)
                        continue;
                joined = strv_join(whys, ", ");
                if (!joined || strv_consume(&bad, strprintf("%s (%s)", node->path, joined)) < 0)
                        return -ENOMEM;
        }
        if (strv_length(bad) == 0) {
                observed = strprintf("%zu record(s) agree", i->n_nodes);
                return observed ? np_result_set(r, NP_STATUS_PASS, observed, expected,
                                                "every discovered target agrees with the "
                                                "iscsid.conf settings")
                                : -ENOMEM;
        }
        list = strv_join(bad, "; ");
        observed = strprintf("%zu of %zu record(s) disagree: %s", strv_length(bad), i->n_nodes,
                             strna(list));
        if (!list || !observed)
                return -ENOMEM;
        {
                _cleanup_free_ char *cmds = strv_join(fixes, "; ");
                int k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                                      "iscsid.conf only seeds new discoveries; these targets "
                                      "keep their own settings");
                if (k < 0 || !cmds)
                        return k < 0 ? k : -ENOMEM;
                return np_result_remedy(r, "%s", cmds);
        }
}

const NpCheckType np_check_iscsi_installed = {
        .name = "iscsi.installed",
        .default_title = "open-iscsi is installed",
        .request = request_iscsi,
        .run = run_installed,
        .fix = "package-install",
};

const NpCheckType np_check_iscsi_conf = {
        .name = "iscsi.conf",
        .instance = true,
        .what = "an iscsid.conf key",
        NP_CHECK_PARAMS(conf_params, NpIscsiConfParams),
        .default_title = "iscsid.conf setting",
        .verify_instance = verify_conf_key,
        .verify = verify_conf,
        .request = request_conf,
        .run = run_conf,
        .fix = "iscsid-conf-set",
};

const NpCheckType np_check_iscsi_node_records = {
        .name = "iscsi.node-records",
        .default_title = "Discovered iSCSI targets agree with iscsid.conf",
        .request = request_nodes,
        .run = run_nodes,
        .fix = "iscsi-node-update",
};
