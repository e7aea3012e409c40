/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The io.nodeprep Varlink interface (daemon/io.nodeprep.varlink): one vl_method_* per method, all
 * answered from the report in memory; registered in one table.
 */

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "config.h"
#include "daemon/log.h"
#include "daemon/manager.h"
#include "util/json-util.h"
#include "util/strv.h"

extern const char np_io_nodeprep_description[]; /* generated from io.nodeprep.varlink */

#define ERROR_NO_SUCH_PROFILE   "io.nodeprep.NoSuchProfile"
#define ERROR_CONFIGURATION     "io.nodeprep.ConfigurationError"
#define ERROR_PERMISSION_DENIED "io.nodeprep.PermissionDenied"
#define ERROR_INTERNAL          "io.nodeprep.InternalError"

typedef struct ReportParams {
        char **profiles;
        bool facts;
} ReportParams;

static void report_params_done(ReportParams *p)
{
        strv_free(p->profiles);
}

static const NpVarlinkField report_fields[] = {
        { "profiles", NP_VARLINK_STRV, offsetof(ReportParams, profiles), false },
        { "facts", NP_VARLINK_BOOL, offsetof(ReportParams, facts), false },
};

/* Before the first evaluation: keep the call and run it again once there is a report. */
static int defer_call(Manager *m, NpVarlinkCall *call, json_object *parameters,
                      NpVarlinkMethodFn fn)
{
        Deferred *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        *d = (Deferred){ .call = np_varlink_call_ref(call),
                         .parameters = json_object_get(parameters),
                         .fn = fn,
                         .next = m->deferred };
        m->deferred = d;
        return 0;
}

void manager_answer_deferred(Manager *m)
{
        Deferred *list = TAKE_PTR(m->deferred), *reversed = NULL;

        /* Oldest first. */
        while (list) {
                Deferred *d = list;

                list = d->next;
                d->next = reversed;
                reversed = d;
        }
        while (reversed) {
                Deferred *d = reversed;
                int r;

                reversed = d->next;
                if (!np_varlink_call_done(d->call)) {
                        r = d->fn(d->call, d->parameters, m);
                        if (r < 0 && !np_varlink_call_done(d->call))
                                (void)np_varlink_error(d->call, ERROR_INTERNAL, NULL);
                }
                np_varlink_call_unref(d->call);
                json_object_put(d->parameters);
                free(d);
        }
}

/* The error for "no report": no good configuration yet. */
static int reply_no_config(Manager *m, NpVarlinkCall *call)
{
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();

        if (!p)
                return -ENOMEM;
        json_object_object_add(
            p, "message",
            json_object_new_string(m->config_error ? m->config_error : "no configuration"));
        return np_varlink_error(call, ERROR_CONFIGURATION, p);
}

static int reply_no_such_profile(Manager *m, NpVarlinkCall *call, const char *profile)
{
        _cleanup_(json_object_putp) json_object *p = json_object_new_object(),
                                                *configured = json_object_new_array();

        if (!p || !configured)
                return -ENOMEM;
        for (size_t i = 0; m->report && i < m->report->n_profiles; i++)
                json_object_array_add(configured,
                                      json_object_new_string(m->report->profiles[i].name));
        json_object_object_add(p, "profile", json_object_new_string(profile));
        json_object_object_add(p, "configured", TAKE_PTR(configured));
        return np_varlink_error(call, ERROR_NO_SUCH_PROFILE, p);
}

/* Common start of the report methods: 1 to go on, 0 when the call was answered or deferred. */
static int report_prologue(Manager *m, NpVarlinkCall *call, json_object *parameters,
                           NpVarlinkMethodFn self)
{
        if (!m->ready_sent)
                return defer_call(m, call, parameters, self) ?: 0;
        if (!m->report) {
                int r = reply_no_config(m, call);

                return r < 0 ? r : 0;
        }
        return 1;
}

static int vl_method_get_report(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        _cleanup_(report_params_done) ReportParams p = {};
        _cleanup_free_ char *json = NULL;
        Manager *m = userdata;
        const char *bad = NULL, *unknown;
        size_t len;
        int r;

        r = np_varlink_dispatch(parameters, report_fields, ELEMENTSOF(report_fields), &p, &bad);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return np_varlink_error_invalid_parameter(call, bad);
        r = report_prologue(m, call, parameters, vl_method_get_report);
        if (r <= 0)
                return r;
        unknown = manager_unknown_profile(m, p.profiles);
        if (unknown)
                return reply_no_such_profile(m, call, unknown);

        /* The common questions are answered from whole reply messages kept per report. */
        if (!p.profiles) {
                if (!m->reply_msg[p.facts]) {
                        r = manager_report_view(m, NULL, p.facts, &json, &len, NULL);
                        if (r >= 0)
                                r = np_varlink_format_reply_raw(json, len, false,
                                                                &m->reply_msg[p.facts],
                                                                &m->reply_msg_len[p.facts]);
                        if (r < 0)
                                return r;
                }
                return np_varlink_reply_message(call, m->reply_msg[p.facts],
                                                m->reply_msg_len[p.facts]);
        }
        r = manager_report_view(m, p.profiles, p.facts, &json, &len, NULL);
        if (r < 0)
                return r;
        return np_varlink_reply_raw(call, json, len, false);
}

static int vl_method_get_facts(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();
        Manager *m = userdata;
        json_object *facts = NULL;
        const char *bad = NULL;
        int r;

        if (!p)
                return -ENOMEM;
        if (np_varlink_dispatch(parameters, NULL, 0, NULL, &bad) < 0)
                return np_varlink_error_invalid_parameter(call, bad);
        r = report_prologue(m, call, parameters, vl_method_get_facts);
        if (r <= 0)
                return r;
        r = np_facts_to_json(m->report->facts, &facts);
        if (r < 0)
                return r;
        json_object_object_add(p, "facts", facts);
        json_object_object_add(p, "evaluation", manager_evaluation_json(m));
        return np_varlink_reply(call, p);
}

static int vl_method_get_metrics(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();
        _cleanup_free_ char *text = NULL;
        Manager *m = userdata;
        const char *bad = NULL;
        int r;

        if (!p)
                return -ENOMEM;
        if (np_varlink_dispatch(parameters, NULL, 0, NULL, &bad) < 0)
                return np_varlink_error_invalid_parameter(call, bad);
        r = report_prologue(m, call, parameters, vl_method_get_metrics);
        if (r <= 0)
                return r;
        text = np_report_to_metrics(m->report, &m->counters);
        if (!text)
                return -ENOMEM;
        json_object_object_add(p, "text", json_object_new_string(text));
        return np_varlink_reply(call, p);
}

static int vl_method_list_profiles(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        _cleanup_(json_object_putp) json_object *p = json_object_new_object(),
                                                *list = json_object_new_array();
        Manager *m = userdata;
        const char *bad = NULL;

        if (!p || !list)
                return -ENOMEM;
        if (np_varlink_dispatch(parameters, NULL, 0, NULL, &bad) < 0)
                return np_varlink_error_invalid_parameter(call, bad);
        FOREACH_ARRAY (i, m->profile_infos, m->n_profile_infos) {
                json_object *o = json_object_new_object();
                bool active = false;

                for (size_t k = 0; m->config && k < m->config->n_profiles; k++)
                        active = active || streq(m->config->profiles[k]->name, i->name);
                if (json_array_push(list, o) < 0 || json_add_str(o, "name", i->name) < 0 ||
                    json_add_str(o, "description", i->description) < 0 ||
                    json_add_str(o, "path", i->path) < 0 ||
                    json_add_strv(o, "dropins", i->dropins) < 0 ||
                    json_add_str(o, "shadows", i->shadows) < 0 ||
                    json_add_str(o, "error", i->error) < 0 ||
                    json_add_bool(o, "active", active) < 0)
                        return -ENOMEM;
        }
        if (json_add(p, "profiles", TAKE_PTR(list)) < 0)
                return -ENOMEM;
        return np_varlink_reply(call, p);
}

/* --- Watch ---------------------------------------------------------------------------------- */

static void subscriber_free(Subscriber *s)
{
        np_varlink_call_unref(s->call);
        strv_free(s->profiles);
        free(s->last);
        free(s);
}

static void subscriber_gone(NpVarlinkCall *call, void *userdata)
{
        Manager *m = userdata;

        for (Subscriber **s = &m->subscribers; *s; s = &(*s)->next)
                if ((*s)->call == call) {
                        Subscriber *dead = *s;

                        *s = dead->next;
                        subscriber_free(dead);
                        return;
                }
}

/* Send the subscriber its view if it changed; false when it must be dropped. */
static bool subscriber_update(Manager *m, Subscriber *s)
{
        _cleanup_free_ char *json = NULL, *fingerprint = NULL;
        const char *unknown;
        size_t len;
        int r;

        if (np_varlink_call_done(s->call))
                return false;
        if (!m->report) {
                (void)reply_no_config(m, s->call);
                return false;
        }
        unknown = manager_unknown_profile(m, s->profiles);
        if (unknown) {
                /* A reload dropped a profile this stream follows. */
                (void)reply_no_such_profile(m, s->call, unknown);
                return false;
        }
        r = manager_report_view(m, s->profiles, s->facts, &json, &len, &fingerprint);
        if (r < 0) {
                (void)np_varlink_error(s->call, ERROR_INTERNAL, NULL);
                return false;
        }
        if (streq_ptr(fingerprint, s->last))
                return true;
        free_and_replace(&s->last, TAKE_PTR(fingerprint));
        r = np_varlink_reply_raw(s->call, json, len, true);
        if (r == -ENOBUFS)
                log_debug("A Watch client (uid %u) does not read its updates: dropped",
                          (unsigned)np_varlink_call_peer_uid(s->call));
        return r >= 0;
}

void manager_notify_subscribers(Manager *m)
{
        for (Subscriber **s = &m->subscribers; *s;) {
                if (subscriber_update(m, *s)) {
                        s = &(*s)->next;
                        continue;
                }
                Subscriber *dead = *s;

                *s = dead->next;
                np_varlink_call_set_disconnect(dead->call, NULL, NULL);
                subscriber_free(dead);
        }
}

static int vl_method_watch(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        _cleanup_(report_params_done) ReportParams p = {};
        Manager *m = userdata;
        const char *bad = NULL, *unknown;
        Subscriber *s;
        int r;

        r = np_varlink_dispatch(parameters, report_fields, ELEMENTSOF(report_fields), &p, &bad);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return np_varlink_error_invalid_parameter(call, bad);
        if (!(np_varlink_call_flags(call) & NP_VARLINK_CALL_MORE))
                return np_varlink_error(call, NP_VARLINK_ERROR_EXPECTED_MORE, NULL);
        r = report_prologue(m, call, parameters, vl_method_watch);
        if (r <= 0)
                return r;
        unknown = manager_unknown_profile(m, p.profiles);
        if (unknown)
                return reply_no_such_profile(m, call, unknown);

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->call = np_varlink_call_ref(call);
        s->profiles = TAKE_PTR(p.profiles);
        s->facts = p.facts;
        if (!subscriber_update(m, s)) {
                subscriber_free(s);
                return 0;
        }
        np_varlink_call_set_disconnect(call, subscriber_gone, m);
        s->next = m->subscribers;
        m->subscribers = s;
        return 0;
}

/* --- Reload --------------------------------------------------------------------------------- */

void manager_answer_reload(Manager *m, const char *error)
{
        for (size_t i = 0; i < m->n_reload_waiters; i++) {
                NpVarlinkCall *c = m->reload_waiters[i];

                if (error) {
                        _cleanup_(json_object_putp) json_object *p = json_object_new_object();

                        if (p)
                                json_object_object_add(p, "message", json_object_new_string(error));
                        (void)np_varlink_error(c, ERROR_CONFIGURATION, p);
                } else
                        (void)np_varlink_reply(c, NULL);
                np_varlink_call_unref(c);
        }
        m->reload_waiters = mfree(m->reload_waiters);
        m->n_reload_waiters = 0;
}

static int vl_method_reload(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        Manager *m = userdata;
        const char *bad = NULL;
        NpVarlinkCall **a;

        if (np_varlink_dispatch(parameters, NULL, 0, NULL, &bad) < 0)
                return np_varlink_error_invalid_parameter(call, bad);
        a = reallocarray(m->reload_waiters, m->n_reload_waiters + 1, sizeof(NpVarlinkCall *));
        if (!a)
                return -ENOMEM;
        m->reload_waiters = a;
        a[m->n_reload_waiters++] = np_varlink_call_ref(call);
        log_info("Reload requested over Varlink (uid %u)",
                 (unsigned)np_varlink_call_peer_uid(call));
        manager_schedule_reload(m);
        return 0;
}

/* --- the table ------------------------------------------------------------------------------ */

static const NpVarlinkMethod methods[] = {
        { "GetReport", vl_method_get_report, 0 },
        { "GetFacts", vl_method_get_facts, 0 },
        { "GetMetrics", vl_method_get_metrics, 0 },
        { "ListProfiles", vl_method_list_profiles, 0 },
        { "Watch", vl_method_watch, 0 },
        { "Reload", vl_method_reload, NP_VARLINK_METHOD_PRIVILEGED },
        { "Plan", vl_method_plan, NP_VARLINK_METHOD_PRIVILEGED },
        { "Apply", vl_method_apply, NP_VARLINK_METHOD_PRIVILEGED },
        { "Rollback", vl_method_rollback, NP_VARLINK_METHOD_PRIVILEGED },
};

void manager_varlink_apply_limits(Manager *m)
{
        NpVarlinkLimits l = NP_VARLINK_LIMITS_DEFAULT;
        const NpDaemonSettings *d;

        if (!m->varlink || !m->config)
                return;
        d = &m->config->site->daemon;
        l.max_connections = (unsigned)d->max_connections;
        l.max_connections_per_uid = (unsigned)d->max_connections_per_user;
        l.idle_timeout_usec = d->idle_timeout_usec;
        np_varlink_server_set_limits(m->varlink, &l);
}

/* Socket activation: the socket named "varlink" (FileDescriptorName=), or the only one. */
static int listen_activated(Manager *m)
{
        char **names = NULL;
        int n, used = 0, r = 0;

        n = sd_listen_fds_with_names(true, &names);
        if (n <= 0) {
                strv_free(names);
                return n;
        }
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;

                if ((n == 1 || streq_ptr(names ? names[i] : NULL, "varlink")) && r >= 0 &&
                    sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0) {
                        r = np_varlink_server_listen_fd(m->varlink, fd);
                        used += r >= 0;
                } else
                        safe_close(fd); /* not ours */
        }
        strv_free(names);
        if (r < 0)
                return r;
        return used > 0 ? used : -EBADF;
}

int manager_varlink_init(Manager *m, const char *listen_path)
{
        static const NpVarlinkServerInfo info = {
                .vendor = "nodeprep",
                .product = "nodeprepd",
                .version = NP_VERSION,
                .url = "man:nodeprepd(8)",
                .permission_denied_error = ERROR_PERMISSION_DENIED,
                .internal_error = ERROR_INTERNAL,
        };
        int r;

        r = np_varlink_server_new(m->event, &info, &m->varlink);
        if (r < 0)
                return r;
        r = np_varlink_server_add_interface(m->varlink, "io.nodeprep", np_io_nodeprep_description,
                                            methods, ELEMENTSOF(methods), m);
        if (r < 0)
                return r;
        manager_varlink_apply_limits(m);
        if (listen_path)
                return np_varlink_server_listen_address(m->varlink, listen_path, 0666);
        r = listen_activated(m);
        if (r < 0)
                return log_error_errno(r, "Socket activation passed no usable socket: %m");
        if (r > 0)
                return 0;
        /* Started without its socket unit: make the socket ourselves. */
        if (mkdir("/run/nodeprep", 0755) < 0 && errno != EEXIST)
                return -errno;
        return np_varlink_server_listen_address(m->varlink, "/run/nodeprep/io.nodeprep", 0666);
}

void manager_varlink_done(Manager *m)
{
        while (m->subscribers) {
                Subscriber *s = m->subscribers;

                m->subscribers = s->next;
                np_varlink_call_set_disconnect(s->call, NULL, NULL);
                subscriber_free(s);
        }
        while (m->deferred) {
                Deferred *d = m->deferred;

                m->deferred = d->next;
                np_varlink_call_unref(d->call);
                json_object_put(d->parameters);
                free(d);
        }
        for (size_t i = 0; i < m->n_reload_waiters; i++)
                np_varlink_call_unref(m->reload_waiters[i]);
        m->reload_waiters = mfree(m->reload_waiters);
        m->varlink = np_varlink_server_free(m->varlink);
}
