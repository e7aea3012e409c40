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

typedef struct NpRoot {
        char *path; /* "/" or an absolute directory without trailing slash */
        int fd;     /* O_PATH descriptor of path */
        bool host;  /* path is "/": this is the running system */
} NpRoot;

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

/* Read a whole regular file of at most max_size bytes. -EFBIG if larger, -EISDIR for directories.
 */
#define NP_READ_MAX_DEFAULT (16U * 1024U * 1024U)
int np_root_read_file(const NpRoot *root, const char *path, size_t max_size, char **ret,
                      size_t *ret_size);
int np_read_fd(int fd, size_t max_size, char **ret, size_t *ret_size);

/* List the names (not paths) of directory entries, sorted; -ENOENT if the directory is missing. */
int np_root_list_dir(const NpRoot *root, const char *path, char ***ret);

/* For tests: resolve with the component walk even where openat2() exists. */
void np_root_force_chase(bool force);
