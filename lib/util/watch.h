/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paths whose changes matter: a directory on this machine, optionally narrowed to one entry in
 * it, and a tag saying what to look at again when it changes. The daemon turns these into inotify
 * watches; the library says which files each probe and the configuration read.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"

typedef struct NpWatchPath {
        char *dir;  /* absolute, as on this machine (the --root prefix included) */
        char *name; /* only this entry of dir matters, or NULL for any */
        int tag;    /* the caller's: a probe area, or -1 for the configuration */
} NpWatchPath;

typedef struct NpWatchList {
        NpWatchPath *paths;
        size_t n;
} NpWatchList;

/* Append dir (+ name) unless already listed with the same tag. */
int np_watch_list_add(NpWatchList *l, const char *dir, const char *name, int tag);
bool np_watch_list_contains(const NpWatchList *l, const char *dir, const char *name, int tag);
void np_watch_list_done(NpWatchList *l);
