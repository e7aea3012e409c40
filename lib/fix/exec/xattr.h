/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The extended attributes of a file nodeprep replaces: every one the process can read
 * (user.*, trusted.* as root, security.* with the SELinux label and file capabilities, and
 * system.posix_acl_access, which is how the kernel stores a POSIX ACL). apply copies them to
 * the replacement; the backup keeps the original set (N.xattrs, JSON with hex values), which
 * rollback puts back exactly, removing any the original did not have.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct NpXattr {
        char *name;
        char *value; /* binary, size bytes */
        size_t size;
} NpXattr;

typedef struct NpXattrs {
        NpXattr *items; /* sorted by name */
        size_t n;
} NpXattrs;

void np_xattrs_done(NpXattrs *x);
/* Every attribute of fd the process can read; an unsupported file system has none. */
int np_xattrs_read_fd(int fd, NpXattrs *ret);
/* Make fd's attributes exactly x: set each (in order), remove any other. *ret_error names the
 * attribute that could not be set or removed. */
int np_xattrs_apply_fd(int fd, const NpXattrs *x, char **ret_error);
/* Copy every readable attribute of from to to, exactly (np_xattrs_read_fd + apply_fd). */
int np_xattrs_copy_fd(int from, int to, char **ret_error);
bool np_xattrs_equal(const NpXattrs *a, const NpXattrs *b);

/* {"user.note": "68656c6c6f", ...}: names and hex values. */
int np_xattrs_to_json(const NpXattrs *x, json_object **ret);
/* The reverse; -EBADMSG for anything but such an object (names must look like xattr names). */
int np_xattrs_from_json(json_object *o, NpXattrs *ret);
