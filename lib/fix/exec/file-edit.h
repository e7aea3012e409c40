/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing files inside the root, crash-safe: a temporary file in the same directory gets the
 * data and the old file's mode, owner and every extended attribute (POSIX ACL and SELinux label
 * included), is fsync()ed and swapped in by rename, then the directory is fsync()ed. A reader
 * (or a reboot) sees the whole old file or the whole new one, never a mix. Symlinks are never
 * followed in the last component, and a hard-linked file is never replaced (a rename would break
 * the link).
 *
 * Another writer's change is never silently dropped: the caller says what it expects the
 * target to be (its identity and contents as read earlier), which is verified again right
 * before the swap and, with RENAME_EXCHANGE, once more on what was swapped out; a difference
 * puts everything back and fails with -ESTALE (see np_file_write_atomic()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fix/exec/xattr.h"
#include "util/root.h"

/* What is at a path inside the root, without following a symlink in the last component. */
typedef struct NpFileState {
        bool exists;
        mode_t mode; /* st_mode, type bits included */
        uid_t uid;
        gid_t gid;
        dev_t dev; /* identity: another file renamed over the path has another */
        ino_t ino;
        nlink_t nlink;
        char *data; /* regular files only */
        size_t size;
        NpXattrs xattrs; /* regular files only: every attribute this process can read */
        char *link;      /* symlinks: the target */
} NpFileState;

void np_file_state_done(NpFileState *s);
/* -ENOENT/-ENOTDIR of the parent are errors; a missing last component is exists=false. */
int np_file_state_read(const NpRoot *root, const char *path, size_t max_size, NpFileState *ret);

/* Open the directory holding path (O_RDONLY|O_DIRECTORY) and point *ret_base at the last
 * component inside path. */
int np_open_parent(const NpRoot *root, const char *path, const char **ret_base);

typedef struct NpFileWrite {
        const char *temp_name; /* the temporary file's name in the same directory (recorded by
                                * the caller's journal first, so a kill leaves nothing unknown) */
        mode_t mode;           /* a new file's mode and owner */
        uid_t uid;
        gid_t gid;
        /* The replacement of an existing file gets mode, owner and xattrs from it, unless
         * restore is set: then exactly mode, uid, gid and xattrs (rollback's original). */
        bool restore;
        const NpXattrs *xattrs;
        /* What the target must still be (NULL: anything; a journal's own files). Absent: the
         * file must not exist. Present: the same file (st_dev, st_ino) with these contents. */
        const NpFileState *expect;
} NpFileWrite;

/*
 * Replace (or create) path with data. Errors, each with *ret_error:
 *   -EMEDIUMTYPE  not a regular file (a symlink, a /dev/null mask): never replaced
 *   -EMLINK       hard-linked: a rename would break the link
 *   -ESTALE       not what w->expect says, before or during the swap: another program wrote it
 *                 (or created it) meanwhile. Its version stays; nothing of ours is left.
 */
int np_file_write_atomic(const NpRoot *root, const char *path, const char *data, size_t size,
                         const NpFileWrite *w, char **ret_error);

/* Remove a file (not a directory) and fsync its directory. */
int np_file_remove(const NpRoot *root, const char *path);
/*
 * Remove path only if it is still exactly expect (a file nodeprep created): it is renamed aside
 * to temp_name first and checked there, so a concurrent change is never deleted (-ESTALE: it is
 * put back).
 */
int np_file_remove_expected(const NpRoot *root, const char *path, const NpFileState *expect,
                            const char *temp_name, char **ret_error);

/* Create one directory (its parent must exist) with mode and owner; -EEXIST if present. */
int np_mkdir_in_root(const NpRoot *root, const char *path, mode_t mode, uid_t uid, gid_t gid);
/* Create path and its missing parents (mode for all created). */
int np_mkdir_p_in_root(const NpRoot *root, const char *path, mode_t mode);

/* ".iscsid.conf.nodeprep-1a2b3c4d": hidden, so modules-load.d and the like never read it. */
char *np_temp_name(const char *path);
/* Is name a temporary file name np_temp_name(path) could have made? */
bool np_temp_name_matches(const char *path, const char *name);
/* Remove every regular file next to path named as np_temp_name(path) makes them (left by a
 * killed apply or rollback), and only those. Returns how many were removed. */
int np_file_remove_temps(const NpRoot *root, const char *path);
