/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nodeprepctl cluster REPORT...|-: one verdict for the workers whose reports (`check --json` or
 * `status --json`, as any engine collects them) are given as files or on standard input. A file
 * or the stream may hold several reports one after the other, a JSON array of them, or Varlink
 * GetReport replies ({"report": {...}}).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "report/cluster.h"
#include "util/strv.h"

/* A report larger than this is not one of ours (a report with facts of 1000 disks is ~2 MiB). */
#define INPUT_MAX (256U << 20)

typedef struct Inputs {
        NpReport **reports;
        char **origins;
        size_t n;
} Inputs;

static void inputs_done(Inputs *in)
{
        for (size_t i = 0; i < in->n; i++)
                np_report_free(in->reports[i]);
        free(in->reports);
        strv_free(in->origins);
}

static int read_all(FILE *f, char **ret, size_t *ret_size)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&buf, &size);
        char chunk[65536];
        size_t n;

        if (!m)
                return -ENOMEM;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                if (fwrite(chunk, 1, n, m) != n || size + n > INPUT_MAX) {
                        fclose(m);
                        free(buf);
                        return size + n > INPUT_MAX ? -EFBIG : -ENOMEM;
                }
        if (ferror(f)) {
                int e = errno;

                fclose(m);
                free(buf);
                return -e;
        }
        if (fclose(m) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_size = size;
        return 0;
}

/* One JSON value: a report, a GetReport reply, or an array of either. */
static int add_value(Inputs *in, json_object *o, const char *origin, char **ret_error)
{
        _cleanup_(np_report_freep) NpReport *report = NULL;
        NpReport **reports;
        json_object *inner;
        int r;

        if (json_object_is_type(o, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(o); i++) {
                        r = add_value(in, json_object_array_get_idx(o, i), origin, ret_error);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (json_object_is_type(o, json_type_object) &&
            json_object_object_get_ex(o, "report", &inner) && !json_object_object_get(o, "host"))
                o = inner;
        r = np_report_from_json(o, &report);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_error = strprintf("%s: not a nodeprep report (schema_version 1, from "
                                       "`nodeprepctl check --json` or `status --json`)",
                                       origin);
                return -EBADMSG;
        }
        reports = reallocarray(in->reports, in->n + 1, sizeof(NpReport *));
        if (!reports)
                return -ENOMEM;
        in->reports = reports;
        if (strv_extend(&in->origins, origin) < 0)
                return -ENOMEM;
        in->reports[in->n++] = TAKE_PTR(report);
        return 0;
}

/* Every JSON value in data, one after the other (white space between). */
static int add_stream(Inputs *in, const char *name, const char *data, size_t size, char **ret_error)
{
        struct json_tokener *tok = json_tokener_new();
        size_t off = 0, before = in->n;
        unsigned count = 0;
        int r = 0;

        if (!tok)
                return -ENOMEM;
        for (;;) {
                enum json_tokener_error e;
                json_object *o;
                _cleanup_free_ char *origin = NULL;

                while (off < size && strchr(" \t\r\n", data[off]))
                        off++;
                if (off >= size)
                        break;
                json_tokener_reset(tok);
                o = json_tokener_parse_ex(tok, data + off, (int)MIN(size - off, (size_t)INT32_MAX));
                e = json_tokener_get_error(tok);
                if (!o) {
                        *ret_error =
                            strprintf("%s: %s at byte %zu", name,
                                      e == json_tokener_continue ? "the JSON ends early"
                                                                 : json_tokener_error_desc(e),
                                      off + (size_t)tok->char_offset);
                        r = -EBADMSG;
                        break;
                }
                off += (size_t)tok->char_offset;
                count++;
                origin = count > 1 || (off < size && strspn(data + off, " \t\r\n") < size - off)
                             ? strprintf("%s #%u", name, count)
                             : strdup(name);
                r = origin ? add_value(in, o, origin, ret_error) : -ENOMEM;
                json_object_put(o);
                if (r < 0)
                        break;
        }
        json_tokener_free(tok);
        if (r >= 0 && in->n == before) {
                *ret_error = strprintf("%s: no report in it", name);
                r = -EBADMSG;
        }
        return r;
}

static int read_inputs(const Args *a, Inputs *in, char **ret_error)
{
        STRV_FOREACH (arg, a->args) {
                bool is_stdin = streq(*arg, "-");
                _cleanup_free_ char *data = NULL;
                size_t size = 0;
                FILE *f = is_stdin ? stdin : fopen(*arg, "re");
                int r;

                if (!f) {
                        *ret_error = strprintf("%s: %s", *arg, strerror(errno));
                        return -errno;
                }
                r = read_all(f, &data, &size);
                if (!is_stdin)
                        fclose(f);
                if (r < 0) {
                        *ret_error = strprintf("%s: %s", is_stdin ? "standard input" : *arg,
                                               r == -EFBIG ? "larger than 256 MiB" : strerror(-r));
                        return r;
                }
                r = add_stream(in, is_stdin ? "stdin" : *arg, data, size, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

int verb_cluster(const Args *a)
{
        _cleanup_(inputs_done) Inputs in = {};
        _cleanup_(np_cluster_freep) NpCluster *c = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        if (strv_length(a->args) == 0)
                return error_exit(EXIT_USAGE, "cluster: give the workers' reports as files, or "
                                              "- to read them from standard input");
        if (strv_contains(a->args, "-") && isatty(STDIN_FILENO))
                fprintf(stderr, "nodeprepctl cluster: reading reports from the terminal "
                                "(end with Ctrl-D)\n");
        r = read_inputs(a, &in, &error);
        if (r == -ENOMEM)
                return error_exit(EXIT_SOFTWARE, "out of memory");
        if (r < 0)
                return error_exit(EXIT_CONFIG, "%s", error ? error : strerror(-r));
        r = np_cluster_analyze(in.reports, in.origins, in.n, &c);
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "%s", strerror(-r));
        if (a->json) {
                json_object *o = NULL;

                r = print_json_built(np_cluster_to_json(c, &o), &o);
        } else
                r = print_text(np_cluster_to_text(c, use_color(a)));
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "cannot print the verdict: %s", strerror(-r));
        return np_cluster_exit_code(c);
}
