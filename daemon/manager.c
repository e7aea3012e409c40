/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nodeprepd's manager: load the configuration, evaluate in a worker thread (probing only the areas
 * that changed, keeping the others' facts), publish the new report (journal, sd_notify, Watch).
 */

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "config.h"
#include "daemon/log.h"
#include "daemon/manager.h"
#include "evaluate.h"
#include "util/compat.h"
#include "util/json-util.h"
#include "util/strv.h"

/* One evaluation's probing, handed to a worker thread so that the loop keeps answering. */
struct Job {
        pthread_t thread;
        NpRoot *root;                  /* the manager's probe_root: this thread's while it runs */
        const NpProbeRequest *request; /* the manager's; unchanged while a job runs */
        NpProbeState *state;           /* the manager's; the thread's while it runs */
        unsigned areas;                /* the areas this evaluation probes */
        /* The areas the thread probes now: all of them, then (settle rounds) those whose inputs
         * were not all watched while it read them, again once they are (job_settle()). */
        unsigned round;
        unsigned settled;       /* the areas probed again so, over all rounds */
        unsigned rounds;        /* settle rounds so far */
        NpProbeChanges changes; /* what events named, for the areas updated in place */
        bool rescan;            /* the safety re-scan: say where it differs from the last facts */
        NpFacts *facts;         /* the areas probed, filled by the thread */
        NpFacts *earlier;       /* in a settle round: the earlier rounds' facts */
        NpWatchList inputs;     /* what this round read (np_probe_areas_record()) */
        int result;
        uint64_t started; /* CLOCK_MONOTONIC */
        int efd;
        /* Reload calls answered when this job is done: those made before its configuration was
         * read. Later ones wait for the next reload. */
        NpVarlinkCall **reload_waiters;
        size_t n_reload_waiters;
};

static uint64_t now_monotonic(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/*
 * A probe may block where nodeprep cannot prevent it (a hung NFS mount, a FUSE file system, a
 * device driver). The loop handles SIGTERM and SIGINT through a signalfd, with both blocked, and
 * shutting down joins the probing threads: a blocked probe would keep the daemon alive. So those
 * threads unblock them: they keep their default action, and one arriving while a probe runs is
 * delivered there and ends the process at once, whatever the probe is doing (probes write
 * nothing; an apply in progress is crash-safe by its journal). Outside probing they reach the
 * loop, which stops cleanly.
 */
void manager_probe_thread_signals(void)
{
        sigset_t stop;

        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        (void)pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
}

static void *job_run(void *userdata)
{
        Job *j = userdata;
        uint64_t one = 1;

        manager_probe_thread_signals();
        /* Never the peers here: daemon/peers.c probes them in a thread of their own. */
        j->result = np_probe_areas_record(j->root, j->request, j->state,
                                          j->round & ~NP_AREA_MASK(NP_AREA_PEERS), &j->changes,
                                          j->facts, &j->inputs);
        /* The eventfd wakes the loop; a failed write cannot happen on a counter far from max. */
        (void)!write(j->efd, &one, sizeof(one));
        return NULL;
}

static Job *job_free(Job *j)
{
        if (!j)
                return NULL;
        /* Still here: the evaluation failed; the callers must not wait forever. */
        for (size_t i = 0; i < j->n_reload_waiters; i++) {
                if (!np_varlink_call_done(j->reload_waiters[i]))
                        (void)np_varlink_error(j->reload_waiters[i], "io.nodeprep.InternalError",
                                               NULL);
                np_varlink_call_unref(j->reload_waiters[i]);
        }
        free(j->reload_waiters);
        np_facts_free(j->facts);
        np_facts_free(j->earlier);
        np_probe_changes_done(&j->changes);
        np_watch_list_done(&j->inputs);
        free(j);
        return NULL;
}

/* --- configuration -------------------------------------------------------------------------- */

static void profile_infos_free(Manager *m)
{
        np_profile_info_free_many(m->profile_infos, m->n_profile_infos);
        m->profile_infos = NULL;
        m->n_profile_infos = 0;
}

static void log_config_error(const char *error, bool have_good)
{
        int r = sd_journal_send("MESSAGE=Configuration not loaded: %s%s", error,
                                have_good ? " (keeping the last good configuration)" : "",
                                "MESSAGE_ID=" NP_MESSAGE_CONFIG_ERROR, "PRIORITY=%i", LOG_ERR,
                                "NODEPREP_CONFIG_ERROR=%s", error, NULL);

        if (r < 0 || !getenv("JOURNAL_STREAM"))
                log_error("Configuration not loaded: %s%s", error,
                          have_good ? " (keeping the last good configuration)" : "");
}

/* Load the configuration; on failure keep the last good one and remember the error. */
static int manager_load_config(Manager *m)
{
        _cleanup_(np_config_freep) NpConfig *c = NULL;
        _cleanup_free_ char *error = NULL;
        NpProbeRequest req = {};
        NpConfigError kind;
        int r;

        r = np_config_load(m->root, m->config_path, NULL, NULL, &c, &kind, &error);
        if (r == -ENOMEM)
                return r;
        profile_infos_free(m);
        /* The profile list is informational: a failure leaves it empty. */
        (void)np_profile_list(m->root, &m->profile_infos, &m->n_profile_infos);
        if (r < 0) {
                if (!error && !(error = strdup(strerror(-r))))
                        return -ENOMEM;
                log_config_error(error, m->config);
                free_and_replace(&m->config_error, TAKE_PTR(error));
                return 0;
        }
        r = np_config_probe_request(c, &req);
        if (r < 0)
                return r;
        STRV_FOREACH (w, c->warnings)
                log_warning("%s", *w);
        if (m->config_error)
                log_info("Configuration loaded again; the error is gone");
        m->config_error = mfree(m->config_error);
        np_config_free(m->config);
        m->config = TAKE_PTR(c);
        {
                NpProbeRequest old = m->request;

                m->request = req;
                manager_peers_configure(m, &old.peers);
                np_probe_request_done(&old);
        }
        /* A new configuration may hold a different fix: AutoApply= may try again. */
        m->auto_applied = strv_free(m->auto_applied);
        manager_varlink_apply_limits(m);
        return 1;
}

/*
 * The configuration's files have the probes' gap (below): they are read, then their watches are
 * armed (they depend on what was read: the profiles named, their drop-in directories). A change
 * between the two, to a file not watched yet, would be seen at the next event or the re-scan.
 * So when the arming added watches (the first load; Profiles= naming another profile), the
 * configuration is loaded once more: inotify sees every change after the arming, that load every
 * change before. A load whose watches were all armed before it is not repeated, and a set that
 * keeps growing (Profiles= edited in every window) stops after NP_SETTLE_ROUNDS loads.
 */
#define NP_SETTLE_ROUNDS 4U

static void test_pause_before_arm(const char *variable);

static int config_watch_list(Manager *m, NpWatchList *l)
{
        return np_config_watch_paths(
            m->root, m->config_path,
            m->config && m->config->site ? m->config->site->profiles : NULL, l);
}

/* Load the configuration and watch its files (manager_load_config()'s result). */
static int manager_load_config_watched(Manager *m)
{
        for (unsigned round = 1;; round++) {
                _cleanup_(np_watch_list_done) NpWatchList before = {}, after = {};
                bool grew = false;
                int r = m->inotify ? config_watch_list(m, &before) : 0;

                if (r >= 0)
                        r = manager_load_config(m);
                if (r < 0)
                        return r;
                test_pause_before_arm("NODEPREP_TEST_PAUSE_BEFORE_CONFIG_ARM");
                (void)manager_watch_files(m); /* logged */
                if (!m->inotify || config_watch_list(m, &after) < 0)
                        return r; /* nothing watched: the re-scan is all there is */
                FOREACH_ARRAY (p, after.paths, after.n)
                        grew = grew || !np_watch_list_contains(&before, p->dir, p->name, p->tag);
                if (!grew)
                        return r;
                if (round >= NP_SETTLE_ROUNDS) {
                        log_warning("The configuration's files keep changing (%u loads): their "
                                    "changes are seen at the next event or the re-scan",
                                    round);
                        return r;
                }
                log_debug("The configuration's watches grew: loading it once more");
        }
}

/* --- publishing ----------------------------------------------------------------------------- */

static char *format_status(Manager *m)
{
        _cleanup_strv_free_ char **parts = NULL;

        for (size_t i = 0; m->report && i < m->report->n_profiles; i++) {
                const NpProfileReport *p = &m->report->profiles[i];
                unsigned fail = p->summary[NP_STATUS_FAIL], unknown = p->summary[NP_STATUS_UNKNOWN];
                char *s;

                if (p->ready)
                        s = strprintf("%s: ready", p->name);
                else if (fail > 0)
                        s = strprintf("%s: not ready, %u failing", p->name, fail);
                else
                        s = strprintf("%s: undecided, %u unknown", p->name, unknown);
                if (strv_consume(&parts, s) < 0)
                        return NULL;
        }
        if (m->config_error &&
            strv_consume(&parts, strprintf("configuration error: %s", m->config_error)) < 0)
                return NULL;
        if (!parts)
                return strdup("starting");
        return strv_join(parts, "; ");
}

static void update_status(Manager *m)
{
        _cleanup_free_ char *s = format_status(m);

        if (!s || streq_ptr(s, m->status))
                return;
        (void)sd_notifyf(false, "STATUS=%s", s);
        free_and_replace(&m->status, TAKE_PTR(s));
}

static const NpProfileReport *find_profile(const NpReport *r, const char *name)
{
        for (size_t i = 0; r && i < r->n_profiles; i++)
                if (streq(r->profiles[i].name, name))
                        return &r->profiles[i];
        return NULL;
}

static const NpResult *find_result(const NpProfileReport *p, const char *id)
{
        for (size_t i = 0; p && i < p->n_results; i++)
                if (streq(p->results[i].id, id))
                        return &p->results[i];
        return NULL;
}

static void journal_or_stderr(int priority, const char *message_id, const char *text,
                              const char *profile, const char *check, const char *status,
                              const char *previous)
{
        int r;

        if (check)
                r = sd_journal_send("MESSAGE=%s", text, "MESSAGE_ID=%s", message_id, "PRIORITY=%i",
                                    priority, "NODEPREP_PROFILE=%s", profile, "NODEPREP_CHECK=%s",
                                    check, "NODEPREP_STATUS=%s", status,
                                    "NODEPREP_PREVIOUS_STATUS=%s", strempty(previous), NULL);
        else
                r = sd_journal_send("MESSAGE=%s", text, "MESSAGE_ID=%s", message_id, "PRIORITY=%i",
                                    priority, "NODEPREP_PROFILE=%s", profile, "NODEPREP_STATUS=%s",
                                    status, NULL);
        /* Without journald (tests, containers) the line goes to stderr instead. */
        if (r < 0 || !getenv("JOURNAL_STREAM"))
                log_full(priority, "%s", text);
}

static const char *profile_state(const NpProfileReport *p)
{
        if (p->ready)
                return "ready";
        return p->summary[NP_STATUS_FAIL] > 0 ? "not-ready" : "undecided";
}

/* One journal message per verdict change: a profile's readiness, a check's status. */
static void log_verdict_changes(const NpReport *old, const NpReport *new)
{
        for (size_t i = 0; i < new->n_profiles; i++) {
                const NpProfileReport *p = &new->profiles[i], *op = find_profile(old, p->name);
                _cleanup_free_ char *text = NULL;

                /* The checks that changed first, then what that makes of the profile. */
                for (size_t k = 0; op && k < p->n_results; k++) {
                        const NpResult *res = &p->results[k], *o = find_result(op, res->id);
                        const char *st = np_status_to_string(res->status);
                        _cleanup_free_ char *line = NULL;

                        if (o && o->status == res->status)
                                continue;
                        line = strprintf("%s: %s %s -> %s%s%s", p->name, res->id,
                                         o ? np_status_to_string(o->status) : "new", st,
                                         res->message ? ": " : "", strempty(res->message));
                        if (line)
                                journal_or_stderr(res->status == NP_STATUS_FAIL ||
                                                          res->status == NP_STATUS_UNKNOWN
                                                      ? LOG_WARNING
                                                      : LOG_NOTICE,
                                                  NP_MESSAGE_CHECK_CHANGED, line, p->name, res->id,
                                                  st, o ? np_status_to_string(o->status) : NULL);
                }
                /* The first verdict is one line per profile. */
                if (op && streq(profile_state(op), profile_state(p)))
                        continue;
                if (p->ready)
                        text = strprintf("%s: ready", p->name);
                else
                        text = strprintf("%s: %s, %u failing, %u unknown", p->name,
                                         p->summary[NP_STATUS_FAIL] > 0 ? "not ready" : "undecided",
                                         p->summary[NP_STATUS_FAIL], p->summary[NP_STATUS_UNKNOWN]);
                if (text)
                        journal_or_stderr(p->ready ? LOG_NOTICE : LOG_WARNING,
                                          NP_MESSAGE_PROFILE_CHANGED, text, p->name, NULL,
                                          profile_state(p), NULL);
        }
}

json_object *manager_evaluation_json(Manager *m)
{
        _cleanup_(json_object_putp)
            json_object *o = json_object_new_object(),
                        *areas = json_object_new_array(), *probes = json_object_new_object(),
                        *reread = json_object_new_object(), *settled = json_object_new_array();
        _cleanup_free_ char *ts = np_format_timestamp(m->finished_usec);

        if (!o || !areas || !probes || !reread || !settled || !ts)
                return NULL;
        for (NpProbeArea a = 0; a < _NP_AREA_MAX; a++)
                json_object_object_add(probes, np_probe_area_to_string(a),
                                       json_object_new_uint64(m->probes[a]));
        for (NpProbeArea a = 0; a < _NP_AREA_MAX; a++)
                if (m->reprobed & NP_AREA_MASK(a))
                        json_object_array_add(areas,
                                              json_object_new_string(np_probe_area_to_string(a)));
        for (NpProbeArea a = 0; a < _NP_AREA_MAX; a++)
                if (m->settled & NP_AREA_MASK(a))
                        json_object_array_add(settled,
                                              json_object_new_string(np_probe_area_to_string(a)));
        for (NpProbeArea a = 0; a < _NP_AREA_MAX; a++)
                if (np_probe_area_incremental(a) && (m->reprobed & NP_AREA_MASK(a)))
                        json_object_object_add(reread, np_probe_area_to_string(a),
                                               json_object_new_uint64(m->reread[a]));
        json_object_object_add(o, "serial", json_object_new_uint64(m->serial));
        json_object_object_add(o, "finished_at", json_object_new_string(ts));
        json_object_object_add(o, "duration_usec", json_object_new_uint64(m->duration_usec));
        json_object_object_add(o, "reprobed", TAKE_PTR(areas));
        json_object_object_add(o, "probes", TAKE_PTR(probes));
        json_object_object_add(o, "reread", TAKE_PTR(reread));
        json_object_object_add(o, "settled", TAKE_PTR(settled));
        return TAKE_PTR(o);
}

const char *manager_unknown_profile(Manager *m, char *const *profiles)
{
        STRV_FOREACH (p, (char **)profiles)
                if (!find_profile(m->report, *p))
                        return *p;
        return NULL;
}

static const char *serialize(json_object *o, size_t *len)
{
        return json_object_to_json_string_length(
            o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

int manager_report_view(Manager *m, char *const *profiles, bool facts, char **ret_json,
                        size_t *ret_len, char **ret_fingerprint)
{
        _cleanup_(json_object_putp) json_object *params = json_object_new_object(), *report = NULL;
        _cleanup_free_ NpProfileReport *selected = NULL;
        NpReport view;
        json_object *ts = NULL;
        const char *s;
        size_t len;
        int r;

        if (!params || !m->report)
                return -ENOMEM;
        view = *m->report;
        if (!facts)
                view.facts = NULL;
        if (profiles) {
                /* A shallow view: the profiles asked for, "ready" over those only. */
                selected = calloc(strv_length(profiles) + 1, sizeof(NpProfileReport));
                if (!selected)
                        return -ENOMEM;
                view.profiles = selected;
                view.n_profiles = 0;
                view.ready = true;
                for (size_t i = 0; i < m->report->n_profiles; i++)
                        if (strv_contains(profiles, m->report->profiles[i].name)) {
                                selected[view.n_profiles++] = m->report->profiles[i];
                                view.ready = view.ready && m->report->profiles[i].ready;
                        }
        }
        r = np_report_to_json(&view, facts, &report);
        if (r < 0)
                return r;
        json_object_object_add(report, "config_error",
                               m->config_error ? json_object_new_string(m->config_error) : NULL);
        if (ret_fingerprint) {
                /* The same report taken at another time is not a change. */
                ts = json_object_get(json_object_object_get(report, "generated_at"));
                json_object_object_del(report, "generated_at");
                s = serialize(report, &len);
                *ret_fingerprint = s ? strndup(s, len) : NULL;
                json_object_object_add(report, "generated_at", ts);
                if (!*ret_fingerprint)
                        return -ENOMEM;
        }
        json_object_object_add(params, "report", TAKE_PTR(report));
        json_object_object_add(params, "evaluation", manager_evaluation_json(m));
        s = serialize(params, &len);
        if (!s || !(*ret_json = strndup(s, len)))
                return -ENOMEM;
        *ret_len = len;
        return 0;
}

static void manager_publish(Manager *m)
{
        for (size_t i = 0; i < ELEMENTSOF(m->reply_msg); i++)
                m->reply_msg[i] = mfree(m->reply_msg[i]);
        update_status(m);
        manager_notify_subscribers(m);
}

/* --- the safety re-scan ------------------------------------------------------------------------
 */

static const char *json_short(json_object *o)
{
        const char *s = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "(none)";

        return s ? s : "?";
}

/* A list element's label: its "name" when it has one, else its index. */
static char *element_path(const char *path, json_object *e, size_t i)
{
        json_object *name = json_object_object_get(e, "name");

        return name ? strprintf("%s[%s]", path, json_object_get_string(name))
                    : strprintf("%s[%zu]", path, i);
}

/* Where two JSON values first differ: "PATH: OLD -> NEW" (at most a few hundred bytes), NULL
 * when they are equal. Lists of named objects are compared by name. */
static char *first_difference(json_object *a, json_object *b, const char *path)
{
        if (json_object_equal(a, b))
                return NULL;
        if (a && b && json_object_is_type(a, json_type_object) &&
            json_object_is_type(b, json_type_object)) {
                json_object_object_foreach (a, key, va) {
                        _cleanup_free_ char *p = strprintf("%s.%s", path, key);
                        char *d =
                            p ? first_difference(va, json_object_object_get(b, key), p) : NULL;

                        if (d || !p)
                                return d;
                }
                json_object_object_foreach (b, key2, vb)
                        if (!json_object_object_get_ex(a, key2, NULL))
                                return strprintf("%s.%s: (none) -> %.200s", path, key2,
                                                 json_short(vb));
        }
        if (a && b && json_object_is_type(a, json_type_array) &&
            json_object_is_type(b, json_type_array)) {
                size_t na = json_object_array_length(a), nb = json_object_array_length(b);

                for (size_t i = 0; i < MIN(na, nb); i++) {
                        json_object *ea = json_object_array_get_idx(a, i),
                                    *eb = json_object_array_get_idx(b, i);
                        _cleanup_free_ char *p = NULL;

                        if (json_object_equal(ea, eb))
                                continue;
                        p = element_path(path, ea, i);
                        /* Not the same element (one came or went): say which. */
                        if (p && !json_object_equal(json_object_object_get(ea, "name"),
                                                    json_object_object_get(eb, "name")))
                                return strprintf("%s: %.200s -> %.200s", path, json_short(ea),
                                                 json_short(eb));
                        return p ? first_difference(ea, eb, p) : NULL;
                }
                if (na != nb)
                        return strprintf(
                            "%s: %zu entries -> %zu, first extra %.200s", path, na, nb,
                            json_short(json_object_array_get_idx(na > nb ? a : b, MIN(na, nb))));
        }
        return strprintf("%s: %.200s -> %.200s", path, json_short(a), json_short(b));
}

/* The safety re-scan read the disks and links from scratch: where that differs from what the
 * events had made of them, an event was missed (or the kernel sent none). */
static void log_rescan_differences(const NpFacts *incremental, const NpFacts *rescan)
{
        static const char *const keys[] = { "disks", "links" };
        _cleanup_(json_object_putp) json_object *a = NULL, *b = NULL;

        if (np_facts_to_json(incremental, &a) < 0 || np_facts_to_json(rescan, &b) < 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                _cleanup_free_ char *d =
                    first_difference(json_object_object_get(a, keys[i]),
                                     json_object_object_get(b, keys[i]), keys[i]);

                if (d)
                        log_warning("Safety re-scan: the %s differ from what events had told: %s",
                                    keys[i], d);
                else
                        log_debug("Safety re-scan: the %s are as events had told", keys[i]);
        }
}

/* --- evaluation ----------------------------------------------------------------------------- */

/*
 * Closing the gap between reading a file and watching it. A probe reads first; the watches on
 * what it read are armed after (they are derived from the reads). A change to a file read for the
 * first time, made between the read and the arming, would reach nobody: no event, and a verdict
 * stale until the safety re-scan. So once an area's new watches are armed, each input of an area
 * whose round read a file not watched while it read it is looked at again and compared with what
 * it was when read (its device, inode, size and times, or absent: NpFileId, recorded with the
 * path, np_root_input_changed()); an area with a difference is probed once more. inotify reports
 * every change after the arming, the comparison every change before it. Only an area whose set of
 * inputs grew pays the look (start-up, a reload, a file appearing where the search now stops),
 * and only one whose input changed meanwhile the probe: at start-up nothing is probed twice (the
 * tools' version commands run once), and never anything in steady state, where every input was
 * watched before the read.
 *
 * No ping-pong: while an area settles, its watches are the union of every round's inputs (a file
 * read by one round stays watched when the next reads another), so a round gains only paths never
 * watched before, and the rounds end; NP_SETTLE_ROUNDS bounds a probe that reads new names every
 * time. The evaluation is published once it settled, so every verdict published comes from reads
 * that were all watched.
 */
/* Was (dir, name) watched for its area while the round read it? Whole directories included. */
static bool input_watched(const NpWatchList *armed, const NpWatchPath *p)
{
        return np_watch_list_contains(armed, p->dir, p->name, p->tag) ||
               (p->name && np_watch_list_contains(armed, p->dir, NULL, p->tag));
}

/* The areas whose round read a watchable path that was not watched (m->inputs) meanwhile. */
static int inputs_gained(Manager *m, const Job *j, unsigned *ret)
{
        _cleanup_(np_watch_list_done) NpWatchList l = {};
        unsigned gained = 0;
        int r;

        *ret = 0;
        if (!m->inotify)
                return 0; /* nothing is watched: the re-scan is all there is */
        r = np_probe_inputs_watch(m->root, &j->inputs, &l, NULL);
        if (r < 0)
                return r;
        FOREACH_ARRAY (p, l.paths, l.n)
                if (!input_watched(&m->inputs, p))
                        gained |= NP_AREA_MASK(p->tag);
        *ret = gained;
        return 0;
}

/* The inputs of the areas j's round probed replace those areas' last ones, but for the areas
 * that gained inputs, which keep both until they settle; watch them if they differ. */
static int update_inputs(Manager *m, const Job *j, unsigned gained)
{
        _cleanup_(np_watch_list_done) NpWatchList l = {};
        bool same = true;
        int r = 0;

        FOREACH_ARRAY (p, m->inputs.paths, m->inputs.n) {
                if ((j->round & ~gained) & NP_AREA_MASK(p->tag))
                        same = same && np_watch_list_contains(&j->inputs, p->dir, p->name, p->tag);
                else if (r >= 0)
                        r = np_watch_list_add(&l, p->dir, p->name, p->tag);
        }
        FOREACH_ARRAY (p, j->inputs.paths, j->inputs.n) {
                same = same && np_watch_list_contains(&m->inputs, p->dir, p->name, p->tag);
                if (r >= 0)
                        r = np_watch_list_add(&l, p->dir, p->name, p->tag);
        }
        if (r < 0)
                return log_error_errno(r, "Out of memory listing the files read; their changes "
                                          "are seen at the re-scan");
        np_watch_list_done(&m->inputs);
        m->inputs = l;
        l = (NpWatchList){};
        return same && m->inotify ? 0 : manager_watch_files(m);
}

static void *job_run(void *userdata);

/* Probe the gained areas once more, their new inputs now watched: a settle round of the same
 * evaluation (the areas probed in earlier rounds keep those facts). */
static int job_settle(Manager *m, Job *j, unsigned gained)
{
        _cleanup_(np_facts_freep) NpFacts *again = np_facts_new();
        int r;

        if (!again)
                return -ENOMEM;
        /* What the gained areas read of the others (the kernel release), from this evaluation. */
        r = np_facts_carry_inputs(again, j->facts, gained);
        if (r < 0)
                return r;
        /* Updated in place, an area would read only what events named: read it all. */
        j->changes.full |= gained;
        j->earlier = TAKE_PTR(j->facts);
        j->facts = TAKE_PTR(again);
        j->round = gained;
        np_watch_list_done(&j->inputs);
        r = -pthread_create(&j->thread, NULL, job_run, j);
        if (r < 0) {
                np_facts_free(j->facts);
                j->facts = TAKE_PTR(j->earlier);
                return r;
        }
        j->settled |= gained;
        j->rounds++;
        m->job = j;
        return 0;
}

/* After a settle round: the facts of the areas it did not probe again come from the earlier. */
static void job_merge_round(Job *j)
{
        if (!j->earlier)
                return;
        for (NpProbeArea a = 0; a < _NP_AREA_MAX; a++)
                if ((j->areas & ~j->round) & NP_AREA_MASK(a))
                        np_facts_move_area(j->facts, j->earlier, a);
        j->earlier = np_facts_free(j->earlier);
}

#if NP_FAULT_INJECTION
/*
 * Test builds only (-Dfault-injection=true): NODEPREP_TEST_PAUSE_BEFORE_ARM=GATE makes every
 * evaluation round that ends while the file GATE exists stop between its probe and the arming of
 * the watches on what it read; NODEPREP_TEST_PAUSE_BEFORE_CONFIG_ARM=GATE the same between each
 * load of the configuration and the arming of its watches: nodeprepd writes GATE.paused, waits
 * until GATE is removed (at most a minute), removes GATE.paused and goes on.
 * tests/daemon/test-watch-gap.py and test-config-gap.py edit files there.
 */
static void test_pause_before_arm(const char *variable)
{
        const char *gate = secure_getenv(variable);
        _cleanup_free_ char *paused = NULL;
        int fd;

        if (isempty(gate) || access(gate, F_OK) < 0 || !(paused = strprintf("%s.paused", gate)))
                return;
        fd = open(paused, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        close(fd);
        for (unsigned i = 0; i < 6000 && access(gate, F_OK) >= 0; i++)
                (void)usleep(10000);
        (void)unlink(paused);
}
#else
static void test_pause_before_arm(const char *variable)
{
        (void)variable;
}
#endif

static void manager_start_job(Manager *m);

static int job_done(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Manager *m = userdata;
        Job *j = TAKE_PTR(m->job);
        _cleanup_(np_report_freep) NpReport *old = NULL;
        NpReport *report = NULL;
        NpFacts *facts;
        unsigned gained, changed;
        uint64_t v;
        int r;

        (void)source, (void)revents;
        (void)!read(fd, &v, sizeof(v)); /* reset the counter */
        pthread_join(j->thread, NULL);

        if (j->result < 0) {
                log_error_errno(j->result, "Probing failed: %m");
                m->dirty |= j->areas; /* try again at the next event or re-scan */
                m->changes.full |= j->areas;
                job_free(j);
                return 0;
        }
        job_merge_round(j);
        r = inputs_gained(m, j, &gained);
        if (r < 0)
                log_error_errno(r, "Out of memory listing the files read: not read again");
        test_pause_before_arm("NODEPREP_TEST_PAUSE_BEFORE_ARM");
        (void)update_inputs(m, j, gained); /* logged */
        /* Armed: of the areas that read new files, those whose inputs changed since. */
        changed = gained ? np_probe_inputs_changed(m->root, &j->inputs, gained) : 0;
        if (changed && j->rounds >= NP_SETTLE_ROUNDS)
                log_warning("The files the probes read keep changing (areas 0x%x, %u rounds): "
                            "their changes are seen at the next event or the re-scan",
                            changed, j->rounds);
        else if (changed) {
                r = job_settle(m, j, changed);
                if (r >= 0)
                        return 0; /* job_done() again when the round is done */
                log_error_errno(r, "Cannot probe again what read new files (%m): their changes "
                                   "are seen at the next event or the re-scan");
        }
        facts = TAKE_PTR(j->facts);
        /* Unless the host changed meanwhile (events are waiting), a difference is a missed one. */
        if (j->rescan && m->report && m->report->facts && !m->changes.disks &&
            m->changes.n_links == 0 && m->changes.n_addresses == 0 &&
            !(m->dirty & (NP_AREA_MASK(NP_AREA_DISKS) | NP_AREA_MASK(NP_AREA_LINKS))))
                log_rescan_differences(m->report->facts, facts);
        /* Keep the facts of the areas not probed again from the last report. */
        for (NpProbeArea a = 0; m->report && m->report->facts && a < _NP_AREA_MAX; a++)
                if (!(j->areas & NP_AREA_MASK(a)))
                        np_facts_move_area(facts, m->report->facts, a);
        /* The peers: the newest probe's facts (daemon/peers.c), else the last report's. */
        if ((j->areas & NP_AREA_MASK(NP_AREA_PEERS)) && !manager_peers_take(m, facts) &&
            m->report && m->report->facts)
                np_facts_move_area(facts, m->report->facts, NP_AREA_PEERS);

        r = np_report_build(m->config, facts, np_now_usec(), &report);
        if (r < 0) {
                log_error_errno(r, "Evaluation failed: %m");
                m->dirty = NP_AREAS_ALL; /* the old report's facts may be gone */
                m->changes.full = NP_AREAS_ALL;
                job_free(j);
                return 0;
        }
        old = m->report;
        m->report = report;
        m->serial++;
        m->finished_usec = report->generated_at_usec;
        m->duration_usec = now_monotonic() - j->started;
        m->reprobed = j->areas;
        m->settled = j->settled;
        memcpy(m->reread, m->probe_state.reread, sizeof(m->reread));
        for (NpProbeArea a = 0; a < _NP_AREA_MAX; a++)
                if (j->areas & NP_AREA_MASK(a))
                        m->probes[a]++;
        log_debug("Evaluation %" PRIu64 " (areas 0x%x, %u disks and %u links read) took %" PRIu64
                  " us",
                  m->serial, j->areas, m->reread[NP_AREA_DISKS], m->reread[NP_AREA_LINKS],
                  m->duration_usec);
        m->counters.evaluations++;
        m->counters.last_evaluation_usec = m->finished_usec;
        m->counters.last_duration_usec = m->duration_usec;
        log_verdict_changes(old, report);
        if (j->areas & NP_AREA_MASK(NP_AREA_DISKS))
                manager_watch_disk_nodes(m);
        if (m->dump_watch_list) {
                r = manager_dump_watch_list(m, stdout);
                (void)sd_event_exit(m->event, r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
        }
        manager_publish(m);
        if (manager_write_outputs(m) < 0)
                log_error("Out of memory writing the feature and metrics files");
        if (!m->ready_sent) {
                (void)sd_notify(false, "READY=1");
                m->ready_sent = true;
                manager_answer_deferred(m);
        }
        /* The Reload calls this job answers: hand them back to the manager's list to reply. */
        if (j->n_reload_waiters > 0) {
                NpVarlinkCall **later = TAKE_PTR(m->reload_waiters);
                size_t n_later = m->n_reload_waiters;

                m->reload_waiters = TAKE_PTR(j->reload_waiters);
                m->n_reload_waiters = j->n_reload_waiters;
                j->n_reload_waiters = 0;
                manager_answer_reload(m, NULL);
                m->reload_waiters = later;
                m->n_reload_waiters = n_later;
        }

        if (j->areas == NP_AREAS_ALL && m->config && m->config->site->daemon.rescan_usec > 0) {
                uint64_t now = now_monotonic();

                (void)sd_event_source_set_time(m->rescan,
                                               now + m->config->site->daemon.rescan_usec);
                /* It may wait for other wake-ups: a tenth of the period, at most a minute. */
                (void)sd_event_source_set_time_accuracy(
                    m->rescan, MIN(60ULL * 1000000ULL, m->config->site->daemon.rescan_usec / 10));
                (void)sd_event_source_set_enabled(m->rescan, SD_EVENT_ONESHOT);
        }
        job_free(j);
        manager_auto_apply(m);
        if (m->dirty || m->config_dirty)
                manager_schedule(m, 0);
        return 0;
}

static void manager_start_job(Manager *m)
{
        bool reloaded = m->reload_deferred;
        Job *j;
        int r;

        if (m->job)
                return; /* job_done() schedules again */
        m->reload_deferred = false;
        if (m->config_dirty) {
                m->config_dirty = false;
                r = manager_load_config_watched(m);
                if (r < 0) {
                        log_error_errno(r, "Cannot load the configuration: %m");
                        return;
                }
                if (r == 0) {
                        /* Bad: report the error with the last good configuration's report. */
                        manager_publish(m);
                        manager_answer_reload(m, m->config_error);
                        if (!m->ready_sent && !m->config) {
                                /* Nothing to evaluate: be ready to answer with the error. */
                                (void)sd_notify(false, "READY=1");
                                m->ready_sent = true;
                                manager_answer_deferred(m);
                        }
                        if (!m->config)
                                return;
                } else {
                        /* The settings may choose other disks (IncludeLoopDevices=): all again. */
                        m->dirty = NP_AREAS_ALL;
                        m->changes.full = NP_AREAS_ALL;
                        reloaded = true;
                }
        }
        if (!m->config || m->dirty == 0)
                return;
        /* A new configuration's peers are being probed: evaluate with them (at most PeerTimeout=
         * later; the probe's end schedules this again). */
        if (manager_peers_blocking(m)) {
                m->reload_deferred = reloaded;
                return;
        }
        /* Without a bus connection (no bus yet at boot, or lost), try again when units are due. */
        if (m->dirty & NP_AREA_MASK(NP_AREA_UNITS))
                manager_watch_bus(m);

        j = calloc(1, sizeof(*j));
        if (!j || !(j->facts = np_facts_new())) {
                free(j);
                log_error("Out of memory starting an evaluation");
                return;
        }
        j->root = m->probe_root;
        j->request = &m->request;
        j->state = &m->probe_state;
        /* Without earlier facts every area must be probed. */
        j->areas = m->report && m->report->facts ? m->dirty : NP_AREAS_ALL;
        j->round = j->areas;
        j->changes = m->changes;
        m->changes = (NpProbeChanges){};
        if (j->areas == NP_AREAS_ALL && !(m->report && m->report->facts))
                j->changes.full = NP_AREAS_ALL;
        j->rescan = m->rescan_due;
        m->rescan_due = false;
        j->efd = m->job_efd;
        j->started = now_monotonic();
        /* What the areas probed now read of the others' last facts (area.c area_inputs[]). */
        if (j->areas != NP_AREAS_ALL &&
            np_facts_carry_inputs(j->facts, m->report->facts, j->areas) < 0) {
                job_free(j);
                return;
        }
        m->dirty = 0;
        r = pthread_create(&j->thread, NULL, job_run, j);
        if (r != 0) {
                log_error_errno(-r, "Cannot start the evaluation thread: %m");
                m->dirty |= j->areas;
                m->changes.full |= j->areas;
                job_free(j);
                return;
        }
        if (reloaded) {
                j->reload_waiters = TAKE_PTR(m->reload_waiters);
                j->n_reload_waiters = m->n_reload_waiters;
                m->n_reload_waiters = 0;
        }
        m->job = j;
}

static int on_coalesce(sd_event_source *source, uint64_t usec, void *userdata)
{
        (void)source, (void)usec;
        manager_start_job(userdata);
        return 0;
}

static int on_rescan(sd_event_source *source, uint64_t usec, void *userdata)
{
        Manager *m = userdata;

        (void)source, (void)usec;
        log_debug("Safety re-scan");
        m->rescan_due = true;
        manager_schedule_full(m, NP_AREAS_ALL);
        return 0;
}

void manager_schedule(Manager *m, unsigned areas)
{
        uint64_t now = 0;
        int enabled = SD_EVENT_OFF;

        m->dirty |= areas;
        if (m->job || (!m->dirty && !m->config_dirty))
                return;
        (void)sd_event_source_get_enabled(m->coalesce, &enabled);
        if (enabled != SD_EVENT_OFF)
                return; /* this event joins the batch already waiting */
        (void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        (void)sd_event_source_set_time(m->coalesce, now + NP_COALESCE_USEC);
        (void)sd_event_source_set_enabled(m->coalesce, SD_EVENT_ONESHOT);
}

void manager_schedule_full(Manager *m, unsigned areas)
{
        m->changes.full |= areas;
        manager_schedule(m, areas);
}

void manager_schedule_disk(Manager *m, const char *name)
{
        /* Out of memory: read every disk again instead. */
        unsigned areas = np_fact_areas_for_events(NP_AREA_EVENT_BLOCK);

        if (np_probe_changes_add_disk(&m->changes, name) < 0)
                m->changes.full |= areas;
        manager_schedule(m, areas);
}

void manager_schedule_link(Manager *m, int ifindex)
{
        /* A link or address change can change what the endpoints reach, too; the peers are
         * probed apart (daemon/peers.c). */
        unsigned areas = np_fact_areas_for_events(NP_AREA_EVENT_UDEV_NET | NP_AREA_EVENT_RTNL) &
                         ~NP_AREA_MASK(NP_AREA_PEERS);

        if (np_probe_changes_add_link(&m->changes, ifindex) < 0)
                m->changes.full |= areas;
        manager_schedule(m, areas);
}

void manager_schedule_address(Manager *m, int ifindex)
{
        unsigned areas = np_fact_areas_for_events(NP_AREA_EVENT_UDEV_NET | NP_AREA_EVENT_RTNL) &
                         ~NP_AREA_MASK(NP_AREA_PEERS);

        if (np_probe_changes_add_address(&m->changes, ifindex) < 0)
                m->changes.full |= areas;
        manager_schedule(m, areas);
}

void manager_schedule_reload(Manager *m)
{
        m->config_dirty = true;
        manager_schedule(m, 0);
}

int manager_start(Manager *m)
{
        m->config_dirty = true;
        manager_start_job(m);
        return 0;
}

/* --- life cycle ----------------------------------------------------------------------------- */

int manager_new(sd_event *event, const char *root, const char *config_path, Manager **ret)
{
        _cleanup_(manager_freep) Manager *m = calloc(1, sizeof(*m));
        int r;

        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(event);
        m->job_efd = m->fix_efd = m->rtnl_fd = m->mountinfo_fd = m->swaps_fd = m->peers_efd =
            -EBADF;
        r = np_root_new(root, &m->root);
        if (r >= 0)
                r = np_root_new(root, &m->probe_root);
        if (r >= 0)
                r = np_probe_state_init(&m->probe_state);
        if (r < 0)
                return r;
        if (config_path && !(m->config_path = strdup(config_path)))
                return -ENOMEM;
        m->job_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m->job_efd < 0)
                return -errno;
        r = sd_event_add_io(event, &m->job_source, m->job_efd, EPOLLIN, job_done, m);
        if (r >= 0)
                r = manager_remedy_init(m);
        if (r >= 0)
                r = manager_peers_init(m);
        if (r >= 0)
                r = sd_event_add_time(event, &m->coalesce, CLOCK_MONOTONIC, UINT64_MAX, 1000,
                                      on_coalesce, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->coalesce, SD_EVENT_OFF);
        /* The re-scan may wait for other wake-ups: a minute's accuracy. */
        if (r >= 0)
                r = sd_event_add_time(event, &m->rescan, CLOCK_MONOTONIC, UINT64_MAX,
                                      60ULL * 1000000ULL, on_rescan, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->rescan, SD_EVENT_OFF);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m)
{
        if (!m)
                return NULL;
        if (m->job) {
                pthread_join(m->job->thread, NULL);
                job_free(m->job);
        }
        manager_remedy_done(m);
        manager_peers_done(m);
        manager_varlink_done(m);
        manager_watch_done(m);
        sd_event_source_disable_unref(m->job_source);
        sd_event_source_disable_unref(m->coalesce);
        sd_event_source_disable_unref(m->rescan);
        safe_close(m->job_efd);
        np_report_free(m->report);
        np_probe_state_done(&m->probe_state);
        np_probe_changes_done(&m->changes);
        for (size_t i = 0; i < ELEMENTSOF(m->reply_msg); i++)
                free(m->reply_msg[i]);
        np_config_free(m->config);
        np_probe_request_done(&m->request);
        free(m->config_error);
        profile_infos_free(m);
        np_root_free(m->root);
        np_root_free(m->probe_root);
        np_watch_list_done(&m->inputs);
        free(m->config_path);
        free(m->status);
        np_metrics_counters_done(&m->counters);
        free(m->nfd_written);
        free(m->nfd_error);
        free(m->metrics_written);
        free(m->metrics_error);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}
