/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nodeprepctl plan, apply and rollback. With --local they run in this process (configuration
 * management on hosts without the daemon, and --root DIR tests). Without it they would call
 * nodeprepd's privileged Plan/Apply/Rollback methods; that path is not wired yet, so they say
 * so and exit 69.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "evaluate.h"
#include "fix/fix.h"
#include "util/strv.h"

static int refuse(const Args *a, const char *verb)
{
        /* Root first: the daemon path would refuse a non-root peer as well. */
        if (geteuid() != 0)
                return error_exit(EXIT_REFUSED,
                                  "%s needs root: it reads root-only files (iscsid.conf is 0600 "
                                  "on RHEL) and changes the host; nothing was done",
                                  verb);
        if (!a->local)
                return error_exit(EXIT_UNAVAILABLE,
                                  "%s through nodeprepd (its Plan/Apply/Rollback methods) is not "
                                  "available in this version; run it in this process with "
                                  "--local",
                                  verb);
        return 0;
}

static int print_run(const Args *a, const NpFixRun *run)
{
        int r;

        if (a->json) {
                json_object *o = NULL;

                r = np_fix_run_to_json(run, &o);
                if (r >= 0)
                        r = print_json(o);
                json_object_put(o);
        } else {
                _cleanup_free_ char *text = np_fix_run_to_text(run, use_color(a));

                r = text ? (fputs(text, stdout) < 0 ? -EIO : 0) : -ENOMEM;
        }
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "cannot print the result: %s", strerror(-r));
        return 0;
}

static int fix_error(int r, const char *error, const char *verb)
{
        if (r == -ENOMEM)
                return error_exit(EXIT_SOFTWARE, "out of memory");
        if (r == -ENOENT && error)
                return error_exit(EXIT_USAGE, "%s", error);
        if (r == -EBUSY)
                return error_exit(EXIT_TEMPFAIL, "%s", error ? error : strerror(-r));
        return error_exit(EXIT_SOFTWARE, "%s failed: %s", verb, error ? error : strerror(-r));
}

static int run_fix(const Args *a, const char *verb, bool apply)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        _cleanup_(np_config_freep) NpConfig *config = NULL;
        _cleanup_(np_fix_run_freep) NpFixRun *run = NULL;
        _cleanup_free_ char *error = NULL;
        NpFixOptions o = {
                .only = a->only,
                .include_recommended = a->include_recommended,
                .update_node_records = a->update_node_records,
                .install_packages = a->install_packages,
                .dry_run = !apply || a->dry_run,
        };
        int r;

        r = refuse(a, verb);
        if (r != 0)
                return r;
        r = open_root(a, &root);
        if (r != 0)
                return r;
        r = load_config(a, root, &config);
        if (r != 0)
                return r;
        if (o.dry_run)
                r = np_fix_plan(root, config, &o, np_now_usec(), &run, &error);
        else
                r = np_fix_apply(root, config, &o, np_now_usec(), &run, &error);
        if (r < 0)
                return fix_error(r, error, verb);
        r = print_run(a, run);
        if (r != 0)
                return r;
        /* A plan (or --check) reports; only a real apply fails on a failed fix. */
        return o.dry_run ? 0 : np_fix_run_exit_code(run);
}

int verb_plan(const Args *a)
{
        return run_fix(a, "plan", false);
}

int verb_apply(const Args *a)
{
        return run_fix(a, "apply", true);
}

int verb_rollback(const Args *a)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        _cleanup_(np_rollback_freep) NpRollback *rb = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = refuse(a, "rollback");
        if (r != 0)
                return r;
        r = open_root(a, &root);
        if (r != 0)
                return r;
        r = np_fix_rollback(root, a->args ? a->args[0] : NULL, np_now_usec(), &rb, &error);
        if (r < 0)
                return fix_error(r, error, "rollback");
        if (a->json) {
                json_object *o = NULL;

                r = np_rollback_to_json(rb, &o);
                if (r >= 0)
                        r = print_json(o);
                json_object_put(o);
        } else {
                _cleanup_free_ char *text = np_rollback_to_text(rb, use_color(a));

                r = text ? (fputs(text, stdout) < 0 ? -EIO : 0) : -ENOMEM;
        }
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "cannot print the result: %s", strerror(-r));
        return rb->failed ? 1 : 0;
}
