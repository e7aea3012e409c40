/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The site file parser on arbitrary bytes. */

#include <stdint.h>
#include <stdlib.h>

#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        NpSite *s = NULL;
        char *error = NULL;
        int r;

        if (size > 256 * 1024)
                return 0;
        r = np_site_parse_buffer("fuzz.conf", (const char *)data, size, &s, &error);
        if ((r >= 0) != (s != NULL) || (r < 0 && r != -ENOMEM && !error))
                abort();
        np_site_free(s);
        free(error);
        return 0;
}
