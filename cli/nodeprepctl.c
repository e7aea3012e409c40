/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodeprepctl: check a host against product profiles; every verb is one row in verbs[]. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"
#include "util/strv.h"

static int verb_help(const Args *a);

typedef struct Verb {
        const char *name;
        unsigned flags;
        unsigned max_args; /* positional arguments accepted after the verb */
        int (*run)(const Args *a);
        const char *synopsis;
        const char *help;
} Verb;

#define FIX_FLAGS                                                                        \
        (FLAG_PROFILE | FLAG_SET | FLAG_JSON | FLAG_ROOT | FLAG_CONFIG | FLAG_NO_COLOR | \
         FLAG_LOCAL | FLAG_ONLY | FLAG_INCLUDE_RECOMMENDED | FLAG_UPDATE_NODE_RECORDS |  \
         FLAG_INSTALL_PACKAGES | FLAG_SOCKET)

static const Verb verbs[] = {
        { "check",
          FLAG_PROFILE | FLAG_SET | FLAG_JSON | FLAG_ROOT | FLAG_CONFIG | FLAG_FACTS |
              FLAG_VERBOSE | FLAG_NO_COLOR | FLAG_FORMAT | FLAG_NPD,
          0, verb_check,
          "check [--profile P]... [--set K=V]... [--format F | --json [--facts] | --npd] "
          "[--root DIR]",
          "Probe this host and report, per profile, whether it is ready.\n"
          "Exit status: 0 ready, 1 not ready, 2 undecided (a required check is unknown),\n"
          "64 usage error, 65 bad configuration or profile; with --format nagios the\n"
          "Nagios plugin codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)." },
        { "facts", FLAG_PROFILE | FLAG_SET | FLAG_JSON | FLAG_ROOT | FLAG_CONFIG | FLAG_NO_COLOR, 0,
          verb_facts, "facts [--json] [--profile P]... [--root DIR]",
          "Show what the probes see on this host, without judging it." },
        { "profiles", FLAG_JSON | FLAG_ROOT | FLAG_VERBOSE, 0, verb_profiles,
          "profiles [-v] [--json] [--root DIR]",
          "List the profiles that can be used by name, and the files they come from;\n"
          "-v lists each profile's checks too." },
        { "status",
          FLAG_PROFILE | FLAG_JSON | FLAG_FACTS | FLAG_VERBOSE | FLAG_NO_COLOR | FLAG_SOCKET |
              FLAG_FORMAT | FLAG_NPD,
          0, verb_status,
          "status [--profile P]... [--format F | --json [--facts] | --npd] [--socket PATH]",
          "Ask nodeprepd for its current report (answered from memory, no probing).\n"
          "Exit status as check (Nagios codes with --format nagios); 69 when nodeprepd\n"
          "cannot be reached." },
        { "watch",
          FLAG_PROFILE | FLAG_JSON | FLAG_FACTS | FLAG_VERBOSE | FLAG_NO_COLOR | FLAG_SOCKET, 0,
          verb_watch, "watch [--profile P]... [--json [--facts]] [--socket PATH]",
          "Print nodeprepd's report, then each new one as the host changes (--json: one\n"
          "report per line). Runs until interrupted." },
        { "metrics", FLAG_LOCAL | FLAG_SOCKET | FLAG_PROFILE | FLAG_SET | FLAG_ROOT | FLAG_CONFIG,
          0, verb_metrics,
          "metrics [--socket PATH] | metrics --local [--profile P]... [--root DIR]",
          "Print Prometheus metrics (text exposition format 0.0.4): readiness per profile,\n"
          "status per check, free disks, link speeds, evaluations and applied fixes.\n"
          "Asks nodeprepd, or with --local evaluates once in this process.\n"
          "Exit status: 0, 64 usage error, 65 bad configuration, 69 nodeprepd cannot be\n"
          "reached." },
        { "call", FLAG_SOCKET | FLAG_MORE, 2, verb_call,
          "call METHOD [JSON] [--more] [--socket PATH]",
          "Call a Varlink method of nodeprepd and print the reply parameters, e.g.\n"
          "  nodeprepctl call io.nodeprep.GetReport '{\"profiles\": [\"iomesh\"]}'\n"
          "Exit status 1 when the daemon answers with an error (printed on stderr)." },
        { "plan", FIX_FLAGS, 0, verb_plan,
          "plan [--local] [--profile P]... [--only ID]... [--json] [--root DIR]",
          "Show what apply would change, with diffs; changes nothing. Asks nodeprepd, or\n"
          "with --local works in this process.\n"
          "Exit status: 0, 64 usage error, 65 bad configuration, 69 nodeprepd cannot be\n"
          "reached, 77 not root." },
        { "apply", FIX_FLAGS | FLAG_DRY_RUN, 0, verb_apply,
          "apply [--local] [--check] [--profile P]... [--only ID]... [--json] [--root DIR]",
          "Fix what fails: edit files (atomically, saved first), load modules, switch SELinux to\n"
          "permissive, enable and start units; then check again. Every change is journaled in\n"
          "/var/lib/nodeprep/backup/CHANGE-ID/ for rollback. With --root DIR other than /, only\n"
          "files inside DIR change; steps on the running system are skipped.\n"
          "Exit status: 0 done (nothing failed), 1 a fix failed (the rest is still reported),\n"
          "64 usage error, 65 bad configuration, 69 nodeprepd cannot be reached, 75 another\n"
          "apply or rollback is running, 77 not root." },
        { "rollback", FLAG_JSON | FLAG_ROOT | FLAG_LOCAL | FLAG_NO_COLOR | FLAG_SOCKET, 1,
          verb_rollback, "rollback [--local] [CHANGE-ID] [--json] [--root DIR]",
          "Undo a change made by apply (default: the newest not rolled back): files restored\n"
          "byte for byte, SELinux's mode and enabled units put back. Loaded modules, started\n"
          "units and installed packages stay (it says so).\n"
          "Exit status: 0 done, 1 something could not be restored, 64 no such change,\n"
          "69 nodeprepd cannot be reached, 75 busy, 77 not root." },
        { "cluster", FLAG_JSON | FLAG_NO_COLOR, 100000, verb_cluster,
          "cluster [--json] REPORT...|-",
          "One verdict for a cluster from its workers' reports (`check --json` or `status --json`\n"
          "of each host: files, or - for a stream on standard input): per profile how many\n"
          "workers are ready against the profile's MinReadyNodes=, the checks that do not pass\n"
          "on some host, and what no single host can see (duplicate machine-ids, DMI UUIDs or\n"
          "data addresses, data-network MTUs that differ, workers missing from Peers=, kernel\n"
          "and open-iscsi versions that differ).\n"
          "Exit status as check: 0 ready, 1 not ready, 2 undecided, 64 usage error,\n"
          "65 a report that cannot be read." },
        { "help", 0, 1, verb_help, "help [VERB]", "Show help." },
};

static const Verb *verb_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

static const struct {
        Flag flag;
        const char *text;
} flag_help[] = {
        { FLAG_PROFILE, "  -p, --profile NAME|PATH  profile to check against (repeatable);\n"
                        "                           default: Profiles= of the site file" },
        { FLAG_SET, "  -s, --set KEY=VALUE      override a setting for this run, e.g.\n"
                    "                           --set DataCIDR=10.0.0.0/24" },
        { FLAG_JSON, "  -j, --json               print JSON (schema in nodeprepctl(8))" },
        { FLAG_FORMAT, "      --format FORMAT      text, json, tap (TAP 13), junit (JUnit XML) or\n"
                       "                           nagios (plugin line with perfdata)" },
        { FLAG_NPD, "      --npd                one line of at most 80 characters for\n"
                    "                           node-problem-detector (exit 0 OK, 1 NonOK, 2 "
                    "Unknown)" },
        { FLAG_FACTS, "      --facts              with --json: include the probed facts" },
        { FLAG_ROOT, "  -r, --root DIR           read the host's files below DIR" },
        { FLAG_CONFIG, "  -c, --config FILE        site file (default "
                       "/etc/nodeprep/nodeprep.conf)" },
        { FLAG_VERBOSE, "  -v, --verbose            details for passing checks too" },
        { FLAG_NO_COLOR, "      --no-color           no colour (also NO_COLOR=1)" },
        { FLAG_SOCKET, "      --socket PATH        nodeprepd's socket (default "
                       "/run/nodeprep/io.nodeprep,\n"
                       "                           or $NODEPREP_SOCKET)" },
        { FLAG_MORE, "      --more               the method streams replies (Watch)" },
        { FLAG_LOCAL, "      --local              run in this process, not through nodeprepd" },
        { FLAG_ONLY, "      --only CHECK-ID      only this check (repeatable); naming a\n"
                     "                           recommended check is asking for its fix" },
        { FLAG_DRY_RUN, "      --check              dry run: print the plan and diffs, change\n"
                        "                           nothing, exit 0" },
        { FLAG_INCLUDE_RECOMMENDED, "      --include-recommended  fix recommended checks too" },
        { FLAG_UPDATE_NODE_RECORDS, "      --update-node-records  run iscsiadm -m node -o update "
                                    "for\n"
                                    "                           already-discovered targets" },
        { FLAG_INSTALL_PACKAGES, "      --install-packages   install missing packages with "
                                 "apt-get,\n"
                                 "                           dnf/yum or zypper" },
};

static void print_verb_help(const Verb *v)
{
        printf("Usage: nodeprepctl %s\n\n%s\n", v->synopsis, v->help);
        if (v->flags) {
                printf("\nOptions:\n");
                for (size_t i = 0; i < ELEMENTSOF(flag_help); i++)
                        if (v->flags & flag_help[i].flag)
                                printf("%s\n", flag_help[i].text);
        }
}

static int verb_help(const Args *a)
{
        const Verb *v = a && a->args ? verb_find(a->args[0]) : NULL;

        if (v) {
                print_verb_help(v);
                return 0;
        }
        printf("nodeprepctl — prepare and validate Kubernetes worker hosts\n\n"
               "Usage: nodeprepctl VERB [OPTIONS]\n\nVerbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %s\n", verbs[i].synopsis);
        printf("\nnodeprepctl VERB --help shows the options of a verb.\n"
               "  -h, --help     show this help\n"
               "      --version  show the version\n");
        return 0;
}

enum {
        OPT_VERSION = 0x100,
        OPT_FACTS,
        OPT_NO_COLOR,
        OPT_FORMAT,
        OPT_NPD,
        OPT_SOCKET,
        OPT_MORE,
        OPT_LOCAL,
        OPT_ONLY,
        OPT_DRY_RUN,
        OPT_INCLUDE_RECOMMENDED,
        OPT_UPDATE_NODE_RECORDS,
        OPT_INSTALL_PACKAGES,
};

/* "--root ''" from an unset shell variable must not mean "/" (the live host). */
static int refuse_empty(const char *option, const char *value, const char *what)
{
        if (!isempty(value))
                return 0;
        fprintf(stderr, "nodeprepctl: %s needs %s (an empty value is refused)\n", option, what);
        return -EINVAL;
}

static int parse_args(int argc, char **argv, Args *a, const Verb **ret_verb)
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                { "profile", required_argument, NULL, 'p' },
                { "set", required_argument, NULL, 's' },
                { "json", no_argument, NULL, 'j' },
                { "root", required_argument, NULL, 'r' },
                { "config", required_argument, NULL, 'c' },
                { "facts", no_argument, NULL, OPT_FACTS },
                { "verbose", no_argument, NULL, 'v' },
                { "no-color", no_argument, NULL, OPT_NO_COLOR },
                { "format", required_argument, NULL, OPT_FORMAT },
                { "npd", no_argument, NULL, OPT_NPD },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "more", no_argument, NULL, OPT_MORE },
                { "local", no_argument, NULL, OPT_LOCAL },
                { "only", required_argument, NULL, OPT_ONLY },
                { "check", no_argument, NULL, OPT_DRY_RUN },
                { "include-recommended", no_argument, NULL, OPT_INCLUDE_RECOMMENDED },
                { "update-node-records", no_argument, NULL, OPT_UPDATE_NODE_RECORDS },
                { "install-packages", no_argument, NULL, OPT_INSTALL_PACKAGES },
                {},
        };
        bool help = false;
        const Verb *v;
        int c;

        while ((c = getopt_long(argc, argv, "hp:s:jr:c:v", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help = true;
                        break;
                case OPT_VERSION:
                        printf("nodeprepctl %s\n", NP_VERSION);
                        return 1;
                case 'p':
                        if (strv_extend(&a->profiles, optarg) < 0)
                                return -ENOMEM;
                        a->used |= FLAG_PROFILE;
                        break;
                case 's':
                        if (strv_extend(&a->sets, optarg) < 0)
                                return -ENOMEM;
                        a->used |= FLAG_SET;
                        break;
                case 'j':
                        a->json = true;
                        a->format = FORMAT_JSON;
                        a->used |= FLAG_JSON;
                        break;
                case OPT_FORMAT:
                        a->format = output_format_from_string(optarg);
                        if (a->format < 0 || a->format == FORMAT_NPD) {
                                fprintf(stderr,
                                        "nodeprepctl: --format %s: expected text, json, "
                                        "tap, junit or nagios\n",
                                        optarg);
                                return -EINVAL;
                        }
                        a->json = a->format == FORMAT_JSON;
                        a->used |= FLAG_FORMAT;
                        break;
                case OPT_NPD:
                        a->format = FORMAT_NPD;
                        a->used |= FLAG_NPD;
                        break;
                case 'r':
                        if (refuse_empty("--root", optarg, "a directory") < 0)
                                return -EINVAL;
                        a->root = optarg;
                        a->used |= FLAG_ROOT;
                        break;
                case 'c':
                        if (refuse_empty("--config", optarg, "a file") < 0)
                                return -EINVAL;
                        a->config = optarg;
                        a->used |= FLAG_CONFIG;
                        break;
                case OPT_FACTS:
                        a->facts = true;
                        a->used |= FLAG_FACTS;
                        break;
                case 'v':
                        a->verbose = true;
                        a->used |= FLAG_VERBOSE;
                        break;
                case OPT_NO_COLOR:
                        a->no_color = true;
                        a->used |= FLAG_NO_COLOR;
                        break;
                case OPT_SOCKET:
                        if (refuse_empty("--socket", optarg, "a path") < 0)
                                return -EINVAL;
                        a->socket = optarg;
                        a->used |= FLAG_SOCKET;
                        break;
                case OPT_MORE:
                        a->more = true;
                        a->used |= FLAG_MORE;
                        break;
                case OPT_LOCAL:
                        a->local = true;
                        a->used |= FLAG_LOCAL;
                        break;
                case OPT_ONLY:
                        if (strv_extend_unique(&a->only, optarg) < 0)
                                return -ENOMEM;
                        a->used |= FLAG_ONLY;
                        break;
                case OPT_DRY_RUN:
                        a->dry_run = true;
                        a->used |= FLAG_DRY_RUN;
                        break;
                case OPT_INCLUDE_RECOMMENDED:
                        a->include_recommended = true;
                        a->used |= FLAG_INCLUDE_RECOMMENDED;
                        break;
                case OPT_UPDATE_NODE_RECORDS:
                        a->update_node_records = true;
                        a->used |= FLAG_UPDATE_NODE_RECORDS;
                        break;
                case OPT_INSTALL_PACKAGES:
                        a->install_packages = true;
                        a->used |= FLAG_INSTALL_PACKAGES;
                        break;
                default:
                        return -EINVAL;
                }

        if (optind >= argc) {
                if (help) {
                        verb_help(NULL);
                        return 1;
                }
                fprintf(stderr, "nodeprepctl: no verb given (try nodeprepctl --help)\n");
                return -EINVAL;
        }
        a->verb = argv[optind];
        v = verb_find(a->verb);
        if (!v) {
                fprintf(stderr, "nodeprepctl: unknown verb \"%s\" (try nodeprepctl --help)\n",
                        a->verb);
                return -EINVAL;
        }
        if (help) {
                print_verb_help(v);
                return 1;
        }
        for (int i = optind + 1; i < argc; i++)
                if (strv_extend(&a->args, argv[i]) < 0)
                        return -ENOMEM;
        if (a->args && strv_length(a->args) > v->max_args) {
                fprintf(stderr, "nodeprepctl %s: unexpected argument \"%s\"\n", v->name,
                        a->args[v->max_args]);
                return -EINVAL;
        }
        for (size_t i = 0; i < ELEMENTSOF(flag_help); i++)
                if ((a->used & flag_help[i].flag) && !(v->flags & flag_help[i].flag)) {
                        fprintf(stderr, "nodeprepctl %s: option not accepted here:\n%s\n", v->name,
                                flag_help[i].text);
                        return -EINVAL;
                }
        if (__builtin_popcount(a->used & (FLAG_JSON | FLAG_FORMAT | FLAG_NPD)) > 1) {
                fprintf(stderr, "nodeprepctl %s: --json, --format and --npd exclude each other\n",
                        v->name);
                return -EINVAL;
        }
        if (a->facts && !a->json) {
                fprintf(stderr, "nodeprepctl %s: --facts goes with --json\n", v->name);
                return -EINVAL;
        }
        *ret_verb = v;
        return 0;
}

int main(int argc, char **argv)
{
        _cleanup_(args_done) Args a = {};
        const Verb *v = NULL;
        int r;

        r = parse_args(argc, argv, &a, &v);
        if (r == -ENOMEM)
                return error_exit(EXIT_SOFTWARE, "out of memory");
        if (r < 0)
                return EXIT_USAGE;
        if (r > 0)
                return 0;
        return v->run(&a);
}
