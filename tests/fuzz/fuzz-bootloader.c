/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* grub.cfg, grubenv, a BLS entry and loader.conf on arbitrary bytes; the default entry found
 * and its options expanded as probe/boot.c does. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/bootloader.h"
#include "util/strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        NpBootConfig c = {};
        NpBootEntry e = {};
        char **env = NULL, *def = NULL;

        if (np_grubenv_parse((const char *)data, size, &env) < 0)
                return 0;
        if (np_grub_cfg_parse((const char *)data, size, &c) >= 0) {
                const NpBootEntry *d = np_boot_config_find(&c, c.default_value);

                FOREACH_ARRAY (x, c.entries, c.n_entries)
                        if (!x->path || !x->kernel || !x->options)
                                abort();
                if (d) {
                        char *line = NULL, *unset = NULL;

                        if (np_boot_expand(d->options, c.vars, env, &line, &unset) >= 0 &&
                            (!line || strchr(line, '\n')))
                                abort();
                        free(line);
                        free(unset);
                }
                np_boot_config_done(&c);
        }
        if (np_bls_entry_parse("fuzz.conf", (const char *)data, size, &e) >= 0) {
                if (!e.kernel || !e.options || !streq(e.id, "fuzz"))
                        abort();
                if (e.version && np_boot_version_cmp(e.version, e.version) != 0)
                        abort();
                np_boot_entry_done(&e);
        }
        if (np_loader_conf_default((const char *)data, size, &def) >= 0)
                free(def);
        strv_free(env);
        return 0;
}
