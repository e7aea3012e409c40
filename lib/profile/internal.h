/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Finding configuration files the way systemd does: a list of directories, highest priority
 * first; the first directory with a file name wins; a symlink to /dev/null masks. A directory
 * belongs to a tree: the --root tree for host paths, or this machine for $NODEPREP_PROFILE_PATH.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/root.h"

typedef struct NpConfDir {
        char *path;
        const NpRoot *root;
} NpConfDir;

typedef struct NpConfPath {
        NpConfDir dirs[4];
        size_t n;
        NpRoot *host; /* owned; set when a directory is on this machine and root is not "/" */
} NpConfPath;

typedef struct NpConfFile {
        char *name; /* file name */
        char *path; /* path inside its tree */
        const NpRoot *root;
        char *shown;   /* path as on this machine, for messages */
        char *shadows; /* a lower-priority file of the same name, as shown */
        /* Named by an explicit path (--profile PATH, Profiles=PATH, --config PATH), not found
         * in nodeprep's own configuration directories: it may be any file, so errors quote its
         * content only when everyone may read it (np_conf_file_read()). */
        bool named;
} NpConfFile;

/* /etc/nodeprep/profiles, /run/nodeprep/profiles, then the shipped directory (or
 * $NODEPREP_PROFILE_PATH on this machine, for development trees). */
int np_conf_path_profiles(const NpRoot *root, NpConfPath *ret);
/* /etc/nodeprep (for nodeprep.conf.d/). */
int np_conf_path_site(const NpRoot *root, NpConfPath *ret);
void np_conf_path_done(NpConfPath *p);
char *np_conf_path_to_string(const NpConfPath *p);

/* Files ending in suffix in every directory (+ "/" subdir if given), first directory winning,
 * sorted by file name. With skip_masked, /dev/null symlinks are dropped from the result. */
int np_conf_find(const NpConfPath *p, const char *subdir, const char *suffix, bool skip_masked,
                 NpConfFile **ret, size_t *ret_n);
void np_conf_files_free(NpConfFile *f, size_t n);
int np_conf_file_new(const NpRoot *root, const char *path, NpConfFile *ret);
void np_conf_file_done(NpConfFile *f);

/* Read a configuration file (at most 1 MiB). */
/* Read f (np_root_read_file()'s bounds and checks). *ret_quote: whether error messages may
 * quote its content: a file found in nodeprep's directories, or any file everyone may read. */
int np_conf_file_read(const NpConfFile *f, char **ret, size_t *ret_size, bool *ret_quote);
/* 1 when path is a symlink to /dev/null (masked), 0 when not or absent. */
int np_conf_masked(const NpRoot *root, const char *path);
