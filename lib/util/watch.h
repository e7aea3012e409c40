/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paths whose changes matter: a directory on this machine, optionally narrowed to one entry in
 * it, and a tag saying what to look at again when it changes. The daemon turns these into inotify
 * watches; the library says which files each probe and the configuration read.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "util/macro.h"

/*
 * What a path was when it was read (np_root_record()), to tell later whether it changed before
 * its watch was armed: the object reached (device, inode, type, size, modification and change
 * times), or the error resolving it gave (-ENOENT: absent).
 */
typedef struct NpFileId {
        bool known; /* false: never taken; it compares as changed */
        bool racy;  /* changed too recently for its times to show a next change: as changed */
        int error;  /* 0, or -errno */
        int flags;  /* how it was opened: O_PATH, O_DIRECTORY, O_NOFOLLOW */
        dev_t dev;
        ino_t ino;
        mode_t mode;
        off_t size;
        struct timespec mtim, ctim;
} NpFileId;

typedef struct NpWatchPath {
        char *dir;   /* absolute, as on this machine (the --root prefix included) */
        char *name;  /* only this entry of dir matters, or NULL for any */
        int tag;     /* the caller's: a probe area, or -1 for the configuration */
        NpFileId id; /* what the recording root saw when it was first read */
} NpWatchPath;

typedef struct NpWatchList {
        NpWatchPath *paths;
        size_t n;
} NpWatchList;

/* Append dir (+ name) unless already listed with the same tag. */
int np_watch_list_add(NpWatchList *l, const char *dir, const char *name, int tag);
/* The same with what it was when read (np_root_record()): the first one listed is kept. */
int np_watch_list_add_id(NpWatchList *l, const char *dir, const char *name, int tag,
                         const NpFileId *id);
bool np_watch_list_contains(const NpWatchList *l, const char *dir, const char *name, int tag);
void np_watch_list_done(NpWatchList *l);
