/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Varlink framing and dispatch on arbitrary bytes: split a stream at NUL bytes as the server does,
 * parse each message as a call and as a reply, dispatch a call's parameters through the
 * GetReport/Apply tables, and check that what parses formats back to something that parses the
 * same way.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/strv.h"
#include "varlink/protocol.h"

typedef struct Params {
        char **profiles;
        char **only;
        bool facts, dry_run;
        const char *change_id;
} Params;

static const NpVarlinkField fields[] = {
        { "profiles", NP_VARLINK_STRV, offsetof(Params, profiles), false },
        { "only", NP_VARLINK_STRV, offsetof(Params, only), false },
        { "facts", NP_VARLINK_BOOL, offsetof(Params, facts), false },
        { "dry_run", NP_VARLINK_BOOL, offsetof(Params, dry_run), false },
        { "change_id", NP_VARLINK_STRING, offsetof(Params, change_id), false },
};

static void one_message(const char *data, size_t size)
{
        NpVarlinkCallMessage call = {};
        NpVarlinkReplyMessage reply = {};
        char *error = NULL;

        if (np_varlink_parse_call(data, size, &call, &error) >= 0) {
                Params p = {};
                const char *bad = NULL;
                char *out = NULL;
                size_t n = 0;

                if (!call.method || !call.parameters || !np_varlink_method_name_valid(call.method))
                        abort();
                (void)np_varlink_dispatch(call.parameters, fields, ELEMENTSOF(fields), &p, &bad);
                strv_free(p.profiles);
                strv_free(p.only);
                /* What parsed formats back to a message that parses to the same method. */
                if (np_varlink_format_call(call.method, call.parameters, call.flags, &out, &n) >=
                    0) {
                        NpVarlinkCallMessage again = {};
                        char *e2 = NULL;

                        if (n == 0 || out[n - 1] != '\0' ||
                            np_varlink_parse_call(out, n - 1, &again, &e2) < 0 ||
                            strcmp(again.method, call.method) != 0 || again.flags != call.flags)
                                abort();
                        np_varlink_call_message_done(&again);
                        free(e2);
                        free(out);
                }
                np_varlink_call_message_done(&call);
        }
        free(error);
        error = NULL;
        if (np_varlink_parse_reply(data, size, &reply, &error) >= 0) {
                if (!reply.parameters)
                        abort();
                np_varlink_reply_message_done(&reply);
        }
        free(error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *p = (const char *)data, *end = p + size;

        /* The stream is a series of NUL-terminated messages; a tail without NUL is incomplete. */
        while (p < end) {
                const char *nul = memchr(p, '\0', (size_t)(end - p));

                if (!nul)
                        break;
                one_message(p, (size_t)(nul - p));
                p = nul + 1;
        }
        return 0;
}
