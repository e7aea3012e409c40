/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * open-iscsi's "key = value" files (iscsid.conf and node records), read the way
 * idbm_recinfo_config() in open-iscsi's usr/idbm.c reads them (2.1.8 through 2.1.11):
 *
 *  - 2048-byte fgets(): a chunk without '\n' is dropped and the rest of that physical line is
 *    parsed as a line of its own; a last line without '\n' is dropped;
 *  - isspace() trimmed at both ends (so CRLF works); '#' as first character is a comment;
 *  - the key ends at white space or '='; exactly one character after it is skipped, then
 *    white space, then '=' is required: "k = v", "k =v", "k==v" are accepted, "k=v" and
 *    "k= v" are rejected; the value is the rest and may not be empty; no quoting, no inline
 *    comments; keys and enumerated values are case-sensitive;
 *  - an invalid enumerated value keeps the previous value; the last valid line wins.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "facts.h"

/* Parse data into rec (which must be empty). Only -ENOMEM is an error. */
int np_iscsi_record_parse(const char *data, size_t size, NpIscsiRecord *rec);

/* What iscsid makes of one fgets() chunk (normally one physical line), for editors. */
typedef enum NpIscsiLineKind {
        NP_ISCSI_LINE_BLANK,
        NP_ISCSI_LINE_COMMENT,
        NP_ISCSI_LINE_SETTING,  /* accepted: key = value (the value takes effect) */
        NP_ISCSI_LINE_REJECTED, /* iscsid ignores it (syntax, bad enum value, ...) */
        NP_ISCSI_LINE_DROPPED,  /* never parsed: too long, no final newline, NUL byte */
        _NP_ISCSI_LINE_KIND_MAX,
        _NP_ISCSI_LINE_KIND_INVALID = -EINVAL,
} NpIscsiLineKind;

typedef struct NpIscsiLine {
        unsigned line;   /* physical line number, 1-based */
        size_t offset;   /* chunk start in the data */
        size_t length;   /* chunk length, including its '\n' */
        bool line_start; /* the chunk starts its physical line */
        NpIscsiLineKind kind;
        char *key; /* the key, when one could be read */
} NpIscsiLine;

/* Like np_iscsi_record_parse(), and also return every chunk with its fate. */
int np_iscsi_record_parse_lines(const char *data, size_t size, NpIscsiRecord *rec,
                                NpIscsiLine **ret_lines, size_t *ret_n);
void np_iscsi_lines_free(NpIscsiLine *l, size_t n);

#define NP_ISCSI_KEY_STARTUP      "node.startup"
#define NP_ISCSI_KEY_CONN_STARTUP "node.conn[0].startup"
#define NP_ISCSI_KEY_MRDSL        "node.conn[0].iscsi.MaxRecvDataSegmentLength"
/* Not an open-iscsi key (IOMesh's page names it); iscsid ignores it. */
#define NP_ISCSI_KEY_SESSION_MRDSL "node.session.iscsi.MaxRecvDataSegmentLength"
