/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The whole configuration: site file + requested profiles + --set + site overrides. */

#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"
#include "util/strv.h"

NpConfig *np_config_free(NpConfig *c)
{
        if (!c)
                return NULL;
        np_site_free(c->site);
        for (size_t i = 0; i < c->n_profiles; i++)
                np_profile_free(c->profiles[i]);
        free(c->profiles);
        strv_free(c->warnings);
        free(c);
        return NULL;
}

static int apply_override(NpProfile *p, NpOverride *o)
{
        NpCheckDef *def = NULL;
        _cleanup_free_ char *text = NULL;

        if (o->profile && !streq(o->profile, p->name))
                return 0;
        FOREACH_ARRAY (c, p->checks, p->n_checks)
                if (streq(c->id, o->check))
                        def = c;
        if (!def)
                return 0;
        o->used = true;

        if (o->has_severity && o->severity != def->severity) {
                text = strprintf("%s: Severity=%s (profile says %s)", o->origin,
                                 np_severity_to_string(o->severity),
                                 np_severity_to_string(def->severity));
                def->severity = o->severity;
        }
        if (o->has_ignore) {
                char *t = strprintf("%s%s%s: Ignore=%s%s%s%s", strempty(text), text ? "; " : "",
                                    o->origin, yes_no(o->ignore), o->reason ? " (" : "",
                                    strempty(o->reason), o->reason ? ")" : "");

                free_and_replace(&text, t);
                def->ignored = o->ignore;
        }
        if (!text && o->reason)
                text = strprintf("%s: %s", o->origin, o->reason);
        if (text)
                free_and_replace(&def->override, TAKE_PTR(text));
        return 0;
}

typedef struct SettingList {
        NpSettingValue *values;
        size_t n;
} SettingList;

static void setting_list_done(SettingList *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->values[i].name);
                free(l->values[i].value);
                free(l->values[i].origin);
        }
        free(l->values);
        *l = (SettingList){};
}

static int setting_list_add(SettingList *l, NpSettingId id, NpNamedKind kind, const char *name,
                            const char *value, const char *origin)
{
        NpSettingValue *a = reallocarray(l->values, l->n + 1, sizeof(NpSettingValue));

        if (!a)
                return -ENOMEM;
        l->values = a;
        a[l->n] = (NpSettingValue){ .id = id,
                                    .kind = kind,
                                    .name = name ? strdup(name) : NULL,
                                    .value = strdup(value),
                                    .origin = strdup(origin) };
        l->n++;
        return a[l->n - 1].value && a[l->n - 1].origin && (!name || a[l->n - 1].name) ? 0 : -ENOMEM;
}

/* --set Endpoint.NAME=HOST:PORT or Path.NAME=/DIR */
static int parse_set_named(SettingList *l, const char *arg, const char *key, const char *value,
                           char **ret_error)
{
        for (NpNamedKind k = 0; k < _NP_NAMED_KIND_MAX; k++) {
                const char *kind = np_named_kind_to_string(k), *name;
                _cleanup_free_ char *why = NULL;
                NpSettings probe;
                int r;

                name = startswith(key, kind);
                if (!name || name[0] != '.')
                        continue;
                name++;
                np_settings_init(&probe);
                r = np_settings_set_named(&probe, k, name, value, "--set", &why);
                np_settings_done(&probe);
                if (r < 0) {
                        *ret_error = strprintf("--set %s: %s", arg, strna(why));
                        return r;
                }
                return setting_list_add(l, _NP_SETTING_INVALID, k, name, value, "--set");
        }
        return 0; /* not a named value */
}

static char *setting_names(void)
{
        _cleanup_strv_free_ char **names = NULL;

        for (NpSettingId i = 0; i < _NP_SETTING_MAX; i++)
                if (strv_extend(&names, np_setting_name(i)) < 0)
                        return NULL;
        return strv_join(names, ", ");
}

/* Validate --set KEY=VALUE assignments into a list applied after the site's settings. */
static int parse_set_args(char *const *set_args, SettingList *ret, char **ret_error)
{
        _cleanup_(setting_list_done) SettingList l = {};

        STRV_FOREACH (a, (char **)set_args) {
                _cleanup_free_ char *key = NULL, *why = NULL;
                const char *eq = strchr(*a, '=');
                NpSettings probe;
                NpSettingId id;
                int r;

                if (!eq || eq == *a) {
                        *ret_error = strprintf("--set %s: expected KEY=VALUE", *a);
                        return -EINVAL;
                }
                key = strndup(*a, (size_t)(eq - *a));
                if (!key)
                        return -ENOMEM;
                id = np_setting_from_name(key);
                if (id < 0 && (startswith(key, "Endpoint.") || startswith(key, "Path."))) {
                        r = parse_set_named(&l, *a, key, eq + 1, ret_error);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (id < 0) {
                        _cleanup_free_ char *known = setting_names();

                        *ret_error = strprintf("--set %s: unknown setting \"%s\" (known: %s, "
                                               "Endpoint.NAME, Path.NAME)",
                                               *a, key, strna(known));
                        return -EINVAL;
                }
                np_settings_init(&probe);
                r = np_settings_set(&probe, id, eq + 1, "--set", &why);
                np_settings_done(&probe);
                if (r < 0) {
                        *ret_error = strprintf("--set %s", strna(why));
                        return r;
                }
                r = setting_list_add(&l, id, 0, NULL, eq + 1, "--set");
                if (r < 0)
                        return r;
        }
        *ret = l;
        l = (SettingList){};
        return 0;
}

static int apply_settings(NpProfile *p, const NpSettingValue *v, size_t n, char **ret_error)
{
        for (size_t i = 0; i < n; i++) {
                int r = v[i].id >= 0 ? np_settings_set(&p->settings, v[i].id, v[i].value,
                                                       v[i].origin, ret_error)
                                     : np_settings_set_named(&p->settings, v[i].kind, v[i].name,
                                                             v[i].value, v[i].origin, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static char *available_profiles(const NpRoot *root)
{
        _cleanup_strv_free_ char **names = NULL;
        NpProfileInfo *infos = NULL;
        size_t n = 0;

        if (np_profile_list(root, &infos, &n) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (strv_extend(&names, infos[i].name) < 0) {
                        np_profile_info_free_many(infos, n);
                        return NULL;
                }
        np_profile_info_free_many(infos, n);
        return n > 0 ? strv_join(names, ", ") : strdup("none found");
}

int np_config_load(const NpRoot *root, const char *site_path, char *const *profile_args,
                   char *const *set_args, NpConfig **ret, NpConfigError *ret_kind, char **ret_error)
{
        _cleanup_(np_config_freep) NpConfig *c = NULL;
        _cleanup_(setting_list_done) SettingList sets = {};
        _cleanup_strv_free_ char **loaded = NULL;
        char *const *wanted;
        int r;

        *ret_kind = NP_CONFIG_USAGE;
        r = parse_set_args(set_args, &sets, ret_error);
        if (r < 0)
                return r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        *ret_kind = NP_CONFIG_BAD;
        r = np_site_load(root, site_path, &c->site, ret_error);
        if (r < 0)
                return r;

        wanted = strv_length(profile_args) > 0 ? profile_args : c->site->profiles;
        if (strv_length(wanted) == 0) {
                _cleanup_free_ char *avail = available_profiles(root);

                *ret_kind = NP_CONFIG_USAGE;
                *ret_error = strprintf("no profile requested: pass --profile NAME or set "
                                       "Profiles= in [Site] of %s (available: %s)",
                                       c->site->path, strna(avail));
                return -EINVAL;
        }

        c->profiles = calloc(strv_length(wanted) + 1, sizeof(NpProfile *));
        if (!c->profiles)
                return -ENOMEM;
        STRV_FOREACH (w, (char **)wanted) {
                NpProfile *p = NULL;

                /* A path a site file names is resolved inside the root, like every path a tree
                 * names; one on the command line is the caller's own. */
                r = np_profile_load(root, *w, wanted == c->site->profiles, &p, ret_error);
                if (r >= 0 && !p)
                        r = -EINVAL; /* cannot happen: success always returns a profile */
                if (r < 0) {
                        /* A name nobody has is the caller's mistake; a broken file is not. */
                        *ret_kind = r == -ENOENT ? NP_CONFIG_USAGE : NP_CONFIG_BAD;
                        return r;
                }
                if (strv_contains(loaded, p->name)) {
                        *ret_kind = NP_CONFIG_USAGE;
                        *ret_error = strprintf("profile %s requested twice", p->name);
                        np_profile_free(p);
                        return -EINVAL;
                }
                if (strv_extend(&loaded, p->name) < 0) {
                        np_profile_free(p);
                        return -ENOMEM;
                }
                c->profiles[c->n_profiles++] = p;

                r = apply_settings(p, c->site->settings, c->site->n_settings, ret_error);
                if (r < 0)
                        return r;
                r = np_cluster_settings_copy(&p->settings.cluster, &c->site->cluster);
                if (r < 0)
                        return r;
                *ret_kind = NP_CONFIG_USAGE;
                r = apply_settings(p, sets.values, sets.n, ret_error);
                if (r < 0)
                        return r;
                *ret_kind = NP_CONFIG_BAD;
                FOREACH_ARRAY (o, c->site->overrides, c->site->n_overrides) {
                        r = apply_override(p, o);
                        if (r < 0)
                                return r;
                }
        }

        /* An override that matches nothing is most likely a typo: say so, but keep going, since
         * one site file may serve hosts with different profiles. */
        FOREACH_ARRAY (o, c->site->overrides, c->site->n_overrides)
                if (!o->used) {
                        r = strv_consume(&c->warnings,
                                         strprintf("%s: [Override] Check=%s matches no check in "
                                                   "the requested profiles",
                                                   o->origin, o->check));
                        if (r < 0)
                                return r;
                }

        *ret_kind = NP_CONFIG_OK;
        *ret = TAKE_PTR(c);
        return 0;
}
