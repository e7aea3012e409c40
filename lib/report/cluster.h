/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One verdict for a cluster (`nodeprepctl cluster`): the reports of its workers in, per profile
 * how many are ready against the profile's MinReadyNodes=, the checks that do not pass on some
 * host, and what no single host can see (lib/report/cluster.c). Pure: no I/O, no clock.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "report/report.h"

typedef enum NpClusterVerdict {
        NP_CLUSTER_READY,
        NP_CLUSTER_NOT_READY,
        NP_CLUSTER_UNDECIDED, /* not enough ready, but enough if the unknown checks pass */
        _NP_CLUSTER_VERDICT_MAX,
        _NP_CLUSTER_VERDICT_INVALID = -EINVAL,
} NpClusterVerdict;

const char *np_cluster_verdict_to_string(NpClusterVerdict v) _const_;

typedef struct NpClusterHost {
        char *name;             /* the host name (with its report's origin when two share one) */
        const NpReport *report; /* borrowed */
        const char *origin;     /* where the report came from (borrowed): a file, "stdin #2" */
        bool held_back;         /* a failing cluster finding names it: never counted ready */
} NpClusterHost;

typedef struct NpClusterProfile {
        char *name;
        unsigned hosts;     /* reports that evaluate this profile */
        unsigned ready;     /* ready by their report and not held back */
        unsigned undecided; /* not ready only because a required check is unknown */
        unsigned held_back; /* ready by their report, held back by a finding */
        unsigned min_ready; /* the largest MinReadyNodes= of the reports (1 when none says) */
        bool min_disagree;  /* the reports do not agree on MinReadyNodes= */
        NpClusterVerdict verdict;
} NpClusterProfile;

/* A check that does not pass on at least one host: its status on each host. */
typedef struct NpClusterRow {
        char *profile;
        char *check;
        NpStatus *status; /* per host (hosts[] order); _NP_STATUS_INVALID: not in that report */
        bool *ignored;    /* per host: the site file ignores it there */
        char **messages;  /* per host, NULL where it passes or is absent */
} NpClusterRow;

typedef struct NpClusterFinding {
        bool fail;     /* the hosts named are held back; else a warning */
        char *kind;    /* stable: "mtu-mismatch", "peers-missing", "duplicate-machine-id", ... */
        char *message; /* one line for people */
        char **hosts;  /* the hosts it is about */
} NpClusterFinding;

typedef struct NpCluster {
        NpClusterHost *hosts;
        size_t n_hosts;
        NpClusterProfile *profiles;
        size_t n_profiles;
        NpClusterRow *rows;
        size_t n_rows;
        NpClusterFinding *findings;
        size_t n_findings;
} NpCluster;

NpCluster *np_cluster_free(NpCluster *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpCluster *, np_cluster_free);

/* Judge the cluster of these reports (origins[i] says where reports[i] came from). The reports
 * must outlive the result. -EINVAL when there is none. */
int np_cluster_analyze(NpReport *const *reports, char *const *origins, size_t n, NpCluster **ret);

/* As `check`: 0 every profile ready, 1 one is not, 2 none is not ready but one is undecided. */
int np_cluster_exit_code(const NpCluster *c);

/* lib/report/cluster-output.c: the verdict for people (per profile a line, the hosts x checks
 * matrix of what does not pass, the findings) and as JSON. */
char *np_cluster_to_text(const NpCluster *c, bool color);
int np_cluster_to_json(const NpCluster *c, json_object **ret);
