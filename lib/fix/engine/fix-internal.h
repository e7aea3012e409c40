/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inside lib/fix/: the fix table and what planners use to add steps. */
#pragma once

#include "fix/exec/file-edit.h"
#include "fix/fix.h"
#include "report/report.h"

/* Execution order of steps. */
enum {
        NP_PHASE_PACKAGE = 10,
        NP_PHASE_MKDIR = 20,
        NP_PHASE_FILE = 30,
        NP_PHASE_KERNEL = 40,
        NP_PHASE_UNIT_ENABLE = 50,
        NP_PHASE_UNIT_START = 60,
        NP_PHASE_NODE_RECORDS = 70,
};

/* A file several fixes may edit: the edits are combined into one atomic step. */
typedef struct NpPendingFile {
        char *path;
        NpFileState state; /* as read when planning */
        char *data;        /* the contents with every edit so far */
        size_t size;
        mode_t create_mode;
        uid_t create_uid; /* owner of a file the plan creates (root unless set) */
        gid_t create_gid;
        char **checks;
        char **summaries;
        char *refused;       /* why the file cannot be edited; later edits are not tried */
        bool refused_manual; /* ... and the checks are manual (a hard link), not failed */
} NpPendingFile;

typedef struct NpFixContext {
        const NpRoot *root;
        const NpFacts *facts;
        const NpProfile *profile;
        const NpFixOptions *options;
        bool include_recommended;
        NpFixRun *run;
        NpPendingFile *files;
        size_t n_files;
} NpFixContext;

typedef struct NpFixType {
        const char *id;       /* the `fix` of check results: "iscsid-conf-set" */
        bool running_system;  /* all its steps act on the running system */
        NpFixConsent consent; /* the option that allows its steps, and asks for it recommended */
        int (*plan)(NpFixContext *c, const NpCheckDef *def, const NpResult *res, NpFixEntry *e);
} NpFixType;

const NpFixType *np_fix_type_find(const char *id);

extern const NpFixType np_fix_iscsid_conf_set, np_fix_iscsi_node_update, np_fix_package_install;
extern const NpFixType np_fix_kmod_load, np_fix_modules_load_persist;
extern const NpFixType np_fix_selinux_runtime, np_fix_selinux_config;
extern const NpFixType np_fix_unit_enable, np_fix_unit_start;
extern const NpFixType np_fix_dir_layout;

/* --- for planners ---------------------------------------------------------------------------- */

/* Move *step into the plan, for entry e (its check id is added to step->checks). Steps on the
 * running system are marked skipped when the root is not "/". *step is reset either way. */
int np_fix_add_step(NpFixContext *c, NpFixEntry *e, NpStep *step);

/* An edit function: from the current text (data NULL when the file does not exist) to the new
 * one. Returns 1 changed, 0 unchanged, -errno with *ret_error. */
typedef int (*NpEditFn)(const char *data, size_t size, void *userdata, char **ret, size_t *ret_size,
                        char **ret_where, char **ret_error);

/*
 * Edit path (as on the described host) with fn, on top of earlier edits of the same file in
 * this plan. summary_fmt gets the edit's "where" text as its one %s. A file that is not a
 * regular file (a symlink: a /dev/null mask, say) is refused: e fails with the reason.
 * Returns 1 changed, 0 already so, -ENOMEM; refusals set e and return 0.
 */
int np_fix_edit_file(NpFixContext *c, NpFixEntry *e, const char *path, mode_t create_mode,
                     NpEditFn fn, void *userdata, const char *summary_fmt);
/* The same, and a file the plan creates gets this owner. */
int np_fix_edit_file_owned(NpFixContext *c, NpFixEntry *e, const char *path, mode_t create_mode,
                           uid_t uid, gid_t gid, NpEditFn fn, void *userdata,
                           const char *summary_fmt);

/* Set the entry's outcome and texts. */
int np_fix_entry_manual(NpFixEntry *e, const char *remedy, const char *fmt, ...) _printf_(3, 4);
int np_fix_entry_failed(NpFixEntry *e, const char *fmt, ...) _printf_(2, 3);
int np_fix_entry_note(NpFixEntry *e, const char *fmt, ...) _printf_(2, 3);

void np_step_done(NpStep *s);
void np_fix_entry_done(NpFixEntry *e);
/* "iscsiadm -m node ..." with shell quoting where needed, for people. */
char *np_argv_to_text(char *const *argv);

/* iscsiadm -m node -T target -p portal -o update -n key -v value (fix/plan/iscsi.c). */
char **np_iscsi_update_argv(const char *iscsiadm, const char *target, const char *portal,
                            const char *key, const char *value);
/* What nodeprep passes to iscsiadm (and accepts from a journal): RFC 3720 target names, portals
 * as "ADDRESS:PORT", node.* keys, plain values; nothing that starts with "-". */
bool np_iscsi_update_fields_valid(const char *target, const char *portal, const char *key);
bool np_iscsi_value_valid(const char *value);
/* The install command for a tool ("apt-get", "dnf", "yum", "zypper") and the package nodeprep
 * installs with it; NULL for any other pair. */
char **np_package_install_argv(const char *tool, const char *package);

/* --- the engine (fix.c), for apply.c ------------------------------------------------------------
 */

int np_fix_run_new(const NpRoot *root, const NpConfig *config, const NpFixOptions *o,
                   NpFixRun **ret, char **ret_error);
/* Plan from a report into run (only_manual: a second pass over checks still manual). */
int np_fix_plan_report(const NpRoot *root, const NpConfig *config, const NpReport *report,
                       const NpFixOptions *o, bool only_manual, NpFixRun *run);
/* Sort steps[from..n) by phase, keeping the planners' order within a phase. */
void np_fix_sort_steps(NpStep *steps, size_t n, size_t from);
/* Final outcomes from the steps' states and the report after (NULL: a plan). */
int np_fix_settle(NpFixRun *run, const NpReport *after);
