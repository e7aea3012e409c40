/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cluster verdict for people and as JSON (nodeprepctl cluster [--json]). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/cluster.h"
#include "util/json-util.h"
#include "util/strv.h"

#define ANSI_RED    "\033[1;31m"
#define ANSI_YELLOW "\033[1;33m"
#define ANSI_GREEN  "\033[32m"
#define ANSI_RESET  "\033[0m"

static const char *verdict_text(NpClusterVerdict v)
{
        return v == NP_CLUSTER_READY       ? "READY"
               : v == NP_CLUSTER_UNDECIDED ? "UNDECIDED"
                                           : "NOT READY";
}

static const char *verdict_color(NpClusterVerdict v)
{
        return v == NP_CLUSTER_READY       ? ANSI_GREEN
               : v == NP_CLUSTER_UNDECIDED ? ANSI_YELLOW
                                           : ANSI_RED;
}

/* "pass", "FAIL", "unknown", ...; "-" where the host's report has no such check; "*" when the
 * site file ignores it there. */
static void cell_text(const NpClusterRow *row, size_t host, char *buf, size_t size)
{
        NpStatus s = row->status[host];

        snprintf(buf, size, "%s%s",
                 s < 0                 ? "-"
                 : s == NP_STATUS_FAIL ? "FAIL"
                                       : np_status_to_string(s),
                 row->ignored[host] ? "*" : "");
}

static bool column_shown(const NpCluster *c, size_t host)
{
        FOREACH_ARRAY (row, c->rows, c->n_rows)
                if (row->status[host] >= 0 && row->status[host] != NP_STATUS_PASS)
                        return true;
        return false;
}

static void print_matrix(FILE *f, const NpCluster *c, bool color)
{
        size_t width = strlen("CHECK");
        bool ignored = false, absent = false;

        if (c->n_rows == 0)
                return;
        FOREACH_ARRAY (row, c->rows, c->n_rows)
                width = MAX(width, strlen(row->check) +
                                       (c->n_profiles > 1 ? strlen(row->profile) + 1 : 0));
        fprintf(f,
                "\nNot passing everywhere (checks x hosts; hosts where all pass are left "
                "out):\n  %-*s",
                (int)width, "CHECK");
        for (size_t h = 0; h < c->n_hosts; h++)
                if (column_shown(c, h))
                        fprintf(f, "  %-*s", (int)MAX(strlen(c->hosts[h].name), 8U),
                                c->hosts[h].name);
        fputc('\n', f);
        FOREACH_ARRAY (row, c->rows, c->n_rows) {
                _cleanup_free_ char *label = c->n_profiles > 1
                                                 ? strprintf("%s %s", row->profile, row->check)
                                                 : strdup(row->check);

                fprintf(f, "  %-*s", (int)width, strna(label));
                for (size_t h = 0; h < c->n_hosts; h++) {
                        size_t w = MAX(strlen(c->hosts[h].name), 8U);
                        char cell[16];

                        if (!column_shown(c, h))
                                continue;
                        cell_text(row, h, cell, sizeof(cell));
                        ignored = ignored || row->ignored[h];
                        absent = absent || row->status[h] < 0;
                        if (color && row->status[h] == NP_STATUS_FAIL && !row->ignored[h])
                                fprintf(f, "  " ANSI_RED "%-*s" ANSI_RESET, (int)w, cell);
                        else
                                fprintf(f, "  %-*s", (int)w, cell);
                }
                fputc('\n', f);
        }
        if (ignored || absent)
                fprintf(f, "  (%s%s%s)\n", ignored ? "* ignored by that host's site file" : "",
                        ignored && absent ? "; " : "", absent ? "- not in that host's report" : "");

        /* Why, for what needs a person: failures, unknowns, warnings. */
        fputc('\n', f);
        FOREACH_ARRAY (row, c->rows, c->n_rows)
                for (size_t h = 0; h < c->n_hosts; h++) {
                        NpStatus s = row->status[h];

                        if ((s == NP_STATUS_FAIL || s == NP_STATUS_UNKNOWN ||
                             s == NP_STATUS_WARN) &&
                            !row->ignored[h] && row->messages[h])
                                fprintf(f, "  %s %s %s: %s\n", c->hosts[h].name, row->check,
                                        s == NP_STATUS_FAIL ? "FAIL" : np_status_to_string(s),
                                        row->messages[h]);
                }
}

char *np_cluster_to_text(const NpCluster *c, bool color)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        FOREACH_ARRAY (p, c->profiles, c->n_profiles) {
                fprintf(f, "%s: %u of %u workers ready (at least %u needed", p->name, p->ready,
                        p->hosts, p->min_ready);
                if (p->held_back)
                        fprintf(f, "; %u more held back by a cluster finding", p->held_back);
                if (p->undecided)
                        fprintf(f, "; %u undecided", p->undecided);
                fprintf(f, "): %s%s%s\n", color ? verdict_color(p->verdict) : "",
                        verdict_text(p->verdict), color ? ANSI_RESET : "");
        }
        print_matrix(f, c, color);
        if (c->n_findings > 0)
                fprintf(f, "\nCluster findings:\n");
        FOREACH_ARRAY (x, c->findings, c->n_findings)
                fprintf(f, "  %s%s%s  %s: %s\n", color ? (x->fail ? ANSI_RED : ANSI_YELLOW) : "",
                        x->fail ? "FAIL" : "warn", color ? ANSI_RESET : "", x->kind, x->message);
        if (fclose(f) != 0)
                return mfree(buf);
        return buf;
}

/* --- JSON ------------------------------------------------------------------------------------ */

static json_object *host_to_json(const NpClusterHost *h)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                *profiles = json_object_new_object();
        const NpReport *r = h->report;

        if (!o || !profiles)
                return NULL;
        for (size_t i = 0; i < r->n_profiles; i++)
                if (json_add_bool(profiles, r->profiles[i].name, r->profiles[i].ready) < 0)
                        return NULL;
        if (ADD_ALL(json_add_str(o, "name", h->name), json_add_str(o, "origin", h->origin),
                    json_add_str(o, "hostname", r->hostname),
                    json_add_str(o, "machine_id", r->machine_id),
                    json_add_str(o, "product_uuid", r->product_uuid),
                    json_add_str(o, "kernel", r->kernel),
                    json_add_str(o, "open_iscsi_version", r->open_iscsi_version),
                    json_add_str(o, "data_cidr", r->cluster.data_cidr),
                    json_add_str(o, "data_address", r->cluster.data_address),
                    json_add_str(o, "data_interface", r->cluster.data_interface),
                    r->cluster.data_mtu ? json_add_u64(o, "data_mtu", r->cluster.data_mtu)
                                        : json_add_null(o, "data_mtu"),
                    json_add_strv(o, "peers", r->cluster.peers),
                    json_add_bool(o, "held_back", h->held_back),
                    json_add(o, "ready", TAKE_PTR(profiles))) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_object *row_to_json(const NpCluster *c, const NpClusterRow *row)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                *status = json_object_new_object(),
                                                *messages = json_object_new_object(),
                                                *ignored = json_object_new_array();

        if (!o || !status || !messages || !ignored)
                return NULL;
        for (size_t h = 0; h < c->n_hosts; h++) {
                const char *name = c->hosts[h].name;

                if (json_add_str(status, name, np_status_to_string(row->status[h])) < 0 ||
                    (row->messages[h] && json_add_str(messages, name, row->messages[h]) < 0) ||
                    (row->ignored[h] && json_array_push(ignored, json_object_new_string(name)) < 0))
                        return NULL;
        }
        if (ADD_ALL(json_add_str(o, "profile", row->profile), json_add_str(o, "check", row->check),
                    json_add(o, "status", TAKE_PTR(status)),
                    json_add(o, "ignored", TAKE_PTR(ignored)),
                    json_add(o, "messages", TAKE_PTR(messages))) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int np_cluster_to_json(const NpCluster *c, json_object **ret)
{
        _cleanup_(json_object_putp)
            json_object *o = json_object_new_object(),
                        *profiles = json_object_new_array(), *hosts = json_object_new_array(),
                        *rows = json_object_new_array(), *findings = json_object_new_array();
        int code = np_cluster_exit_code(c);

        if (!o || !profiles || !hosts || !rows || !findings)
                return -ENOMEM;
        FOREACH_ARRAY (p, c->profiles, c->n_profiles) {
                _cleanup_(json_object_putp) json_object *x = json_object_new_object();

                if (!x ||
                    ADD_ALL(json_add_str(x, "name", p->name), json_add_u64(x, "hosts", p->hosts),
                            json_add_u64(x, "ready", p->ready),
                            json_add_u64(x, "undecided", p->undecided),
                            json_add_u64(x, "held_back", p->held_back),
                            json_add_u64(x, "min_ready_nodes", p->min_ready),
                            json_add_str(x, "verdict", np_cluster_verdict_to_string(p->verdict))) <
                        0 ||
                    json_array_push(profiles, TAKE_PTR(x)) < 0)
                        return -ENOMEM;
        }
        FOREACH_ARRAY (h, c->hosts, c->n_hosts)
                if (json_array_push(hosts, host_to_json(h)) < 0)
                        return -ENOMEM;
        FOREACH_ARRAY (row, c->rows, c->n_rows)
                if (json_array_push(rows, row_to_json(c, row)) < 0)
                        return -ENOMEM;
        FOREACH_ARRAY (x, c->findings, c->n_findings) {
                _cleanup_(json_object_putp) json_object *e = json_object_new_object();

                if (!e ||
                    ADD_ALL(json_add_str(e, "severity", x->fail ? "fail" : "warn"),
                            json_add_str(e, "kind", x->kind),
                            json_add_str(e, "message", x->message),
                            json_add_strv(e, "hosts", x->hosts)) < 0 ||
                    json_array_push(findings, TAKE_PTR(e)) < 0)
                        return -ENOMEM;
        }
        if (ADD_ALL(json_add_int(o, "schema_version", 1), json_add_bool(o, "ready", code == 0),
                    json_add_str(o, "verdict",
                                 code == 0   ? "ready"
                                 : code == 1 ? "not-ready"
                                             : "undecided"),
                    json_add(o, "profiles", TAKE_PTR(profiles)),
                    json_add(o, "hosts", TAKE_PTR(hosts)),
                    json_add(o, "not_passing", TAKE_PTR(rows)),
                    json_add(o, "findings", TAKE_PTR(findings))) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}
