/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one rule of what is secret (see secret.h). */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"
#include "util/secret.h"
#include "util/strv.h"

static bool contains_password(const char *s, size_t n)
{
        static const char word[] = "password";

        for (size_t i = 0; i + sizeof(word) - 1 <= n; i++)
                if (strncasecmp(s + i, word, sizeof(word) - 1) == 0)
                        return true;
        return false;
}

bool np_secret_key(const char *key)
{
        const char *last;

        if (!key)
                return false;
        last = strrchr(key, '.');
        last = last ? last + 1 : key;
        return contains_password(last, strlen(last));
}

char *np_secret_redact_line(const char *line, size_t len)
{
        size_t i = 0, key_start, key_end;
        _cleanup_free_ char *key = NULL;
        bool nl = len > 0 && line[len - 1] == '\n';

        while (i < len && (isspace((unsigned char)line[i]) || line[i] == '#' || line[i] == ';'))
                i++;
        key_start = i;
        while (i < len && !isspace((unsigned char)line[i]) && line[i] != '=' && line[i] != ':')
                i++;
        key_end = i;
        if (key_end == key_start)
                return NULL;
        key = strndup(line + key_start, key_end - key_start);
        if (!key || !np_secret_key(key))
                return NULL;
        return strprintf("%.*s = " NP_REDACTED "%s", (int)key_end, line, nl ? "\n" : "");
}
