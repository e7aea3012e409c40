/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The report for people: one screen, failures first, each with what to do. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/strv.h"

#define ANSI_RED    "\033[1;31m"
#define ANSI_YELLOW "\033[1;33m"
#define ANSI_GREEN  "\033[32m"
#define ANSI_GREY   "\033[2m"
#define ANSI_BOLD   "\033[1m"
#define ANSI_RESET  "\033[0m"

static const char *status_color(NpStatus s)
{
        switch (s) {
        case NP_STATUS_FAIL:
                return ANSI_RED;
        case NP_STATUS_UNKNOWN:
        case NP_STATUS_WARN:
                return ANSI_YELLOW;
        case NP_STATUS_PASS:
                return ANSI_GREEN;
        default:
                return ANSI_GREY;
        }
}

/* Order of appearance: what needs a person first. */
static const NpStatus status_order[] = {
        NP_STATUS_FAIL, NP_STATUS_UNKNOWN, NP_STATUS_WARN, NP_STATUS_PASS, NP_STATUS_SKIP,
};

static void print_detail(FILE *f, const char *label, const char *text)
{
        if (!isempty(text))
                fprintf(f, "           %-9s %s\n", label, text);
}

static void print_result(FILE *f, const NpResult *res, bool color, bool verbose)
{
        const char *st = np_status_to_string(res->status);
        bool brief = res->status == NP_STATUS_PASS || res->status == NP_STATUS_SKIP;
        char label[16];
        size_t i;

        for (i = 0; i < sizeof(label) - 1 && st[i]; i++)
                label[i] = (char)(st[i] - 'a' + 'A');
        label[i] = '\0';
        fprintf(f, "  %s%-8s%s %-44s %s%s\n", color ? status_color(res->status) : "", label,
                color ? ANSI_RESET : "", res->id, res->title,
                res->ignored ? (color ? ANSI_GREY " [ignored]" ANSI_RESET : " [ignored]") : "");
        if (brief && !verbose) {
                const char *what = res->status == NP_STATUS_SKIP ? res->message : res->observed;

                if (!isempty(what))
                        fprintf(f, "           %s%s%s\n", color ? ANSI_GREY : "", what,
                                color ? ANSI_RESET : "");
        } else {
                print_detail(f, "observed", res->observed);
                print_detail(f, "expected", res->expected);
                print_detail(f, res->status == NP_STATUS_UNKNOWN ? "why" : "detail", res->message);
                print_detail(f, "remedy", res->remedy);
                if (verbose)
                        print_detail(f, "source", res->source);
        }
        print_detail(f, "override", res->override);
}

static void print_profile(FILE *f, const NpProfileReport *p, bool color, bool verbose)
{
        const char *verdict = "READY";
        bool first = true;

        FOREACH_ARRAY (res, p->results, p->n_results)
                if (np_result_counts(res) && res->status == NP_STATUS_FAIL)
                        verdict = "NOT READY";
                else if (np_result_counts(res) && res->status == NP_STATUS_UNKNOWN &&
                         streq(verdict, "READY"))
                        verdict = "UNDECIDED";

        fprintf(f, "%s%s%s  %s%s%s  ", color ? ANSI_BOLD : "", p->name, color ? ANSI_RESET : "",
                color ? (p->ready ? ANSI_GREEN : ANSI_RED) : "", verdict, color ? ANSI_RESET : "");
        for (size_t i = 0; i < ELEMENTSOF(status_order); i++) {
                NpStatus s = status_order[i];

                if (p->summary[s] == 0)
                        continue;
                fprintf(f, "%s%u %s", first ? "" : ", ", p->summary[s], np_status_to_string(s));
                first = false;
        }
        fprintf(f, "\n");
        if (p->description)
                fprintf(f, "  %s\n", p->description);
        fprintf(f, "  profile: %s\n\n", p->source);
        for (size_t i = 0; i < ELEMENTSOF(status_order); i++)
                FOREACH_ARRAY (res, p->results, p->n_results)
                        if (res->status == status_order[i])
                                print_result(f, res, color, verbose);
        fprintf(f, "\n");
}

char *np_report_to_text(const NpReport *r, bool color, bool verbose)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        int code;

        if (!f)
                return NULL;
        fprintf(f, "%s · %s · kernel %s\n\n", strna(r->hostname),
                r->os_pretty_name ? r->os_pretty_name : strna(r->os_id), strna(r->kernel));
        STRV_FOREACH (w, r->warnings)
                fprintf(f, "%swarning:%s %s\n", color ? ANSI_YELLOW : "", color ? ANSI_RESET : "",
                        *w);
        if (strv_length(r->warnings) > 0)
                fprintf(f, "\n");
        for (size_t i = 0; i < r->n_profiles; i++)
                print_profile(f, &r->profiles[i], color, verbose);

        code = np_report_exit_code(r);
        if (code == 0)
                fprintf(f, "Verdict: READY\n");
        else if (code == 1)
                fprintf(f, "Verdict: NOT READY: a required check fails (see FAIL above)\n");
        else
                fprintf(f, "Verdict: UNDECIDED: nothing fails, but a required check could not be "
                           "decided (see UNKNOWN above)\n");
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}
