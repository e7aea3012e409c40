/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodeprepctl helpers shared by the verbs. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "evaluate.h"
#include "report/report.h"
#include "util/strv.h"

void args_done(Args *a)
{
        strv_free(a->args);
        strv_free(a->profiles);
        strv_free(a->sets);
        strv_free(a->only);
}

int error_exit(int code, const char *fmt, ...)
{
        va_list ap;

        fputs("nodeprepctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return code;
}

bool use_color(const Args *a)
{
        const char *term = getenv("TERM");

        return !a->no_color && !getenv("NO_COLOR") && isatty(STDOUT_FILENO) &&
               !streq_ptr(term, "dumb");
}

int print_json(json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        puts(s);
        return fflush(stdout) == 0 ? 0 : -errno;
}

int print_json_built(int r, json_object **o)
{
        if (r >= 0)
                r = print_json(*o);
        json_object_put(*o);
        *o = NULL;
        return r;
}

int print_text(char *text)
{
        _cleanup_free_ char *t = text;

        if (!t)
                return -ENOMEM;
        return fputs(t, stdout) < 0 ? -EIO : 0;
}

int load_config(const Args *a, const NpRoot *root, NpConfig **ret)
{
        _cleanup_free_ char *error = NULL;
        NpConfigError kind;
        int r;

        r = np_config_load(root, a->config, a->profiles, a->sets, ret, &kind, &error);
        if (r == -ENOMEM)
                return error_exit(EXIT_SOFTWARE, "out of memory");
        if (r < 0)
                return error_exit(kind == NP_CONFIG_USAGE ? EXIT_USAGE : EXIT_CONFIG, "%s",
                                  error ? error : strerror(-r));
        STRV_FOREACH (w, (*ret)->warnings)
                fprintf(stderr, "nodeprepctl: warning: %s\n", *w);
        return 0;
}

int evaluate_local(const Args *a, NpReport **ret)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        _cleanup_(np_config_freep) NpConfig *config = NULL;
        int r;

        r = open_root_config(a, &root, &config);
        if (r != 0)
                return r;
        r = np_evaluate(root, config, np_now_usec(), ret);
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "evaluation failed: %s", strerror(-r));
        return 0;
}

int open_root_config(const Args *a, NpRoot **ret_root, NpConfig **ret_config)
{
        int r = open_root(a, ret_root);

        return r != 0 ? r : load_config(a, *ret_root, ret_config);
}

int open_root(const Args *a, NpRoot **ret)
{
        int r = np_root_new(a->root, ret);

        if (r < 0)
                return error_exit(EXIT_USAGE, "--root %s: %s", strna(a->root), strerror(-r));
        return 0;
}

static const char *const format_table[_FORMAT_MAX] = {
        [FORMAT_TEXT] = "text",   [FORMAT_JSON] = "json",     [FORMAT_TAP] = "tap",
        [FORMAT_JUNIT] = "junit", [FORMAT_NAGIOS] = "nagios", [FORMAT_NPD] = "npd",
};

OutputFormat output_format_from_string(const char *s)
{
        for (OutputFormat f = 0; f < _FORMAT_MAX; f++)
                if (streq(s, format_table[f]))
                        return f;
        return _FORMAT_INVALID;
}

int print_report(const Args *a, const NpReport *report)
{
        _cleanup_free_ char *text = NULL;
        int code = np_report_exit_code(report), r;

        switch (a->format) {
        case FORMAT_JSON: {
                json_object *o = NULL;

                r = print_json_built(np_report_to_json(report, a->facts, &o), &o);
                if (r < 0)
                        return error_exit(EXIT_SOFTWARE, "cannot print the report: %s",
                                          strerror(-r));
                return code;
        }
        case FORMAT_TAP:
                text = np_report_to_tap(report);
                break;
        case FORMAT_JUNIT:
                text = np_report_to_junit(report);
                break;
        case FORMAT_NAGIOS:
                text = np_report_to_nagios(report, &code);
                break;
        case FORMAT_NPD: {
                _cleanup_free_ char *line = np_report_to_npd(report, 80);

                text = line ? strprintf("%s\n", line) : NULL;
                break;
        }
        default:
                text = np_report_to_text(report, use_color(a), a->verbose);
        }
        if (!text)
                return error_exit(EXIT_SOFTWARE, "out of memory");
        if (fputs(text, stdout) < 0 || fflush(stdout) != 0)
                return error_exit(EXIT_SOFTWARE, "cannot print the report: %m");
        return code;
}
