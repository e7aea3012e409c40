/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodeprepctl internals shared by the verb files: arguments, exit codes, output helpers. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "profile/profile.h"
#include "report/report.h"
#include "util/macro.h"
#include "util/root.h"

/* Exit codes (DESIGN.md; sysexits.h values). */
#define EXIT_NOT_READY   1
#define EXIT_UNDECIDED   2
#define EXIT_USAGE       64
#define EXIT_CONFIG      65
#define EXIT_SOFTWARE    70
#define EXIT_UNAVAILABLE 69 /* the daemon cannot be reached */
#define EXIT_TEMPFAIL    75 /* another apply or rollback holds the lock */
#define EXIT_REFUSED     77 /* needs root */

typedef enum Flag {
        FLAG_PROFILE = 1 << 0,
        FLAG_SET = 1 << 1,
        FLAG_JSON = 1 << 2,
        FLAG_ROOT = 1 << 3,
        FLAG_CONFIG = 1 << 4,
        FLAG_FACTS = 1 << 5,
        FLAG_VERBOSE = 1 << 6,
        FLAG_NO_COLOR = 1 << 7,
        FLAG_FORMAT = 1 << 8,
        FLAG_NPD = 1 << 9,
        FLAG_SOCKET = 1 << 10,
        FLAG_MORE = 1 << 11,
        FLAG_LOCAL = 1 << 12,
        FLAG_ONLY = 1 << 13,
        FLAG_DRY_RUN = 1 << 14,
        FLAG_INCLUDE_RECOMMENDED = 1 << 15,
        FLAG_UPDATE_NODE_RECORDS = 1 << 16,
        FLAG_INSTALL_PACKAGES = 1 << 17,
} Flag;

typedef enum OutputFormat {
        FORMAT_TEXT,
        FORMAT_JSON,
        FORMAT_TAP,
        FORMAT_JUNIT,
        FORMAT_NAGIOS,
        FORMAT_NPD,
        _FORMAT_MAX,
        _FORMAT_INVALID = -EINVAL,
} OutputFormat;

typedef struct Args {
        const char *verb;
        char **args; /* positional arguments after the verb */
        char **profiles;
        char **sets;
        const char *root;
        const char *config;
        bool json;
        bool facts;
        bool verbose;
        bool no_color;
        OutputFormat format;
        const char *socket; /* --socket: nodeprepd's Varlink socket */
        bool more;          /* call --more */
        bool local;
        char **only;
        bool dry_run;
        bool include_recommended;
        bool update_node_records;
        bool install_packages;
        unsigned used; /* Flag bits given */
} Args;

void args_done(Args *a);
int error_exit(int code, const char *fmt, ...) _printf_(2, 3);
bool use_color(const Args *a);
int print_json(json_object *o);
/* The output of a verb: print *o when r (what the np_*_to_json() call that built it returned)
 * is not negative, and free it; print_json_built(np_x_to_json(x, &o), &o). r or -errno. */
int print_json_built(int r, json_object **o);
/* Print text and free it; NULL (an np_*_to_text() out of memory) is -ENOMEM. 0 or -errno. */
int print_text(char *text);
/* Load the configuration, mapping failures to exit codes; 0 on success, else the exit code. */
int load_config(const Args *a, const NpRoot *root, NpConfig **ret);
int open_root(const Args *a, NpRoot **ret);
/* open_root() then load_config(); 0, or the exit code (said). */
int open_root_config(const Args *a, NpRoot **ret_root, NpConfig **ret_config);
/* Open the root, load the configuration and evaluate here; 0, or the exit code (said). */
int evaluate_local(const Args *a, NpReport **ret);
OutputFormat output_format_from_string(const char *s);
/* Print a report in the requested format; returns the exit code (Nagios codes for nagios). */
struct NpReport;
int print_report(const Args *a, const struct NpReport *report);

/* nodeprepd over Varlink (cli/verbs-daemon.c): connect, or exit 69 with a hint; map an error
 * reply to an exit code and a message. */
struct NpVarlinkClient;
struct NpVarlinkReplyMessage;
int connect_daemon(const Args *a, struct NpVarlinkClient **ret);
/* Connect and call one method: 0 with the reply in *m, or the exit code (said). */
int call_daemon(const Args *a, const char *method, json_object *params, uint64_t timeout_usec,
                struct NpVarlinkClient **c, struct NpVarlinkReplyMessage *m);
int daemon_error(const struct NpVarlinkReplyMessage *m);

/* Verbs (cli/verbs-*.c). */
int verb_check(const Args *a);
int verb_facts(const Args *a);
int verb_profiles(const Args *a);
int verb_status(const Args *a);
int verb_metrics(const Args *a);
int verb_watch(const Args *a);
int verb_call(const Args *a);
int verb_plan(const Args *a);
int verb_apply(const Args *a);
int verb_rollback(const Args *a);
int verb_cluster(const Args *a);
