/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Changes: every apply that writes anything gets a change id (sortable: UTC time + random) and
 * a directory /var/lib/nodeprep/backup/ID/ (under the root) holding the journal and the saved
 * files. The journal is JSON lines, appended and fsync()ed before and after each step, so a
 * process killed at any point leaves enough behind for rollback to finish the story.
 *
 *   {"type":"change", "format":2, "id", "created", "root", "nodeprep", "profiles"}  first line
 *   {"type":"step", "n", "state":"begin", "kind", "checks", "summary", ...typed fields...}
 *   {"type":"step", "n", "state":"done"|"failed", "message"}
 *   {"type":"complete", "changed", "failed"}                                  apply finished
 *   {"type":"undo-temp", "n", "temp"}           rollback is about to create this temporary file
 *   {"type":"rolled-back", "at"}                                              rollback finished
 *
 * A journal is data, never instructions: np_change_load() accepts only what this version writes
 * (journal-schema.c: every record type, field, value and order; no argv, only typed fields a
 * rollback derives its one possible command from), in a directory and file only the user
 * nodeprep runs as (root) can write. Anything else is an error naming the file and line, and
 * nothing is done.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "util/root.h"

#define NP_STATE_DIR  NP_LOCALSTATEDIR "/lib/nodeprep"
#define NP_BACKUP_DIR NP_STATE_DIR "/backup"

/* The journal format this version writes and reads ("format" of the first record). */
#define NP_JOURNAL_FORMAT 2

/* "20261122T100405.123456Z-1a2b3c4d" */
char *np_change_id_new(uint64_t now_usec);
bool np_change_id_valid(const char *id);

/* Serialise appliers and rollbacks on this root: -EBUSY if another one runs; -EPERM with
 * *ret_error when the state directory could be written by another user. */
int np_fix_lock(const NpRoot *root, int *ret_fd, char **ret_error);
/* Only the lock, if nobody holds it and the backup directory exists: -EBUSY, -ENOENT. */
int np_fix_trylock_existing(const NpRoot *root, int *ret_fd);

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

/* Change ids under the root, oldest first (empty when there is no backup directory); -EPERM
 * with *ret_error when the backup directory could be written by another user. */
int np_changes_list(const NpRoot *root, char ***ret, char **ret_error);
/* Every change id with its journal's size: two equal stamps mean no apply or rollback wrote to
 * the root's changes in between (each writes a journal record before it changes anything). */
int np_changes_stamp(const NpRoot *root, char **ret);
/* Load and check a change's journal: -EBADMSG ("FILE:LINE: what") when it is not exactly what
 * this version writes, -EPERM when another user could have written it. */
int np_change_load(const NpRoot *root, const char *id, NpChange **ret, char **ret_error);
NpChange *np_change_free(NpChange *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpChange *, np_change_free);
/* A file saved in the change directory: -ENOENT when it is not there, -EPERM when another user
 * could have written it. */
int np_change_read_file(const NpRoot *root, const NpChange *c, const char *name, char **ret,
                        size_t *ret_size, char **ret_error);
/* Append a record to a loaded change's journal (rollback's own records). */
int np_change_append(const NpRoot *root, NpChange *c, json_object *record);

/* journal-schema.c: one line of a journal after another, as np_change_load() reads them. */
typedef struct NpJournalCheck {
        const char *id;       /* the change id the directory is named after */
        unsigned phase;       /* what may come next (journal-schema.c) */
        unsigned last_begin;  /* n of the newest "begin" (0: none yet) */
        bool last_ended;      /* it has its "done"/"failed" */
        json_object **begins; /* begin records by n - 1 (borrowed) */
        size_t n_begins;
} NpJournalCheck;

/* line: the raw text; o: its JSON (NULL when it does not parse). 0, or -EBADMSG with *ret_why. */
int np_journal_check_line(NpJournalCheck *c, const char *line, json_object *o, char **ret_why);
void np_journal_check_done(NpJournalCheck *c);
