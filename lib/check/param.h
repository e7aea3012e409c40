/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * [Check] parameters: every check type declares the keys it takes in a table of NpParam rows
 * (key, type, where the value is stored, how two profiles' values conflict), and keeps the
 * values in a struct of its own that NpCheckDef.params points to. Parsing and its errors,
 * drop-in amending, freeing and the fix planner's conflict test all walk that table, so a new
 * parameter is one field and one row (docs/DESIGN.md, "Adding a check type").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"
#include "util/parse.h"

typedef enum NpParamType {
        NP_PARAM_STRING,   /* char *: any text */
        NP_PARAM_ABS_PATH, /* char *: an absolute path without "/../" */
        NP_PARAM_U64,      /* NpParamU64: a decimal number */
        NP_PARAM_SECONDS,  /* NpParamU64: a decimal number of seconds */
        NP_PARAM_SIZE,     /* NpParamU64: bytes, written as a size (100GB, 2GiB, 2Gi) */
        NP_PARAM_VERSION,  /* NpParamVersion: 1.21, v1.28.3 */
        NP_PARAM_OWNER,    /* NpParamOwner: numeric UID:GID */
        NP_PARAM_BOOL,     /* NpParamBool: yes/no, true/false, on/off, 1/0 */
        NP_PARAM_ARGS,     /* char **: words separated by spaces; order matters */
        NP_PARAM_NAMES,    /* char **: words separated by spaces; a set, order does not matter */
        NP_PARAM_RELPATHS, /* char **: relative paths without "." or ".."; a set */
        _NP_PARAM_TYPE_MAX,
        _NP_PARAM_TYPE_INVALID = -EINVAL,
} NpParamType;

/* How the values two profiles give one check id compare (lib/fix/engine/fix.c plans one fix for
 * both). */
typedef enum NpParamConflict {
        /* The value says what the host must look like: different values, or a value in one
         * profile and none in the other, ask different things and are refused. */
        NP_PARAM_CONFLICT_DIFFERENT,
        /* The value says how to look (a timeout), not what to require: never a conflict. */
        NP_PARAM_CONFLICT_NEVER,
        _NP_PARAM_CONFLICT_MAX,
        _NP_PARAM_CONFLICT_INVALID = -EINVAL,
} NpParamConflict;

/* Values that have no natural "not given": the value and whether the profile set it. */
typedef struct NpParamU64 {
        uint64_t value;
        bool set;
} NpParamU64;

typedef struct NpParamVersion {
        NpVersion value;
        bool set;
} NpParamVersion;

typedef struct NpParamOwner {
        uint32_t uid, gid;
        bool set;
} NpParamOwner;

typedef struct NpParamBool {
        bool value;
        bool set;
} NpParamBool;

typedef struct NpParam {
        const char *key; /* "Owner", as written in [Check] */
        NpParamType type;
        size_t offset; /* of the value in the check type's parameter struct */
        NpParamConflict conflict;
        const char *hint; /* what a good value looks like, for "KEY=VALUE: expected HINT" */
} NpParam;

/* The C type each NpParamType is stored as; NP_PARAM() refuses a field of another type. */
#define NP_PARAM_CTYPE_NP_PARAM_STRING   char *
#define NP_PARAM_CTYPE_NP_PARAM_ABS_PATH char *
#define NP_PARAM_CTYPE_NP_PARAM_U64      NpParamU64
#define NP_PARAM_CTYPE_NP_PARAM_SECONDS  NpParamU64
#define NP_PARAM_CTYPE_NP_PARAM_SIZE     NpParamU64
#define NP_PARAM_CTYPE_NP_PARAM_VERSION  NpParamVersion
#define NP_PARAM_CTYPE_NP_PARAM_OWNER    NpParamOwner
#define NP_PARAM_CTYPE_NP_PARAM_BOOL     NpParamBool
#define NP_PARAM_CTYPE_NP_PARAM_ARGS     char **
#define NP_PARAM_CTYPE_NP_PARAM_NAMES    char **
#define NP_PARAM_CTYPE_NP_PARAM_RELPATHS char **

/* 0, or a compile error when st.field is not stored as type t (Linux's BUILD_BUG_ON_ZERO). */
#define NP_PARAM_TYPECHECK_(t, st, field)                                                       \
        (sizeof(char[__builtin_types_compatible_p(typeof(((st *)0)->field), NP_PARAM_CTYPE_##t) \
                         ? 1                                                                    \
                         : -1]) -                                                               \
         1)

/* One row: NP_PARAM("Owner", NP_PARAM_OWNER, NpDirLayoutParams, owner,
 *                   NP_PARAM_CONFLICT_DIFFERENT, "UID:GID, numeric (e.g. 886:886)") */
#define NP_PARAM(k, t, st, field, c, h)                                            \
        {                                                                          \
                .key = (k), .type = (t),                                           \
                .offset = offsetof(st, field) + NP_PARAM_TYPECHECK_(t, st, field), \
                .conflict = (c), .hint = (h),                                      \
        }

/* In an NpCheckType: the type's parameter table and the struct its offsets point into. */
#define NP_CHECK_PARAMS(table, st) \
        .params = (table), .n_params = ELEMENTSOF(table), .params_size = sizeof(st)
