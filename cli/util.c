/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodeprepctl helpers shared by the verbs. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
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

int open_root(const Args *a, NpRoot **ret)
{
        int r = np_root_new(a->root, ret);

        if (r < 0)
                return error_exit(EXIT_USAGE, "--root %s: %s", strna(a->root), strerror(-r));
        return 0;
}

