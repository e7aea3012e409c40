/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks: facts + profile -> results. Pure: no I/O, no clock, no environment; the same facts and
 * profile always give the same results. Every check type is one row in the table in check.c.
 */
#pragma once

#include <stdbool.h>

#include "check/param.h"
#include "facts.h"
#include "profile/profile.h"

typedef enum NpStatus {
        NP_STATUS_PASS,
        NP_STATUS_FAIL,
        NP_STATUS_WARN,
        NP_STATUS_UNKNOWN,
        NP_STATUS_SKIP,
        _NP_STATUS_MAX,
        _NP_STATUS_INVALID = -EINVAL,
} NpStatus;

const char *np_status_to_string(NpStatus s) _const_;
NpStatus np_status_from_string(const char *s) _pure_;

typedef struct NpResult {
        char *id;
        char *title;
        NpSeverity severity;
        NpStatus status;
        char *observed;
        char *expected;
        char *message;
        const char *fix; /* id of an automatic fix, or NULL */
        char *remedy;
        char *source;
        bool ignored;
        char *override;
} NpResult;

void np_result_done(NpResult *r);
/* Does this result decide readiness? (required and not ignored by the site) */
bool np_result_counts(const NpResult *res) _pure_;

typedef struct NpCheckContext {
        const NpFacts *facts;
        const NpProfile *profile;
        const NpSettings *settings;
} NpCheckContext;

typedef struct NpCheckType {
        const char *name; /* "iscsi.conf" */
        bool instance;    /* ids are NAME:INSTANCE */
        const char *what; /* what the instance names, for errors: "an iscsid.conf key" */
        /* The [Check] parameters this type takes, and the size of the struct their offsets
         * point into (NpCheckDef.params); set with NP_CHECK_PARAMS(table, struct). */
        const NpParam *params;
        size_t n_params;
        size_t params_size;
        const char *default_title;
        /* Validate the instance text; message on failure. NULL: any non-empty text. */
        int (*verify_instance)(const char *instance, char **ret_error);
        /* After loading: required parameters present and consistent. NULL: nothing to verify. */
        int (*verify)(const NpCheckDef *def, char **ret_error);
        /* Add what the check reads to the probe request. */
        int (*request)(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req);
        /* Fill status, observed, expected, message and remedy. -ENOMEM only. */
        int (*run)(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r);
        /* Id of the automatic fix, NULL when a person must act. */
        const char *fix;
} NpCheckType;

/* The speed a link counts at under nic.speed's rules (a VLAN its parent's, a bridge its best
 * port's): 1 and *ret_mbps when it counts, 0 (and -1) when it does not (down, unknown speed,
 * not a NIC), -ENOMEM. */
int np_link_counted_speed(const NpFacts *f, const NpLink *l, int64_t *ret_mbps);

const NpCheckType *np_check_type_find(const char *name);
const NpCheckType *const *np_check_types(size_t *ret_n);

/* A definition of this type with its parameters unset (lib/check/param.c); -ENOMEM. */
int np_check_def_init(NpCheckDef *def, const NpCheckType *type);
void np_check_def_done(NpCheckDef *def);
/* Set a [Check] parameter from its text, as the type's table says; a drop-in's value replaces
 * the earlier one. -EINVAL with a message for an unknown key or a bad value. */
int np_check_def_set_param(NpCheckDef *def, const char *key, const char *value, char **ret_error);
/* Where the value of parameter key is held (its NpParamType's C type), NULL when the type does
 * not take it. */
const void *np_check_def_param(const NpCheckDef *def, const char *key);
/* Do two profiles' definitions of one check id ask the same of the host? Compares every
 * parameter whose conflict is NP_PARAM_CONFLICT_DIFFERENT; false names the first that differs. */
bool np_check_defs_agree(const NpCheckDef *a, const NpCheckDef *b, const char **ret_key);

int np_probe_request_add_profile(NpProbeRequest *req, const NpProfile *p);

/* Run one check: the type's run() plus severity, overrides and identity. */
int np_check_run(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *ret);

/* Helpers for check implementations. */
int np_result_set(NpResult *r, NpStatus status, const char *observed, const char *expected,
                  const char *message_fmt, ...) _printf_(5, 6);
int np_result_remedy(NpResult *r, const char *fmt, ...) _printf_(2, 3);

/* skip: DataCIDR= is not set (nic.data-cidr, net.peers). */
int np_result_skip_no_data_cidr(NpResult *r);

/* The install command for a package on this distribution family. */
char *np_remedy_install(NpDistroFamily d, const char *deb, const char *rpm, const char *suse);

/* Shared with the fixes (lib/fix/): what the checks count as right. */
/* iscsi.conf:KEY's parameters (exactly one is set). */
typedef struct NpIscsiConfParams {
        char *expect;   /* Expect= */
        NpParamU64 min; /* Min= */
} NpIscsiConfParams;
/* dir.layout:NAME's parameters. */
typedef struct NpDirLayoutParams {
        char *path;         /* Path=: the directory when the site file names none */
        NpParamOwner owner; /* Owner= */
        char **directories; /* Directories= relative to the directory */
        char **files;       /* Files= relative to the directory */
} NpDirLayoutParams;
/* The value iscsid uses for an iSCSI key a file does not set, or NULL. */
const char *np_iscsi_default(const char *key);
/* Does value meet the iscsi.conf check def (Expect= or Min=, judged as iscsid uses it)? */
bool np_iscsi_value_meets(const NpCheckDef *def, const char *value);
/* The units a unit.enabled/unit.active check accepts (Units=, else NAME.service NAME.socket). */
char **np_check_unit_names(const NpCheckDef *def);

/* The per-area check implementations (lib/check/<area>.c). */
extern const NpCheckType np_check_selinux_runtime, np_check_selinux_config;
extern const NpCheckType np_check_iscsi_installed, np_check_iscsi_conf, np_check_iscsi_node_records;
extern const NpCheckType np_check_kmod_loaded, np_check_kmod_persistent;
extern const NpCheckType np_check_unit_enabled, np_check_unit_active;
extern const NpCheckType np_check_fs_free, np_check_kubelet_version;
extern const NpCheckType np_check_disk_free_ssd, np_check_disk_free_hdd;
extern const NpCheckType np_check_nic_speed, np_check_nic_data_cidr;
extern const NpCheckType np_check_sys_cpus, np_check_sys_memory, np_check_net_reachable;
extern const NpCheckType np_check_tool_version, np_check_dir_layout;
extern const NpCheckType np_check_virt_kvm, np_check_runtime_kata;
extern const NpCheckType np_check_net_peers;

/* An instance that names a site value ([Path NAME], [Endpoint NAME]): letters, digits, '-', '_';
 * else -EINVAL and "\"NAME\" is not WHAT". */
int np_check_verify_name(const char *name, const char *what, char **ret_error);

/* The directory a named fs.free / dir.layout check looks at: [Path NAME] in the site file or
 * --set Path.NAME=, else the check's Path=; NULL when neither. For fs.free:/abs the instance. */
const char *np_check_path(const NpCheckDef *def, const NpSettings *s, const char **ret_origin);
