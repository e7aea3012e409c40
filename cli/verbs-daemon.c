/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodeprepctl status, watch and call: ask nodeprepd over its Varlink socket. */

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "evaluate.h"
#include "report/report.h"
#include "util/json-util.h"
#include "util/strv.h"
#include "varlink/client.h"

#define SOCKET_DEFAULT "/run/nodeprep/io.nodeprep"
/* The first call after socket activation waits for the first evaluation. */
#define CALL_TIMEOUT_USEC (60ULL * 1000000ULL)

static const char *socket_path(const Args *a)
{
        const char *env = getenv("NODEPREP_SOCKET");

        /* NODEPREP_SOCKET= (empty) is unset, as in a script whose variable is not set. */
        return a->socket ? a->socket : !isempty(env) ? env : SOCKET_DEFAULT;
}

int connect_daemon(const Args *a, NpVarlinkClient **ret)
{
        const char *path = socket_path(a);
        int r = np_varlink_client_connect(path, ret);

        if (r == -ENOMEM)
                return error_exit(EXIT_SOFTWARE, "out of memory");
        if (r < 0)
                return error_exit(EXIT_UNAVAILABLE,
                                  "cannot reach nodeprepd at %s: %s\n"
                                  "Is it running? (systemctl start nodeprep.socket)\n"
                                  "`nodeprepctl check` evaluates this host without the daemon.",
                                  path, strerror(-r));
        return 0;
}

int call_daemon(const Args *a, const char *method, json_object *params, uint64_t timeout_usec,
                NpVarlinkClient **c, NpVarlinkReplyMessage *m)
{
        _cleanup_free_ char *error = NULL;
        int r = connect_daemon(a, c);

        if (r != 0)
                return r;
        r = np_varlink_client_call(*c, method, params, timeout_usec, m, &error);
        if (r < 0)
                return error_exit(EXIT_UNAVAILABLE, "nodeprepd at %s did not answer %s: %s",
                                  socket_path(a), method, error ? error : strerror(-r));
        return m->error ? daemon_error(m) : 0;
}

static json_object *profiles_params(const Args *a, bool facts)
{
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();

        if (!p || (a->profiles && json_add_strv(p, "profiles", a->profiles) < 0) ||
            (facts && json_add_bool(p, "facts", true) < 0))
                return NULL;
        return TAKE_PTR(p);
}

/* A Varlink error from the daemon, as an exit code and a message. */
int daemon_error(const NpVarlinkReplyMessage *m)
{
        json_object *p = m->parameters;
        const char *message = json_object_get_string(json_object_object_get(p, "message"));

        if (streq(m->error, "io.nodeprep.ConfigurationError"))
                return error_exit(EXIT_CONFIG, "nodeprepd has no usable configuration: %s",
                                  strna(message));
        if (streq(m->error, "io.nodeprep.PermissionDenied"))
                return error_exit(EXIT_REFUSED, "nodeprepd refused: the method changes the host "
                                                "and needs root");
        if (streq(m->error, "io.nodeprep.NoSuchChange"))
                return error_exit(EXIT_USAGE, "%s", strna(message));
        if (streq(m->error, "io.nodeprep.BadJournal"))
                return error_exit(EXIT_CONFIG, "%s", strna(message));
        if (streq(m->error, "io.nodeprep.Busy"))
                return error_exit(EXIT_TEMPFAIL, "%s", strna(message));
        if (streq(m->error, "io.nodeprep.NoSuchProfile") && message)
                return error_exit(EXIT_USAGE, "%s", message);
        if (streq(m->error, "io.nodeprep.NoSuchProfile"))
                return error_exit(
                    EXIT_USAGE,
                    "nodeprepd does not evaluate profile \"%s\" (it evaluates: %s)\n"
                    "Add it to Profiles= in /etc/nodeprep/nodeprep.conf, or run "
                    "`nodeprepctl check --profile %s`.",
                    json_object_get_string(json_object_object_get(p, "profile")),
                    json_object_to_json_string(json_object_object_get(p, "configured")),
                    json_object_get_string(json_object_object_get(p, "profile")));
        return error_exit(EXIT_SOFTWARE, "nodeprepd answered %s %s", m->error,
                          json_object_to_json_string(p));
}

static int print_daemon_report(const Args *a, json_object *params, bool json_lines)
{
        json_object *report = json_object_object_get(params, "report");
        _cleanup_(np_report_freep) NpReport *rep = NULL;
        const char *config_error;
        int r;

        r = np_report_from_json(report, &rep);
        if (r < 0)
                return error_exit(EXIT_SOFTWARE,
                                  "nodeprepd sent a report this client cannot "
                                  "read (%s)",
                                  strerror(-r));
        if (a->format != FORMAT_TEXT && a->format != FORMAT_JSON)
                return print_report(a, rep); /* tap, junit, nagios, npd: as `check` prints them */
        if (a->json) {
                if (json_lines) {
                        puts(json_object_to_json_string_ext(
                            report, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                        fflush(stdout);
                } else if (print_json(report) < 0)
                        return error_exit(EXIT_SOFTWARE, "cannot print the report");
        } else {
                _cleanup_free_ char *text = np_report_to_text(rep, use_color(a), a->verbose);
                json_object *ev = json_object_object_get(params, "evaluation");

                if (!text)
                        return error_exit(EXIT_SOFTWARE, "out of memory");
                fputs(text, stdout);
                if (ev)
                        printf("(nodeprepd, evaluated at %s)\n",
                               strna(json_object_get_string(
                                   json_object_object_get(ev, "finished_at"))));
                config_error =
                    json_object_get_string(json_object_object_get(report, "config_error"));
                if (config_error)
                        printf("\nConfiguration error: %s\n"
                               "nodeprepd keeps using its last good configuration.\n",
                               config_error);
                fflush(stdout);
        }
        return np_report_exit_code(rep);
}

/* node-problem-detector reads only stdout and the exit code: 2 is its "Unknown". */
static int npd_unknown(const char *fmt, ...) _printf_(1, 2);
static int npd_unknown(const char *fmt, ...)
{
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        text = strvprintf(fmt, ap);
        va_end(ap);
        printf("%.80s\n", text ? text : "nodeprep: out of memory");
        return EXIT_UNDECIDED;
}

int verb_status(const Args *a)
{
        _cleanup_(np_varlink_client_freep) NpVarlinkClient *c = NULL;
        _cleanup_(np_varlink_reply_message_done) NpVarlinkReplyMessage m = {};
        _cleanup_(json_object_putp) json_object *params = profiles_params(a, a->facts);
        _cleanup_free_ char *error = NULL;
        int r;

        if (!params)
                return error_exit(EXIT_SOFTWARE, "out of memory");
        if (a->format == FORMAT_NPD) {
                r = np_varlink_client_connect(socket_path(a), &c);
                if (r < 0)
                        return npd_unknown("nodeprep: cannot reach nodeprepd: %s", strerror(-r));
                r = np_varlink_client_call(c, "io.nodeprep.GetReport", params, CALL_TIMEOUT_USEC,
                                           &m, &error);
                if (r < 0)
                        return npd_unknown("nodeprep: nodeprepd did not answer: %s",
                                           error ? error : strerror(-r));
                if (m.error)
                        return npd_unknown("nodeprep: nodeprepd: %s", m.error);
                return print_daemon_report(a, m.parameters, false);
        }
        r = call_daemon(a, "io.nodeprep.GetReport", params, CALL_TIMEOUT_USEC, &c, &m);
        return r != 0 ? r : print_daemon_report(a, m.parameters, false);
}

int verb_watch(const Args *a)
{
        _cleanup_(np_varlink_client_freep) NpVarlinkClient *c = NULL;
        _cleanup_(json_object_putp) json_object *params = profiles_params(a, a->facts);
        bool first = true;
        int r;

        if (!params)
                return error_exit(EXIT_SOFTWARE, "out of memory");
        r = connect_daemon(a, &c);
        if (r != 0)
                return r;
        r = np_varlink_client_send(c, "io.nodeprep.Watch", params, NP_VARLINK_CALL_MORE);
        if (r < 0)
                return error_exit(EXIT_UNAVAILABLE, "cannot talk to nodeprepd: %s", strerror(-r));
        for (;;) {
                _cleanup_(np_varlink_reply_message_done) NpVarlinkReplyMessage m = {};
                _cleanup_free_ char *error = NULL;

                r = np_varlink_client_read(c, UINT64_MAX, &m, &error);
                if (r < 0)
                        return error_exit(EXIT_UNAVAILABLE, "nodeprepd closed the stream: %s",
                                          error ? error : strerror(-r));
                if (m.error)
                        return daemon_error(&m);
                if (!a->json && !first)
                        printf("\n");
                first = false;
                (void)print_daemon_report(a, m.parameters, true);
                if (!m.continues)
                        return 0;
        }
}

int verb_call(const Args *a)
{
        _cleanup_(np_varlink_client_freep) NpVarlinkClient *c = NULL;
        _cleanup_(json_object_putp) json_object *params = NULL;
        const char *method = a->args ? a->args[0] : NULL;
        unsigned flags = a->more ? NP_VARLINK_CALL_MORE : 0;
        int r;

        if (!method || !np_varlink_method_name_valid(method))
                return error_exit(EXIT_USAGE,
                                  "call: expected METHOD (interface.Method, e.g. "
                                  "io.nodeprep.GetReport), got \"%s\"",
                                  strna(method));
        if (a->args[1]) {
                enum json_tokener_error e;

                params = json_tokener_parse_verbose(a->args[1], &e);
                if (!params || !json_object_is_type(params, json_type_object))
                        return error_exit(EXIT_USAGE, "call: parameters must be a JSON object: %s",
                                          params ? "not an object" : json_tokener_error_desc(e));
        }
        r = connect_daemon(a, &c);
        if (r != 0)
                return r;
        r = np_varlink_client_send(c, method, params, flags);
        if (r < 0)
                return error_exit(EXIT_UNAVAILABLE, "cannot talk to nodeprepd: %s", strerror(-r));
        for (;;) {
                _cleanup_(np_varlink_reply_message_done) NpVarlinkReplyMessage m = {};
                _cleanup_free_ char *error = NULL;

                r = np_varlink_client_read(c, a->more ? UINT64_MAX : CALL_TIMEOUT_USEC, &m, &error);
                if (r < 0)
                        return error_exit(EXIT_UNAVAILABLE, "no reply from nodeprepd: %s",
                                          error ? error : strerror(-r));
                if (m.error) {
                        fprintf(stderr, "%s\n", m.error);
                        fprintf(stderr, "%s\n",
                                json_object_to_json_string_ext(m.parameters,
                                                               JSON_C_TO_STRING_PRETTY |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
                        return 1;
                }
                if (print_json(m.parameters) < 0)
                        return error_exit(EXIT_SOFTWARE, "cannot print the reply");
                if (!m.continues)
                        return 0;
        }
}

/* `metrics`: nodeprepd's metrics, or with --local those of one evaluation in this process. */
static int metrics_local(const Args *a)
{
        _cleanup_(np_report_freep) NpReport *report = NULL;
        _cleanup_free_ char *text = NULL;
        uint64_t start = np_now_usec();
        NpMetricsCounters c = {};
        int r;

        r = evaluate_local(a, &report);
        if (r != 0)
                return r;
        c.evaluations = 1;
        c.last_evaluation_usec = np_now_usec();
        c.last_duration_usec = c.last_evaluation_usec - MIN(start, c.last_evaluation_usec);
        text = np_report_to_metrics(report, &c);
        if (!text)
                return error_exit(EXIT_SOFTWARE, "out of memory");
        fputs(text, stdout);
        return 0;
}

int verb_metrics(const Args *a)
{
        _cleanup_(np_varlink_client_freep) NpVarlinkClient *c = NULL;
        _cleanup_(np_varlink_reply_message_done) NpVarlinkReplyMessage m = {};
        json_object *text;
        int r;

        if (a->local)
                return metrics_local(a);
        if (a->root || a->config || a->sets || a->profiles)
                return error_exit(EXIT_USAGE, "--profile, --root, --config and --set go with "
                                              "--local: nodeprepd uses its own configuration");
        r = call_daemon(a, "io.nodeprep.GetMetrics", NULL, CALL_TIMEOUT_USEC, &c, &m);
        if (r != 0)
                return r;
        if (!json_object_object_get_ex(m.parameters, "text", &text) ||
            !json_object_is_type(text, json_type_string))
                return error_exit(EXIT_SOFTWARE, "nodeprepd's GetMetrics reply has no text");
        fputs(json_object_get_string(text), stdout);
        return 0;
}
