/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A modprobe.d file on arbitrary bytes, as libkmod's parser reads it, and what each install
 * command means. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/modprobe-conf.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        NpModprobeConf c = {};

        if (np_modprobe_conf_parse("/etc/modprobe.d/fuzz.conf", (const char *)data, size, false,
                                   &c) < 0)
                return 0;
        FOREACH_ARRAY (d, c.directives, c.n_directives) {
                char *text = np_modprobe_directive_text(d);

                /* Every directive names a module, a line of the file and a known kind. */
                if (!d->module || d->line == 0 || !np_modprobe_kind_to_string(d->kind))
                        abort();
                if (d->kind == NP_MODPROBE_INSTALL && d->arg &&
                    (int)np_install_command_effect(d->arg, d->module) < 0)
                        abort();
                free(text);
        }
        np_modprobe_conf_done(&c);
        return 0;
}
