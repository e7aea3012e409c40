/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * apply: plan, run the planned steps in order, each journaled before and after, then probe and
 * check again. A step that fails is reported and the others still run: they fix other checks.
 */

#include <assert.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "evaluate.h"
#include "fix/engine/fault.h"
#include "fix/engine/fix-internal.h"
#include "fix/engine/journal.h"
#include "fix/exec/runtime.h"
#include "util/json-util.h"
#include "util/strv.h"

typedef struct Applier {
        const NpRoot *root;
        const NpConfig *config;
        uint64_t now_usec;
        NpFixRun *run;
        NpJournal *journal;
        unsigned n; /* step number in the journal */
} Applier;

static int ensure_journal(Applier *a)
{
        _cleanup_(json_object_putp) json_object *h = json_object_new_object();
        _cleanup_strv_free_ char **profiles = NULL;
        _cleanup_free_ char *id = NULL, *created = NULL;
        int r;

        if (a->journal)
                return 0;
        for (size_t i = 0; i < a->config->n_profiles; i++)
                if (strv_extend(&profiles, a->config->profiles[i]->name) < 0)
                        return -ENOMEM;
        id = np_change_id_new(a->now_usec);
        created = np_format_timestamp(a->now_usec);
        if (!h || !id || !created)
                return -ENOMEM;
        r = json_add_str(h, "type", "change");
        if (r >= 0)
                r = json_add_int(h, "format", NP_JOURNAL_FORMAT);
        if (r >= 0)
                r = json_add_str(h, "id", id);
        if (r >= 0)
                r = json_add_str(h, "created", created);
        if (r >= 0)
                r = json_add_str(h, "root", a->root->path);
        if (r >= 0)
                r = json_add_str(h, "nodeprep", NP_VERSION);
        if (r >= 0)
                r = json_add(h, "profiles", json_strv_new(profiles));
        if (r < 0)
                return r;
        r = np_journal_create(a->root, id, h, &a->journal);
        if (r < 0)
                return r;
        a->run->change_id = strdup(id);
        a->run->backup_dir = strdup(a->journal->shown);
        return a->run->change_id && a->run->backup_dir ? 0 : -ENOMEM;
}

static json_object *step_record(unsigned n, const char *state, const NpStep *s)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o || json_add_str(o, "type", "step") < 0 ||
            json_add(o, "n", json_object_new_int64(n)) < 0 || json_add_str(o, "state", state) < 0)
                return NULL;
        if (s && (json_add_str(o, "kind", np_step_kind_to_string(s->kind)) < 0 ||
                  json_add(o, "checks", json_strv_new(s->checks)) < 0 ||
                  json_add_str(o, "summary", s->summary) < 0))
                return NULL;
        return TAKE_PTR(o);
}

static int journal_end(Applier *a, unsigned n, const NpStep *s)
{
        _cleanup_(json_object_putp) json_object *o =
            step_record(n, s->state == NP_STEP_DONE ? "done" : "failed", NULL);

        if (!o || json_add_str(o, "message", s->message) < 0)
                return -ENOMEM;
        return np_journal_append(a->journal, o);
}

static int step_fail(NpStep *s, const char *fmt, ...) _printf_(2, 3);
static int step_fail(NpStep *s, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = free_and_vprintf(&s->message, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        s->state = NP_STEP_FAILED;
        return 0;
}

static int begin(Applier *a, const NpStep *s, json_object **ret)
{
        int r = ensure_journal(a);

        if (r < 0)
                return r;
        a->n++;
        *ret = step_record(a->n, "begin", s);
        return *ret ? 0 : -ENOMEM;
}

/* --- the step kinds ----------------------------------------------------------------------------
 */

/* The extended attributes of the original, for rollback to put back exactly. */
static int save_xattrs(Applier *a, const char *name, const NpXattrs *x, char **ret_error)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *text;
        int r;

        r = np_xattrs_to_json(x, &o);
        if (r < 0)
                return r;
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        if (!text)
                return -ENOMEM;
        return np_journal_save(a->journal, name, text, strlen(text), ret_error);
}

static int exec_edit(Applier *a, NpStep *s)
{
        _cleanup_(np_file_state_done) NpFileState now = {};
        _cleanup_(json_object_putp) json_object *rec = NULL;
        _cleanup_free_ char *temp = np_temp_name(s->path), *old_name = NULL, *new_name = NULL,
                            *xattrs_name = NULL, *error = NULL,
                            *shown = np_root_prefix(a->root, s->path);
        NpFileWrite w = { .mode = s->mode, .uid = s->uid, .gid = s->gid, .expect = &now };
        int r;

        if (!temp || !shown)
                return -ENOMEM;
        w.temp_name = temp;
        r = np_file_state_read(a->root, s->path, NP_READ_MAX_DEFAULT, &now);
        if (r == -ENOENT)
                r = 0; /* its directory is created by an earlier step, or the file is new */
        if (r < 0)
                return r == -ENOMEM ? r : step_fail(s, "cannot read %s: %s", shown, strerror(-r));
        if (now.exists != s->existed ||
            (now.exists && (!S_ISREG(now.mode) || now.size != s->old_size ||
                            memcmp(now.data, s->old_data, s->old_size) != 0)))
                return step_fail(s,
                                 "%s changed after the plan was made; nothing written (run "
                                 "apply again)",
                                 shown);
        if (now.exists && now.nlink > 1)
                return step_fail(s,
                                 "%s is hard-linked: would break the link (%ju links since the "
                                 "plan was made); nothing written",
                                 shown, (uintmax_t)now.nlink);

        r = begin(a, s, &rec);
        if (r < 0)
                return r;
        old_name = s->existed ? strprintf("%u.old", a->n) : NULL;
        xattrs_name = s->existed ? strprintf("%u.xattrs", a->n) : NULL;
        new_name = strprintf("%u.new", a->n);
        if ((s->existed && (!old_name || !xattrs_name)) || !new_name)
                return -ENOMEM;
        if (json_add_str(rec, "path", s->path) < 0 ||
            json_add(rec, "existed", json_object_new_boolean(s->existed)) < 0 ||
            json_add(rec, "mode",
                     json_object_new_int64(s->existed ? now.mode & 07777 : s->mode & 07777)) < 0 ||
            json_add(rec, "uid", json_object_new_int64(s->existed ? now.uid : s->uid)) < 0 ||
            json_add(rec, "gid", json_object_new_int64(s->existed ? now.gid : s->gid)) < 0 ||
            json_add_str(rec, "old", old_name) < 0 || json_add_str(rec, "new", new_name) < 0 ||
            json_add_str(rec, "xattrs", xattrs_name) < 0 || json_add_str(rec, "temp", temp) < 0)
                return -ENOMEM;
        /* The temporary name is in the journal before the file exists. */
        r = np_journal_append(a->journal, rec);
        if (r < 0)
                return step_fail(s, "cannot write the journal in %s: %s", a->journal->shown,
                                 strerror(-r));
        /* The original first: from here on a crash leaves a usable backup. */
        if (s->existed)
                r = np_journal_save(a->journal, old_name, s->old_data, s->old_size, &error);
        if (r >= 0 && s->existed)
                r = save_xattrs(a, xattrs_name, &now.xattrs, &error);
        if (r >= 0)
                r = np_journal_save(a->journal, new_name, s->new_data, s->new_size, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return step_fail(s, "cannot save the backup of %s in %s: %s", shown,
                                 a->journal->shown, strna(error));
        np_fault_point("backup:saved");

        /* now is what was compared with the plan: the file must still be exactly that. */
        r = np_file_write_atomic(a->root, s->path, s->new_data, s->new_size, &w, &error);
        if (r == -ESTALE)
                r = step_fail(s,
                              "%s changed while applying (%s); the other writer's version is "
                              "kept and nothing was written (run apply again)",
                              shown, strna(error));
        else if (r < 0)
                r = step_fail(s, "%s", strna(error));
        else {
                s->state = NP_STEP_DONE;
                r = free_and_strdup(&s->message, s->existed ? "replaced" : "created");
        }
        if (r < 0)
                return r;
        return journal_end(a, a->n, s);
}

static int exec_mkdir(Applier *a, NpStep *s)
{
        _cleanup_(json_object_putp) json_object *rec = NULL;
        _cleanup_free_ char *shown = np_root_prefix(a->root, s->path);
        struct stat st;
        int r;

        if (!shown)
                return -ENOMEM;
        if (np_root_stat(a->root, s->path, &st) >= 0) {
                if (!S_ISDIR(st.st_mode))
                        return step_fail(s, "%s exists and is not a directory", shown);
                s->state = NP_STEP_DONE;
                return free_and_strdup(&s->message, "already there");
        }
        r = begin(a, s, &rec);
        if (r < 0)
                return r;
        if (json_add_str(rec, "path", s->path) < 0)
                return -ENOMEM;
        r = np_journal_append(a->journal, rec);
        if (r < 0)
                return step_fail(s, "cannot write the journal: %s", strerror(-r));
        r = np_mkdir_in_root(a->root, s->path, s->mode, s->uid, s->gid);
        if (r < 0)
                r = step_fail(s, "cannot create %s: %s", shown, strerror(-r));
        else {
                s->state = NP_STEP_DONE;
                r = free_and_strdup(&s->message, "created");
        }
        if (r < 0)
                return r;
        np_fault_point("mkdir:done");
        return journal_end(a, a->n, s);
}

static int exec_runtime_write(Applier *a, NpStep *s)
{
        _cleanup_(json_object_putp) json_object *rec = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(s->value);
        int r;

        r = begin(a, s, &rec);
        if (r < 0)
                return r;
        if (json_add_str(rec, "path", s->path) < 0 || json_add_str(rec, "old", s->old_value) < 0 ||
            json_add_str(rec, "new", s->value) < 0)
                return -ENOMEM;
        r = np_journal_append(a->journal, rec);
        if (r < 0)
                return step_fail(s, "cannot write the journal: %s", strerror(-r));
        /* A kernel attribute: one write() is the whole change, there is no file to replace. */
        fd = open(s->path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || write(fd, s->value, n) != (ssize_t)n)
                r = step_fail(s, "cannot write %s to %s: %s", s->value, s->path,
                              errno == EROFS ? "read-only (a container without its own "
                                               "selinuxfs?)"
                                             : strerror(errno));
        else {
                s->state = NP_STEP_DONE;
                r = free_and_strdup(&s->message, "written");
        }
        if (r < 0)
                return r;
        return journal_end(a, a->n, s);
}

/* What rollback needs of a step on the running system: typed fields, never an argv (the
 * journal schema, journal-schema.c, accepts these and only these). */
static int call_record(json_object *rec, const NpStep *s)
{
        bool iscsi = s->command == NP_COMMAND_ISCSI_NODE_UPDATE;
        bool ok;

        switch (s->kind) {
        case NP_STEP_KMOD_LOAD:
                ok = json_add_str(rec, "module", s->module) >= 0 &&
                     json_add_str(rec, "cannot_undo", s->cannot_undo) >= 0;
                break;
        case NP_STEP_UNIT_ENABLE:
        case NP_STEP_UNIT_START:
                ok = json_add_str(rec, "unit", s->unit) >= 0 &&
                     json_add_str(rec, "previous", s->unit_previous) >= 0 &&
                     (s->kind == NP_STEP_UNIT_ENABLE ||
                      json_add_str(rec, "cannot_undo", s->cannot_undo) >= 0);
                break;
        case NP_STEP_COMMAND:
                ok = json_add_str(rec, "command", np_command_to_string(s->command)) >= 0 &&
                     (iscsi ? json_add_str(rec, "target", s->target) >= 0 &&
                                  json_add_str(rec, "portal", s->portal) >= 0 &&
                                  json_add_str(rec, "key", s->key) >= 0 &&
                                  json_add_str(rec, "value", s->value) >= 0 &&
                                  json_add_str(rec, "previous", s->old_value) >= 0
                            : json_add_str(rec, "tool", s->argv[0]) >= 0 &&
                                  json_add_str(rec, "package", s->package) >= 0) &&
                     json_add_str(rec, "cannot_undo", s->cannot_undo) >= 0;
                break;
        default:
                return -EINVAL;
        }
        return ok ? 0 : -ENOMEM;
}

static int exec_call(Applier *a, NpStep *s)
{
        _cleanup_(json_object_putp) json_object *rec = NULL;
        _cleanup_free_ char *detail = NULL, *error = NULL, *output = NULL;
        int r, k;

        r = begin(a, s, &rec);
        if (r < 0)
                return r;
        r = call_record(rec, s);
        if (r < 0)
                return r;
        r = np_journal_append(a->journal, rec);
        if (r < 0)
                return step_fail(s, "cannot write the journal: %s", strerror(-r));

        switch (s->kind) {
        case NP_STEP_KMOD_LOAD:
                k = np_kmod_load(NULL, s->module, &detail, &error);
                break;
        case NP_STEP_UNIT_ENABLE:
                k = np_unit_enable(s->unit, &detail, &error);
                break;
        case NP_STEP_UNIT_START:
                k = np_unit_start(s->unit, s->timeout_sec, &error);
                break;
        case NP_STEP_COMMAND:
                assert(s->argv && s->argv[0]); /* planned with an argv (fix/plan/iscsi.c) */
                k = np_command_run(s->argv, s->env, s->timeout_sec, &output);
                if (k == -ENOENT)
                        error = strprintf("%s: not found", s->argv[0]);
                else if (k == -ETIMEDOUT)
                        error = strprintf("%s did not finish within %u s and was killed",
                                          s->argv[0], s->timeout_sec);
                else if (k > 0) {
                        /* The end of the output says why. */
                        char *tail = output ? output + strlen(output) : NULL;

                        for (int lines = 0; tail && tail > output && lines < 4; tail--)
                                if (tail[-1] == '\n' && tail[0] != '\0')
                                        lines++;
                        error = strprintf("%s exited with status %d: %s", s->argv[0], k,
                                          tail ? strstrip(tail) : "");
                        k = -EIO;
                }
                break;
        default:
                k = -EINVAL;
        }
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                r = step_fail(s, "%s", error ? error : strerror(-k));
        else {
                s->state = NP_STEP_DONE;
                r = free_and_strdup(&s->message, detail ? detail : "done");
        }
        if (r < 0)
                return r;
        return journal_end(a, a->n, s);
}

static int exec_steps(Applier *a, size_t from)
{
        for (size_t i = from; i < a->run->n_steps; i++) {
                NpStep *s = &a->run->steps[i];
                int r;

                if (s->state != NP_STEP_PLANNED)
                        continue;
                switch (s->kind) {
                case NP_STEP_EDIT_FILE:
                        r = exec_edit(a, s);
                        break;
                case NP_STEP_MKDIR:
                        r = exec_mkdir(a, s);
                        break;
                case NP_STEP_RUNTIME_WRITE:
                        r = exec_runtime_write(a, s);
                        break;
                default:
                        r = exec_call(a, s);
                }
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && s->state != NP_STEP_FAILED)
                        r = step_fail(s, "%s", strerror(-r));
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * Earlier changes: one without its "complete" record was cut short (said in the notes), and
 * one whose journal this version does not accept is said too, and left alone. With cleanup
 * (the lock held), the temporary files killed runs (apply or rollback) left next to the files
 * the journals name are removed: nodeprep's own names only (np_file_remove_temps()).
 */
static int review_changes(Applier *a, bool cleanup)
{
        _cleanup_strv_free_ char **ids = NULL, **paths = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = np_changes_list(a->root, &ids, &error);
        if (r == -EPERM)
                return strv_consume(&a->run->notes, TAKE_PTR(error));
        if (r < 0)
                return r;
        STRV_FOREACH (id, ids) {
                _cleanup_(np_change_freep) NpChange *c = NULL;

                error = mfree(error);
                r = np_change_load(a->root, *id, &c, &error);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        r = strv_consume(&a->run->notes,
                                         strprintf("change %s is left alone: %s", *id,
                                                   error ? error : strerror(-r)));
                        if (r < 0)
                                return r;
                        continue;
                }
                for (size_t i = 0; cleanup && i < c->n_records; i++) {
                        json_object *o = c->records[i];

                        if (streq_ptr(json_object_get_string(json_object_object_get(o, "kind")),
                                      "edit-file") &&
                            strv_extend_unique(&paths, json_object_get_string(
                                                           json_object_object_get(o, "path"))) < 0)
                                return -ENOMEM;
                }
                if (c->complete || c->rolled_back)
                        continue;
                r = strv_consume(&a->run->notes,
                                 strprintf("change %s did not finish (nodeprep was stopped while "
                                           "applying it); what it saved is in %s, and "
                                           "nodeprepctl rollback %s undoes what it did",
                                           c->id, c->shown, c->id));
                if (r < 0)
                        return r;
        }
        STRV_FOREACH (p, paths)
                (void)np_file_remove_temps(a->root, *p); /* best effort: the next run tries again */
        return 0;
}

static bool has_planned(const NpFixRun *run)
{
        FOREACH_ARRAY (s, run->steps, run->n_steps)
                if (s->state == NP_STEP_PLANNED)
                        return true;
        return false;
}

static bool package_installed(const NpFixRun *run, size_t from)
{
        for (size_t i = from; i < run->n_steps; i++)
                if (run->steps[i].phase == NP_PHASE_PACKAGE && run->steps[i].state == NP_STEP_DONE)
                        return true;
        return false;
}

/* The one way apply looks at the host: probe and check everything, counted in the run. */
static int evaluate(Applier *a, NpReport **ret)
{
        a->run->evaluations++;
        return np_evaluate(a->root, a->config, a->now_usec, ret);
}

/* Plan from a report into a fresh run (the entries and steps of an earlier plan dropped). */
static int replan(Applier *a, const NpFixOptions *o, const NpReport *report)
{
        NpFixRun *run = a->run;

        FOREACH_ARRAY (e, run->entries, run->n_entries)
                np_fix_entry_done(e);
        run->entries = mfree(run->entries);
        run->n_entries = 0;
        FOREACH_ARRAY (s, run->steps, run->n_steps)
                np_step_done(s);
        run->steps = mfree(run->steps);
        run->n_steps = 0;
        run->ready_before = report->ready;
        return np_fix_plan_report(a->root, a->config, report, o, false, run);
}

/*
 * Evaluations: one before (the plan is made from it), one after (the verdicts). A third only
 * when the host changed under the plan in a way nodeprep knows of: another apply or rollback
 * finished between the first look and taking the lock (its journal says so), or a package
 * install brought files that checks still manual can now be fixed in. Executors still read the
 * file they replace just before replacing it: that is the lost-update check of the plan's
 * bytes, not a second look at the host.
 */
int np_fix_apply(const NpRoot *root, const NpConfig *config, const NpFixOptions *o,
                 uint64_t now_usec, NpFixRun **ret, char **ret_error)
{
        _cleanup_(np_fix_run_freep) NpFixRun *run = NULL;
        _cleanup_(np_report_freep) NpReport *before = NULL, *after = NULL;
        _cleanup_(np_journal_freep) NpJournal *journal = NULL;
        _cleanup_free_ char *stamp = NULL, *stamp_locked = NULL;
        _cleanup_close_ int lock = -EBADF;
        Applier a = { .root = root, .config = config, .now_usec = now_usec };
        size_t first = 0;
        int r;

        if (o->dry_run)
                return np_fix_evaluate_and_plan(root, config, o, now_usec, ret, ret_error);

        /* First without the lock: when nothing needs doing, nothing is written at all. */
        r = np_fix_run_new(root, config, o, &run, ret_error);
        if (r < 0)
                return r;
        run->applied = true;
        a.run = run;
        r = np_changes_stamp(root, &stamp);
        if (r >= 0)
                r = evaluate(&a, &before);
        if (r >= 0)
                r = replan(&a, o, before);
        if (r < 0)
                return r;
        if (!has_planned(run)) {
                /* Nothing to do, nothing written; but leftovers of a killed run are removed
                 * when the lock can be had without creating anything. */
                r = np_fix_trylock_existing(root, &lock);
                r = review_changes(&a, r >= 0);
                if (r >= 0)
                        r = np_fix_settle(run, before);
                if (r < 0)
                        return r;
                run->ready_after = before->ready;
                *ret = TAKE_PTR(run);
                return 0;
        }

        /* Something to do: take the lock. Another apply or rollback that wrote its journal since
         * the first look changed the host under the plan: look again. */
        lock = safe_close(lock);
        r = np_fix_lock(root, &lock, ret_error);
        if (r == -EBUSY)
                *ret_error =
                    strprintf("another nodeprep apply or rollback is running on %s", root->path);
        else if (r < 0 && !*ret_error)
                *ret_error = strprintf("cannot create or lock %s under %s: %s", NP_BACKUP_DIR,
                                       root->path, strerror(-r));
        if (r < 0)
                return r;
        r = np_changes_stamp(root, &stamp_locked);
        if (r < 0)
                return r;
        if (!streq(stamp, stamp_locked)) {
                before = np_report_free(before);
                r = evaluate(&a, &before);
                if (r >= 0)
                        r = replan(&a, o, before);
                if (r < 0)
                        return r;
        }
        r = review_changes(&a, true);
        if (r >= 0)
                r = exec_steps(&a, 0);
        journal = a.journal; /* NOLINT(clang-analyzer-deadcode.DeadStores): freed by _cleanup_ */
        if (r < 0)
                return r;
        r = evaluate(&a, &after);
        if (r < 0)
                return r;

        /* A package brings its own files (iscsid.conf): plan what could not be planned before,
         * and look once more only when that planned something. */
        if (package_installed(run, 0)) {
                first = run->n_steps;
                r = np_fix_plan_report(root, config, after, o, true, run);
                if (r >= 0 && has_planned(run)) {
                        r = exec_steps(&a, first);
                        journal = a.journal; /* NOLINT(clang-analyzer-deadcode.DeadStores) */
                        if (r >= 0) {
                                after = np_report_free(after);
                                r = evaluate(&a, &after);
                        }
                }
                if (r < 0)
                        return r;
        }

        r = np_fix_settle(run, after);
        if (r < 0)
                return r;
        run->ready_after = after->ready;
        if (a.journal) {
                _cleanup_(json_object_putp) json_object *done = json_object_new_object();

                if (!done || json_add_str(done, "type", "complete") < 0 ||
                    json_add(done, "changed", json_object_new_boolean(run->changed)) < 0 ||
                    json_add(done, "failed", json_object_new_boolean(run->failed)) < 0)
                        return -ENOMEM;
                r = np_journal_append(a.journal, done);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(run);
        return 0;
}
