/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodeprepctl: check a host against product profiles, show facts and profiles. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "evaluate.h"
#include "probe/probe.h"
#include "profile/profile.h"
#include "report/report.h"
#include "util/strv.h"

/* Exit codes (DESIGN.md; sysexits.h values). */
#define EXIT_NOT_READY 1
#define EXIT_UNDECIDED 2
#define EXIT_USAGE     64
#define EXIT_CONFIG    65
#define EXIT_SOFTWARE  70

typedef enum Flag {
        FLAG_PROFILE = 1 << 0,
        FLAG_SET = 1 << 1,
        FLAG_JSON = 1 << 2,
        FLAG_ROOT = 1 << 3,
        FLAG_CONFIG = 1 << 4,
        FLAG_FACTS = 1 << 5,
        FLAG_VERBOSE = 1 << 6,
        FLAG_NO_COLOR = 1 << 7,
} Flag;

typedef struct Args {
        const char *verb;
        char **profiles;
        char **sets;
        const char *root;
        const char *config;
        bool json;
        bool facts;
        bool verbose;
        bool no_color;
        unsigned used; /* Flag bits given */
} Args;

static void args_done(Args *a)
{
        strv_free(a->profiles);
        strv_free(a->sets);
}

static int error_exit(int code, const char *fmt, ...) _printf_(2, 3);
static int error_exit(int code, const char *fmt, ...)
{
        va_list ap;

        fputs("nodeprepctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return code;
}

static bool use_color(const Args *a)
{
        const char *term = getenv("TERM");

        return !a->no_color && !getenv("NO_COLOR") && isatty(STDOUT_FILENO) &&
               !streq_ptr(term, "dumb");
}

static int print_json(json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        puts(s);
        return fflush(stdout) == 0 ? 0 : -errno;
}

/* Load the configuration, mapping failures to exit codes; 0 on success. */
static int load_config(const Args *a, const NpRoot *root, NpConfig **ret)
{
        _cleanup_free_ char *error = NULL;
        NpConfigError kind;
        int r;

        r = np_config_load(root, a->config, a->profiles, a->sets, ret, &kind, &error);
        if (r == -ENOMEM)
                return error_exit(EXIT_SOFTWARE, "out of memory");
        if (r < 0)
                return error_exit(kind == NP_CONFIG_USAGE ? EXIT_USAGE : EXIT_CONFIG, "%s",
                                  error ? error : strerror(-r));
        STRV_FOREACH (w, (*ret)->warnings)
                fprintf(stderr, "nodeprepctl: warning: %s\n", *w);
        return 0;
}

static int open_root(const Args *a, NpRoot **ret)
{
        int r = np_root_new(a->root, ret);

        if (r < 0)
                return error_exit(EXIT_USAGE, "--root %s: %s", strna(a->root), strerror(-r));
        return 0;
}

static int verb_check(const Args *a)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        _cleanup_(np_config_freep) NpConfig *config = NULL;
        _cleanup_(np_report_freep) NpReport *report = NULL;
        int r;

        r = open_root(a, &root);
        if (r != 0)
                return r;
        r = load_config(a, root, &config);
        if (r != 0)
                return r;
        r = np_evaluate(root, config, np_now_usec(), &report);
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "evaluation failed: %s", strerror(-r));

        if (a->json) {
                json_object *o = NULL;

                r = np_report_to_json(report, a->facts, &o);
                if (r >= 0)
                        r = print_json(o);
                json_object_put(o);
        } else {
                _cleanup_free_ char *text = np_report_to_text(report, use_color(a), a->verbose);

                r = text ? (fputs(text, stdout) < 0 ? -EIO : 0) : -ENOMEM;
        }
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "cannot print the report: %s", strerror(-r));
        return np_report_exit_code(report);
}

/* Everything any profile we can find would look at, for `facts` without --profile. */
static int request_all_profiles(const NpRoot *root, NpProbeRequest *req)
{
        NpProfileInfo *infos = NULL;
        size_t n = 0;
        int r;

        req->system = req->kubelet = req->selinux = req->iscsi = req->iscsi_nodes = true;
        req->disks = req->links = true;
        r = np_profile_list(root, &infos, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_(np_profile_freep) NpProfile *p = NULL;
                _cleanup_free_ char *error = NULL;

                if (infos[i].error || np_profile_load(root, infos[i].name, &p, &error) < 0)
                        continue;
                r = np_probe_request_add_profile(req, p);
        }
        np_profile_info_free_many(infos, n);
        return r;
}

static int verb_facts(const Args *a)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        _cleanup_(np_probe_request_done) NpProbeRequest req = {};
        _cleanup_(np_facts_freep) NpFacts *facts = NULL;
        int r;

        r = open_root(a, &root);
        if (r != 0)
                return r;
        if (strv_length(a->profiles) > 0 || strv_length(a->sets) > 0) {
                _cleanup_(np_config_freep) NpConfig *config = NULL;

                r = load_config(a, root, &config);
                if (r != 0)
                        return r;
                r = np_config_probe_request(config, &req);
                req.system = req.kubelet = req.selinux = req.iscsi = req.iscsi_nodes = true;
        } else
                r = request_all_profiles(root, &req);
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "%s", strerror(-r));
        r = np_probe(root, &req, &facts);
        if (r < 0)
                return error_exit(EXIT_SOFTWARE, "probing failed: %s", strerror(-r));

        if (a->json) {
                json_object *o = NULL;

                r = np_facts_to_json(facts, &o);
                if (r >= 0)
                        r = print_json(o);
                json_object_put(o);
        } else {
                _cleanup_free_ char *text = np_facts_to_text(facts);

                r = text ? (fputs(text, stdout) < 0 ? -EIO : 0) : -ENOMEM;
        }
        return r < 0 ? error_exit(EXIT_SOFTWARE, "%s", strerror(-r)) : 0;
}

static int verb_profiles(const Args *a)
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
                json_object *arr = json_object_new_array();

                for (size_t i = 0; arr && i < n; i++) {
                        json_object *o = json_object_new_object(), *d = json_object_new_array();

                        STRV_FOREACH (s, infos[i].dropins)
                                json_object_array_add(d, json_object_new_string(*s));
                        json_object_object_add(o, "name", json_object_new_string(infos[i].name));
                        json_object_object_add(o, "path", infos[i].path ? json_object_new_string(infos[i].path) : NULL);
                        json_object_object_add(o, "dropins", d);
                        json_object_object_add(o, "description", infos[i].description ? json_object_new_string(infos[i].description) : NULL);
                        json_object_object_add(o, "shadows", infos[i].shadows ? json_object_new_string(infos[i].shadows) : NULL);
                        json_object_object_add(o, "error", infos[i].error ? json_object_new_string(infos[i].error) : NULL);
                        json_object_array_add(arr, o);
                }
                r = arr ? print_json(arr) : -ENOMEM;
                json_object_put(arr);
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
                }
        }
        np_profile_info_free_many(infos, n);
        return r < 0 ? error_exit(EXIT_SOFTWARE, "%s", strerror(-r)) : 0;
}

static int verb_help(const Args *a);

typedef struct Verb {
        const char *name;
        unsigned flags;
        int (*run)(const Args *a);
        const char *synopsis;
        const char *help;
} Verb;

static const Verb verbs[] = {
        { "check", FLAG_PROFILE | FLAG_SET | FLAG_JSON | FLAG_ROOT | FLAG_CONFIG | FLAG_FACTS |
                           FLAG_VERBOSE | FLAG_NO_COLOR,
          verb_check, "check [--profile P]... [--set K=V]... [--json [--facts]] [--root DIR]",
          "Probe this host and report, per profile, whether it is ready.\n"
          "Exit status: 0 ready, 1 not ready, 2 undecided (a required check is unknown),\n"
          "64 usage error, 65 bad configuration or profile." },
        { "facts", FLAG_PROFILE | FLAG_SET | FLAG_JSON | FLAG_ROOT | FLAG_CONFIG | FLAG_NO_COLOR,
          verb_facts, "facts [--json] [--profile P]... [--root DIR]",
          "Show what the probes see on this host, without judging it." },
        { "profiles", FLAG_JSON | FLAG_ROOT, verb_profiles, "profiles [--json] [--root DIR]",
          "List the profiles that can be used by name, and the files they come from." },
        { "help", 0, verb_help, "help [VERB]", "Show help." },
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
        { FLAG_FACTS, "      --facts              with --json: include the probed facts" },
        { FLAG_ROOT, "  -r, --root DIR           read the host's files below DIR" },
        { FLAG_CONFIG, "  -c, --config FILE        site file (default "
                       "/etc/nodeprep/nodeprep.conf)" },
        { FLAG_VERBOSE, "  -v, --verbose            details for passing checks too" },
        { FLAG_NO_COLOR, "      --no-color           no colour (also NO_COLOR=1)" },
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
        const Verb *v = a && a->profiles ? verb_find(a->profiles[0]) : NULL;

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
};

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
                        a->used |= FLAG_JSON;
                        break;
                case 'r':
                        a->root = optarg;
                        a->used |= FLAG_ROOT;
                        break;
                case 'c':
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
        if (v->run == verb_help) {
                /* help VERB: reuse profiles as the argument list */
                for (int i = optind + 1; i < argc; i++)
                        if (strv_extend(&a->profiles, argv[i]) < 0)
                                return -ENOMEM;
        } else if (optind + 1 < argc) {
                fprintf(stderr, "nodeprepctl %s: unexpected argument \"%s\"\n", v->name,
                        argv[optind + 1]);
                return -EINVAL;
        }
        for (size_t i = 0; i < ELEMENTSOF(flag_help); i++)
                if ((a->used & flag_help[i].flag) && !(v->flags & flag_help[i].flag)) {
                        fprintf(stderr, "nodeprepctl %s: option not accepted here:\n%s\n",
                                v->name, flag_help[i].text);
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
