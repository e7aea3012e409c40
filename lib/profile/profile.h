/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Profiles (one per product: what a ready worker looks like) and the site file
 * (/etc/nodeprep/nodeprep.conf: which profiles, site settings, per-check overrides).
 * See nodeprep.profile(5) and nodeprep.conf(5).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/macro.h"
#include "util/parse.h"
#include "util/root.h"
#include "util/watch.h"

typedef enum NpSeverity {
        NP_SEVERITY_REQUIRED,
        NP_SEVERITY_RECOMMENDED,
        _NP_SEVERITY_MAX,
        _NP_SEVERITY_INVALID = -EINVAL,
} NpSeverity;

const char *np_severity_to_string(NpSeverity s) _const_;
NpSeverity np_severity_from_string(const char *s) _pure_;

/* A named site value: an endpoint ("db.example:5432") or a path ("/srv/tts-blob"). */
typedef struct NpNamedValue {
        char *name;
        char *value;
        char *origin; /* "FILE:LINE" or "--set" */
} NpNamedValue;

typedef enum NpNamedKind {
        NP_NAMED_ENDPOINT, /* [Endpoint NAME] Address=, --set Endpoint.NAME= */
        NP_NAMED_PATH,     /* [Path NAME] Path=, --set Path.NAME= */
        _NP_NAMED_KIND_MAX,
        _NP_NAMED_KIND_INVALID = -EINVAL,
} NpNamedKind;

/* [Cluster] of the site file: the other workers on the data network (nodeprep.conf(5)). */
typedef struct NpClusterSettings {
        char **peers;                /* Peers=: addresses or names; drop-ins add, "" resets */
        char *peers_origin;          /* "FILE:LINE" of the last Peers= */
        uint64_t peer_timeout_usec;  /* PeerTimeout=: all peers together */
        uint64_t peer_interval_usec; /* PeerInterval=: nodeprepd re-probes at most this often */
} NpClusterSettings;

#define NP_PEER_TIMEOUT_USEC_DEFAULT  (2ULL * 1000000ULL)
#define NP_PEER_INTERVAL_USEC_DEFAULT (60ULL * 1000000ULL)

void np_cluster_settings_init(NpClusterSettings *c);
void np_cluster_settings_done(NpClusterSettings *c);
int np_cluster_settings_copy(NpClusterSettings *dst, const NpClusterSettings *src);

/* Settings: thresholds a profile sets and the site file or --set may override. */
typedef enum NpSettingId {
        NP_SETTING_MIN_FREE_SSD,
        NP_SETTING_MIN_FREE_HDD,
        NP_SETTING_MIN_DISK_SIZE,
        NP_SETTING_MIN_LINK_SPEED,
        NP_SETTING_DATA_CIDR,
        NP_SETTING_INCLUDE_LOOP_DEVICES,
        NP_SETTING_USE_KATA,
        NP_SETTING_MAX_LATENCY,
        _NP_SETTING_MAX,
        _NP_SETTING_INVALID = -EINVAL,
} NpSettingId;

typedef struct NpSettings {
        uint64_t min_free_ssd;
        uint64_t min_free_hdd;
        uint64_t min_disk_size;  /* bytes */
        uint64_t min_link_speed; /* Mb/s */
        bool has_data_cidr;
        NpCidr data_cidr;
        bool include_loop_devices;
        bool use_kata;
        uint64_t max_latency_usec; /* MaxLatency=: a peer's median round trip; 0: no limit */
        /* The site's [Cluster], copied into every profile's settings by np_config_load(). */
        NpClusterSettings cluster;
        /* Where each value came from: "FILE:LINE", "--set" or NULL for the built-in default. */
        char *origin[_NP_SETTING_MAX];
        /* Named endpoints and paths from the site file and --set. */
        NpNamedValue *named[_NP_NAMED_KIND_MAX];
        size_t n_named[_NP_NAMED_KIND_MAX];
} NpSettings;

const char *np_setting_name(NpSettingId id) _const_;
NpSettingId np_setting_from_name(const char *name) _pure_;
/* Parse value into s; on failure returns -EINVAL and a message ("not a valid CIDR"). */
int np_settings_set(NpSettings *s, NpSettingId id, const char *value, const char *origin,
                    char **ret_error);
/* The value as text ("" when unset), for reports. */
char *np_settings_format(const NpSettings *s, NpSettingId id);
void np_settings_init(NpSettings *s);
void np_settings_done(NpSettings *s);
int np_settings_copy(NpSettings *dst, const NpSettings *src);

const char *np_named_kind_to_string(NpNamedKind k) _const_;
/* Validate and set a named value: an endpoint is HOST:PORT or [IPV6]:PORT, a path is absolute. */
int np_settings_set_named(NpSettings *s, NpNamedKind kind, const char *name, const char *value,
                          const char *origin, char **ret_error);
const NpNamedValue *np_settings_named(const NpSettings *s, NpNamedKind kind, const char *name);
/* Split "HOST:PORT" / "[V6]:PORT" into host and port. */
int np_endpoint_split(const char *address, char **ret_host, char **ret_port);

struct NpCheckType;

typedef struct NpCheckDef {
        char *id;       /* "iscsi.conf:node.startup" */
        char *instance; /* "node.startup", or NULL */
        const struct NpCheckType *type;
        char *title;
        NpSeverity severity;
        char *source;       /* the prerequisite it comes from */
        char *remedy;       /* overrides the generated remedy when set */
        char *origin;       /* "FILE:LINE" of the Id= line */
        char *param_origin; /* "FILE:LINE" of the parameter set last (for errors found later) */

        /* The type's parameter struct (NULL for a type without parameters): what is where is
         * the type's NpParam table (lib/check/param.h). */
        void *params;

        /* Site overrides (recorded in the report, never silent). */
        bool ignored;
        char *override; /* "nodeprep.conf:14: Ignore=yes (all-flash cluster)" */
} NpCheckDef;

typedef struct NpProfile {
        char *name;
        char *description;
        char *documentation;
        char *source; /* Source= of [Profile]: the vendor page */
        char *path;   /* the main file, as on the host */
        char **dropins;
        NpSettings settings;
        NpCheckDef *checks;
        size_t n_checks;
        /* [Profile] MinReadyNodes=: ready workers the product needs (nodeprepctl cluster); 0 when
         * the profile does not say (then 1). */
        uint64_t min_ready_nodes;
        char *min_ready_nodes_origin;
} NpProfile;

NpProfile *np_profile_free(NpProfile *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpProfile *, np_profile_free);
const NpCheckDef *np_profile_find_check(const NpProfile *p, const char *id);

/*
 * Find and load a profile by NAME (searched under the root) or by PATH (when the argument contains
 * a '/' or ends in ".conf"): a file on this machine, or with path_in_root (a path a site file
 * names) an absolute path resolved inside the root. -ENOENT when there is no such profile.
 */
int np_profile_load(const NpRoot *root, const char *name_or_path, bool path_in_root,
                    NpProfile **ret, char **ret_error);

/* Parse a profile from memory (no drop-ins); for fuzzing and tests. */
int np_profile_parse_buffer(const char *name, const char *data, size_t size, NpProfile **ret,
                            char **ret_error);

typedef struct NpProfileInfo {
        char *name;
        char *path;
        char **dropins;
        char *description;
        char *shadows;      /* a lower-priority file this one replaces */
        char *error;        /* the profile does not load */
        NpProfile *profile; /* the loaded profile, NULL when it does not load */
} NpProfileInfo;

/* Every profile that can be found by name, sorted by name. */
int np_profile_list(const NpRoot *root, NpProfileInfo **ret, size_t *ret_n);
void np_profile_info_free_many(NpProfileInfo *p, size_t n);

/* --- the site file -------------------------------------------------------------------------- */

typedef struct NpOverride {
        char *check;   /* check id */
        char *profile; /* only this profile, or NULL for all */
        bool has_ignore, ignore;
        bool has_severity;
        NpSeverity severity;
        char *reason;
        char *origin;
        bool used;
} NpOverride;

typedef struct NpSettingValue {
        NpSettingId id;   /* a setting, or _NP_SETTING_INVALID for a named value */
        NpNamedKind kind; /* for named values */
        char *name;       /* for named values */
        char *value;
        char *origin;
} NpSettingValue;

/* [Daemon] of the site file: nodeprepd's own settings (nodeprep.conf(5)). */
typedef struct NpDaemonSettings {
        uint64_t rescan_usec;       /* RescanSec=: re-probe everything this often; 0 = never */
        uint64_t idle_timeout_usec; /* IdleTimeoutSec=: close idle Varlink connections; 0 = never */
        uint64_t max_connections;   /* MaxConnections=: Varlink connections in total */
        uint64_t max_connections_per_user; /* MaxConnectionsPerUser=: per peer UID */
        char *feature_file;                /* FeatureFile=: NFD feature file, NULL when off */
        char *metrics_file;                /* MetricsFile=: node_exporter textfile, NULL when off */
} NpDaemonSettings;

#define NP_DAEMON_FEATURE_FILE_DEFAULT      "/etc/kubernetes/node-feature-discovery/features.d/nodeprep"

#define NP_DAEMON_RESCAN_USEC_DEFAULT       (3600ULL * 1000000ULL)
#define NP_DAEMON_IDLE_TIMEOUT_USEC_DEFAULT (60ULL * 1000000ULL)
#define NP_DAEMON_MAX_CONNECTIONS_DEFAULT   4096U
#define NP_DAEMON_MAX_PER_USER_DEFAULT      1024U

typedef struct NpSite {
        char *path; /* as on the host */
        bool present;
        char **dropins;
        char **profiles; /* Profiles= */
        char *profiles_origin;
        NpSettingValue *settings; /* [Settings], in order */
        size_t n_settings;
        NpOverride *overrides;
        size_t n_overrides;
        NpDaemonSettings daemon;   /* [Daemon] */
        NpClusterSettings cluster; /* [Cluster] */
        /* [Apply]: what the daemon may fix on its own, and fix policy (see lib/fix/fix.h). */
        char **auto_apply; /* AutoApply= check ids; empty: the daemon never applies fixes */
        char *auto_apply_origin;
        bool include_recommended; /* IncludeRecommended= */
        char *include_recommended_origin;
} NpSite;

NpSite *np_site_free(NpSite *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpSite *, np_site_free);
/* Parse a site file from memory (no drop-ins); for fuzzing and tests. */
int np_site_parse_buffer(const char *name, const char *data, size_t size, NpSite **ret,
                         char **ret_error);
/* Load the site file: path (on the host) when given, else /etc/nodeprep/nodeprep.conf under the
 * root. */
int np_site_load(const NpRoot *root, const char *path, NpSite **ret, char **ret_error);

/* --- the whole configuration ----------------------------------------------------------------- */

typedef enum NpConfigError {
        NP_CONFIG_OK,
        NP_CONFIG_USAGE, /* a bad argument: unknown profile, bad --set */
        NP_CONFIG_BAD,   /* a bad file */
} NpConfigError;

typedef struct NpConfig {
        NpSite *site;
        NpProfile **profiles;
        size_t n_profiles;
        char **warnings; /* problems worth a line on stderr that do not stop the run */
} NpConfig;

NpConfig *np_config_free(NpConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpConfig *, np_config_free);

/*
 * Load the site file and the requested profiles (or the site's Profiles= when none are given),
 * then apply site settings, `--set KEY=VALUE` assignments and site overrides to each profile.
 * On failure *ret_kind says whether the user or a file is at fault and *ret_error says what.
 */
int np_config_load(const NpRoot *root, const char *site_path, char *const *profile_args,
                   char *const *set_args, NpConfig **ret, NpConfigError *ret_kind,
                   char **ret_error);

/* The tag np_config_watch_paths() gives its paths. */
#define NP_WATCH_CONFIG (-1)

/* Directories (and entries) whose changes can change the configuration: the site file and its
 * drop-ins (or the --config file), every profile directory, and the drop-in directories of the
 * named profiles. */
int np_config_watch_paths(const NpRoot *root, const char *site_path, char *const *profile_names,
                          NpWatchList *l);
