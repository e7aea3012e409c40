/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Changes: every apply that writes anything gets a change id (sortable: UTC time + random) and
 * a directory /var/lib/nodeprep/backup/ID/ (under the root) holding the journal and the saved
 * files. The journal is JSON lines, appended and fsync()ed before and after each step, so a
 * process killed at any point leaves enough behind for rollback to finish the story.
 *
 *   {"type":"change", "id", "created", "root", "nodeprep", "profiles", ...}   first line
 *   {"type":"step", "n", "state":"begin", "kind", ...what rollback needs...}
 *   {"type":"step", "n", "state":"done"|"failed", ...}
 *   {"type":"complete"}                                                       apply finished
 *   {"type":"rolled-back", "at"}                                              rollback finished
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "util/root.h"

#define NP_STATE_DIR  NP_LOCALSTATEDIR "/lib/nodeprep"
#define NP_BACKUP_DIR NP_STATE_DIR "/backup"

/* "20261122T100405.123456Z-1a2b3c4d" */
char *np_change_id_new(uint64_t now_usec);
bool np_change_id_valid(const char *id);

/* Serialise appliers and rollbacks on this root: -EBUSY if another one runs. */
int np_fix_lock(const NpRoot *root, int *ret_fd);

typedef struct NpJournal {
        const NpRoot *root;
        char *id;
        char *dir;   /* as on the described host */
        char *shown; /* as on this machine */
        int fd;
} NpJournal;

int np_journal_create(const NpRoot *root, const char *id, json_object *header, NpJournal **ret);
NpJournal *np_journal_free(NpJournal *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpJournal *, np_journal_free);
/* Append one record (one line) and fsync. Takes no ownership of record. */
int np_journal_append(NpJournal *j, json_object *record);
/* Save a file (e.g. "1.old") in the change directory, atomically, mode 0600. */
int np_journal_save(NpJournal *j, const char *name, const char *data, size_t size,
                    char **ret_error);

typedef struct NpChange {
        char *id;
        char *dir;   /* as on the described host */
        char *shown; /* as on this machine */
        json_object **records;
        size_t n_records;
        bool complete;
        bool rolled_back;
        bool torn;         /* a record was cut short (killed while writing it) and is ignored */
        bool unterminated; /* the journal does not end with a newline */
} NpChange;

/* Change ids under the root, oldest first (empty when there is no backup directory). */
int np_changes_list(const NpRoot *root, char ***ret);
int np_change_load(const NpRoot *root, const char *id, NpChange **ret);
NpChange *np_change_free(NpChange *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpChange *, np_change_free);
/* A file saved in the change directory: -ENOENT when it is not there. */
int np_change_read_file(const NpRoot *root, const NpChange *c, const char *name, char **ret,
                        size_t *ret_size);
/* Append a record to a loaded change's journal (rollback's own records). */
int np_change_append(const NpRoot *root, const NpChange *c, json_object *record);
