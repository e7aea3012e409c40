/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the profile and site file loaders. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/root.h"

/* Read a configuration file (at most 1 MiB) under the root, or on this machine when on_host. */
int np_read_config_file(const NpRoot *root, const char *path, bool on_host, char **ret,
                        size_t *ret_size);
/* 1 when path is a symlink to /dev/null (masked), 0 when not or absent. */
int np_config_file_masked(const NpRoot *root, const char *path);
/* Drop-in files NAME.conf.d/ *.conf below dirs, in the order they apply. */
int np_find_dropins(const NpRoot *root, char *const *dirs, const char *name, char ***ret);
