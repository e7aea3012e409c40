/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The directories whose changes can change the configuration: site file, profiles, drop-ins. */

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "profile/internal.h"
#include "profile/profile.h"
#include "util/strv.h"

static int add_dir(NpWatchList *l, const NpConfDir *d, const char *sub, const char *name)
{
        _cleanup_free_ char *base = np_root_prefix(d->root, d->path), *dir = NULL;

        if (!base)
                return -ENOMEM;
        dir = sub ? strprintf("%s/%s", base, sub) : TAKE_PTR(base);
        return dir ? np_watch_list_add(l, dir, name, NP_WATCH_CONFIG) : -ENOMEM;
}

int np_config_watch_paths(const NpRoot *root, const char *site_path, char *const *profile_names,
                          NpWatchList *l)
{
        _cleanup_(np_conf_path_done) NpConfPath site = {}, profiles = {};
        int r;

        if (site_path) {
                _cleanup_free_ char *copy = strdup(site_path), *copy2 = strdup(site_path);

                if (!copy || !copy2)
                        return -ENOMEM;
                r = np_watch_list_add(l, dirname(copy), basename(copy2), NP_WATCH_CONFIG);
        } else {
                r = np_conf_path_site(root, &site);
                for (size_t i = 0; r >= 0 && i < site.n; i++) {
                        r = add_dir(l, &site.dirs[i], NULL, "nodeprep.conf");
                        if (r >= 0)
                                r = add_dir(l, &site.dirs[i], NULL, "nodeprep.conf.d");
                        if (r >= 0)
                                r = add_dir(l, &site.dirs[i], "nodeprep.conf.d", NULL);
                }
        }
        if (r >= 0)
                r = np_conf_path_profiles(root, &profiles);
        for (size_t i = 0; r >= 0 && i < profiles.n; i++) {
                r = add_dir(l, &profiles.dirs[i], NULL, NULL);
                STRV_FOREACH (n, (char **)profile_names) {
                        _cleanup_free_ char *d = strprintf("%s.conf.d", *n);

                        if (r >= 0)
                                r = d ? add_dir(l, &profiles.dirs[i], d, NULL) : -ENOMEM;
                }
        }
        return r;
}
