/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Remediation in the daemon: the Plan, Apply and Rollback methods and AutoApply=. Each request is
 * a job run in a worker thread, one at a time, exactly as `nodeprepctl apply --local` runs it
 * (the configuration is read afresh, the fix library takes its own lock), so that a slow unit
 * start never stalls the other clients. After a change the whole host is evaluated again.
 */

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/manager.h"
#include "evaluate.h"
#include "fix/fix.h"
#include "util/compat.h"
#include "util/json-util.h"
#include "util/strv.h"

typedef enum FixKind {
        FIX_PLAN,
        FIX_APPLY,
        FIX_ROLLBACK,
} FixKind;

struct FixJob {
        pthread_t thread;
        FixKind kind;
        /* Inputs, owned: the thread reads nothing of the manager. */
        char *root_path;
        char *config_path;
        char **profiles;
        NpFixOptions options;
        char *change_id;
        NpVarlinkCall *call; /* NULL for AutoApply= */
        int efd;
        /* Outputs. */
        int result;
        NpConfigError config_kind;
        char *error;
        json_object *json;
        char *text;
        bool changed;
        bool failed;
        char **outcomes; /* applied for real: check id, outcome, ... (changed and failed only) */
        struct FixJob *next;
};

static FixJob *fix_job_free(FixJob *j)
{
        if (!j)
                return NULL;
        free(j->root_path);
        free(j->config_path);
        strv_free(j->profiles);
        np_fix_options_done(&j->options);
        free(j->change_id);
        if (j->call) {
                if (!np_varlink_call_done(j->call))
                        (void)np_varlink_error(j->call, "io.nodeprep.InternalError", NULL);
                np_varlink_call_unref(j->call);
        }
        free(j->error);
        json_object_put(j->json);
        free(j->text);
        strv_free(j->outcomes);
        free(j);
        return NULL;
}

static int job_fix(FixJob *j, const NpRoot *root)
{
        _cleanup_(np_config_freep) NpConfig *config = NULL;
        _cleanup_(np_fix_run_freep) NpFixRun *run = NULL;
        int r;

        r = np_config_load(root, j->config_path, j->profiles, NULL, &config, &j->config_kind,
                           &j->error);
        if (r < 0)
                return r;
        if (j->kind == FIX_PLAN || j->options.dry_run) {
                j->options.dry_run = true;
                r = np_fix_evaluate_and_plan(root, config, &j->options, np_now_usec(), &run,
                                             &j->error);
        } else
                r = np_fix_apply(root, config, &j->options, np_now_usec(), &run, &j->error);
        if (r < 0)
                return r;
        j->changed = run->changed && !run->dry_run;
        j->failed = np_fix_run_exit_code(run) != 0 && !run->dry_run;
        FOREACH_ARRAY (e, run->entries, run->dry_run ? 0 : run->n_entries)
                if (e->outcome == NP_FIX_CHANGED || e->outcome == NP_FIX_FAILED) {
                        r = strv_extend(&j->outcomes, e->id);
                        if (r >= 0)
                                r = strv_extend(&j->outcomes, np_fix_outcome_to_string(e->outcome));
                        if (r < 0)
                                return r;
                }
        j->text = np_fix_run_to_text(run, false);
        r = np_fix_run_to_json(run, &j->json);
        return r < 0 ? r : (j->text ? 0 : -ENOMEM);
}

static int job_rollback(FixJob *j, const NpRoot *root)
{
        _cleanup_(np_rollback_freep) NpRollback *rb = NULL;
        int r;

        r = np_fix_rollback(root, j->change_id, np_now_usec(), &rb, &j->error);
        if (r < 0)
                return r;
        j->changed = rb->change_id && !rb->already;
        j->failed = rb->failed;
        j->text = np_rollback_to_text(rb, false);
        r = np_rollback_to_json(rb, &j->json);
        return r < 0 ? r : (j->text ? 0 : -ENOMEM);
}

static void *fix_job_run(void *userdata)
{
        FixJob *j = userdata;
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        uint64_t one = 1;

        j->config_kind = NP_CONFIG_OK;
        j->result = np_root_new(j->root_path, &root);
        if (j->result >= 0)
                j->result = j->kind == FIX_ROLLBACK ? job_rollback(j, root) : job_fix(j, root);
        (void)!write(j->efd, &one, sizeof(one)); /* wakes the loop; the counter cannot overflow */
        return NULL;
}

static void fix_start_next(Manager *m)
{
        FixJob *j;
        int r;

        if (m->fix_job || !m->fix_queue)
                return;
        j = m->fix_queue;
        m->fix_queue = j->next;
        j->next = NULL;
        j->efd = m->fix_efd;
        r = pthread_create(&j->thread, NULL, fix_job_run, j);
        if (r != 0) {
                log_error_errno(-r, "Cannot start a remediation thread: %m");
                fix_job_free(j);
                fix_start_next(m);
                return;
        }
        m->fix_job = j;
}

static void reply_error(NpVarlinkCall *call, const char *error, int errno_value,
                        const char *message)
{
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();

        if (p && errno_value > 0)
                json_object_object_add(p, "errno", json_object_new_int(errno_value));
        if (p)
                json_object_object_add(p, "message", json_object_new_string(strempty(message)));
        (void)np_varlink_error(call, error, p);
}

static void fix_reply(FixJob *j)
{
        _cleanup_(json_object_putp) json_object *p = NULL;

        if (!j->call || np_varlink_call_done(j->call))
                return;
        if (j->result < 0) {
                const char *msg = j->error ? j->error : strerror(-j->result);

                if (j->config_kind == NP_CONFIG_USAGE)
                        reply_error(j->call, "io.nodeprep.NoSuchProfile", 0, msg);
                else if (j->config_kind == NP_CONFIG_BAD)
                        reply_error(j->call, "io.nodeprep.ConfigurationError", 0, msg);
                else if (j->result == -ENOENT && j->kind == FIX_ROLLBACK)
                        reply_error(j->call, "io.nodeprep.NoSuchChange", 0, msg);
                else if (j->result == -EBUSY)
                        reply_error(j->call, "io.nodeprep.Busy", 0, msg);
                else if ((j->result == -EBADMSG || j->result == -EPERM) && j->error)
                        reply_error(j->call, "io.nodeprep.BadJournal", 0, msg);
                else
                        reply_error(j->call, "io.nodeprep.InternalError", -j->result, msg);
                return;
        }
        p = json_object_new_object();
        if (!p)
                return;
        json_object_object_add(p, j->kind == FIX_PLAN ? "plan" : "result", TAKE_PTR(j->json));
        json_object_object_add(p, "text", json_object_new_string(strempty(j->text)));
        (void)np_varlink_reply(j->call, p);
}

static int fix_job_done(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;
        FixJob *j = TAKE_PTR(m->fix_job);
        uint64_t v;

        (void)source, (void)revents;
        (void)!read(fd, &v, sizeof(v));
        if (!j)
                return 0;
        pthread_join(j->thread, NULL);
        if (j->kind != FIX_PLAN && !j->options.dry_run) {
                if (j->result < 0)
                        log_error("%s failed: %s", j->kind == FIX_ROLLBACK ? "Rollback" : "Apply",
                                  j->error ? j->error : strerror(-j->result));
                else if (j->changed)
                        log_info("%s%s changed the host%s", j->call ? "" : "AutoApply: ",
                                 j->kind == FIX_ROLLBACK ? "Rollback" : "Apply",
                                 j->failed ? "; some fixes failed" : "");
                for (char **o = j->outcomes; o && o[0] && o[1]; o += 2)
                        if (np_metrics_count_fix(&m->counters, o[0], o[1]) < 0)
                                log_error("Out of memory counting fixes");
                /* What changed must show in the report: evaluate everything again. */
                if (j->changed || j->failed)
                        manager_schedule(m, NP_AREAS_ALL);
        }
        fix_reply(j);
        fix_job_free(j);
        fix_start_next(m);
        return 0;
}

static int fix_queue_job(Manager *m, FixJob *j)
{
        FixJob **tail = &m->fix_queue;

        j->root_path = strdup(m->root->path);
        if (!j->root_path || (m->config_path && !(j->config_path = strdup(m->config_path)))) {
                fix_job_free(j);
                return -ENOMEM;
        }
        while (*tail)
                tail = &(*tail)->next;
        *tail = j;
        fix_start_next(m);
        return 0;
}

/* --- Varlink methods ------------------------------------------------------------------------- */

typedef struct FixParams {
        char **profiles;
        char **only;
        bool include_recommended;
        bool update_node_records;
        bool install_packages;
        bool dry_run;
        const char *change_id; /* points into the call's parameters */
} FixParams;

static void fix_params_done(FixParams *p)
{
        strv_free(p->profiles);
        strv_free(p->only);
}

static const NpVarlinkField plan_fields[] = {
        { "profiles", NP_VARLINK_STRV, offsetof(FixParams, profiles), false },
        { "only", NP_VARLINK_STRV, offsetof(FixParams, only), false },
        { "include_recommended", NP_VARLINK_BOOL, offsetof(FixParams, include_recommended), false },
        { "update_node_records", NP_VARLINK_BOOL, offsetof(FixParams, update_node_records), false },
        { "install_packages", NP_VARLINK_BOOL, offsetof(FixParams, install_packages), false },
        { "dry_run", NP_VARLINK_BOOL, offsetof(FixParams, dry_run), false },
};

static const NpVarlinkField rollback_fields[] = {
        { "change_id", NP_VARLINK_STRING, offsetof(FixParams, change_id), false },
};

static int fix_method(NpVarlinkCall *call, json_object *parameters, Manager *m, FixKind kind)
{
        _cleanup_(fix_params_done) FixParams p = {};
        const char *bad = NULL;
        FixJob *j;
        int r;

        if (kind == FIX_ROLLBACK)
                r = np_varlink_dispatch(parameters, rollback_fields, ELEMENTSOF(rollback_fields),
                                        &p, &bad);
        else
                /* Plan takes the same parameters as Apply but dry_run, which it implies. */
                r = np_varlink_dispatch(parameters, plan_fields,
                                        ELEMENTSOF(plan_fields) - (kind == FIX_PLAN ? 1 : 0), &p,
                                        &bad);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return np_varlink_error_invalid_parameter(call, bad);

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->kind = kind;
        j->profiles = TAKE_PTR(p.profiles);
        j->options.only = TAKE_PTR(p.only);
        j->options.include_recommended = p.include_recommended;
        j->options.update_node_records = p.update_node_records;
        j->options.install_packages = p.install_packages;
        j->options.dry_run = kind == FIX_PLAN || p.dry_run;
        j->call = np_varlink_call_ref(call);
        if (p.change_id && !(j->change_id = strdup(p.change_id))) {
                fix_job_free(j);
                return -ENOMEM;
        }
        log_info("%s requested over Varlink (uid %u)",
                 kind == FIX_PLAN    ? "Plan"
                 : kind == FIX_APPLY ? "Apply"
                                     : "Rollback",
                 (unsigned)np_varlink_call_peer_uid(call));
        return fix_queue_job(m, j);
}

int vl_method_plan(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        return fix_method(call, parameters, userdata, FIX_PLAN);
}

int vl_method_apply(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        return fix_method(call, parameters, userdata, FIX_APPLY);
}

int vl_method_rollback(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        return fix_method(call, parameters, userdata, FIX_ROLLBACK);
}

/* --- AutoApply= ------------------------------------------------------------------------------ */

void manager_auto_apply(Manager *m)
{
        _cleanup_strv_free_ char **due = NULL;
        NpFixOptions o = {};
        FixJob *j;

        if (!m->report || !m->config || strv_length(m->config->site->auto_apply) == 0)
                return;
        for (size_t p = 0; p < m->report->n_profiles; p++)
                FOREACH_ARRAY (res, m->report->profiles[p].results,
                               m->report->profiles[p].n_results) {
                        bool failing =
                            res->status == NP_STATUS_FAIL || res->status == NP_STATUS_WARN;

                        if (!strv_contains(m->config->site->auto_apply, res->id))
                                continue;
                        /* A check that passes again may be fixed again if it breaks later. */
                        if (!failing) {
                                strv_remove(m->auto_applied, res->id);
                                continue;
                        }
                        /* One attempt per failure: a fix that does not hold must not loop. */
                        if (!res->fix || res->ignored || strv_contains(m->auto_applied, res->id))
                                continue;
                        if (strv_extend_unique(&due, res->id) < 0 ||
                            strv_extend_unique(&m->auto_applied, res->id) < 0)
                                return;
                }
        if (strv_length(due) == 0)
                return;
        if (np_fix_options_auto_apply(m->config->site, &o) < 0)
                return;
        strv_free(o.only);
        o.only = TAKE_PTR(due);
        j = calloc(1, sizeof(*j));
        if (!j) {
                np_fix_options_done(&o);
                return;
        }
        j->kind = FIX_APPLY;
        j->options = o;
        {
                _cleanup_free_ char *ids = strv_join(j->options.only, " ");

                log_info("AutoApply: fixing %s", strna(ids));
        }
        (void)fix_queue_job(m, j);
}

/* --- set-up ---------------------------------------------------------------------------------- */

int manager_remedy_init(Manager *m)
{
        m->fix_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m->fix_efd < 0)
                return -errno;
        return sd_event_add_io(m->event, &m->fix_source, m->fix_efd, EPOLLIN, fix_job_done, m);
}

void manager_remedy_done(Manager *m)
{
        if (m->fix_job) {
                pthread_join(m->fix_job->thread, NULL);
                m->fix_job = fix_job_free(m->fix_job);
        }
        while (m->fix_queue) {
                FixJob *next = m->fix_queue->next;

                fix_job_free(m->fix_queue);
                m->fix_queue = next;
        }
        m->fix_source = sd_event_source_disable_unref(m->fix_source);
        m->fix_efd = safe_close(m->fix_efd);
        m->auto_applied = strv_free(m->auto_applied);
}
