/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The site file /etc/nodeprep/nodeprep.conf (+ nodeprep.conf.d/ *.conf): see nodeprep.conf(5). */

#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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
                free(v->name);
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
        free(s->daemon.feature_file);
        free(s->daemon.metrics_file);
        np_cluster_settings_done(&s->cluster);
        free(s);
        return NULL;
}

typedef struct SiteParser {
        NpSite *site;
        const char *path;
        char *section;        /* the table's section name ("Endpoint" for [Endpoint db]) */
        char *section_arg;    /* "db" for [Endpoint db] */
        NpOverride *override; /* the [Override] being read */
} SiteParser;

static int site_add_value(NpSite *s, NpSettingId id, NpNamedKind kind, const char *name,
                          const char *value, const char *origin)
{
        NpSettingValue *a = reallocarray(s->settings, s->n_settings + 1, sizeof(NpSettingValue));

        if (!a)
                return -ENOMEM;
        s->settings = a;
        a[s->n_settings] = (NpSettingValue){ .id = id,
                                             .kind = kind,
                                             .name = name ? strdup(name) : NULL,
                                             .value = strdup(value),
                                             .origin = strdup(origin) };
        s->n_settings++;
        if ((name && !a[s->n_settings - 1].name) || !a[s->n_settings - 1].value ||
            !a[s->n_settings - 1].origin)
                return -ENOMEM;
        return 0;
}

static int site_section_site(SiteParser *sp, const char *key, const char *value, const char *origin,
                             char **ret_error)
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
        NpSettingId id = np_setting_from_name(key);
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
        return site_add_value(sp->site, id, 0, NULL, value, origin);
}

/* [Endpoint NAME] Address=HOST:PORT and [Path NAME] Path=/DIR */
static int site_section_named(SiteParser *sp, NpNamedKind kind, const char *expected_key,
                              const char *key, const char *value, const char *origin,
                              char **ret_error)
{
        NpSettings probe;
        int r;

        if (!streq(key, expected_key)) {
                *ret_error = strprintf("unknown key %s= in [%s %s] (expected %s=)", key,
                                       sp->section, sp->section_arg, expected_key);
                return -EINVAL;
        }
        np_settings_init(&probe);
        r = np_settings_set_named(&probe, kind, sp->section_arg, value, origin, ret_error);
        np_settings_done(&probe);
        if (r < 0)
                return r;
        return site_add_value(sp->site, _NP_SETTING_INVALID, kind, sp->section_arg, value, origin);
}

static int site_section_endpoint(SiteParser *sp, const char *key, const char *value,
                                 const char *origin, char **ret_error)
{
        return site_section_named(sp, NP_NAMED_ENDPOINT, "Address", key, value, origin, ret_error);
}

static int site_section_path(SiteParser *sp, const char *key, const char *value, const char *origin,
                             char **ret_error)
{
        return site_section_named(sp, NP_NAMED_PATH, "Path", key, value, origin, ret_error);
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
                        *ret_error =
                            strprintf("Severity=%s: expected required or recommended", value);
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

/* An absolute file path without empty, "." or ".." components, not ending in "/". */
static bool output_path_valid(const char *p)
{
        if (p[0] != '/' || strlen(p) >= PATH_MAX || endswith(p, "/"))
                return false;
        for (const char *c = p + 1; *c;) {
                size_t n = strcspn(c, "/");

                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += n;
                if (*c == '/')
                        c++;
        }
        return true;
}

static int site_section_daemon(SiteParser *sp, const char *key, const char *value,
                               const char *origin, char **ret_error)
{
        static const struct {
                const char *key;
                size_t offset;
                bool timespan;
                uint64_t min, max;
        } keys[] = {
                { "RescanSec", offsetof(NpDaemonSettings, rescan_usec), true, 0, UINT64_MAX },
                { "IdleTimeoutSec", offsetof(NpDaemonSettings, idle_timeout_usec), true, 0,
                  UINT64_MAX },
                { "MaxConnections", offsetof(NpDaemonSettings, max_connections), false, 1, 65536 },
                { "MaxConnectionsPerUser", offsetof(NpDaemonSettings, max_connections_per_user),
                  false, 1, 65536 },
        };
        NpDaemonSettings *d = &sp->site->daemon;

        (void)origin;
        if (streq(key, "FeatureFile") || streq(key, "MetricsFile")) {
                bool metrics = streq(key, "MetricsFile");
                char **dst = metrics ? &d->metrics_file : &d->feature_file;
                const char *base;

                if (value[0] == '\0') { /* empty: off */
                        *dst = mfree(*dst);
                        return 0;
                }
                if (!output_path_valid(value)) {
                        *ret_error = strprintf("%s=%s: expected an absolute path to a file, "
                                               "without \".\" or \"..\" components",
                                               key, value);
                        return -EINVAL;
                }
                base = strrchr(value, '/');
                if (base[1] == '.') {
                        *ret_error =
                            strprintf("%s=%s: %s ignores hidden files", key, value,
                                      metrics ? "node_exporter" : "Node Feature Discovery");
                        return -EINVAL;
                }
                if (metrics && !endswith(value, ".prom")) {
                        *ret_error = strprintf("%s=%s: node_exporter's textfile collector reads "
                                               "only files named *.prom",
                                               key, value);
                        return -EINVAL;
                }
                return free_and_strdup(dst, value);
        }
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                uint64_t v;
                int r;

                if (!streq(key, keys[i].key))
                        continue;
                r = keys[i].timespan ? np_parse_timespan(value, &v) : np_parse_u64(value, &v);
                if (r < 0) {
                        *ret_error = strprintf(
                            "%s=%s: expected %s", key, value,
                            keys[i].timespan ? "a time span such as 1h, 30min or 90s" : "a number");
                        return -EINVAL;
                }
                if (v < keys[i].min || v > keys[i].max) {
                        *ret_error = strprintf("%s=%s: out of range (%" PRIu64 "...%" PRIu64 ")",
                                               key, value, keys[i].min, keys[i].max);
                        return -ERANGE;
                }
                /* infinity means never, as 0 does. */
                *(uint64_t *)((char *)d + keys[i].offset) = v == UINT64_MAX ? 0 : v;
                return 0;
        }
        *ret_error = strprintf("unknown key %s= in [Daemon] (expected RescanSec=, "
                               "IdleTimeoutSec=, MaxConnections=, MaxConnectionsPerUser=, "
                               "FeatureFile=, MetricsFile=)",
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

/* A peer: an IPv4 or IPv6 address, or a DNS name (RFC 1123 labels). */
static bool peer_valid(const char *p)
{
        unsigned char a[16];
        size_t label = 0;

        if (inet_pton(AF_INET, p, a) == 1 || inet_pton(AF_INET6, p, a) == 1)
                return true;
        if (isempty(p) || strlen(p) > 253 || p[0] == '-' || p[0] == '.')
                return false;
        for (const char *c = p; *c; c++) {
                if (*c == '.') {
                        if (label == 0 || c[-1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                      (*c >= '0' && *c <= '9') || *c == '-') ||
                    ++label > 63)
                        return false;
        }
        return label > 0 && !endswith(p, "-");
}

static int site_section_cluster(SiteParser *sp, const char *key, const char *value,
                                const char *origin, char **ret_error)
{
        NpClusterSettings *c = &sp->site->cluster;

        if (streq(key, "Peers")) {
                /* A list; repeatable (drop-ins add); an empty assignment resets it. */
                _cleanup_strv_free_ char **words = NULL;
                int r = strv_split(value, " \t,", &words);

                if (r < 0)
                        return r;
                if (strv_length(words) == 0)
                        c->peers = strv_free(c->peers);
                STRV_FOREACH (w, words) {
                        if (!peer_valid(*w)) {
                                *ret_error = strprintf("Peers=: \"%s\" is neither an IP address "
                                                       "nor a host name",
                                                       *w);
                                return -EINVAL;
                        }
                        r = strv_extend_unique(&c->peers, *w);
                        if (r < 0)
                                return r;
                }
                return free_and_strdup(&c->peers_origin, origin);
        }
        if (streq(key, "PeerTimeout") || streq(key, "PeerInterval")) {
                bool timeout = streq(key, "PeerTimeout");
                uint64_t v;

                /* A timeout of at least 100 ms, at most a minute; an interval of at least 1 s. */
                if (np_parse_timespan(value, &v) < 0 || v == 0 || v == UINT64_MAX ||
                    (timeout && (v < 100000 || v > 60000000)) || (!timeout && v < 1000000)) {
                        *ret_error = strprintf("%s=%s: expected a time span %s", key, value,
                                               timeout ? "from 100ms to 1min, such as 2s"
                                                       : "of at least 1s, such as 60s or 5min");
                        return -EINVAL;
                }
                *(timeout ? &c->peer_timeout_usec : &c->peer_interval_usec) = v;
                return 0;
        }
        *ret_error = strprintf("unknown key %s= in [Cluster] (expected Peers=, PeerTimeout=, "
                               "PeerInterval=)",
                               key);
        return -EINVAL;
}

static const struct {
        const char *name;
        bool named; /* [Name ARG]: one section per ARG */
        int (*handle)(SiteParser *sp, const char *key, const char *value, const char *origin,
                      char **ret_error);
} site_sections[] = {
        { "Site", false, site_section_site },         { "Settings", false, site_section_settings },
        { "Override", false, site_section_override }, { "Endpoint", true, site_section_endpoint },
        { "Path", true, site_section_path },          { "Daemon", false, site_section_daemon },
        { "Apply", false, site_section_apply },       { "Cluster", false, site_section_cluster },
};

static int site_handle(void *userdata, const char *section, const char *key, const char *value,
                       unsigned line, char **ret_error)
{
        SiteParser *sp = userdata;
        _cleanup_free_ char *origin = NULL;

        if (!key) {
                size_t n = strcspn(section, " ");
                const char *arg = section[n] ? section + n + 1 : NULL;

                for (size_t i = 0; i < ELEMENTSOF(site_sections); i++) {
                        if (strlen(site_sections[i].name) != n ||
                            !strneq(section, site_sections[i].name, n))
                                continue;
                        if (site_sections[i].named != !!arg) {
                                *ret_error = site_sections[i].named
                                                 ? strprintf("[%s] needs a name: [%s NAME]",
                                                             section, section)
                                                 : strprintf("[%s] takes no name", section);
                                return -EINVAL;
                        }
                        sp->override = NULL;
                        if (free_and_strdup(&sp->section_arg, arg) < 0)
                                return -ENOMEM;
                        return free_and_strdup(&sp->section, site_sections[i].name);
                }
                *ret_error =
                    strprintf("unknown section [%s] (expected [Site], [Settings], "
                              "[Override], [Daemon], [Apply], [Cluster], [Endpoint NAME] or "
                              "[Path NAME])",
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

static bool is_dev_null(const char *path)
{
        struct stat st;

        return stat(path, &st) >= 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

static int site_parse_file(NpSite *s, const NpConfFile *f, char **ret_error)
{
        _cleanup_free_ char *data = NULL;
        SiteParser sp = { .site = s, .path = f->shown };
        size_t size;
        bool quote;
        int r;

        r = np_conf_file_read(f, &data, &size, &quote);
        if (r < 0) {
                _cleanup_free_ char *why = np_root_read_error(f->root, f->path, r);

                *ret_error = strprintf("cannot read %s", strna(why));
                return r;
        }
        r = np_ini_parse(f->shown, data, size, site_handle, &sp, quote, ret_error);
        free(sp.section);
        free(sp.section_arg);
        return r;
}

int np_site_parse_buffer(const char *name, const char *data, size_t size, NpSite **ret,
                         char **ret_error)
{
        _cleanup_(np_site_freep) NpSite *s = calloc(1, sizeof(NpSite));
        SiteParser sp = { .path = name };
        int r;

        if (!s)
                return -ENOMEM;
        sp.site = s;
        np_cluster_settings_init(&s->cluster);
        s->path = strdup(name);
        s->dropins = calloc(1, sizeof(char *));
        if (!s->path || !s->dropins)
                return -ENOMEM;
        r = np_ini_parse(name, data, size, site_handle, &sp, true, ret_error);
        free(sp.section);
        free(sp.section_arg);
        if (r < 0)
                return r;
        s->present = true;
        *ret = TAKE_PTR(s);
        return 0;
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
        np_cluster_settings_init(&s->cluster);
        s->daemon = (NpDaemonSettings){
                .rescan_usec = NP_DAEMON_RESCAN_USEC_DEFAULT,
                .idle_timeout_usec = NP_DAEMON_IDLE_TIMEOUT_USEC_DEFAULT,
                .max_connections = NP_DAEMON_MAX_CONNECTIONS_DEFAULT,
                .max_connections_per_user = NP_DAEMON_MAX_PER_USER_DEFAULT,
                .feature_file = strdup(NP_DAEMON_FEATURE_FILE_DEFAULT),
        };
        if (!s->daemon.feature_file)
                return -ENOMEM;

        if (path) {
                /* An explicit --config: a file on this machine that must exist; no drop-ins.
                 * /dev/null is how an operator says "no site file": read as an empty one. */
                if (is_dev_null(path)) {
                        s->path = strdup(path);
                        if (!s->path)
                                return -ENOMEM;
                        *ret = TAKE_PTR(s);
                        return 0;
                }
                r = np_root_new("/", &host);
                if (r >= 0)
                        r = np_conf_file_new(host, path, &main_file);
                if (r < 0)
                        return r;
                main_file.named = true;
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
