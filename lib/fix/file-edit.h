/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing files inside the root, crash-safe: a temporary file in the same directory gets the
 * data and the old file's mode, owner, POSIX ACL and SELinux label, is fsync()ed and renamed
 * over the old file, then the directory is fsync()ed. A reader (or a reboot) sees the whole old
 * file or the whole new one, never a mix. Symlinks are never followed in the last component.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/root.h"

/* What is at a path inside the root, without following a symlink in the last component. */
typedef struct NpFileState {
        bool exists;
        mode_t mode; /* st_mode, type bits included */
        uid_t uid;
        gid_t gid;
        char *data; /* regular files only */
        size_t size;
        char *link; /* symlinks: the target */
} NpFileState;

void np_file_state_done(NpFileState *s);
/* -ENOENT/-ENOTDIR of the parent are errors; a missing last component is exists=false. */
int np_file_state_read(const NpRoot *root, const char *path, size_t max_size, NpFileState *ret);

/* Open the directory holding path (O_RDONLY|O_DIRECTORY) and point *ret_base at the last
 * component inside path. */
int np_open_parent(const NpRoot *root, const char *path, const char **ret_base);

/*
 * Replace (or create) path with data. An existing file keeps its mode, owner, ACL and label; a
 * new one gets mode/uid/gid. temp_name is the temporary file's name in the same directory
 * (recorded by the caller's journal so a crash leaves nothing unaccounted for). Refuses
 * (-EMEDIUMTYPE) anything but a regular file.
 */
int np_file_write_atomic(const NpRoot *root, const char *path, const char *data, size_t size,
                         mode_t mode, uid_t uid, gid_t gid, const char *temp_name,
                         char **ret_error);

/* Remove a file (not a directory) and fsync its directory. */
int np_file_remove(const NpRoot *root, const char *path);
/* Remove a leftover temporary file by name in path's directory; absent is fine. */
int np_file_remove_temp(const NpRoot *root, const char *path, const char *temp_name);

/* Create one directory (its parent must exist) with mode and owner; -EEXIST if present. */
int np_mkdir_in_root(const NpRoot *root, const char *path, mode_t mode, uid_t uid, gid_t gid);
/* Create path and its missing parents (mode for all created). */
int np_mkdir_p_in_root(const NpRoot *root, const char *path, mode_t mode);

/* ".iscsid.conf.nodeprep-1a2b3c4d": hidden, so modules-load.d and the like never read it. */
char *np_temp_name(const char *path);
