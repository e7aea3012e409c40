/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lists of paths to watch (see watch.h). */

#include <stdlib.h>

#include "util/strv.h"
#include "util/watch.h"

bool np_watch_list_contains(const NpWatchList *l, const char *dir, const char *name, int tag)
{
        FOREACH_ARRAY (p, l->paths, l->n)
                if (p->tag == tag && streq(p->dir, dir) && streq_ptr(p->name, name))
                        return true;
        return false;
}

int np_watch_list_add(NpWatchList *l, const char *dir, const char *name, int tag)
{
        return np_watch_list_add_id(l, dir, name, tag, NULL);
}

int np_watch_list_add_id(NpWatchList *l, const char *dir, const char *name, int tag,
                         const NpFileId *id)
{
        NpWatchPath *a;

        if (np_watch_list_contains(l, dir, name, tag))
                return 0;
        a = reallocarray(l->paths, l->n + 1, sizeof(NpWatchPath));
        if (!a)
                return -ENOMEM;
        l->paths = a;
        a[l->n] =
            (NpWatchPath){ .dir = strdup(dir), .name = name ? strdup(name) : NULL, .tag = tag };
        if (id)
                a[l->n].id = *id;
        l->n++;
        return a[l->n - 1].dir && (!name || a[l->n - 1].name) ? 0 : -ENOMEM;
}

void np_watch_list_done(NpWatchList *l)
{
        FOREACH_ARRAY (p, l->paths, l->n) {
                free(p->dir);
                free(p->name);
        }
        free(l->paths);
        *l = (NpWatchList){};
}
