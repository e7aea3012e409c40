/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /etc/selinux/config and the kernel command line on arbitrary bytes. */

#include <stdint.h>
#include <stdlib.h>

#include "probe/selinux-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        NpSelinuxConfig c = {};

        if (np_selinux_config_parse((const char *)data, size, &c) >= 0) {
                if (c.set &&
                    (c.mode < 0 || c.mode >= _NP_SELINUX_MODE_MAX || !c.value || c.line == 0))
                        abort();
                np_selinux_config_done(&c);
        }
        (void)np_selinux_cmdline_enforcing((const char *)data, size);
        return 0;
}
