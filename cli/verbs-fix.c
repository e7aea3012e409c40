/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nodeprepctl plan, apply and rollback: through nodeprepd's privileged Plan/Apply/Rollback
 * methods, or with --local in this process (configuration management on hosts without the
 * daemon, and --root DIR tests).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "evaluate.h"
#include "fix/fix.h"
#include "util/json-util.h"
#include "util/strv.h"
#include "varlink/client.h"

/* An apply waits for systemd jobs and maybe a package install. */
#define FIX_CALL_TIMEOUT_USEC (30ULL * 60ULL * 1000000ULL)

static int refuse(const Args *a, const char *verb)
{
        /* Root first: the daemon refuses a non-root peer as well. */
        if (geteuid() != 0)
                return error_exit(EXIT_REFUSED,
                                  "%s needs root: it reads root-only files (iscsid.conf is 0600 "
                                  "on RHEL) and changes the host; nothing was done",
                                  verb);
        if (!a->local && (a->root || a->config || a->sets))
                return error_exit(EXIT_USAGE, "--root, --config and --set go with --local: "
                                              "nodeprepd uses its own configuration");
        return 0;
}

/* Plan, Apply or Rollback through nodeprepd; prints its answer, returns the exit code. */
static int call_fix(const Args *a, const char *method, json_object *params, bool exit_on_fail)
{
        _cleanup_(np_varlink_client_freep) NpVarlinkClient *c = NULL;
        _cleanup_(np_varlink_reply_message_done) NpVarlinkReplyMessage m = {};
        json_object *result, *text;
        int r;

        r = call_daemon(a, method, params, FIX_CALL_TIMEOUT_USEC, &c, &m);
        if (r != 0)
                return r;
        result = json_object_object_get(m.parameters,
                                        streq(method, "io.nodeprep.Plan") ? "plan" : "result");
        text = json_object_object_get(m.parameters, "text");
        if (a->json)
                r = print_json(result);
        else
                r = fputs(strempty(json_object_get_string(text)), stdout) < 0 ? -EIO : 0;
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "cannot print the result: %s", strerror(-r));
        /* The same rule as --local: a failed fix (or an incomplete rollback) is exit 1. */
        if (exit_on_fail && json_object_get_boolean(json_object_object_get(result, "failed")))
                return 1;
        return 0;
}

static int print_run(const Args *a, const NpFixRun *run)
{
        json_object *o = NULL;
        int r = a->json ? print_json_built(np_fix_run_to_json(run, &o), &o)
                        : print_text(np_fix_run_to_text(run, use_color(a)));

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
        /* A journal this version does not accept, or state another user could have written. */
        if ((r == -EBADMSG || r == -EPERM) && error)
                return error_exit(EXIT_CONFIG, "%s", error);
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
        if (!a->local) {
                _cleanup_(json_object_putp) json_object *p = json_object_new_object();

                /* Only what was given: the daemon applies its defaults to the rest. */
                if (!p || (a->profiles && json_add_strv(p, "profiles", a->profiles) < 0) ||
                    (a->only && json_add_strv(p, "only", a->only) < 0) ||
                    (a->include_recommended && json_add_bool(p, "include_recommended", true) < 0) ||
                    (a->update_node_records && json_add_bool(p, "update_node_records", true) < 0) ||
                    (a->install_packages && json_add_bool(p, "install_packages", true) < 0) ||
                    (apply && a->dry_run && json_add_bool(p, "dry_run", true) < 0))
                        return error_exit(EXIT_SOFTWARE, "out of memory");
                return call_fix(a, apply ? "io.nodeprep.Apply" : "io.nodeprep.Plan", p,
                                apply && !a->dry_run);
        }
        r = open_root_config(a, &root, &config);
        if (r != 0)
                return r;
        if (o.dry_run)
                r = np_fix_evaluate_and_plan(root, config, &o, np_now_usec(), &run, &error);
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
        json_object *o = NULL;
        int r;

        r = refuse(a, "rollback");
        if (r != 0)
                return r;
        if (!a->local) {
                _cleanup_(json_object_putp) json_object *p = json_object_new_object();

                if (!p || (a->args && json_add_str(p, "change_id", a->args[0]) < 0))
                        return error_exit(EXIT_SOFTWARE, "out of memory");
                return call_fix(a, "io.nodeprep.Rollback", p, true);
        }
        r = open_root(a, &root);
        if (r != 0)
                return r;
        r = np_fix_rollback(root, a->args ? a->args[0] : NULL, np_now_usec(), &rb, &error);
        if (r < 0)
                return fix_error(r, error, "rollback");
        r = a->json ? print_json_built(np_rollback_to_json(rb, &o), &o)
                    : print_text(np_rollback_to_text(rb, use_color(a)));
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "cannot print the result: %s", strerror(-r));
        return rb->failed ? 1 : 0;
}
