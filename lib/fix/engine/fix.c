/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fix table, planning (results -> entries and steps) and the final verdict per check. */

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "evaluate.h"
#include "fix/engine/diff.h"
#include "fix/engine/fix-internal.h"
#include "util/strv.h"

static const NpFixType *const fix_types[] = {
        &np_fix_package_install, &np_fix_iscsid_conf_set,      &np_fix_iscsi_node_update,
        &np_fix_kmod_load,       &np_fix_modules_load_persist, &np_fix_selinux_runtime,
        &np_fix_selinux_config,  &np_fix_unit_enable,          &np_fix_unit_start,
        &np_fix_dir_layout,
};

const NpFixType *np_fix_type_find(const char *id)
{
        for (size_t i = 0; id && i < ELEMENTSOF(fix_types); i++)
                if (streq(fix_types[i]->id, id))
                        return fix_types[i];
        return NULL;
}

static const char *const step_kind_table[_NP_STEP_KIND_MAX] = {
        [NP_STEP_MKDIR] = "mkdir",
        [NP_STEP_EDIT_FILE] = "edit-file",
        [NP_STEP_KMOD_LOAD] = "kmod-load",
        [NP_STEP_RUNTIME_WRITE] = "runtime-write",
        [NP_STEP_UNIT_ENABLE] = "unit-enable",
        [NP_STEP_UNIT_START] = "unit-start",
        [NP_STEP_COMMAND] = "command",
};

static const char *const step_state_table[_NP_STEP_STATE_MAX] = {
        [NP_STEP_PLANNED] = "planned", [NP_STEP_DONE] = "done",     [NP_STEP_SKIPPED] = "skipped",
        [NP_STEP_NOT_RUN] = "not-run", [NP_STEP_FAILED] = "failed",
};

static const char *const outcome_table[_NP_FIX_OUTCOME_MAX] = {
        [NP_FIX_UNCHANGED] = "unchanged", [NP_FIX_CHANGED] = "changed", [NP_FIX_FAILED] = "failed",
        [NP_FIX_MANUAL] = "manual",       [NP_FIX_SKIPPED] = "skipped",
};

static const char *const undo_table[_NP_UNDO_STATE_MAX] = {
        [NP_UNDO_RESTORED] = "restored",  [NP_UNDO_UNCHANGED] = "unchanged",
        [NP_UNDO_CANNOT] = "cannot-undo", [NP_UNDO_FAILED] = "failed",
        [NP_UNDO_SKIPPED] = "skipped",
};

static const char *const command_table[_NP_COMMAND_MAX] = {
        [NP_COMMAND_ISCSI_NODE_UPDATE] = "iscsi-node-update",
        [NP_COMMAND_PACKAGE_INSTALL] = "package-install",
};

const char *np_step_kind_to_string(NpStepKind k)
{
        return k >= 0 && k < _NP_STEP_KIND_MAX ? step_kind_table[k] : NULL;
}

const char *np_step_state_to_string(NpStepState s)
{
        return s >= 0 && s < _NP_STEP_STATE_MAX ? step_state_table[s] : NULL;
}

const char *np_fix_outcome_to_string(NpFixOutcome o)
{
        return o >= 0 && o < _NP_FIX_OUTCOME_MAX ? outcome_table[o] : NULL;
}

const char *np_undo_state_to_string(NpUndoState s)
{
        return s >= 0 && s < _NP_UNDO_STATE_MAX ? undo_table[s] : NULL;
}

const char *np_command_to_string(NpCommand c)
{
        return c >= 0 && c < _NP_COMMAND_MAX ? command_table[c] : NULL;
}

NpCommand np_command_from_string(const char *s)
{
        for (NpCommand c = 0; s && c < _NP_COMMAND_MAX; c++)
                if (streq(command_table[c], s))
                        return c;
        return _NP_COMMAND_INVALID;
}

/* --- options -----------------------------------------------------------------------------------
 */

void np_fix_options_done(NpFixOptions *o)
{
        strv_free(o->only);
        *o = (NpFixOptions){};
}

static const struct {
        size_t offset; /* of the bool in NpFixOptions */
        const char *option;
} consent_table[_NP_CONSENT_MAX] = {
        [NP_CONSENT_NODE_RECORDS] = { offsetof(NpFixOptions, update_node_records),
                                      "--update-node-records" },
        [NP_CONSENT_PACKAGES] = { offsetof(NpFixOptions, install_packages), "--install-packages" },
};

bool np_fix_options_consent(const NpFixOptions *o, NpFixConsent c)
{
        if (c == NP_CONSENT_NONE)
                return true;
        return c > 0 && c < _NP_CONSENT_MAX &&
               *(const bool *)((const char *)o + consent_table[c].offset);
}

const char *np_fix_consent_option(NpFixConsent c)
{
        return c > 0 && c < _NP_CONSENT_MAX ? consent_table[c].option : NULL;
}

/* The fix type of a check id's check type ("iscsi.conf:node.startup" -> iscsid-conf-set). */
static const NpFixType *fix_type_of_check(const char *id)
{
        _cleanup_free_ char *type = strndup(id, strcspn(id, ":"));
        const NpCheckType *ct = type ? np_check_type_find(type) : NULL;

        return ct ? np_fix_type_find(ct->fix) : NULL;
}

int np_fix_options_auto_apply(const NpSite *site, NpFixOptions *ret)
{
        NpFixOptions o = {};

        /* Empty AutoApply=: nothing. (Empty `only` would mean every check.) */
        if (strv_length(site->auto_apply) == 0) {
                *ret = o;
                return 0;
        }
        o.only = strv_copy(site->auto_apply);
        if (!o.only)
                return -ENOMEM;
        STRV_FOREACH (id, site->auto_apply) {
                const NpFixType *ft = fix_type_of_check(*id);

                if (ft && ft->consent != NP_CONSENT_NONE)
                        *(bool *)((char *)&o + consent_table[ft->consent].offset) = true;
        }
        o.include_recommended = site->include_recommended;
        *ret = o;
        return 1;
}

/* --- freeing -----------------------------------------------------------------------------------
 */

void np_step_done(NpStep *s)
{
        free(s->summary);
        strv_free(s->checks);
        free(s->path);
        free(s->old_data);
        free(s->new_data);
        free(s->diff);
        free(s->module);
        free(s->value);
        free(s->old_value);
        free(s->unit);
        free(s->unit_previous);
        free(s->target);
        free(s->portal);
        free(s->key);
        free(s->package);
        strv_free(s->argv);
        strv_free(s->env);
        free(s->cannot_undo);
        free(s->message);
        *s = (NpStep){};
}

void np_fix_entry_done(NpFixEntry *e)
{
        free(e->id);
        free(e->title);
        strv_free(e->profiles);
        free(e->fix);
        free(e->message);
        free(e->remedy);
        free(e->observed_before);
        free(e->observed_after);
}

NpFixRun *np_fix_run_free(NpFixRun *r)
{
        if (!r)
                return NULL;
        free(r->root);
        free(r->change_id);
        free(r->backup_dir);
        FOREACH_ARRAY (e, r->entries, r->n_entries)
                np_fix_entry_done(e);
        free(r->entries);
        FOREACH_ARRAY (s, r->steps, r->n_steps)
                np_step_done(s);
        free(r->steps);
        strv_free(r->notes);
        free(r);
        return NULL;
}

/* --- helpers for planners ----------------------------------------------------------------------
 */

static int entry_set(NpFixEntry *e, NpFixOutcome outcome, const char *remedy, const char *fmt,
                     va_list ap) _printf_(4, 0);
static int entry_set(NpFixEntry *e, NpFixOutcome outcome, const char *remedy, const char *fmt,
                     va_list ap)
{
        int r = free_and_vprintf(&e->message, fmt, ap);

        if (r < 0)
                return r;
        e->outcome = outcome;
        return remedy ? free_and_strdup(&e->remedy, remedy) : 0;
}

int np_fix_entry_manual(NpFixEntry *e, const char *remedy, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = entry_set(e, NP_FIX_MANUAL, remedy, fmt, ap);
        va_end(ap);
        return r;
}

int np_fix_entry_failed(NpFixEntry *e, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = entry_set(e, NP_FIX_FAILED, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int np_fix_entry_note(NpFixEntry *e, const char *fmt, ...)
{
        _cleanup_free_ char *m = NULL;
        va_list ap;

        va_start(ap, fmt);
        m = strvprintf(fmt, ap);
        va_end(ap);
        if (!m)
                return -ENOMEM;
        /* The text is formatted before the old message is freed. */
        return e->message ? free_and_printf(&e->message, "%s; %s", e->message, m)
                          : free_and_strdup(&e->message, m);
}

char *np_argv_to_text(char *const *argv)
{
        _cleanup_strv_free_ char **words = NULL;

        STRV_FOREACH (a, (char **)argv) {
                bool plain = !isempty(*a) &&
                             strspn(*a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789-_./:,=+@[]%") == strlen(*a);

                if (strv_consume(&words, plain ? strdup(*a) : strprintf("'%s'", *a)) < 0)
                        return NULL;
        }
        return words ? strv_join(words, " ") : strdup("");
}

int np_fix_add_step(NpFixContext *c, NpFixEntry *e, NpStep *step)
{
        NpFixRun *run = c->run;
        NpStep *a;
        int r;

        r = strv_extend_unique(&step->checks, e->id);
        if (r < 0) {
                np_step_done(step);
                return r;
        }
        if (step->running_system && !c->root->host && step->state == NP_STEP_PLANNED) {
                step->state = NP_STEP_SKIPPED;
                r = free_and_strdup(&step->message, "not the running system (--root is not /): "
                                                    "never performed on this machine");
                if (r < 0) {
                        np_step_done(step);
                        return r;
                }
        }
        a = reallocarray(run->steps, run->n_steps + 1, sizeof(NpStep));
        if (!a) {
                np_step_done(step);
                return -ENOMEM;
        }
        run->steps = a;
        a[run->n_steps++] = *step;
        *step = (NpStep){};
        return 0;
}

static NpPendingFile *pending_find(NpFixContext *c, const char *path)
{
        FOREACH_ARRAY (f, c->files, c->n_files)
                if (streq(f->path, path))
                        return f;
        return NULL;
}

static void pending_files_free(NpFixContext *c)
{
        FOREACH_ARRAY (f, c->files, c->n_files) {
                free(f->path);
                np_file_state_done(&f->state);
                free(f->data);
                strv_free(f->checks);
                strv_free(f->summaries);
                free(f->refused);
        }
        free(c->files);
        c->files = NULL;
        c->n_files = 0;
}

/* summary with its one "%s" replaced by where (not printf: the text is built at run time). */
static char *fill_where(const char *summary, const char *where)
{
        const char *p = strstr(summary, "%s");

        if (!p)
                return strdup(summary);
        return strprintf("%.*s%s%s", (int)(p - summary), summary, where, p + 2);
}

int np_fix_edit_file(NpFixContext *c, NpFixEntry *e, const char *path, mode_t create_mode,
                     NpEditFn fn, void *userdata, const char *summary_fmt)
{
        return np_fix_edit_file_owned(c, e, path, create_mode, 0, 0, fn, userdata, summary_fmt);
}

int np_fix_edit_file_owned(NpFixContext *c, NpFixEntry *e, const char *path, mode_t create_mode,
                           uid_t uid, gid_t gid, NpEditFn fn, void *userdata,
                           const char *summary_fmt)
{
        _cleanup_free_ char *out = NULL, *where = NULL, *error = NULL, *shown = NULL;
        NpPendingFile *f = pending_find(c, path);
        size_t out_size = 0;
        int r;

        shown = np_root_prefix(c->root, path);
        if (!shown)
                return -ENOMEM;
        if (!f) {
                NpPendingFile *a = reallocarray(c->files, c->n_files + 1, sizeof(NpPendingFile));
                NpFileState st = {};

                if (!a)
                        return -ENOMEM;
                c->files = a;
                r = np_file_state_read(c->root, path, NP_READ_MAX_DEFAULT, &st);
                if (r == -ENOMEM)
                        return r;
                if (r == -ENOENT)
                        r = 0; /* the directory is missing too: a planned mkdir creates it */
                if (r < 0) {
                        np_file_state_done(&st);
                        return np_fix_entry_failed(e, "cannot read %s: %s", shown, strerror(-r));
                }
                f = &c->files[c->n_files++];
                *f = (NpPendingFile){ .path = strdup(path),
                                      .state = st,
                                      .create_mode = create_mode,
                                      .create_uid = uid,
                                      .create_gid = gid };
                if (!f->path)
                        return -ENOMEM;
                if (st.exists && !S_ISREG(st.mode))
                        r = np_fix_entry_failed(
                            e,
                            "%s is %s; nodeprep edits only regular files and does not "
                            "replace it",
                            shown,
                            S_ISLNK(st.mode) ? (streq_ptr(st.link, "/dev/null")
                                                    ? "a symlink to /dev/null (masked by the "
                                                      "administrator)"
                                                    : "a symlink")
                                             : "not a regular file");
                else if (st.exists) {
                        f->data = malloc(st.size + 1);
                        if (!f->data)
                                return -ENOMEM;
                        memcpy(f->data, st.data, st.size);
                        f->data[st.size] = '\0';
                        f->size = st.size;
                }
                if (r < 0)
                        return r;
                if (e->outcome == NP_FIX_FAILED)
                        return free_and_strdup(&f->refused, e->message);
        }
        if (f->refused && f->refused_manual)
                return np_fix_entry_manual(e, NULL, "%s", f->refused);
        if (f->refused)
                return np_fix_entry_failed(e, "%s", f->refused);

        /* f->data is NULL only for a file that does not exist and no edit has created yet. */
        r = fn(f->data, f->size, userdata, &out, &out_size, &where, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return np_fix_entry_failed(e, "%s: %s", shown, strna(error));
        if (r == 0)
                return 0;
        /* Replacing a hard-linked file by rename would leave the other names with the old
         * contents: a person edits it in place. */
        if (f->state.exists && f->state.nlink > 1) {
                _cleanup_free_ char *what = fill_where(summary_fmt, strempty(where)),
                                    *remedy = what ? strprintf("%s, editing the file in place "
                                                               "(it has %ju hard links)",
                                                               what, (uintmax_t)f->state.nlink)
                                                   : NULL;

                f->refused = strprintf("%s is hard-linked: would break the link (it has %ju "
                                       "links, and nodeprep replaces a file by renaming a new one "
                                       "over it)",
                                       shown, (uintmax_t)f->state.nlink);
                f->refused_manual = true;
                if (!remedy || !f->refused)
                        return -ENOMEM;
                return np_fix_entry_manual(e, remedy, "%s", f->refused);
        }
        if (strv_extend_unique(&f->checks, e->id) < 0 ||
            strv_consume(&f->summaries, fill_where(summary_fmt, strempty(where))) < 0)
                return -ENOMEM;
        free_and_replace(&f->data, TAKE_PTR(out));
        f->size = out_size;
        return 1;
}

static int pending_files_to_steps(NpFixContext *c)
{
        FOREACH_ARRAY (f, c->files, c->n_files) {
                _cleanup_free_ char *label = NULL, *summary = NULL;
                NpStep s = { .kind = NP_STEP_EDIT_FILE, .phase = NP_PHASE_FILE };
                NpFixEntry *owner = NULL;

                if (f->refused || strv_length(f->checks) == 0)
                        continue;
                if (f->state.exists && f->state.size == f->size &&
                    memcmp(f->state.data, f->data, f->size) == 0)
                        continue;
                summary = strv_join(f->summaries, "; ");
                label = np_root_prefix(c->root, f->path);
                s.path = strdup(f->path);
                s.existed = f->state.exists;
                s.mode = f->state.exists ? f->state.mode : f->create_mode;
                s.uid = f->state.exists ? f->state.uid : f->create_uid;
                s.gid = f->state.exists ? f->state.gid : f->create_gid;
                s.checks = strv_copy(f->checks);
                s.summary = TAKE_PTR(summary);
                s.new_data = TAKE_PTR(f->data);
                s.new_size = f->size;
                if (f->state.exists) {
                        s.old_data = TAKE_PTR(f->state.data);
                        s.old_size = f->state.size;
                }
                if (!label || !s.path || !s.checks || !s.summary) {
                        np_step_done(&s);
                        return -ENOMEM;
                }
                s.diff = np_diff_unified(f->path, s.old_data, s.old_size, f->path, s.new_data,
                                         s.new_size, NP_DIFF_CONTEXT);
                if (!s.diff) {
                        np_step_done(&s);
                        return -ENOMEM;
                }
                /* np_diff_unified() shows a line holding a secret redacted (util/secret.h). */
                /* np_fix_add_step() adds the entry's id; the others are already there. */
                FOREACH_ARRAY (e, c->run->entries, c->run->n_entries)
                        if (streq(e->id, s.checks[0]))
                                owner = e;
                if (!owner) {
                        np_step_done(&s);
                        return -EINVAL;
                }
                int r = np_fix_add_step(c, owner, &s);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --- planning ----------------------------------------------------------------------------------
 */

static NpFixEntry *entry_find(NpFixRun *run, const char *id)
{
        FOREACH_ARRAY (e, run->entries, run->n_entries)
                if (streq(e->id, id))
                        return e;
        return NULL;
}

static NpFixEntry *entry_add(NpFixRun *run, const NpCheckDef *def, const NpResult *res)
{
        NpFixEntry *a = reallocarray(run->entries, run->n_entries + 1, sizeof(NpFixEntry)), *e;

        if (!a)
                return NULL;
        run->entries = a;
        e = &a[run->n_entries++];
        *e = (NpFixEntry){
                .id = strdup(def->id),
                .title = strdup(def->title),
                .severity = res->severity,
                .before = res->status,
                .fix = res->fix ? strdup(res->fix) : NULL,
                .observed_before = res->observed ? strdup(res->observed) : NULL,
        };
        if (!e->id || !e->title || (res->fix && !e->fix) || (res->observed && !e->observed_before))
                return NULL;
        return e;
}

static const NpCheckDef *first_def(const NpConfig *config, const char *id, const char **ret_profile)
{
        for (size_t p = 0; p < config->n_profiles; p++) {
                const NpCheckDef *d = np_profile_find_check(config->profiles[p], id);

                if (d) {
                        *ret_profile = config->profiles[p]->name;
                        return d;
                }
        }
        return NULL;
}

/* The option a fix type needs (--update-node-records) also asks for it, recommended or not. */
static bool asked_for(const NpFixType *ft, const NpFixOptions *o)
{
        return ft->consent != NP_CONSENT_NONE && np_fix_options_consent(o, ft->consent);
}

static int plan_entry(NpFixContext *c, const NpCheckDef *def, const NpResult *res, NpFixEntry *e)
{
        const NpFixType *ft = np_fix_type_find(res->fix);
        const char *why = res->message ? res->message : "";

        if (def->ignored) {
                e->ignored = true;
                e->outcome = NP_FIX_UNCHANGED;
                return free_and_strdup(&e->message, "ignored by a site override");
        }
        if (res->status == NP_STATUS_PASS || res->status == NP_STATUS_SKIP) {
                e->outcome = NP_FIX_UNCHANGED;
                return 0;
        }
        if (!ft)
                return np_fix_entry_manual(e, res->remedy, "no automatic fix%s%s",
                                           isempty(why) ? "" : ": ", why);
        if (res->severity == NP_SEVERITY_RECOMMENDED && !c->include_recommended &&
            !strv_contains(c->options->only, def->id) && !asked_for(ft, c->options))
                return np_fix_entry_manual(e, res->remedy,
                                           "recommended check: fixed only with "
                                           "--include-recommended (or IncludeRecommended=yes in "
                                           "[Apply] of the site file)");
        if (res->status == NP_STATUS_UNKNOWN) {
                if (ft->running_system && !c->root->host) {
                        e->outcome = NP_FIX_SKIPPED;
                        return free_and_strdup(&e->message,
                                               "not the running system (--root is not /)");
                }
                return np_fix_entry_manual(e, res->remedy,
                                           "nodeprep cannot tell whether it needs fixing: %s", why);
        }
        e->outcome = NP_FIX_CHANGED; /* provisional: the planner adds steps or says otherwise */
        return ft->plan(c, def, res, e);
}

static size_t steps_of(const NpFixRun *run, const char *id, NpStepState state, bool any_state)
{
        size_t n = 0;

        FOREACH_ARRAY (s, run->steps, run->n_steps)
                if (strv_contains(s->checks, id) && (any_state || s->state == state))
                        n++;
        return n;
}

/* After planning: entries whose steps are all skipped or all waiting for an option. */
static int settle_planned(NpFixRun *run, const NpFixOptions *o)
{
        FOREACH_ARRAY (e, run->entries, run->n_entries) {
                size_t all = steps_of(run, e->id, 0, true);
                _cleanup_strv_free_ char **cmds = NULL;
                const char *needs = NULL;

                if (e->outcome != NP_FIX_CHANGED)
                        continue;
                if (all == 0) {
                        int r = np_fix_entry_failed(e,
                                                    "internal error: the check fails but no "
                                                    "fix step was found (%s)",
                                                    strna(e->observed_before));
                        if (r < 0)
                                return r;
                        continue;
                }
                if (steps_of(run, e->id, NP_STEP_SKIPPED, false) == all) {
                        e->outcome = NP_FIX_SKIPPED;
                        if (free_and_strdup(&e->message,
                                            "not the running system (--root is not /)") < 0)
                                return -ENOMEM;
                        continue;
                }
                if (steps_of(run, e->id, NP_STEP_NOT_RUN, false) +
                        steps_of(run, e->id, NP_STEP_SKIPPED, false) <
                    all)
                        continue;
                FOREACH_ARRAY (s, run->steps, run->n_steps)
                        if (strv_contains(s->checks, e->id) && s->state == NP_STEP_NOT_RUN) {
                                needs = s->needs;
                                if (s->argv && strv_consume(&cmds, np_argv_to_text(s->argv)) < 0)
                                        return -ENOMEM;
                        }
                {
                        _cleanup_free_ char *list = strv_join(cmds, "; ");
                        _cleanup_free_ char *remedy = strprintf("%s (nodeprepctl apply %s runs "
                                                                "them)",
                                                                strna(list), strna(needs));
                        int r;

                        if (!list || !remedy)
                                return -ENOMEM;
                        r = np_fix_entry_manual(e, remedy, "applied only when asked: %s",
                                                strna(needs));
                        if (r < 0)
                                return r;
                }
        }
        (void)o;
        return 0;
}

/* One planning pass over a report. only_manual: the second pass after a package install,
 * which looks again only at checks the first pass could not fix. */
static int plan_pass(const NpRoot *root, const NpConfig *config, const NpReport *report,
                     const NpFixOptions *o, bool only_manual, NpFixRun *run)
{
        NpFixContext c = {
                .root = root,
                .facts = report->facts,
                .options = o,
                .include_recommended =
                    o->include_recommended || (config->site && config->site->include_recommended),
                .run = run,
        };
        int r = 0;

        for (size_t p = 0; r >= 0 && p < config->n_profiles; p++) {
                const NpProfile *prof = config->profiles[p];

                c.profile = prof;
                for (size_t k = 0; r >= 0 && k < prof->n_checks; k++) {
                        const NpCheckDef *def = &prof->checks[k], *first;
                        const NpResult *res = &report->profiles[p].results[k];
                        const char *first_profile = NULL, *key = NULL;
                        NpFixEntry *e;

                        if (o->only && !strv_contains(o->only, def->id))
                                continue;
                        e = entry_find(run, def->id);
                        if (only_manual) {
                                if (!e || e->outcome != NP_FIX_MANUAL ||
                                    strv_length(e->profiles) == 0 ||
                                    !streq(e->profiles[0], prof->name))
                                        continue;
                                free(e->remedy);
                                e->remedy = NULL;
                                e->message = mfree(e->message);
                                r = plan_entry(&c, def, res, e);
                                continue;
                        }
                        if (e) {
                                /* The same check in another profile: one fix, both profiles. */
                                r = strv_extend(&e->profiles, prof->name);
                                /* Two profiles asking different things of one check id
                                 * cannot both be fixed: every parameter the type's table says
                                 * can conflict is compared. */
                                first = first_def(config, def->id, &first_profile);
                                if (r >= 0 && first && !np_check_defs_agree(first, def, &key))
                                        r = np_fix_entry_failed(
                                            e,
                                            "profiles %s and %s ask different things of "
                                            "%s (%s= differs); nodeprep will not pick one",
                                            first_profile, prof->name, def->id, key);
                                continue;
                        }
                        e = entry_add(run, def, res);
                        if (!e || strv_extend(&e->profiles, prof->name) < 0)
                                r = -ENOMEM;
                        else
                                r = plan_entry(&c, def, res, e);
                }
        }
        if (r >= 0)
                r = pending_files_to_steps(&c);
        pending_files_free(&c);
        if (r < 0)
                return r;
        /* A refused entry must not leave steps behind that would half-fix it. */
        FOREACH_ARRAY (e, run->entries, run->n_entries)
                if (e->outcome == NP_FIX_FAILED)
                        FOREACH_ARRAY (s, run->steps, run->n_steps)
                                if (s->state == NP_STEP_PLANNED && strv_length(s->checks) == 1 &&
                                    streq(s->checks[0], e->id)) {
                                        s->state = NP_STEP_NOT_RUN;
                                        if (free_and_strdup(&s->message,
                                                            "not run: the fix was refused") < 0)
                                                return -ENOMEM;
                                }
        return settle_planned(run, o);
}

static int step_phase_cmp(const void *a, const void *b)
{
        const NpStep *x = a, *y = b;

        return x->phase < y->phase ? -1 : x->phase > y->phase;
}

/* Stable by phase: insertion sort keeps planners' order within a phase. */
void np_fix_sort_steps(NpStep *steps, size_t n, size_t from)
{
        for (size_t i = from + 1; i < n; i++)
                for (size_t j = i; j > from && step_phase_cmp(&steps[j - 1], &steps[j]) > 0; j--) {
                        NpStep t = steps[j];

                        steps[j] = steps[j - 1];
                        steps[j - 1] = t;
                }
}

int np_fix_plan_report(const NpRoot *root, const NpConfig *config, const NpReport *report,
                       const NpFixOptions *o, bool only_manual, NpFixRun *run)
{
        size_t first_new = run->n_steps;
        int r = plan_pass(root, config, report, o, only_manual, run);

        if (r < 0)
                return r;
        np_fix_sort_steps(run->steps, run->n_steps, first_new);
        return 0;
}

/* Every --only id must name a check of some profile. */
static int check_only(const NpConfig *config, const NpFixOptions *o, char **ret_error)
{
        STRV_FOREACH (id, o->only) {
                const char *p = NULL;

                if (!first_def(config, *id, &p)) {
                        _cleanup_strv_free_ char **names = NULL;
                        _cleanup_free_ char *list = NULL;

                        for (size_t i = 0; i < config->n_profiles; i++)
                                if (strv_extend(&names, config->profiles[i]->name) < 0)
                                        return -ENOMEM;
                        list = strv_join(names, ", ");
                        *ret_error = strprintf("--only %s: no such check in profile(s) %s (see "
                                               "nodeprepctl check)",
                                               *id, strna(list));
                        return -ENOENT;
                }
        }
        return 0;
}

int np_fix_run_new(const NpRoot *root, const NpConfig *config, const NpFixOptions *o,
                   NpFixRun **ret, char **ret_error)
{
        _cleanup_(np_fix_run_freep) NpFixRun *run = calloc(1, sizeof(NpFixRun));
        int r;

        if (!run)
                return -ENOMEM;
        r = check_only(config, o, ret_error);
        if (r < 0)
                return r;
        run->root = strdup(root->path);
        if (!run->root)
                return -ENOMEM;
        run->host = root->host;
        run->dry_run = o->dry_run;
        *ret = TAKE_PTR(run);
        return 0;
}

/* --- verdicts ----------------------------------------------------------------------------------
 */

static const NpResult *report_result(const NpReport *report, const char *id)
{
        for (size_t p = 0; p < report->n_profiles; p++)
                FOREACH_ARRAY (res, report->profiles[p].results, report->profiles[p].n_results)
                        if (streq(res->id, id))
                                return res;
        return NULL;
}

static bool status_good(NpStatus s)
{
        return s == NP_STATUS_PASS || s == NP_STATUS_SKIP;
}

int np_fix_settle(NpFixRun *run, const NpReport *after)
{
        run->changed = run->failed = false;
        FOREACH_ARRAY (e, run->entries, run->n_entries) {
                const NpResult *res = after ? report_result(after, e->id) : NULL;
                size_t done = steps_of(run, e->id, NP_STEP_DONE, false);
                size_t failed = steps_of(run, e->id, NP_STEP_FAILED, false);
                size_t planned = steps_of(run, e->id, NP_STEP_PLANNED, false);
                const char *step_error = NULL;
                int r = 0;

                if (res) {
                        e->after = res->status;
                        e->has_after = true;
                        if (free_and_strdup(&e->observed_after, res->observed) < 0)
                                return -ENOMEM;
                }
                FOREACH_ARRAY (s, run->steps, run->n_steps)
                        if (!step_error && s->state == NP_STEP_FAILED &&
                            strv_contains(s->checks, e->id))
                                step_error = s->message;

                if (run->dry_run || !after) {
                        /* Planned steps would change it; the rest stands as planned. */
                        if (e->outcome == NP_FIX_CHANGED && planned == 0)
                                e->outcome = NP_FIX_UNCHANGED;
                } else if (e->before == NP_STATUS_PASS || e->before == NP_STATUS_SKIP) {
                        e->outcome = NP_FIX_UNCHANGED;
                } else if (failed > 0) {
                        r = np_fix_entry_failed(e, "%s", strna(step_error));
                } else if (done > 0 && res && status_good(res->status)) {
                        e->outcome = NP_FIX_CHANGED;
                } else if (done > 0) {
                        r = np_fix_entry_failed(e, "the steps ran, but the check still %s: %s%s%s",
                                                res ? np_status_to_string(res->status)
                                                    : "cannot run",
                                                res ? strna(res->message) : "not in the report",
                                                res && res->remedy ? "; remedy: " : "",
                                                res && res->remedy ? res->remedy : "");
                } else if (res && status_good(res->status)) {
                        /* Fixed on the way by another check's steps (a package install, say). */
                        if (!e->ignored)
                                e->outcome = NP_FIX_CHANGED;
                } else if (e->outcome == NP_FIX_CHANGED) {
                        r = np_fix_entry_failed(e, "nothing was done and the check still failss");
                }
                if (r < 0)
                        return r;
                if (e->outcome == NP_FIX_CHANGED)
                        run->changed = true;
                if (e->outcome == NP_FIX_FAILED)
                        run->failed = true;
        }
        return 0;
}

int np_fix_run_exit_code(const NpFixRun *r)
{
        return r->failed ? 1 : 0;
}

int np_fix_plan(const NpRoot *root, const NpConfig *config, const NpReport *report,
                const NpFixOptions *o, NpFixRun **ret, char **ret_error)
{
        _cleanup_(np_fix_run_freep) NpFixRun *run = NULL;
        NpFixOptions dry = *o;
        int r;

        dry.dry_run = true;
        r = np_fix_run_new(root, config, &dry, &run, ret_error);
        if (r < 0)
                return r;
        run->ready_before = report->ready;
        r = np_fix_plan_report(root, config, report, &dry, false, run);
        if (r < 0)
                return r;
        r = np_fix_settle(run, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(run);
        return 0;
}

int np_fix_evaluate_and_plan(const NpRoot *root, const NpConfig *config, const NpFixOptions *o,
                             uint64_t now_usec, NpFixRun **ret, char **ret_error)
{
        _cleanup_(np_report_freep) NpReport *report = NULL;
        int r;

        r = np_evaluate(root, config, now_usec, &report);
        if (r < 0)
                return r;
        r = np_fix_plan(root, config, report, o, ret, ret_error);
        if (r >= 0)
                (*ret)->evaluations = 1;
        return r;
}
