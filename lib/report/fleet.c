/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Outputs for fleet tools: the Node Feature Discovery feature file (its "local" source) and the
 * Prometheus text exposition format. Both are made from a report and its facts, and both are
 * deterministic (sorted, no timestamps in the NFD file) so that a writer can tell a change from
 * a rewrite of the same values.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check.h"
#include "report/report.h"
#include "util/strv.h"

/* Close an open_memstream() stream; only then is *buf final. */
static char *memstream_done(FILE *f, char **buf)
{
        if (fclose(f) != 0) {
                *buf = mfree(*buf);
                return NULL;
        }
        return *buf;
}

static bool is_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * The name part of a Kubernetes label key (apimachinery IsQualifiedName): at most 63 characters
 * of [-A-Za-z0-9_.], starting and ending alphanumeric. Values (IsValidLabelValue) follow the
 * same rule and may be empty.
 */
bool np_label_name_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 63 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
                return false;
        for (const char *c = s; *c; c++)
                if (!is_alnum(*c) && *c != '-' && *c != '_' && *c != '.')
                        return false;
        return true;
}

/* --- disk and link figures -------------------------------------------------------------------- */

int np_fleet_figures(const NpFacts *f, NpFleetFigures *ret)
{
        NpFleetFigures x = { .free_ssd = -1, .free_hdd = -1, .max_link_speed = -1 };

        if (f && f->disks_probed && !f->disks_unknown) {
                x.free_ssd = x.free_hdd = 0;
                FOREACH_ARRAY (d, f->disks, f->n_disks)
                        if (d->free) {
                                if (d->rotational)
                                        x.free_hdd++;
                                else
                                        x.free_ssd++;
                        }
        }
        if (f && f->links_probed && !f->links_unknown) {
                x.max_link_speed = 0;
                FOREACH_ARRAY (l, f->links, f->n_links) {
                        int64_t mbps;
                        int r = np_link_counted_speed(f, l, &mbps);

                        if (r < 0)
                                return r;
                        if (r > 0 && mbps > x.max_link_speed)
                                x.max_link_speed = mbps;
                }
        }
        *ret = x;
        return 0;
}

/* --- Node Feature Discovery ------------------------------------------------------------------- */

int np_report_to_nfd(const NpReport *r, uint64_t expiry_usec, char **ret, char ***ret_skipped)
{
        _cleanup_strv_free_ char **lines = NULL, **skipped = NULL;
        _cleanup_free_ char *text = NULL, *expiry = NULL;
        NpFleetFigures fig;
        int k;

        k = np_fleet_figures(r->facts, &fig);
        if (k < 0)
                return k;
        for (size_t p = 0; p < r->n_profiles; p++) {
                _cleanup_free_ char *name = strprintf("%s.ready", r->profiles[p].name);

                if (!name)
                        return -ENOMEM;
                if (!np_label_name_valid(name)) {
                        k = strv_extend(&skipped, name);
                        if (k < 0)
                                return k;
                        continue;
                }
                k = strv_consume(&lines, strprintf(NP_NFD_PREFIX "%s=%s", name,
                                                   r->profiles[p].ready ? "true" : "false"));
                if (k < 0)
                        return k;
        }
        if (fig.free_ssd >= 0) {
                k = strv_consume(&lines,
                                 strprintf(NP_NFD_PREFIX "free-ssd=%lld", (long long)fig.free_ssd));
                if (k >= 0)
                        k = strv_consume(&lines, strprintf(NP_NFD_PREFIX "free-hdd=%lld",
                                                           (long long)fig.free_hdd));
                if (k < 0)
                        return k;
        }
        if (fig.max_link_speed >= 0) {
                k = strv_consume(&lines, strprintf(NP_NFD_PREFIX "max-link-speed=%lld",
                                                   (long long)fig.max_link_speed));
                if (k < 0)
                        return k;
        }
        strv_sort(lines);
        text = strv_join(lines, "\n");
        if (!text)
                return -ENOMEM;
        /* NFD (source/local/local.go parseDirectives) reads time.RFC3339; the directive holds
         * for the lines after it. */
        if (expiry_usec > 0) {
                _cleanup_free_ char *ts = np_format_timestamp(expiry_usec);

                expiry = ts ? strprintf(NP_NFD_EXPIRY_PREFIX "%s\n", ts) : NULL;
                if (!expiry)
                        return -ENOMEM;
        }
        *ret = strprintf("# Node Feature Discovery labels from nodeprepd (nodeprep.conf(5), "
                         "FeatureFile=); do not edit.\n%s%s%s",
                         strempty(expiry), text, lines ? "\n" : "");
        if (!*ret)
                return -ENOMEM;
        if (strlen(*ret) > NP_NFD_MAX_SIZE) {
                *ret = mfree(*ret);
                return -EFBIG;
        }
        if (ret_skipped)
                *ret_skipped = TAKE_PTR(skipped);
        return 0;
}

int np_nfd_split_expiry(const char *text, size_t size, uint64_t *ret_expiry_usec, char **ret_rest)
{
        char *copy = strndup(text, size), *line, *end;
        struct tm tm = {};
        const char *after;
        time_t t;

        if (!copy)
                return -ENOMEM;
        *ret_expiry_usec = 0;
        *ret_rest = copy;
        for (line = copy; *line; line = end + 1) {
                end = strchrnul(line, '\n');
                if (!startswith(line, NP_NFD_EXPIRY_PREFIX)) {
                        if (!*end)
                                break;
                        continue;
                }
                after = strptime(line + strlen(NP_NFD_EXPIRY_PREFIX), "%Y-%m-%dT%H:%M:%SZ", &tm);
                if (after == end && (t = timegm(&tm)) > 0)
                        *ret_expiry_usec = (uint64_t)t * 1000000ULL;
                memmove(line, *end ? end + 1 : end, strlen(*end ? end + 1 : end) + 1);
                break;
        }
        return 0;
}

/* --- Prometheus ---------------------------------------------------------------------------------
 */

/* A label value in the exposition format: backslash, double quote and newline escaped. */
static void put_label(FILE *f, const char *name, const char *value, bool first)
{
        fprintf(f, "%s%s=\"", first ? "" : ",", name);
        for (const char *c = strempty(value); *c; c++)
                if (*c == '\\')
                        fputs("\\\\", f);
                else if (*c == '"')
                        fputs("\\\"", f);
                else if (*c == '\n')
                        fputs("\\n", f);
                else
                        fputc(*c, f);
        fputc('"', f);
}

static void put_family(FILE *f, const char *name, const char *type, const char *help)
{
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *np_report_to_metrics(const NpReport *r, const NpMetricsCounters *c)
{
        char *buf = NULL;
        size_t size = 0;
        NpFleetFigures fig;
        FILE *f;

        if (np_fleet_figures(r->facts, &fig) < 0)
                return NULL;
        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;

        put_family(f, "nodeprep_profile_ready", "gauge",
                   "1 when the host is ready for the profile (no required check fails or is "
                   "unknown), else 0.");
        for (size_t p = 0; p < r->n_profiles; p++) {
                fputs("nodeprep_profile_ready{", f);
                put_label(f, "profile", r->profiles[p].name, true);
                fprintf(f, "} %d\n", r->profiles[p].ready ? 1 : 0);
        }

        put_family(f, "nodeprep_check_status", "gauge",
                   "1 for the current status of each check of each profile, 0 for the other "
                   "statuses.");
        for (size_t p = 0; p < r->n_profiles; p++)
                FOREACH_ARRAY (res, r->profiles[p].results, r->profiles[p].n_results)
                        for (NpStatus s = 0; s < _NP_STATUS_MAX; s++) {
                                fputs("nodeprep_check_status{", f);
                                put_label(f, "profile", r->profiles[p].name, true);
                                put_label(f, "check", res->id, false);
                                put_label(f, "severity", np_severity_to_string(res->severity),
                                          false);
                                put_label(f, "status", np_status_to_string(s), false);
                                fprintf(f, "} %d\n", res->status == s ? 1 : 0);
                        }

        if (fig.free_ssd >= 0) {
                put_family(f, "nodeprep_free_disks", "gauge",
                           "Whole disks that are free (nodeprepctl facts: no partitions, "
                           "signatures, mounts, swap or holders), by kind.");
                fprintf(f, "nodeprep_free_disks{kind=\"hdd\"} %lld\n", (long long)fig.free_hdd);
                fprintf(f, "nodeprep_free_disks{kind=\"ssd\"} %lld\n", (long long)fig.free_ssd);
        }

        if (r->facts && r->facts->links_probed && !r->facts->links_unknown) {
                put_family(f, "nodeprep_link_speed_mbps", "gauge",
                           "The speed each network link reports, in Mb/s (links whose driver "
                           "reports no speed are left out).");
                FOREACH_ARRAY (l, r->facts->links, r->facts->n_links) {
                        if (l->speed_mbps < 0)
                                continue;
                        fputs("nodeprep_link_speed_mbps{", f);
                        put_label(f, "link", l->name, true);
                        fprintf(f, "} %lld\n", (long long)l->speed_mbps);
                }
                put_family(f, "nodeprep_link_up", "gauge",
                           "1 when the link is up (operstate up, or unknown with carrier), "
                           "else 0.");
                FOREACH_ARRAY (l, r->facts->links, r->facts->n_links) {
                        if (l->kind == NP_LINK_LOOPBACK)
                                continue;
                        fputs("nodeprep_link_up{", f);
                        put_label(f, "link", l->name, true);
                        fprintf(f, "} %d\n", np_link_is_up(l) ? 1 : 0);
                }
        }

        put_family(f, "nodeprep_evaluations_total", "counter",
                   "Evaluations of the host since nodeprepd started.");
        fprintf(f, "nodeprep_evaluations_total %llu\n", (unsigned long long)c->evaluations);
        put_family(f, "nodeprep_last_evaluation_timestamp_seconds", "gauge",
                   "When the last evaluation finished, in seconds since the epoch.");
        fprintf(f, "nodeprep_last_evaluation_timestamp_seconds %llu.%03llu\n",
                (unsigned long long)(c->last_evaluation_usec / 1000000),
                (unsigned long long)(c->last_evaluation_usec % 1000000 / 1000));
        put_family(f, "nodeprep_last_evaluation_duration_seconds", "gauge",
                   "How long the last evaluation took (probes and checks), in seconds.");
        fprintf(f, "nodeprep_last_evaluation_duration_seconds %llu.%06llu\n",
                (unsigned long long)(c->last_duration_usec / 1000000),
                (unsigned long long)(c->last_duration_usec % 1000000));

        put_family(f, "nodeprep_fix_applied_total", "counter",
                   "Fixes nodeprepd applied (Apply and AutoApply=), by check and result.");
        FOREACH_ARRAY (x, c->fixes, c->n_fixes) {
                fputs("nodeprep_fix_applied_total{", f);
                put_label(f, "check", x->check, true);
                put_label(f, "result", x->result, false);
                fprintf(f, "} %llu\n", (unsigned long long)x->count);
        }
        return memstream_done(f, &buf);
}

void np_metrics_counters_done(NpMetricsCounters *c)
{
        FOREACH_ARRAY (x, c->fixes, c->n_fixes) {
                free(x->check);
                free(x->result);
        }
        free(c->fixes);
        *c = (NpMetricsCounters){};
}

static int fix_count_cmp(const void *a, const void *b)
{
        const NpFixCount *x = a, *y = b;
        int k = strcmp(x->check, y->check);

        return k != 0 ? k : strcmp(x->result, y->result);
}

int np_metrics_count_fix(NpMetricsCounters *c, const char *check, const char *result)
{
        NpFixCount *n;

        FOREACH_ARRAY (x, c->fixes, c->n_fixes)
                if (streq(x->check, check) && streq(x->result, result)) {
                        x->count++;
                        return 0;
                }
        n = reallocarray(c->fixes, c->n_fixes + 1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        c->fixes = n;
        n = &c->fixes[c->n_fixes];
        *n = (NpFixCount){ .check = strdup(check), .result = strdup(result), .count = 1 };
        if (!n->check || !n->result) {
                free(n->check);
                free(n->result);
                return -ENOMEM;
        }
        c->n_fixes++;
        qsort(c->fixes, c->n_fixes, sizeof(*c->fixes), fix_count_cmp);
        return 0;
}
