/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The profile parser (inih + our line reader + check definitions) on arbitrary bytes. */

#include <stdint.h>
#include <stdlib.h>

#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        NpProfile *p = NULL;
        char *error = NULL;
        int r;

        if (size > 256 * 1024)
                return 0;
        r = np_profile_parse_buffer("fuzz.conf", (const char *)data, size, &p, &error);
        /* Either a profile or an error message, never both, never neither. */
        if ((r >= 0) != (p != NULL) || (r < 0 && r != -ENOMEM && !error))
                abort();
        np_profile_free(p);
        free(error);
        return 0;
}
