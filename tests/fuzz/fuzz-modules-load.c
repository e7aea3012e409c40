/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A modules-load.d file on arbitrary bytes; module names as systemd would look them up. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/modules-load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        NpModulesLoad ml = {};

        if (np_modules_load_parse("/etc/modules-load.d/fuzz.conf", (const char *)data, size, true,
                                  NULL, &ml) < 0)
                return 0;
        FOREACH_ARRAY (l, ml.lines, ml.n_lines) {
                char *n = NULL;
                size_t len = strlen(l->text);

                /* Never empty, never a comment, no surrounding white space, no line break. */
                if (len == 0 || strchr("#;", l->text[0]) || strchr(" \t\r\n", l->text[0]) ||
                    strchr(" \t\r\n", l->text[len - 1]) || strpbrk(l->text, "\r\n"))
                        abort();
                if (np_module_name_normalize(l->text, &n) >= 0)
                        free(n);
        }
        np_modules_load_done(&ml);
        return 0;
}
