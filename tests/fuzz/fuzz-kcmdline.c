/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A kernel command line on arbitrary bytes: the kernel's and libkmod's reading of it. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/kcmdline.h"
#include "probe/modules-load.h"
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
        /* An option's module name is already what underscores() makes of it ('-' inside [...]
         * stays). */
        FOREACH_ARRAY (o, c.kmod_options, c.n_kmod_options) {
                char *again = o->module ? strdup(o->module) : NULL;

                if (!o->param || !again || np_module_name_underscores(again) < 0 ||
                    strcmp(again, o->module) != 0)
                        abort();
                free(again);
        }
        (void)np_kcmdline_last(&c, "module_blacklist");
        if (np_kcmdline_values(&c, "modules_load", true, &values) >= 0)
                strv_free(values);
        np_kcmdline_done(&c);
        return 0;
}
