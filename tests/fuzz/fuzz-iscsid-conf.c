/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The iscsid.conf / node record parser on arbitrary bytes; every value kept is a valid string. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/iscsid-conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        NpIscsiRecord rec = {};

        if (np_iscsi_record_parse((const char *)data, size, &rec) < 0)
                return 0;
        FOREACH_ARRAY (kv, rec.settings, rec.n_settings) {
                /* What iscsid keeps: a key without white space or '=', a value of < 256 bytes
                 * with no surrounding white space, and only one entry per key. */
                if (!kv->key[0] || strpbrk(kv->key, " \t\n\r=") || strlen(kv->key) >= 128 ||
                    !kv->value[0] || strlen(kv->value) >= 256 || strchr(kv->value, '\n'))
                        abort();
                if (np_key_values_get(rec.settings, rec.n_settings, kv->key) != kv)
                        abort();
        }
        np_iscsi_record_done(&rec);
        return 0;
}
