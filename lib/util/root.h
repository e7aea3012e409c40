/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The root prefix every host path goes through (--root DIR). Paths are resolved inside the root
 * with openat2(RESOLVE_IN_ROOT), so an absolute symlink in a fixture tree (e.g. Debian's
 * /etc/modules-load.d/modules.conf -> /etc/modules) stays inside the tree, exactly as it would
 * resolve on the host it describes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "util/macro.h"
#include "util/watch.h"

typedef struct NpRoot {
        char *path; /* "/" or an absolute directory without trailing slash */
        int fd;     /* O_PATH descriptor of path */
        bool host;  /* path is "/": this is the running system */
        /* Where np_root_open() records what it resolved (np_root_record()), or NULL. */
        NpWatchList *record;
        int record_tag;
} NpRoot;

/* NULL: "/", the running system. An empty path is -EINVAL (never taken to mean "/"). */
int np_root_new(const char *path, NpRoot **ret);
NpRoot *np_root_free(NpRoot *root);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpRoot *, np_root_free);

/* Open path (absolute, as on the described host) inside the root. Returns fd or -errno.
 * Uses openat2(RESOLVE_IN_ROOT), or an equivalent walk where the kernel lacks it. */
int np_root_open(const NpRoot *root, const char *path, int flags);
/* np_root_open() with a mode for O_CREAT (the umask applies, as for open()). */
int np_root_open_mode(const NpRoot *root, const char *path, int flags, mode_t mode);
int np_root_stat(const NpRoot *root, const char *path, struct stat *ret);
/* Is there anything (file, directory, device) at path? Errors other than ENOENT/ENOTDIR are
 * returned. */
int np_root_exists(const NpRoot *root, const char *path);
/* The host path for display and for APIs that need a real path: root->path + path. */
char *np_root_prefix(const NpRoot *root, const char *path);

/*
 * The one way nodeprep opens a file it reads (probes, profiles, site files, outputs): inside the
 * root, O_RDONLY|O_NONBLOCK|O_NOCTTY|O_CLOEXEC (|O_NOFOLLOW when nofollow), then fstat'ed. Only a
 * regular file is accepted: a FIFO, socket or device gives -EBADFD (open(O_NONBLOCK) of a FIFO
 * never blocks, and nothing is read from it). A symlink other than the last component (and the
 * last one too unless nofollow) is followed inside the root. Returns the fd or -errno.
 */
int np_root_open_regular(const NpRoot *root, const char *path, bool nofollow, struct stat *ret_st);

/* Read a whole regular file (np_root_open_regular()) of at most max_size bytes: -EFBIG if it is
 * larger (never a silently truncated prefix), -EISDIR for directories, -EBADFD for anything else
 * that is not a regular file. */
#define NP_READ_MAX_DEFAULT (16U * 1024U * 1024U)
int np_root_read_file(const NpRoot *root, const char *path, size_t max_size, char **ret,
                      size_t *ret_size);
int np_read_fd(int fd, size_t max_size, char **ret, size_t *ret_size);

/* "FIFO", "socket", "character device", "block device", "symlink", "directory", "regular file" */
const char *np_file_type_name(mode_t mode);
/*
 * Why reading path failed, for messages: "PATH: not a regular file: FIFO", "PATH: larger than
 * nodeprep reads", "PATH: Permission denied". Only the path and the class of problem: never any
 * content of the file. PATH is shown as on this machine (root prefix included).
 */
char *np_root_read_error(const NpRoot *root, const char *path, int error);

/* List the names (not paths) of directory entries, sorted; -ENOENT if the directory is missing. */
int np_root_list_dir(const NpRoot *root, const char *path, char ***ret);

/*
 * Record every path opened, stat'ed or listed through this root into l, tagged with tag (a probe
 * area), as the watch that sees it change: a directory listed is watched whole; anything else
 * (a file, a directory only stat'ed, a name that is absent) is watched as an entry of its parent
 * directory (a missing parent is watched through the nearest existing one, see daemon/watch.c).
 * A file reached through symlinks is recorded at its target as well. Each path keeps what it was
 * when first reached (NpFileId: np_root_input_changed()). l NULL stops recording.
 * Not thread-safe: a root that records belongs to one thread while it records.
 */
void np_root_record(NpRoot *root, NpWatchList *l, int tag);

/*
 * Did what p names change since it was recorded (p->id, np_root_record())? Looked at again through
 * root as it was read (O_PATH: nothing is opened for reading); true when it differs (another
 * object, size or times, present or absent) or when it cannot tell (no identity, a change too
 * recent for the times to show another). With the watch armed before this look, a change after
 * the read is seen either here or by the watch.
 */
bool np_root_input_changed(const NpRoot *root, const NpWatchPath *p);

/* For tests: resolve with the component walk even where openat2() exists. */
void np_root_force_chase(bool force);
