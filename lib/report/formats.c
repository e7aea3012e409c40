/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reports for other tools: TAP 13 and JUnit XML for CI systems (one test per check), a Nagios
 * plugin line with perfdata, and node-problem-detector's one-line custom-plugin message.
 */

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/strv.h"

/* A string as a double-quoted JSON string, which YAML reads as the same string. */
static void put_quoted(FILE *f, const char *s)
{
        json_object *o = json_object_new_string(strempty(s));
        const char *t =
            o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;

        fputs(t ? t : "\"\"", f);
        json_object_put(o);
}

/* Close an open_memstream() stream; only then is *buf final. */
static char *memstream_done(FILE *f, char **buf)
{
        if (fclose(f) != 0) {
                *buf = mfree(*buf);
                return NULL;
        }
        return *buf;
}

/* --- TAP 13 --------------------------------------------------------------------------------- */

char *np_report_to_tap(const NpReport *r)
{
        char *buf = NULL;
        size_t size = 0, n = 0, total = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (size_t p = 0; p < r->n_profiles; p++)
                total += r->profiles[p].n_results;
        fprintf(f, "TAP version 13\n1..%zu\n", total);
        for (size_t p = 0; p < r->n_profiles; p++)
                FOREACH_ARRAY (res, r->profiles[p].results, r->profiles[p].n_results) {
                        /* Only what decides readiness fails the run: skips and site-ignored
                         * checks are SKIP, recommended failures are TODO (shown, not fatal). */
                        const char *result = "ok", *directive = NULL, *why = NULL;

                        if (res->status == NP_STATUS_SKIP) {
                                directive = "SKIP";
                                why = res->message;
                        } else if (res->ignored) {
                                directive = "SKIP ignored by the site:";
                                why = res->override;
                        } else if (res->status != NP_STATUS_PASS) {
                                result = "not ok";
                                if (!np_result_counts(res)) {
                                        directive = "TODO recommended:";
                                        why = res->title;
                                }
                        }
                        fprintf(f, "%s %zu - %s %s", result, ++n, r->profiles[p].name, res->id);
                        if (directive)
                                fprintf(f, " # %s %s", directive, strempty(why));
                        fputc('\n', f);
                        if (res->status == NP_STATUS_PASS || res->status == NP_STATUS_SKIP)
                                continue;
                        fprintf(f, "  ---\n  status: %s\n  severity: %s\n",
                                np_status_to_string(res->status),
                                np_severity_to_string(res->severity));
                        fputs("  title: ", f);
                        put_quoted(f, res->title);
                        if (res->observed) {
                                fputs("\n  observed: ", f);
                                put_quoted(f, res->observed);
                        }
                        if (res->expected) {
                                fputs("\n  expected: ", f);
                                put_quoted(f, res->expected);
                        }
                        if (res->message) {
                                fputs("\n  message: ", f);
                                put_quoted(f, res->message);
                        }
                        if (res->remedy) {
                                fputs("\n  remedy: ", f);
                                put_quoted(f, res->remedy);
                        }
                        fputs("\n  ...\n", f);
                }
        return memstream_done(f, &buf);
}

/* --- JUnit XML ------------------------------------------------------------------------------ */

/* XML 1.0 text: escape markup, drop characters XML cannot carry (C0 controls but tab/LF/CR). */
static void put_xml(FILE *f, const char *s)
{
        for (const unsigned char *c = (const unsigned char *)strempty(s); *c; c++)
                switch (*c) {
                case '&':
                        fputs("&amp;", f);
                        break;
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                case '\'':
                        fputs("&apos;", f);
                        break;
                default:
                        if (*c < 0x20 && *c != '\t' && *c != '\n' && *c != '\r')
                                fputc('?', f);
                        else
                                fputc(*c, f);
                }
}

static void put_details(FILE *f, const NpResult *res)
{
        static const struct {
                const char *label;
                size_t offset;
        } fields[] = {
                { "observed", offsetof(NpResult, observed) },
                { "expected", offsetof(NpResult, expected) },
                { "message", offsetof(NpResult, message) },
                { "remedy", offsetof(NpResult, remedy) },
                { "override", offsetof(NpResult, override) },
                { "source", offsetof(NpResult, source) },
        };

        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                const char *v = *(char *const *)((const char *)res + fields[i].offset);

                if (!v)
                        continue;
                fprintf(f, "%s: ", fields[i].label);
                put_xml(f, v);
                fputc('\n', f);
        }
}

char *np_report_to_junit(const NpReport *r)
{
        _cleanup_free_ char *ts = np_format_timestamp(r->generated_at_usec);
        unsigned tests = 0, failures = 0, errors = 0, skipped = 0;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        for (size_t p = 0; p < r->n_profiles; p++)
                FOREACH_ARRAY (res, r->profiles[p].results, r->profiles[p].n_results) {
                        tests++;
                        if (res->status == NP_STATUS_SKIP || res->ignored)
                                skipped++;
                        else if (np_result_counts(res) && res->status == NP_STATUS_FAIL)
                                failures++;
                        else if (np_result_counts(res) && res->status == NP_STATUS_UNKNOWN)
                                errors++;
                }
        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        fprintf(f,
                "<testsuites name=\"nodeprep\" tests=\"%u\" failures=\"%u\" errors=\"%u\" "
                "skipped=\"%u\">\n",
                tests, failures, errors, skipped);
        for (size_t p = 0; p < r->n_profiles; p++) {
                const NpProfileReport *pr = &r->profiles[p];
                unsigned t = 0, fl = 0, er = 0, sk = 0;

                FOREACH_ARRAY (res, pr->results, pr->n_results) {
                        t++;
                        if (res->status == NP_STATUS_SKIP || res->ignored)
                                sk++;
                        else if (np_result_counts(res) && res->status == NP_STATUS_FAIL)
                                fl++;
                        else if (np_result_counts(res) && res->status == NP_STATUS_UNKNOWN)
                                er++;
                }
                fputs("  <testsuite name=\"", f);
                put_xml(f, pr->name);
                fprintf(f,
                        "\" tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" "
                        "timestamp=\"%s\" hostname=\"",
                        t, fl, er, sk, strna(ts));
                put_xml(f, r->hostname);
                fputs("\">\n", f);
                FOREACH_ARRAY (res, pr->results, pr->n_results) {
                        fputs("    <testcase classname=\"nodeprep.", f);
                        put_xml(f, pr->name);
                        fputs("\" name=\"", f);
                        put_xml(f, res->id);
                        fputs("\">\n", f);
                        if (res->status == NP_STATUS_SKIP || res->ignored) {
                                fputs("      <skipped message=\"", f);
                                put_xml(f, res->ignored ? res->override : res->message);
                                fputs("\"/>\n", f);
                        } else if (np_result_counts(res) && res->status == NP_STATUS_FAIL) {
                                fputs("      <failure type=\"fail\" message=\"", f);
                                put_xml(f, res->title);
                                fputs("\">", f);
                                put_details(f, res);
                                fputs("</failure>\n", f);
                        } else if (np_result_counts(res) && res->status == NP_STATUS_UNKNOWN) {
                                fputs("      <error type=\"unknown\" message=\"", f);
                                put_xml(f, res->message);
                                fputs("\">", f);
                                put_details(f, res);
                                fputs("</error>\n", f);
                        }
                        if (res->status != NP_STATUS_SKIP && !res->ignored) {
                                fputs("      <system-out>", f);
                                fprintf(f, "status: %s\nseverity: %s\n",
                                        np_status_to_string(res->status),
                                        np_severity_to_string(res->severity));
                                put_details(f, res);
                                fputs("</system-out>\n", f);
                        }
                        fputs("    </testcase>\n", f);
                }
                fputs("  </testsuite>\n", f);
        }
        fputs("</testsuites>\n", f);
        return memstream_done(f, &buf);
}

/* --- Nagios and node-problem-detector ---------------------------------------------------- */

/* The ids of counted checks with status s, comma-separated, across profiles. */
static char *ids_with(const NpReport *r, NpStatus s, size_t *ret_n)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return NULL;
        for (size_t p = 0; p < r->n_profiles; p++)
                FOREACH_ARRAY (res, r->profiles[p].results, r->profiles[p].n_results)
                        if (np_result_counts(res) && res->status == s &&
                            strv_extend_unique(&l, res->id) < 0)
                                return NULL;
        *ret_n = strv_length(l);
        return strv_join(l, ", ");
}

static char *profile_names(const NpReport *r)
{
        _cleanup_strv_free_ char **l = NULL;

        for (size_t p = 0; p < r->n_profiles; p++)
                if (strv_extend(&l, r->profiles[p].name) < 0)
                        return NULL;
        return strv_join(l, "+");
}

char *np_report_to_nagios(const NpReport *r, int *ret_code)
{
        _cleanup_free_ char *fails = NULL, *unknowns = NULL, *names = profile_names(r);
        size_t n_fail = 0, n_unknown = 0, n_warn = 0;
        char *buf = NULL;
        size_t size = 0;
        const char *state;
        FILE *f;

        fails = ids_with(r, NP_STATUS_FAIL, &n_fail);
        unknowns = ids_with(r, NP_STATUS_UNKNOWN, &n_unknown);
        if (!fails || !unknowns || !names)
                return NULL;
        for (size_t p = 0; p < r->n_profiles; p++)
                n_warn += r->profiles[p].summary[NP_STATUS_WARN];
        /* Nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
        if (n_fail > 0) {
                state = "CRITICAL";
                *ret_code = 2;
        } else if (n_unknown > 0) {
                state = "UNKNOWN";
                *ret_code = 3;
        } else if (n_warn > 0) {
                state = "WARNING";
                *ret_code = 1;
        } else {
                state = "OK";
                *ret_code = 0;
        }
        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        fprintf(f, "NODEPREP %s - %s: ", state, names);
        if (n_fail > 0)
                fprintf(f, "not ready, %zu failing: %s", n_fail, fails);
        else if (n_unknown > 0)
                fprintf(f, "undecided, %zu unknown: %s", n_unknown, unknowns);
        else
                fprintf(f, "ready%s", n_warn ? " with warnings" : "");
        fputs(" |", f);
        for (size_t p = 0; p < r->n_profiles; p++) {
                const NpProfileReport *pr = &r->profiles[p];

                fprintf(f, " '%s_ready'=%d;;;0;1", pr->name, pr->ready ? 1 : 0);
                for (NpStatus s = 0; s < _NP_STATUS_MAX; s++)
                        fprintf(f, " '%s_%s'=%u;;;0", pr->name, np_status_to_string(s),
                                pr->summary[s]);
        }
        fputc('\n', f);
        return memstream_done(f, &buf);
}

char *np_report_to_npd(const NpReport *r, size_t max)
{
        _cleanup_free_ char *fails = NULL, *unknowns = NULL, *names = profile_names(r),
                            *line = NULL;
        size_t n_fail = 0, n_unknown = 0;

        fails = ids_with(r, NP_STATUS_FAIL, &n_fail);
        unknowns = ids_with(r, NP_STATUS_UNKNOWN, &n_unknown);
        if (!fails || !unknowns || !names)
                return NULL;
        if (n_fail > 0)
                line = strprintf("%s not ready: %s", names, fails);
        else if (n_unknown > 0)
                line = strprintf("%s undecided: %s unknown", names, unknowns);
        else
                line = strprintf("%s ready", names);
        if (!line)
                return NULL;
        /* node-problem-detector keeps max_output_length (80) characters: cut it ourselves. */
        if (strlen(line) > max && max > 3) {
                line[max - 3] = '\0';
                return strprintf("%s...", line);
        }
        return TAKE_PTR(line);
}
