/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fixes: failing check results -> a plan of steps -> applied -> re-checked. The only code that
 * changes the host (DESIGN.md rule 2): every change is first a step in a plan, which `plan` and
 * `apply --check` print without doing anything.
 *
 * A fix belongs to a check type (the `fix` id of its results). It turns one failing result
 * into steps: edit a file (with a unified diff), create a directory, load a kernel module,
 * write a runtime kernel setting, enable or start a unit, or run a named program where no
 * library call exists. Checks it cannot fix are `manual`, with the remedy a person follows.
 *
 * apply: the steps run in order (files first, then the running system), each journaled before
 * and after under /var/lib/nodeprep/backup/CHANGE-ID/ with the files it replaces; then the
 * host is probed and checked again, and every check is reported as changed, unchanged, failed
 * (with the reason), manual (with the remedy) or skipped (with the reason). A second apply
 * right after the first changes nothing and says so.
 *
 * With a root other than "/", file steps happen inside it (DIR/sys/fs/selinux/enforce
 * included); steps that act on the running kernel, systemd, the package database or the iSCSI
 * node database are `skipped: not the running system` and never touch this machine.
 *
 * Callers: nodeprepctl plan|apply|rollback --local, and the daemon's Plan/Apply/Rollback
 * Varlink methods (root peers only).
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "check/check.h"
#include "profile/profile.h"
#include "report/report.h"
#include "util/root.h"

typedef struct NpFixOptions {
        char **only; /* check ids to fix (NULL: every check of the profiles) */
        bool
            include_recommended; /* fix recommended checks too (also [Apply] IncludeRecommended=) */
        bool update_node_records; /* run iscsiadm -m node -o update for discovered targets */
        bool install_packages;    /* run apt-get/dnf/zypper install */
        bool dry_run;             /* plan only: nothing is written, no lock, no journal */
} NpFixOptions;

/* What a fix type may need beyond "fix this check": an option that says yes to it (NpFixType's
 * consent). Its steps are planned but not run without it. */
typedef enum NpFixConsent {
        NP_CONSENT_NONE,
        NP_CONSENT_NODE_RECORDS, /* --update-node-records: NpFixOptions.update_node_records */
        NP_CONSENT_PACKAGES,     /* --install-packages: NpFixOptions.install_packages */
        _NP_CONSENT_MAX,
        _NP_CONSENT_INVALID = -EINVAL,
} NpFixConsent;

/* Whether o gives the consent (NP_CONSENT_NONE: always), and the option that gives it. */
bool np_fix_options_consent(const NpFixOptions *o, NpFixConsent c) _pure_;
const char *np_fix_consent_option(NpFixConsent c) _const_;

/* The options the daemon uses for AutoApply= of the site file: the listed checks only, naming
 * a check being consent to its fix (the consent its fix type declares, node records and packages
 * included). Returns 1 when there is something to apply, 0 when AutoApply= is empty: then the
 * daemon applies nothing. */
int np_fix_options_auto_apply(const NpSite *site, NpFixOptions *ret);
void np_fix_options_done(NpFixOptions *o);

typedef enum NpStepKind {
        NP_STEP_MKDIR,         /* create a directory with owner and mode */
        NP_STEP_EDIT_FILE,     /* replace or create a file atomically */
        NP_STEP_KMOD_LOAD,     /* load a kernel module (libkmod) */
        NP_STEP_RUNTIME_WRITE, /* write a runtime kernel setting (/sys/fs/selinux/enforce) */
        NP_STEP_UNIT_ENABLE,   /* EnableUnitFiles + Reload */
        NP_STEP_UNIT_START,    /* StartUnit, waiting for the job */
        NP_STEP_COMMAND,       /* run a named program */
        _NP_STEP_KIND_MAX,
        _NP_STEP_KIND_INVALID = -EINVAL,
} NpStepKind;

/* What a COMMAND step runs. The journal keeps these typed fields, never an argv: rollback
 * derives the one command it may run from them (and rejects anything else). */
typedef enum NpCommand {
        NP_COMMAND_ISCSI_NODE_UPDATE, /* iscsiadm -m node -T -p -o update -n KEY -v VALUE */
        NP_COMMAND_PACKAGE_INSTALL,   /* apt-get/dnf/yum/zypper install */
        _NP_COMMAND_MAX,
        _NP_COMMAND_INVALID = -EINVAL,
} NpCommand;

typedef enum NpStepState {
        NP_STEP_PLANNED,
        NP_STEP_DONE,
        NP_STEP_SKIPPED, /* not performed: not the running system */
        NP_STEP_NOT_RUN, /* shown, but needs an option (NpStep.needs) */
        NP_STEP_FAILED,
        _NP_STEP_STATE_MAX,
        _NP_STEP_STATE_INVALID = -EINVAL,
} NpStepState;

typedef struct NpStep {
        NpStepKind kind;
        unsigned phase; /* execution order: packages, directories, files, kernel, units, ... */
        char *summary;  /* one line for people */
        char **checks;  /* ids of the checks this step fixes */
        char *path;     /* MKDIR, EDIT_FILE, RUNTIME_WRITE: as on the described host */
        bool existed;   /* EDIT_FILE: the file existed when planned */
        char *old_data; /* EDIT_FILE: contents when planned (NULL: absent) */
        size_t old_size;
        char *new_data;
        size_t new_size;
        mode_t mode; /* MKDIR, and EDIT_FILE when it creates the file */
        uid_t uid;
        gid_t gid;
        char *diff;          /* EDIT_FILE: unified diff (secrets redacted) */
        char *module;        /* KMOD_LOAD */
        char *value;         /* RUNTIME_WRITE; COMMAND iscsi-node-update: the value set */
        char *old_value;     /* the same, before (iscsi-node-update: NULL when it was not set) */
        char *unit;          /* UNIT_* */
        char *unit_previous; /* UNIT_*: UnitFileState / ActiveState before */
        NpCommand command;   /* COMMAND: what argv is */
        char *target;        /* COMMAND iscsi-node-update: the record's target, portal, key */
        char *portal;
        char *key;
        char *package; /* COMMAND package-install (argv[0] is the tool) */
        char **argv;   /* COMMAND */
        char **env;
        unsigned timeout_sec;
        char *cannot_undo;   /* what rollback will not undo, said plainly */
        bool running_system; /* acts on the running kernel, systemd or package/iSCSI database */
        const char *needs;   /* the option that allows it ("--update-node-records"), or NULL */
        NpStepState state;
        char *message; /* skipped/failed: why; done: what happened */
} NpStep;

typedef enum NpFixOutcome {
        NP_FIX_UNCHANGED, /* nothing to do: it passes (or is ignored) */
        NP_FIX_CHANGED,   /* fixed (dry run: would be) */
        NP_FIX_FAILED,    /* a step failed, or the check still fails: message says why */
        NP_FIX_MANUAL,    /* no automatic fix (or not allowed): remedy says what to do */
        NP_FIX_SKIPPED,   /* its steps act on the running system and the root is not "/" */
        _NP_FIX_OUTCOME_MAX,
        _NP_FIX_OUTCOME_INVALID = -EINVAL,
} NpFixOutcome;

typedef struct NpFixEntry {
        char *id;
        char *title;
        char **profiles;
        NpSeverity severity;
        NpStatus before;
        NpStatus after; /* valid when has_after */
        bool has_after;
        char *fix;    /* the fix id, or NULL */
        bool ignored; /* a site override ignores the check: left alone */
        NpFixOutcome outcome;
        char *message;
        char *remedy; /* manual: what a person does */
        char *observed_before;
        char *observed_after;
} NpFixEntry;

typedef struct NpFixRun {
        char *root; /* as on this machine */
        bool host;  /* root is "/" */
        bool dry_run;
        bool applied;     /* made by np_fix_apply() (not by np_fix_plan()) */
        char *change_id;  /* NULL when nothing was written */
        char *backup_dir; /* as on this machine */
        NpFixEntry *entries;
        size_t n_entries;
        NpStep *steps;
        size_t n_steps;
        char **notes; /* worth telling: interrupted earlier changes and the like */
        bool changed; /* something was changed (dry run: would be) */
        bool failed;  /* some check is failed */
        bool ready_before;
        bool ready_after;     /* valid when applied */
        unsigned evaluations; /* full probe-and-check passes this run made (JSON, for tests) */
} NpFixRun;

NpFixRun *np_fix_run_free(NpFixRun *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpFixRun *, np_fix_run_free);

/*
 * Plan from a report (its facts, results and the profiles of config): the host is not probed
 * again; only the files a step would edit are read, for their bytes (the diff, and the
 * lost-update check at apply). -ENOENT with *ret_error when --only names a check no profile
 * has. Fills outcomes as they would be (dry run semantics).
 */
int np_fix_plan(const NpRoot *root, const NpConfig *config, const NpReport *report,
                const NpFixOptions *o, NpFixRun **ret, char **ret_error);
/* np_evaluate() once, then np_fix_plan(). */
int np_fix_evaluate_and_plan(const NpRoot *root, const NpConfig *config, const NpFixOptions *o,
                             uint64_t now_usec, NpFixRun **ret, char **ret_error);
/*
 * Evaluate, plan from that report, run the steps, evaluate again for the verdicts (two
 * evaluations; see apply.c for the two cases that take a third). -EBUSY with *ret_error when
 * another apply or rollback holds the lock. With o->dry_run this is np_fix_evaluate_and_plan().
 */
int np_fix_apply(const NpRoot *root, const NpConfig *config, const NpFixOptions *o,
                 uint64_t now_usec, NpFixRun **ret, char **ret_error);

/* 0 everything fixed or nothing to do, 1 some check failed (the rest still reported). */
int np_fix_run_exit_code(const NpFixRun *r);
int np_fix_run_to_json(const NpFixRun *r, json_object **ret);
char *np_fix_run_to_text(const NpFixRun *r, bool color);

typedef enum NpUndoState {
        NP_UNDO_RESTORED,  /* put back as it was */
        NP_UNDO_UNCHANGED, /* already as it was (the step never got that far) */
        NP_UNDO_CANNOT,    /* nodeprep does not undo this; message says what a person can do */
        NP_UNDO_FAILED,    /* tried and failed, or changed since: message says why */
        NP_UNDO_SKIPPED,   /* acts on the running system and the root is not "/": not done */
        _NP_UNDO_STATE_MAX,
        _NP_UNDO_STATE_INVALID = -EINVAL,
} NpUndoState;

typedef struct NpUndoItem {
        char *what;
        NpUndoState state;
        char *message;
} NpUndoItem;

typedef struct NpRollback {
        char *change_id;  /* NULL: there was nothing to roll back */
        char *backup_dir; /* as on this machine */
        bool already;     /* it had been rolled back before */
        NpUndoItem *items;
        size_t n_items;
        bool failed;
} NpRollback;

NpRollback *np_rollback_free(NpRollback *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpRollback *, np_rollback_free);

/*
 * Undo a change (NULL: the newest one not rolled back yet), newest step first: files restored
 * byte for byte with their mode and owner (only when they still hold what nodeprep wrote),
 * created files and directories removed, SELinux's runtime mode and enabled units put back,
 * iscsiadm updates reversed. Module loads, started units and installed packages are not
 * undone; the items say so. -ENOENT with *ret_error for an unknown change id.
 */
int np_fix_rollback(const NpRoot *root, const char *change_id, uint64_t now_usec, NpRollback **ret,
                    char **ret_error);
int np_rollback_to_json(const NpRollback *r, json_object **ret);
char *np_rollback_to_text(const NpRollback *r, bool color);

const char *np_step_kind_to_string(NpStepKind k) _const_;
const char *np_step_state_to_string(NpStepState s) _const_;
const char *np_fix_outcome_to_string(NpFixOutcome o) _const_;
const char *np_undo_state_to_string(NpUndoState s) _const_;
const char *np_command_to_string(NpCommand c) _const_;
NpCommand np_command_from_string(const char *s) _pure_;
