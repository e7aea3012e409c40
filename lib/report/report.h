/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reports: the results of every requested profile plus the host they are about. A report owns
 * copies of everything it shows, so it outlives the configuration and facts it was made from
 * (the daemon keeps the last one while it reloads).
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "check/check.h"
#include "facts.h"
#include "profile/profile.h"

#define NP_REPORT_SCHEMA_VERSION 1

typedef struct NpProfileReport {
        char *name;
        char *description;
        char *source;    /* the profile file (and drop-ins) */
        char **settings; /* "Name=value" of every setting, for the record */
        NpResult *results;
        size_t n_results;
        bool ready;
        unsigned summary[_NP_STATUS_MAX];
        unsigned min_ready_nodes; /* [Profile] MinReadyNodes= (1 when the profile says nothing);
                                   * 0 in a report read from a version without it */
} NpProfileReport;

/* The host's place on the data network, for `nodeprepctl cluster` (the report's "cluster"). */
typedef struct NpReportCluster {
        char *data_cidr;      /* the first requested profile's DataCIDR=, NULL when none sets it */
        char *data_address;   /* this host's address in it, NULL when none */
        char *data_interface; /* the link holding it */
        unsigned data_mtu;    /* that link's MTU, 0 when unknown */
        char **peers;         /* [Cluster] Peers= as configured */
} NpReportCluster;

typedef struct NpReport {
        char *hostname;
        char *os_id;
        char *os_version;
        char *os_pretty_name;
        char *kernel;
        char *machine_id;         /* /etc/machine-id */
        char *product_uuid;       /* DMI product UUID, NULL when unreadable */
        char *open_iscsi_version; /* NULL when not installed or unknown */
        NpReportCluster cluster;
        uint64_t generated_at_usec; /* CLOCK_REALTIME */
        bool ready;
        NpProfileReport *profiles;
        size_t n_profiles;
        char **warnings;
        NpFacts *facts; /* owned; NULL once dropped */
} NpReport;

NpReport *np_report_free(NpReport *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpReport *, np_report_free);

/* Run every check of every profile against facts; the report takes ownership of facts. */
int np_report_build(const NpConfig *config, NpFacts *facts, uint64_t now_usec, NpReport **ret);

/* 0 ready, 1 a required check fails, 2 undecided (no failure, a required check unknown). */
int np_report_exit_code(const NpReport *r);

int np_report_to_json(const NpReport *r, bool with_facts, json_object **ret);
/* Read a report back from its JSON (nodeprepd's replies): -EBADMSG when it is not one. */
int np_report_from_json(json_object *o, NpReport **ret);
int np_facts_to_json(const NpFacts *f, json_object **ret);
int np_profile_infos_to_json(const NpProfileInfo *infos, size_t n, json_object **ret);
/* Text for people: failures first, each with observed / expected / remedy. */
char *np_report_to_text(const NpReport *r, bool color, bool verbose);
char *np_facts_to_text(const NpFacts *f);

/* CI and monitoring formats (lib/report/formats.c). */
char *np_report_to_tap(const NpReport *r);
char *np_report_to_junit(const NpReport *r);
/* One Nagios plugin line with perfdata; *ret_code is the plugin exit code (0 OK .. 3 UNKNOWN). */
char *np_report_to_nagios(const NpReport *r, int *ret_code);
/* node-problem-detector's custom-plugin message, at most max characters. */
char *np_report_to_npd(const NpReport *r, size_t max);

/* --- fleet outputs (lib/report/fleet.c) --- */

/* Node Feature Discovery's local source ignores a feature file larger than this. */
#define NP_NFD_MAX_SIZE 65536
#define NP_NFD_PREFIX   "nodeprep.io/"

/* A Kubernetes label name part (and value rule): [A-Za-z0-9][-A-Za-z0-9_.]{0,61}[A-Za-z0-9]. */
bool np_label_name_valid(const char *s) _pure_;

/* Figures the outputs share; -1 when the facts do not tell (not probed, or the probe failed). */
typedef struct NpFleetFigures {
        int64_t free_ssd, free_hdd; /* free whole disks by kind */
        int64_t max_link_speed;     /* Mb/s: the fastest up link nic.speed counts, 0 when none */
} NpFleetFigures;
int np_fleet_figures(const NpFacts *f, NpFleetFigures *ret);

/*
 * The NFD feature file: a comment, with expiry_usec (CLOCK_REALTIME, 0: none) NFD's
 * "# +expiry-time=RFC 3339" directive after which it ignores the labels, then sorted
 * "nodeprep.io/NAME=VALUE" lines: PROFILE.ready for every profile, free-ssd/free-hdd when disks
 * were probed, max-link-speed when links were. Profiles whose label name would be invalid are
 * left out and named in *ret_skipped. -EFBIG above NP_NFD_MAX_SIZE.
 */
int np_report_to_nfd(const NpReport *r, uint64_t expiry_usec, char **ret, char ***ret_skipped);
#define NP_NFD_EXPIRY_PREFIX "# +expiry-time="
/* The expiry of a feature file's text (0 when it has none or it does not parse) and the text
 * without that line in *ret_rest (a pointer into a copy the caller frees). */
int np_nfd_split_expiry(const char *text, size_t size, uint64_t *ret_expiry_usec, char **ret_rest);

typedef struct NpFixCount {
        char *check;
        char *result; /* "changed", "failed" */
        uint64_t count;
} NpFixCount;

/* What only a long-running process counts, for the metrics. */
typedef struct NpMetricsCounters {
        uint64_t evaluations;
        uint64_t last_evaluation_usec; /* CLOCK_REALTIME */
        uint64_t last_duration_usec;
        NpFixCount *fixes; /* sorted by check, result */
        size_t n_fixes;
} NpMetricsCounters;

void np_metrics_counters_done(NpMetricsCounters *c);
int np_metrics_count_fix(NpMetricsCounters *c, const char *check, const char *result);
/* The Prometheus text exposition format (version 0.0.4) for a report and the counters. */
char *np_report_to_metrics(const NpReport *r, const NpMetricsCounters *c);

/* RFC 3339 UTC with seconds: "2026-11-22T10:04:05Z". */
char *np_format_timestamp(uint64_t usec);
