/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unified diffs. The common head and tail are cut off first, then the middle is aligned with a
 * longest-common-subsequence table; our edits touch a few lines, so the table stays small. A
 * middle too large for the table becomes one replacement hunk, which is still a correct diff.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fix/engine/diff.h"
#include "util/macro.h"
#include "util/secret.h"

#define LCS_MAX_CELLS (4U * 1024U * 1024U)

typedef struct Line {
        const char *p;
        size_t n; /* including the '\n', when there is one */
} Line;

typedef enum OpKind {
        OP_EQUAL,
        OP_DELETE,
        OP_INSERT,
} OpKind;

typedef struct Op {
        OpKind kind;
        size_t a, b; /* line indexes: a for EQUAL/DELETE, b for EQUAL/INSERT */
} Op;

static int split_lines(const char *s, size_t n, Line **ret, size_t *ret_n)
{
        Line *l = NULL;
        size_t count = 0, allocated = 0, pos = 0;

        while (s && pos < n) {
                const char *nl = memchr(s + pos, '\n', n - pos);
                size_t len = nl ? (size_t)(nl - (s + pos)) + 1 : n - pos;

                if (!GREEDY_REALLOC(l, allocated, count + 1)) {
                        free(l);
                        return -ENOMEM;
                }
                l[count++] = (Line){ s + pos, len };
                pos += len;
        }
        *ret = l;
        *ret_n = count;
        return 0;
}

static bool line_eq(const Line *x, const Line *y)
{
        return x->n == y->n && memcmp(x->p, y->p, x->n) == 0;
}

static int push_op(Op **ops, size_t *n, size_t *allocated, OpKind kind, size_t a, size_t b)
{
        if (!GREEDY_REALLOC(*ops, *allocated, *n + 1))
                return -ENOMEM;
        (*ops)[(*n)++] = (Op){ kind, a, b };
        return 0;
}

/* The edit script turning la into lb. */
static int edit_script(const Line *la, size_t na, const Line *lb, size_t nb, Op **ret,
                       size_t *ret_n)
{
        _cleanup_free_ Op *ops = NULL;
        _cleanup_free_ uint32_t *t = NULL;
        size_t n = 0, allocated = 0, p = 0, s = 0, ma, mb;
        int r = 0;

        while (p < na && p < nb && line_eq(&la[p], &lb[p]))
                p++;
        while (s < na - p && s < nb - p && line_eq(&la[na - 1 - s], &lb[nb - 1 - s]))
                s++;
        ma = na - p - s;
        mb = nb - p - s;

        for (size_t i = 0; r >= 0 && i < p; i++)
                r = push_op(&ops, &n, &allocated, OP_EQUAL, i, i);

        if (ma > 0 && mb > 0 && (ma + 1) * (mb + 1) <= LCS_MAX_CELLS)
                t = calloc((ma + 1) * (mb + 1), sizeof(uint32_t));
        if (t) {
                /* t[i][j]: length of the LCS of the middles' tails from i and j. */
#define T(i, j) t[(i) * (mb + 1) + (j)]
                for (size_t i = ma; i-- > 0;)
                        for (size_t j = mb; j-- > 0;)
                                T(i, j) = line_eq(&la[p + i], &lb[p + j])
                                              ? T(i + 1, j + 1) + 1
                                              : MAX(T(i + 1, j), T(i, j + 1));
                size_t i = 0, j = 0;
                while (r >= 0 && (i < ma || j < mb)) {
                        if (i < ma && j < mb && line_eq(&la[p + i], &lb[p + j]) &&
                            T(i, j) == T(i + 1, j + 1) + 1) {
                                r = push_op(&ops, &n, &allocated, OP_EQUAL, p + i, p + j);
                                i++, j++;
                        } else if (i < ma && (j >= mb || T(i + 1, j) >= T(i, j + 1))) {
                                r = push_op(&ops, &n, &allocated, OP_DELETE, p + i, p + j);
                                i++;
                        } else {
                                r = push_op(&ops, &n, &allocated, OP_INSERT, p + i, p + j);
                                j++;
                        }
                }
#undef T
        } else {
                for (size_t i = 0; r >= 0 && i < ma; i++)
                        r = push_op(&ops, &n, &allocated, OP_DELETE, p + i, p);
                for (size_t j = 0; r >= 0 && j < mb; j++)
                        r = push_op(&ops, &n, &allocated, OP_INSERT, p + ma, p + j);
        }
        for (size_t i = 0; r >= 0 && i < s; i++)
                r = push_op(&ops, &n, &allocated, OP_EQUAL, na - s + i, nb - s + i);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ops);
        *ret_n = n;
        return 0;
}

/* GNU diff's range: "start,count", just "start" for one line, "before,0" for none. */
static void print_range(FILE *f, size_t first, size_t count)
{
        if (count == 0)
                fprintf(f, "%zu,0", first);
        else if (count == 1)
                fprintf(f, "%zu", first + 1);
        else
                fprintf(f, "%zu,%zu", first + 1, count);
}

static void print_line(FILE *f, char prefix, const Line *l)
{
        /* Lines are compared as they are; a line holding a secret is shown redacted. */
        _cleanup_free_ char *redacted = np_secret_redact_line(l->p, l->n);

        fputc(prefix, f);
        if (redacted) {
                fputs(redacted, f);
                return;
        }
        fwrite(l->p, 1, l->n, f);
        if (l->n == 0 || l->p[l->n - 1] != '\n')
                fputs("\n\\ No newline at end of file\n", f);
}

/* Within a changed run, deletions first, then insertions, as GNU diff prints them. */
static void print_hunk(FILE *f, const Op *ops, size_t from, size_t to, const Line *la,
                       const Line *lb)
{
        size_t a_first = SIZE_MAX, b_first = SIZE_MAX, a_count = 0, b_count = 0;

        for (size_t k = from; k < to; k++) {
                if (ops[k].kind != OP_INSERT) {
                        a_first = MIN(a_first, ops[k].a);
                        a_count++;
                }
                if (ops[k].kind != OP_DELETE) {
                        b_first = MIN(b_first, ops[k].b);
                        b_count++;
                }
        }
        /* An empty side starts after the line before the hunk. */
        if (a_count == 0)
                a_first = ops[from].a;
        if (b_count == 0)
                b_first = ops[from].b;
        fputs("@@ -", f);
        print_range(f, a_first, a_count);
        fputs(" +", f);
        print_range(f, b_first, b_count);
        fputs(" @@\n", f);

        for (size_t k = from; k < to;) {
                size_t end = k;

                if (ops[k].kind == OP_EQUAL) {
                        print_line(f, ' ', &la[ops[k].a]);
                        k++;
                        continue;
                }
                while (end < to && ops[end].kind != OP_EQUAL)
                        end++;
                for (size_t x = k; x < end; x++)
                        if (ops[x].kind == OP_DELETE)
                                print_line(f, '-', &la[ops[x].a]);
                for (size_t x = k; x < end; x++)
                        if (ops[x].kind == OP_INSERT)
                                print_line(f, '+', &lb[ops[x].b]);
                k = end;
        }
}

char *np_diff_unified(const char *label_a, const char *a, size_t na, const char *label_b,
                      const char *b, size_t nb, unsigned context)
{
        _cleanup_free_ Line *la = NULL, *lb = NULL;
        _cleanup_free_ Op *ops = NULL;
        size_t nla = 0, nlb = 0, nops = 0, size = 0;
        bool header = false;
        char *out = NULL;
        FILE *f;

        if (split_lines(a, a ? na : 0, &la, &nla) < 0 ||
            split_lines(b, b ? nb : 0, &lb, &nlb) < 0 ||
            edit_script(la, nla, lb, nlb, &ops, &nops) < 0)
                return NULL;
        f = open_memstream(&out, &size);
        if (!f)
                return NULL;

        for (size_t k = 0; k < nops;) {
                size_t first, last, end;

                if (ops[k].kind == OP_EQUAL) {
                        k++;
                        continue;
                }
                if (!header)
                        header = fprintf(f, "--- %s\n+++ %s\n", a ? label_a : "/dev/null",
                                         b ? label_b : "/dev/null") > 0;
                first = k;
                last = k; /* the last changed op of this hunk */
                for (size_t x = k + 1; x < nops; x++)
                        if (ops[x].kind != OP_EQUAL) {
                                /* Changes with at most 2*context equal lines between join. */
                                if (x - last - 1 > 2 * context)
                                        break;
                                last = x;
                        }
                first = first > context ? first - context : 0;
                end = MIN(last + 1 + context, nops);
                print_hunk(f, ops, first, end, la, lb);
                k = last + 1;
        }
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}
