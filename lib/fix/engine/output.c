/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Plans, apply results and rollbacks as JSON (schema_version 1, documented in README.md) and as
 * text for people: one block per check, what was done or why not, then the diffs.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fix/engine/fix-internal.h"
#include "util/json-util.h"
#include "util/strv.h"

#define SCHEMA_VERSION 1

static json_object *step_json(const NpStep *s)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        _cleanup_free_ char *cmd = s->argv ? np_argv_to_text(s->argv) : NULL;

        if (!o || (s->argv && !cmd))
                return NULL;
        if (json_add_str(o, "kind", np_step_kind_to_string(s->kind)) < 0 ||
            json_add_str(o, "summary", s->summary) < 0 ||
            json_add(o, "checks", json_strv_new(s->checks)) < 0 ||
            json_add_str(o, "state", np_step_state_to_string(s->state)) < 0 ||
            json_add_str(o, "message", s->message) < 0 ||
            json_add_bool(o, "running_system", s->running_system) < 0 ||
            json_add_str(o, "needs", s->needs) < 0 || json_add_str(o, "path", s->path) < 0 ||
            json_add_str(o, "diff", s->diff) < 0 || json_add_str(o, "module", s->module) < 0 ||
            json_add_str(o, "unit", s->unit) < 0 || json_add_str(o, "command", cmd) < 0 ||
            json_add_str(o, "cannot_undo", s->cannot_undo) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_object *entry_json(const NpFixRun *run, const NpFixEntry *e)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                *steps = json_object_new_array();

        if (!o || !steps)
                return NULL;
        for (size_t i = 0; i < run->n_steps; i++)
                if (strv_contains(run->steps[i].checks, e->id) &&
                    json_array_push(steps, json_object_new_int64((int64_t)i)) < 0)
                        return NULL;
        if (json_add_str(o, "id", e->id) < 0 || json_add_str(o, "title", e->title) < 0 ||
            json_add(o, "profiles", json_strv_new(e->profiles)) < 0 ||
            json_add_str(o, "severity", np_severity_to_string(e->severity)) < 0 ||
            json_add_str(o, "status_before", np_status_to_string(e->before)) < 0 ||
            json_add_str(o, "status_after", e->has_after ? np_status_to_string(e->after) : NULL) <
                0 ||
            json_add_str(o, "observed_before", e->observed_before) < 0 ||
            json_add_str(o, "observed_after", e->observed_after) < 0 ||
            json_add_str(o, "fix", e->fix) < 0 ||
            json_add_str(o, "outcome", np_fix_outcome_to_string(e->outcome)) < 0 ||
            json_add_bool(o, "changed", e->outcome == NP_FIX_CHANGED) < 0 ||
            json_add_bool(o, "failed", e->outcome == NP_FIX_FAILED) < 0 ||
            json_add_str(o, "message", e->message) < 0 ||
            json_add_str(o, "remedy", e->remedy) < 0 || json_add(o, "steps", TAKE_PTR(steps)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* Every file diff of the run, one after the other (what `--diff` tools want). */
static char *all_diffs(const NpFixRun *run, bool only_active)
{
        _cleanup_strv_free_ char **l = NULL;

        FOREACH_ARRAY (s, run->steps, run->n_steps)
                if (!isempty(s->diff) &&
                    (!only_active || s->state == NP_STEP_PLANNED || s->state == NP_STEP_DONE))
                        if (strv_extend(&l, s->diff) < 0)
                                return NULL;
        return l ? strv_join(l, "") : strdup("");
}

int np_fix_run_to_json(const NpFixRun *r, json_object **ret)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                *checks = json_object_new_array(),
                                                *steps = json_object_new_array();
        _cleanup_free_ char *diff = all_diffs(r, true);

        if (!o || !checks || !steps || !diff)
                return -ENOMEM;
        FOREACH_ARRAY (e, r->entries, r->n_entries)
                if (json_array_push(checks, entry_json(r, e)) < 0)
                        return -ENOMEM;
        FOREACH_ARRAY (s, r->steps, r->n_steps)
                if (json_array_push(steps, step_json(s)) < 0)
                        return -ENOMEM;
        if (json_add(o, "schema_version", json_object_new_int(SCHEMA_VERSION)) < 0 ||
            json_add_str(o, "command", r->applied ? "apply" : "plan") < 0 ||
            json_add_str(o, "root", r->root) < 0 || json_add_bool(o, "dry_run", r->dry_run) < 0 ||
            json_add_str(o, "change_id", r->change_id) < 0 ||
            json_add_str(o, "backup_dir", r->backup_dir) < 0 ||
            json_add_bool(o, "changed", r->changed) < 0 ||
            json_add_bool(o, "failed", r->failed) < 0 ||
            json_add_bool(o, "ready_before", r->ready_before) < 0 ||
            (r->applied ? json_add_bool(o, "ready_after", r->ready_after)
                        : json_add_null(o, "ready_after")) < 0 ||
            json_add(o, "evaluations", json_object_new_int64(r->evaluations)) < 0 ||
            json_add(o, "notes", json_strv_new(r->notes)) < 0 ||
            json_add(o, "checks", TAKE_PTR(checks)) < 0 ||
            json_add(o, "steps", TAKE_PTR(steps)) < 0 || json_add_str(o, "diff", diff) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}

/* --- text --------------------------------------------------------------------------------------
 */

#define ANSI_RED    "\x1b[31m"
#define ANSI_GREEN  "\x1b[32m"
#define ANSI_YELLOW "\x1b[33m"
#define ANSI_BOLD   "\x1b[1m"
#define ANSI_RESET  "\x1b[0m"

static const char *label(const NpFixRun *r, const NpFixEntry *e, const char **ret_color)
{
        switch (e->outcome) {
        case NP_FIX_CHANGED:
                *ret_color = ANSI_GREEN;
                return r->dry_run ? "FIX" : "CHANGED";
        case NP_FIX_FAILED:
                *ret_color = ANSI_RED;
                return "FAILED";
        case NP_FIX_MANUAL:
                *ret_color = ANSI_YELLOW;
                return "MANUAL";
        case NP_FIX_SKIPPED:
                *ret_color = ANSI_YELLOW;
                return "SKIPPED";
        default:
                *ret_color = "";
                /* Left alone although it does not pass: a site override ignores it. */
                return e->before == NP_STATUS_PASS || e->before == NP_STATUS_SKIP ? "OK"
                                                                                  : "IGNORED";
        }
}

static void print_entry(FILE *f, const NpFixRun *r, const NpFixEntry *e, bool color)
{
        const char *c = "", *l = label(r, e, &c);

        fprintf(f, "  %s%-8s%s %-44s %s\n", color ? c : "", l, color ? ANSI_RESET : "", e->id,
                e->title);
        if (e->outcome == NP_FIX_UNCHANGED && !e->message)
                return;
        FOREACH_ARRAY (s, r->steps, r->n_steps) {
                if (!strv_contains(s->checks, e->id))
                        continue;
                fprintf(f, "           - %s", s->summary);
                if (s->state != NP_STEP_PLANNED)
                        fprintf(f, " [%s%s%s]", np_step_state_to_string(s->state),
                                s->message && s->state != NP_STEP_DONE ? ": " : "",
                                s->message && s->state != NP_STEP_DONE ? s->message : "");
                fputc('\n', f);
        }
        if (e->message)
                fprintf(f, "           %s  %s\n",
                        e->outcome == NP_FIX_CHANGED ? "note  " : "why   ", e->message);
        if (e->remedy && e->outcome == NP_FIX_MANUAL)
                fprintf(f, "           remedy  %s\n", e->remedy);
        if (e->outcome == NP_FIX_FAILED && e->has_after)
                fprintf(f, "           now     %s (%s)\n", np_status_to_string(e->after),
                        strna(e->observed_after));
}

char *np_fix_run_to_text(const NpFixRun *r, bool color)
{
        _cleanup_free_ char *out = NULL, *diff = all_diffs(r, true);
        unsigned count[_NP_FIX_OUTCOME_MAX] = {};
        size_t size = 0;
        FILE *f;

        if (!diff)
                return NULL;
        f = open_memstream(&out, &size);
        if (!f)
                return NULL;
        if (r->dry_run)
                fprintf(f, "Plan for %s (nothing is changed by this command):\n\n", r->root);
        else
                fprintf(f, "Applied on %s:\n\n", r->root);
        STRV_FOREACH (n, r->notes)
                fprintf(f, "  note: %s\n\n", *n);
        /* What needs attention first, as `check` does. */
        static const NpFixOutcome order[] = { NP_FIX_FAILED, NP_FIX_CHANGED, NP_FIX_MANUAL,
                                              NP_FIX_SKIPPED, NP_FIX_UNCHANGED };
        for (size_t k = 0; k < ELEMENTSOF(order); k++)
                FOREACH_ARRAY (e, r->entries, r->n_entries)
                        if (e->outcome == order[k]) {
                                print_entry(f, r, e, color);
                                count[e->outcome]++;
                        }
        if (!isempty(diff))
                fprintf(f, "\n%s%s", diff, diff[strlen(diff) - 1] == '\n' ? "" : "\n");
        fputc('\n', f);
        if (r->dry_run)
                fprintf(f, "%u to fix, %u failed, %u manual, %u skipped, %u unchanged.%s\n",
                        count[NP_FIX_CHANGED], count[NP_FIX_FAILED], count[NP_FIX_MANUAL],
                        count[NP_FIX_SKIPPED], count[NP_FIX_UNCHANGED],
                        count[NP_FIX_CHANGED] ? " nodeprepctl apply makes the changes." : "");
        else {
                fprintf(f, "%u changed, %u failed, %u manual, %u skipped, %u unchanged.\n",
                        count[NP_FIX_CHANGED], count[NP_FIX_FAILED], count[NP_FIX_MANUAL],
                        count[NP_FIX_SKIPPED], count[NP_FIX_UNCHANGED]);
                if (r->change_id)
                        fprintf(f,
                                "Change %s: journal and saved files in %s\n"
                                "Undo with: nodeprepctl rollback --local%s%s %s\n",
                                r->change_id, strna(r->backup_dir), r->host ? "" : " --root ",
                                r->host ? "" : r->root, r->change_id);
                else
                        fprintf(f, "No changes made: nothing nodeprep can fix needed fixing.\n");
                fprintf(f, "Host %s for the profile(s).\n", r->ready_after ? "ready" : "not ready");
        }
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(out);
}

/* --- rollback ----------------------------------------------------------------------------------
 */

int np_rollback_to_json(const NpRollback *r, json_object **ret)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                *items = json_object_new_array();

        if (!o || !items)
                return -ENOMEM;
        FOREACH_ARRAY (i, r->items, r->n_items) {
                json_object *j = json_object_new_object();

                if (json_array_push(items, j) < 0)
                        return -ENOMEM;
                if (json_add_str(j, "what", i->what) < 0 ||
                    json_add_str(j, "state", np_undo_state_to_string(i->state)) < 0 ||
                    json_add_str(j, "message", i->message) < 0)
                        return -ENOMEM;
        }
        if (json_add(o, "schema_version", json_object_new_int(SCHEMA_VERSION)) < 0 ||
            json_add_str(o, "change_id", r->change_id) < 0 ||
            json_add_str(o, "backup_dir", r->backup_dir) < 0 ||
            json_add_bool(o, "already_rolled_back", r->already) < 0 ||
            json_add_bool(o, "failed", r->failed) < 0 || json_add(o, "items", TAKE_PTR(items)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}

char *np_rollback_to_text(const NpRollback *r, bool color)
{
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);

        if (!f)
                return NULL;
        if (!r->change_id)
                fprintf(f, "No change to roll back.\n");
        else if (r->already)
                fprintf(f, "Change %s was already rolled back; nothing to do.\n", r->change_id);
        else {
                fprintf(f, "Rolling back change %s (%s):\n\n", r->change_id, r->backup_dir);
                FOREACH_ARRAY (i, r->items, r->n_items) {
                        const char *c = i->state == NP_UNDO_FAILED     ? ANSI_RED
                                        : i->state == NP_UNDO_CANNOT   ? ANSI_YELLOW
                                        : i->state == NP_UNDO_RESTORED ? ANSI_GREEN
                                                                       : "";

                        fprintf(f, "  %s%-11s%s %s\n              %s\n", color ? c : "",
                                np_undo_state_to_string(i->state), color ? ANSI_RESET : "", i->what,
                                i->message);
                }
                fprintf(f, "\n%s\n",
                        r->failed ? "Some steps could not be undone (see above); "
                                    "the change stays open for another rollback."
                                  : "Done.");
        }
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(out);
}
