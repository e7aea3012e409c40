/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodeprepctl check, facts and profiles: evaluate this host locally. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "evaluate.h"
#include "probe/probe.h"
#include "report/report.h"
#include "util/strv.h"

int verb_check(const Args *a)
{
        _cleanup_(np_report_freep) NpReport *report = NULL;
        int r = evaluate_local(a, &report);

        return r != 0 ? r : print_report(a, report);
}

/* The names of every profile that can be found and loads, for `facts` without --profile. */
static int all_profile_names(const NpRoot *root, char ***ret)
{
        _cleanup_strv_free_ char **names = NULL;
        NpProfileInfo *infos = NULL;
        size_t n = 0;
        int r;

        r = np_profile_list(root, &infos, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++)
                if (!infos[i].error)
                        r = strv_extend(&names, infos[i].name);
        np_profile_info_free_many(infos, n);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(names);
        return 0;
}

int verb_facts(const Args *a)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        _cleanup_(np_probe_request_done) NpProbeRequest req = {};
        _cleanup_(np_facts_freep) NpFacts *facts = NULL;
        _cleanup_(np_config_freep) NpConfig *config = NULL;
        _cleanup_strv_free_ char **all = NULL;
        Args b = *a;
        int r = 0;

        r = open_root(a, &root);
        if (r != 0)
                return r;
        /* Without --profile: everything any profile would look at, with the site file's
         * settings and --set applied as `check` applies them (IncludeLoopDevices=, paths). */
        if (strv_length(a->profiles) == 0) {
                r = all_profile_names(root, &all);
                if (r < 0)
                        return error_exit(EXIT_SOFTWARE, "%s", strerror(-r));
                b.profiles = all;
                /* A setting given must take effect or be refused: with no profile, --set would
                 * be parsed by nothing. */
                if (strv_length(all) == 0 && strv_length(a->sets) > 0)
                        return error_exit(EXIT_USAGE,
                                          "--set %s: no profile is installed to apply it to "
                                          "(nodeprepctl profiles lists them)",
                                          a->sets[0]);
        }
        if (strv_length(b.profiles) > 0) {
                r = load_config(&b, root, &config);
                if (r != 0)
                        return r;
                r = np_config_probe_request(config, &req);
        }
        req.system = req.selinux = req.iscsi = req.iscsi_nodes = true;
        if (r >= 0)
                r = np_probe_request_add_tool(&req, "kubelet", NULL);
        if (strv_length(a->profiles) == 0)
                req.disks = req.links = true;
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "%s", strerror(-r));
        r = np_probe(root, &req, &facts);
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "probing failed: %s", strerror(-r));

        json_object *o = NULL;

        r = a->json ? print_json_built(np_facts_to_json(facts, &o), &o)
                    : print_text(np_facts_to_text(facts));
        return r < 0 ? error_exit(EXIT_SOFTWARE, "%s", strerror(-r)) : 0;
}

int verb_profiles(const Args *a)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        NpProfileInfo *infos = NULL;
        size_t n = 0;
        int r;

        r = open_root(a, &root);
        if (r != 0)
                return r;
        r = np_profile_list(root, &infos, &n);
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "cannot list profiles: %s", strerror(-r));
        if (a->json) {
                json_object *o = NULL;

                r = print_json_built(np_profile_infos_to_json(infos, n, &o), &o);
        } else {
                if (n == 0)
                        printf("No profiles found.\n");
                for (size_t i = 0; i < n; i++) {
                        printf("%-28s %s\n", infos[i].name,
                               infos[i].error ? "(does not load)" : strempty(infos[i].description));
                        if (infos[i].path)
                                printf("%-28s   %s\n", "", infos[i].path);
                        STRV_FOREACH (d, infos[i].dropins)
                                printf("%-28s   + %s\n", "", *d);
                        if (infos[i].shadows)
                                printf("%-28s   (replaces %s)\n", "", infos[i].shadows);
                        if (infos[i].error)
                                printf("%-28s   error: %s\n", "", infos[i].error);
                        if (a->verbose && infos[i].profile)
                                FOREACH_ARRAY (c, infos[i].profile->checks,
                                               infos[i].profile->n_checks)
                                        printf("%-28s   check %-44s %-11s %s\n", "", c->id,
                                               np_severity_to_string(c->severity), c->title);
                }
        }
        np_profile_info_free_many(infos, n);
        return r < 0 ? error_exit(EXIT_SOFTWARE, "%s", strerror(-r)) : 0;
}
