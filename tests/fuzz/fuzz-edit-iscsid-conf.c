/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The iscsid.conf editor on arbitrary bytes. Property: when it edits, parsing the result as
 * iscsid does gives the intended value, every other setting keeps its value, and every line of
 * the input that does not mention the key is still there, in order.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fix/plan/conf-edit.h"
#include "probe/iscsid-conf.h"
#include "util/strv.h"

static char **other_lines(const char *data, size_t size, const char *key)
{
        char **l = calloc(1, sizeof(char *));
        const char *p = data, *end = data + size;

        while (l && p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                char *line = strndup(p, n);

                if (!line || (!strstr(line, key) && !strstr(line, NP_SET_BY_NODEPREP) &&
                              strv_consume(&l, TAKE_PTR(line)) < 0)) {
                        free(line);
                        return strv_free(l);
                }
                free(line);
                p += n + (nl ? 1 : 0);
        }
        return l;
}

static void check(const char *data, size_t size, const char *key, const char *value)
{
        NpIscsiRecord before = {}, after = {};
        char *out = NULL, *where = NULL, *error = NULL;
        size_t out_size = 0;
        char **a, **b;
        int r;

        r = np_iscsi_conf_set(data, size, key, value, &out, &out_size, &where, &error);
        free(where);
        free(error);
        if (r < 0)
                return;
        if (np_iscsi_record_parse(data, size, &before) < 0 ||
            np_iscsi_record_parse(out, out_size, &after) < 0)
                abort();
        if (!np_key_values_get(after.settings, after.n_settings, key) ||
            strcmp(np_key_values_get(after.settings, after.n_settings, key)->value, value) != 0)
                abort();
        FOREACH_ARRAY (kv, before.settings, before.n_settings) {
                const NpKeyValue *n;

                if (streq(kv->key, key))
                        continue;
                n = np_key_values_get(after.settings, after.n_settings, kv->key);
                if (!n || strcmp(n->value, kv->value) != 0)
                        abort();
        }
        a = other_lines(data, size, key);
        b = other_lines(out, out_size, key);
        if (a && b) {
                /* The lines not about the key, in order; the edit may end a last line. */
                size_t na = strv_length(a), nb = strv_length(b);

                if (nb < na)
                        abort();
                for (size_t i = 0; i < na; i++)
                        if (strcmp(a[i], b[i]) != 0 && !(i == na - 1 && startswith(b[i], a[i])))
                                abort();
        }
        strv_free(a);
        strv_free(b);
        np_iscsi_record_done(&before);
        np_iscsi_record_done(&after);
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 128 * 1024)
                return 0;
        check((const char *)data, size, "node.startup", "manual");
        check((const char *)data, size, "node.conn[0].iscsi.MaxRecvDataSegmentLength", "163840");
        return 0;
}
