/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The /etc/selinux/config editor on arbitrary bytes. Property: when it edits, libselinux's rules
 * read the result as permissive, and every line that is not a SELINUX= line is still there, in
 * order.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fix/plan/conf-edit.h"
#include "probe/selinux-config.h"
#include "util/strv.h"

static char **other_lines(const char *data, size_t size)
{
        char **l = calloc(1, sizeof(char *));
        const char *p = data, *end = data + size;

        while (l && p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                char *line = strndup(p, n);

                if (!line)
                        return strv_free(l);
                if (!strstr(line, "SELINUX=") && !strstr(line, NP_SET_BY_NODEPREP)) {
                        if (strv_consume(&l, line) < 0)
                                return strv_free(l);
                } else
                        free(line);
                p += n + (nl ? 1 : 0);
        }
        return l;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        NpSelinuxConfig c = {};
        char *out = NULL, *where = NULL, *error = NULL;
        size_t out_size = 0;
        char **a, **b;
        int r;

        if (size > 128 * 1024)
                return 0;
        r = np_selinux_config_set((const char *)data, size, NP_SELINUX_PERMISSIVE, &out, &out_size,
                                  &where, &error);
        free(where);
        free(error);
        if (r < 0)
                return 0;
        if (np_selinux_config_parse(out, out_size, &c) < 0 || !c.set ||
            c.mode != NP_SELINUX_PERMISSIVE)
                abort();
        np_selinux_config_done(&c);
        a = other_lines((const char *)data, size);
        b = other_lines(out, out_size);
        if (a && b) {
                size_t na = strv_length(a), nb = strv_length(b);

                if (nb < na)
                        abort();
                for (size_t i = 0; i < na; i++)
                        if (strcmp(a[i], b[i]) != 0 && !(i == na - 1 && startswith(b[i], a[i])))
                                abort();
        }
        strv_free(a);
        strv_free(b);
        free(out);
        return 0;
}
