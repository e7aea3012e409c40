/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection points (test builds only, see fault.h). */

#include "fix/engine/fault.h"

#if NP_FAULT_INJECTION

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/macro.h"

static unsigned fault_hits, fault_name_hits;

void np_fault_point(const char *name)
{
        const char *want = getenv("NODEPREP_FAULT"), *log = getenv("NODEPREP_FAULT_LOG");
        char line[256];

        fault_hits++;
        if (log) {
                int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
                int n = snprintf(line, sizeof(line), "%u %s\n", fault_hits, name);

                if (fd >= 0) {
                        (void)!write(fd, line, (size_t)n); /* best effort: a test aid */
                        close(fd);
                }
        }
        if (isempty(want))
                return;
        if (strspn(want, "0123456789") == strlen(want)) {
                if ((unsigned)strtoul(want, NULL, 10) == fault_hits)
                        raise(SIGKILL);
                return;
        }
        {
                const char *colon = strchr(want, ':');
                size_t n = colon ? (size_t)(colon - want) : strlen(want);
                unsigned k = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 1;

                if (strlen(name) == n && strneq(name, want, n) && ++fault_name_hits == k)
                        raise(SIGKILL);
        }
}

#endif
