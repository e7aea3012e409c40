/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The site file /etc/nodeprep/nodeprep.conf (+ nodeprep.conf.d/ *.conf): see nodeprep.conf(5). */

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "profile/ini.h"
#include "profile/internal.h"
#include "profile/profile.h"
#include "util/strv.h"

NpSite *np_site_free(NpSite *s)
{
        if (!s)
                return NULL;
        free(s->path);
        strv_free(s->dropins);
        strv_free(s->profiles);
        free(s->profiles_origin);
        FOREACH_ARRAY (v, s->settings, s->n_settings) {
                free(v->value);
                free(v->origin);
        }
        free(s->settings);
        FOREACH_ARRAY (o, s->overrides, s->n_overrides) {
                free(o->check);
                free(o->profile);
                free(o->reason);
                free(o->origin);
        }
        free(s->overrides);
        strv_free(s->auto_apply);
        free(s->auto_apply_origin);
        free(s->include_recommended_origin);
        free(s);
        return NULL;
}

typedef struct SiteParser {
        NpSite *site;
        const char *path;
        char *section;
        NpOverride *override; /* the [Override] being read */
} SiteParser;

static int site_section_site(SiteParser *sp, const char *key, const char *value,
                             const char *origin, char **ret_error)
{
        NpSite *s = sp->site;

        if (streq(key, "Profiles")) {
                /* Profiles= may be repeated; an empty assignment resets the list, as in systemd. */
                _cleanup_strv_free_ char **words = NULL;
                int r = strv_split(value, " \t,", &words);

                if (r < 0)
                        return r;
                if (strv_length(words) == 0)
                        s->profiles = strv_free(s->profiles);
                STRV_FOREACH (w, words) {
                        r = strv_extend_unique(&s->profiles, *w);
                        if (r < 0)
                                return r;
                }
                return free_and_strdup(&s->profiles_origin, origin);
        }
        *ret_error = strprintf("unknown key %s= in [Site] (expected Profiles=)", key);
        return -EINVAL;
}

static int site_section_settings(SiteParser *sp, const char *key, const char *value,
                                 const char *origin, char **ret_error)
{
        NpSite *s = sp->site;
        NpSettingId id = np_setting_from_name(key);
        NpSettingValue *a;
        NpSettings probe;
        int r;

        if (id < 0) {
                *ret_error = strprintf("unknown setting %s= in [Settings]", key);
                return -EINVAL;
        }
        /* Validate now, so the error points at this line rather than at a profile. */
        np_settings_init(&probe);
        r = np_settings_set(&probe, id, value, origin, ret_error);
        np_settings_done(&probe);
        if (r < 0)
                return r;

        a = reallocarray(s->settings, s->n_settings + 1, sizeof(NpSettingValue));
        if (!a)
                return -ENOMEM;
        s->settings = a;
        a[s->n_settings] = (NpSettingValue){ .id = id, .value = strdup(value),
                                             .origin = strdup(origin) };
        if (!a[s->n_settings].value || !a[s->n_settings].origin)
                return -ENOMEM;
        s->n_settings++;
        return 0;
}

static int site_section_override(SiteParser *sp, const char *key, const char *value,
                                 const char *origin, char **ret_error)
{
        NpSite *s = sp->site;
        NpOverride *o = sp->override;

        if (streq(key, "Check")) {
                NpOverride *a;

                if (o) {
                        *ret_error = strprintf("Check= given twice in one [Override] section");
                        return -EINVAL;
                }
                if (isempty(value)) {
                        *ret_error = strprintf("Check= needs a check id");
                        return -EINVAL;
                }
                a = reallocarray(s->overrides, s->n_overrides + 1, sizeof(NpOverride));
                if (!a)
                        return -ENOMEM;
                s->overrides = a;
                o = sp->override = &a[s->n_overrides++];
                *o = (NpOverride){ .check = strdup(value), .origin = strdup(origin) };
                return o->check && o->origin ? 0 : -ENOMEM;
        }
        if (!o) {
                *ret_error = strprintf("%s= before Check=: Check= must be the first key of an "
                                       "[Override] section",
                                       key);
                return -EINVAL;
        }
        if (streq(key, "Profile"))
                return free_and_strdup(&o->profile, value);
        if (streq(key, "Reason"))
                return free_and_strdup(&o->reason, value);
        if (streq(key, "Ignore")) {
                if (np_parse_boolean(value, &o->ignore) < 0) {
                        *ret_error = strprintf("Ignore=%s: expected yes or no", value);
                        return -EINVAL;
                }
                o->has_ignore = true;
                return 0;
        }
        if (streq(key, "Severity")) {
                o->severity = np_severity_from_string(value);
                if (o->severity < 0) {
                        *ret_error = strprintf("Severity=%s: expected required or recommended",
                                               value);
                        return -EINVAL;
                }
                o->has_severity = true;
                return 0;
        }
        *ret_error = strprintf("unknown key %s= in [Override] (expected Check=, Profile=, "
                               "Ignore=, Severity=, Reason=)",
                               key);
        return -EINVAL;
}

static int site_section_apply(SiteParser *sp, const char *key, const char *value,
                              const char *origin, char **ret_error)
{
        NpSite *s = sp->site;

        if (streq(key, "AutoApply")) {
                /* A list of check ids; repeatable; an empty assignment resets it. */
                _cleanup_strv_free_ char **words = NULL;
                int r = strv_split(value, " \t,", &words);

                if (r < 0)
                        return r;
                if (strv_length(words) == 0)
                        s->auto_apply = strv_free(s->auto_apply);
                STRV_FOREACH (w, words) {
                        if (!strchr(*w, '.') || strchr(*w, '/')) {
                                *ret_error = strprintf("AutoApply=: \"%s\" is not a check id "
                                                       "(such as selinux.runtime or "
                                                       "kmod.loaded:iscsi_tcp)",
                                                       *w);
                                return -EINVAL;
                        }
                        r = strv_extend_unique(&s->auto_apply, *w);
                        if (r < 0)
                                return r;
                }
                return free_and_strdup(&s->auto_apply_origin, origin);
        }
        if (streq(key, "IncludeRecommended")) {
                if (np_parse_boolean(value, &s->include_recommended) < 0) {
                        *ret_error = strprintf("IncludeRecommended=%s: expected yes or no", value);
                        return -EINVAL;
                }
                return free_and_strdup(&s->include_recommended_origin, origin);
        }
        *ret_error = strprintf("unknown key %s= in [Apply] (expected AutoApply= or "
                               "IncludeRecommended=)",
                               key);
        return -EINVAL;
}

static const struct {
        const char *name;
        int (*handle)(SiteParser *sp, const char *key, const char *value, const char *origin,
                      char **ret_error);
} site_sections[] = {
        { "Site", site_section_site },
        { "Settings", site_section_settings },
        { "Override", site_section_override },
        { "Apply", site_section_apply },
};

static int site_handle(void *userdata, const char *section, const char *key, const char *value,
                       unsigned line, char **ret_error)
{
        SiteParser *sp = userdata;
        _cleanup_free_ char *origin = NULL;

        if (!key) {
                for (size_t i = 0; i < ELEMENTSOF(site_sections); i++)
                        if (streq(section, site_sections[i].name)) {
                                sp->override = NULL;
                                return free_and_strdup(&sp->section, section);
                        }
                *ret_error = strprintf("unknown section [%s] (expected [Site], [Settings], "
                                       "[Override] or [Apply])",
                                       section);
                return -EINVAL;
        }
        if (!sp->section) {
                *ret_error = strprintf("%s= outside of a section", key);
                return -EINVAL;
        }
        origin = strprintf("%s:%u", sp->path, line);
        if (!origin)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(site_sections); i++)
                if (streq(sp->section, site_sections[i].name))
                        return site_sections[i].handle(sp, key, value, origin, ret_error);
        return -EINVAL;
}

static int site_parse_file(NpSite *s, const NpConfFile *f, char **ret_error)
{
        _cleanup_free_ char *data = NULL;
        SiteParser sp = { .site = s, .path = f->shown };
        size_t size;
        int r;

        r = np_conf_file_read(f, &data, &size);
        if (r < 0) {
                *ret_error = strprintf("%s: cannot read: %s", f->shown, strerror(-r));
                return r;
        }
        r = np_ini_parse(f->shown, data, size, site_handle, &sp, ret_error);
        free(sp.section);
        return r;
}

int np_site_load(const NpRoot *root, const char *path, NpSite **ret, char **ret_error)
{
        _cleanup_(np_site_freep) NpSite *s = NULL;
        _cleanup_(np_root_freep) NpRoot *host = NULL;
        _cleanup_(np_conf_file_done) NpConfFile main_file = {};
        _cleanup_(np_conf_path_done) NpConfPath cp = {};
        NpConfFile *dropins = NULL;
        size_t n_dropins = 0;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->dropins = calloc(1, sizeof(char *));
        if (!s->dropins)
                return -ENOMEM;

        if (path) {
                /* An explicit --config: a file on this machine that must exist; no drop-ins. */
                r = np_root_new("/", &host);
                if (r >= 0)
                        r = np_conf_file_new(host, path, &main_file);
                if (r < 0)
                        return r;
                s->path = strdup(path);
                if (!s->path)
                        return -ENOMEM;
                r = site_parse_file(s, &main_file, ret_error);
                if (r < 0)
                        return r;
                s->present = true;
                *ret = TAKE_PTR(s);
                return 0;
        }

        r = np_conf_file_new(root, NP_SYSCONFDIR "/nodeprep/nodeprep.conf", &main_file);
        if (r < 0)
                return r;
        s->path = strdup(main_file.shown);
        if (!s->path)
                return -ENOMEM;
        r = np_root_exists(root, main_file.path);
        if (r < 0) {
                *ret_error = strprintf("%s: %s", main_file.shown, strerror(-r));
                return r;
        }
        if (r > 0) {
                r = site_parse_file(s, &main_file, ret_error);
                if (r < 0)
                        return r;
                s->present = true;
        }

        r = np_conf_path_site(root, &cp);
        if (r < 0)
                return r;
        r = np_conf_find(&cp, "nodeprep.conf.d", ".conf", true, &dropins, &n_dropins);
        if (r < 0) {
                *ret_error = strprintf("%s.d: cannot list drop-ins: %s", s->path, strerror(-r));
                return r;
        }
        for (size_t i = 0; r >= 0 && i < n_dropins; i++) {
                r = site_parse_file(s, &dropins[i], ret_error);
                if (r >= 0)
                        r = strv_extend(&s->dropins, dropins[i].shown);
                s->present = true;
        }
        np_conf_files_free(dropins, n_dropins);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}
