/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Line-preserving editors for the files nodeprep changes. Each takes the whole text and returns
 * the whole new text; everything it does not mean to change (comments, order, blank lines, line
 * endings, lines the owning program ignores) stays byte for byte. A key is changed on the line
 * its owner actually uses; when the key is only commented out, the new line goes right after
 * that comment; otherwise it is appended after a "# set by nodeprep" comment. Every result is
 * parsed again with the owner's rules before it is returned, so a wrong edit is an error, never
 * a file.
 *
 * Return 1 when the text changed, 0 when it already says so (*ret is then a copy), or -errno
 * with *ret_error saying why the edit is refused.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "facts.h"

#define NP_SET_BY_NODEPREP "# set by nodeprep"

/* iscsid.conf or a node record: "key = value", as open-iscsi's idbm_recinfo_config() reads it.
 * *ret_where (optional) says which line was changed or where the line went. */
int np_iscsi_conf_set(const char *data, size_t size, const char *key, const char *value, char **ret,
                      size_t *ret_size, char **ret_where, char **ret_error);

/* /etc/selinux/config: the SELINUX= line libselinux honours. NP_SELINUX_DISABLED is refused. */
int np_selinux_config_set(const char *data, size_t size, NpSelinuxMode mode, char **ret,
                          size_t *ret_size, char **ret_where, char **ret_error);

/* nodeprep's own modules-load.d file: add a module name (data NULL: the file does not exist). */
int np_modules_load_conf_add(const char *data, size_t size, const char *module, char **ret,
                             size_t *ret_size, char **ret_error);

/* The line ending most lines of data use: "\r\n" or "\n". */
const char *np_text_line_ending(const char *data, size_t size);
