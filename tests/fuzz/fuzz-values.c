/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Value parsers: versions (kubelet and tool output), sizes, CIDRs, endpoints, booleans. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"
#include "util/parse.h"
#include "util/strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = strndup((const char *)data, size), *host = NULL, *port = NULL, *t;
        NpVersion v, w;
        NpCidr c;
        uint64_t u;
        bool b;

        if (!s)
                return 0;
        if (np_parse_version(s, &v) >= 0) {
                /* Printing and parsing a version again gives the same version. */
                t = np_version_to_string(&v);
                if (!t || np_parse_version(t, &w) < 0 || np_version_compare(&v, &w, false) != 0)
                        abort();
                free(t);
        }
        (void)np_version_find(s, &v);
        (void)np_parse_size(s, &u);
        (void)np_parse_u64(s, &u);
        (void)np_parse_boolean(s, &b);
        if (np_parse_cidr(s, &c) >= 0) {
                t = np_cidr_to_string(&c);
                if (!t || np_parse_cidr(t, &c) < 0)
                        abort();
                free(t);
        }
        if (np_endpoint_split(s, &host, &port) >= 0) {
                if (!host[0] || !port[0])
                        abort();
                free(host);
                free(port);
        }
        free(s);
        return 0;
}
