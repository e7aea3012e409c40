/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A kernel command line on arbitrary bytes: the kernel's and libkmod's reading of it. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/kcmdline.h"
#include "util/strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        NpKcmdline c = {};
        char **values = NULL;

        if (np_kcmdline_parse((const char *)data, size, &c) < 0)
                return 0;
        FOREACH_ARRAY (w, c.words, c.n_words) {
                char *text = np_kcmdline_word_text(w);

                /* A key never holds the '=' that ends it. It may begin with one: next_arg()
                 * keeps looking while equals is 0, so "=a=b" is key "=a", value "b". */
                if (!w->key || (w->value && strchr(w->key + 1, '=')))
                        abort();
                free(text);
        }
        FOREACH_ARRAY (o, c.kmod_options, c.n_kmod_options)
                if (!o->module || !o->param || strchr(o->module, '-'))
                        abort();
        (void)np_kcmdline_last(&c, "module_blacklist");
        if (np_kcmdline_values(&c, "modules_load", true, &values) >= 0)
                strv_free(values);
        np_kcmdline_done(&c);
        return 0;
}
