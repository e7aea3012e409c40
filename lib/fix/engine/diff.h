/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unified diffs of two texts, as `diff -u --label A --label B` prints them, for plans and --json.
 */
#pragma once

#include <stddef.h>

#define NP_DIFF_CONTEXT 3

/*
 * The unified diff from a to b; a NULL text is a file that does not exist (shown as /dev/null,
 * as `diff -N` does). Returns "" when the texts are equal, NULL on allocation failure.
 * Lines are compared byte for byte, "\r" included.
 */
char *np_diff_unified(const char *label_a, const char *a, size_t na, const char *label_b,
                      const char *b, size_t nb, unsigned context);
