/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Profile files: lookup by name with systemd's precedence, drop-ins, parsing and validation. */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check/check.h"
#include "config.h"
#include "profile/ini.h"
#include "profile/internal.h"
#include "profile/profile.h"
#include "util/strv.h"

NpProfile *np_profile_free(NpProfile *p)
{
        if (!p)
                return NULL;
        free(p->name);
        free(p->description);
        free(p->documentation);
        free(p->source);
        free(p->path);
        strv_free(p->dropins);
        free(p->min_ready_nodes_origin);
        np_settings_done(&p->settings);
        FOREACH_ARRAY (c, p->checks, p->n_checks)
                np_check_def_done(c);
        free(p->checks);
        free(p);
        return NULL;
}

const NpCheckDef *np_profile_find_check(const NpProfile *p, const char *id)
{
        FOREACH_ARRAY (c, p->checks, p->n_checks)
                if (streq(c->id, id))
                        return c;
        return NULL;
}

static int verify_check_id(const char *id, const NpCheckType **ret_type, char **ret_instance,
                           char **ret_error)
{
        _cleanup_free_ char *type_name = NULL, *instance = NULL;
        const char *colon = strchr(id, ':');
        const NpCheckType *t;
        int r;

        type_name = colon ? strndup(id, (size_t)(colon - id)) : strdup(id);
        if (!type_name)
                return -ENOMEM;
        t = np_check_type_find(type_name);
        if (!t) {
                *ret_error = strprintf("Id=%s: unknown check type \"%s\" (see nodeprep.profile(5) "
                                       "for the list)",
                                       id, type_name);
                return -EINVAL;
        }
        if (t->instance && (!colon || colon[1] == '\0')) {
                *ret_error = strprintf("Id=%s: check type %s needs %s: %s:INSTANCE", id, t->name,
                                       t->what, t->name);
                return -EINVAL;
        }
        if (!t->instance && colon) {
                *ret_error = strprintf("Id=%s: check type %s takes no \":INSTANCE\"", id, t->name);
                return -EINVAL;
        }
        if (colon) {
                instance = strdup(colon + 1);
                if (!instance)
                        return -ENOMEM;
                if (t->verify_instance) {
                        _cleanup_free_ char *why = NULL;

                        r = t->verify_instance(instance, &why);
                        if (r < 0) {
                                *ret_error = strprintf("Id=%s: %s", id, why ? why : "bad instance");
                                return r;
                        }
                }
        }
        *ret_type = t;
        *ret_instance = TAKE_PTR(instance);
        return 0;
}

typedef struct ProfileParser {
        NpProfile *profile;
        char *section;
        NpCheckDef *check; /* the [Check] being read, NULL until its Id= */
        const char *path;
} ProfileParser;

static int profile_add_check(NpProfile *p, const char *id, const char *origin, NpCheckDef **ret,
                             char **ret_error)
{
        _cleanup_free_ char *instance = NULL;
        const NpCheckType *type;
        NpCheckDef *a, *c;
        int r;

        FOREACH_ARRAY (e, p->checks, p->n_checks)
                if (streq(e->id, id)) {
                        *ret = e; /* a later file amends an earlier one */
                        return 0;
                }

        r = verify_check_id(id, &type, &instance, ret_error);
        if (r < 0)
                return r;
        a = reallocarray(p->checks, p->n_checks + 1, sizeof(NpCheckDef));
        if (!a)
                return -ENOMEM;
        p->checks = a;
        c = &p->checks[p->n_checks];
        *c = (NpCheckDef){
                .severity = NP_SEVERITY_REQUIRED,
                .instance = TAKE_PTR(instance),
                .id = strdup(id),
                .origin = strdup(origin),
        };
        p->n_checks++;
        r = np_check_def_init(c, type);
        if (r < 0 || !c->id || !c->origin)
                return -ENOMEM;
        *ret = c;
        return 0;
}

static int profile_handle(void *userdata, const char *section, const char *key, const char *value,
                          unsigned line, char **ret_error)
{
        ProfileParser *pp = userdata;
        NpProfile *p = pp->profile;
        _cleanup_free_ char *origin = NULL;
        int r;

        if (!key) {
                if (!STR_IN_SET(section, "Profile", "Settings", "Check")) {
                        *ret_error = strprintf("unknown section [%s] (expected [Profile], "
                                               "[Settings] or [Check])",
                                               section);
                        return -EINVAL;
                }
                pp->check = NULL;
                return free_and_strdup(&pp->section, section);
        }
        if (!pp->section) {
                *ret_error = strprintf("%s= outside of a section", key);
                return -EINVAL;
        }
        origin = strprintf("%s:%u", pp->path, line);
        if (!origin)
                return -ENOMEM;

        if (streq(pp->section, "Profile") && streq(key, "MinReadyNodes")) {
                if (np_parse_u64(value, &p->min_ready_nodes) < 0 || p->min_ready_nodes == 0 ||
                    p->min_ready_nodes > 100000) {
                        *ret_error = strprintf("MinReadyNodes=%s: expected a number of workers "
                                               "from 1 to 100000",
                                               value);
                        return -EINVAL;
                }
                return free_and_strdup(&p->min_ready_nodes_origin, origin);
        }
        if (streq(pp->section, "Profile")) {
                char **field = streq(key, "Description")     ? &p->description
                               : streq(key, "Documentation") ? &p->documentation
                               : streq(key, "Source")        ? &p->source
                                                             : NULL;
                if (!field) {
                        *ret_error = strprintf("unknown key %s= in [Profile] (expected "
                                               "Description=, Documentation=, Source=, "
                                               "MinReadyNodes=)",
                                               key);
                        return -EINVAL;
                }
                return free_and_strdup(field, value);
        }

        if (streq(pp->section, "Settings")) {
                NpSettingId id = np_setting_from_name(key);

                if (id < 0) {
                        *ret_error = strprintf("unknown setting %s= in [Settings]", key);
                        return -EINVAL;
                }
                return np_settings_set(&p->settings, id, value, origin, ret_error);
        }

        /* [Check] */
        if (streq(key, "Id")) {
                if (pp->check) {
                        *ret_error = strprintf("Id= given twice in one [Check] section (start a "
                                               "new [Check] for %s)",
                                               value);
                        return -EINVAL;
                }
                return profile_add_check(p, value, origin, &pp->check, ret_error);
        }
        if (!pp->check) {
                *ret_error = strprintf("%s= before Id=: Id= must be the first key of a [Check] "
                                       "section",
                                       key);
                return -EINVAL;
        }
        if (streq(key, "Title"))
                return free_and_strdup(&pp->check->title, value);
        if (streq(key, "Source"))
                return free_and_strdup(&pp->check->source, value);
        if (streq(key, "Remedy"))
                return free_and_strdup(&pp->check->remedy, value);
        if (streq(key, "Severity")) {
                NpSeverity s = np_severity_from_string(value);

                if (s < 0) {
                        *ret_error =
                            strprintf("Severity=%s: expected required or recommended", value);
                        return -EINVAL;
                }
                pp->check->severity = s;
                return 0;
        }
        r = np_check_def_set_param(pp->check, key, value, ret_error);
        if (r < 0)
                return r;
        return free_and_strdup(&pp->check->param_origin, origin);
}

static int profile_parse_data(NpProfile *p, const char *shown, const char *data, size_t size,
                              bool quote, char **ret_error)
{
        ProfileParser pp = { .profile = p, .path = shown };
        int r;

        r = np_ini_parse(shown, data, size, profile_handle, &pp, quote, ret_error);
        free(pp.section);
        return r;
}

static int profile_parse_file(NpProfile *p, const NpConfFile *f, bool *quote, char **ret_error)
{
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = np_conf_file_read(f, &data, &size, quote);
        if (r < 0) {
                _cleanup_free_ char *why = np_root_read_error(f->root, f->path, r);

                *ret_error = strprintf("cannot read %s", strna(why));
                return r;
        }
        return profile_parse_data(p, f->shown, data, size, *quote, ret_error);
}

static int profile_verify(NpProfile *p, char **ret_error);

static int profile_load_file(const char *name, const NpConfFile *main_file,
                             const NpConfFile *dropins, size_t n_dropins, NpProfile **ret,
                             char **ret_error)
{
        _cleanup_(np_profile_freep) NpProfile *p = NULL;
        bool quote = true;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        np_settings_init(&p->settings);
        p->name = strdup(name);
        p->path = strdup(main_file->shown);
        p->dropins = calloc(1, sizeof(char *));
        if (!p->name || !p->path || !p->dropins)
                return -ENOMEM;

        r = profile_parse_file(p, main_file, &quote, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_dropins; i++) {
                bool q;

                r = profile_parse_file(p, &dropins[i], &q, ret_error);
                if (r < 0)
                        return r;
                r = strv_extend(&p->dropins, dropins[i].shown);
                if (r < 0)
                        return r;
        }

        r = profile_verify(p, ret_error);
        if (r < 0 && !quote && *ret_error) {
                /* The problem may quote a value of a file the caller could not read. */
                free(*ret_error);
                *ret_error = strprintf("%s: not a valid profile (details not shown: it is not "
                                       "readable by everyone)",
                                       main_file->shown);
                return *ret_error ? r : -ENOMEM;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

/* After every file is read: each check complete and consistent, defaults filled in. */
static int profile_verify(NpProfile *p, char **ret_error)
{
        int r;

        FOREACH_ARRAY (c, p->checks, p->n_checks) {
                _cleanup_free_ char *why = NULL;

                if (c->type->verify) {
                        r = c->type->verify(c, &why);
                        if (r < 0) {
                                *ret_error =
                                    strprintf("%s: [Check] Id=%s: %s",
                                              c->param_origin ? c->param_origin : c->origin, c->id,
                                              why ? why : "invalid");
                                return r;
                        }
                }
                if (!c->title && !(c->title = strdup(c->type->default_title)))
                        return -ENOMEM;
        }
        if (p->n_checks == 0) {
                *ret_error = strprintf("%s: profile defines no [Check]", p->path);
                return -EINVAL;
        }
        return 0;
}

int np_profile_parse_buffer(const char *name, const char *data, size_t size, NpProfile **ret,
                            char **ret_error)
{
        _cleanup_(np_profile_freep) NpProfile *p = calloc(1, sizeof(NpProfile));
        int r;

        if (!p)
                return -ENOMEM;
        np_settings_init(&p->settings);
        p->name = strdup(name);
        p->path = strdup(name);
        p->dropins = calloc(1, sizeof(char *));
        if (!p->name || !p->path || !p->dropins)
                return -ENOMEM;
        r = profile_parse_data(p, name, data, size, true, ret_error);
        if (r >= 0)
                r = profile_verify(p, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

static bool profile_arg_is_path(const char *arg)
{
        return strchr(arg, '/') || endswith(arg, ".conf");
}

static bool profile_name_valid(const char *name)
{
        return str_is_name(name, ".") && strlen(name) <= 64 && name[0] != '.';
}

/*
 * A profile given as a path, no drop-ins: on the command line a file on this machine; named in a
 * site file (in_root) an absolute path resolved inside the root, as every path a tree names.
 */
static int profile_load_path(const NpRoot *root, const char *arg, bool in_root, NpProfile **ret,
                             char **ret_error)
{
        _cleanup_(np_root_freep) NpRoot *host = NULL;
        _cleanup_(np_conf_file_done) NpConfFile f = {};
        _cleanup_free_ char *base = NULL, *abs = NULL;
        const char *e;
        int r;

        if (in_root) {
                if (arg[0] != '/') {
                        *ret_error = strprintf("Profiles=%s: a profile path in a site file must "
                                               "be absolute",
                                               arg);
                        return -EINVAL;
                }
                r = np_conf_file_new(root, arg, &f);
                if (r < 0)
                        return r;
                r = np_root_exists(root, arg);
                if (r <= 0) {
                        *ret_error = strprintf("%s: %s", f.shown, strerror(r == 0 ? ENOENT : -r));
                        return r == 0 ? -ENOENT : r;
                }
        } else {
                abs = realpath(arg, NULL);
                if (!abs) {
                        *ret_error = strprintf("%s: %s", arg, strerror(errno));
                        return errno == ENOENT ? -ENOENT : -errno;
                }
                r = np_root_new("/", &host);
                if (r >= 0)
                        r = np_conf_file_new(host, abs, &f);
                if (r < 0)
                        return r;
        }
        f.named = true;
        base = strdup(f.name);
        if (!base)
                return -ENOMEM;
        e = endswith(base, ".conf");
        if (e)
                base[e - base] = '\0';
        return profile_load_file(base, &f, NULL, 0, ret, ret_error);
}

int np_profile_load(const NpRoot *root, const char *arg, bool path_in_root, NpProfile **ret,
                    char **ret_error)
{
        _cleanup_(np_conf_path_done) NpConfPath cp = {};
        _cleanup_free_ char *file = NULL, *dropin_dir = NULL, *searched = NULL;
        int r;

        if (profile_arg_is_path(arg))
                return profile_load_path(root, arg, path_in_root, ret, ret_error);
        if (!profile_name_valid(arg)) {
                *ret_error = strprintf("\"%s\" is not a valid profile name", arg);
                return -ENOENT;
        }
        r = np_conf_path_profiles(root, &cp);
        if (r < 0)
                return r;
        file = strprintf("%s.conf", arg);
        dropin_dir = strprintf("%s.conf.d", arg);
        if (!file || !dropin_dir)
                return -ENOMEM;
        for (size_t d = 0; d < cp.n; d++) {
                _cleanup_(np_conf_file_done) NpConfFile f = {};
                _cleanup_free_ char *path = strprintf("%s/%s", cp.dirs[d].path, file);
                NpConfFile *dropins = NULL;
                size_t n_dropins = 0;

                if (!path)
                        return -ENOMEM;
                r = np_conf_file_new(cp.dirs[d].root, path, &f);
                if (r < 0)
                        return r;
                r = np_conf_masked(f.root, f.path);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret_error =
                            strprintf("profile %s is masked (%s -> /dev/null)", arg, f.shown);
                        return -ENOENT;
                }
                r = np_root_exists(f.root, f.path);
                if (r < 0) {
                        *ret_error = strprintf("%s: %s", f.shown, strerror(-r));
                        return r;
                }
                if (r == 0)
                        continue;
                r = np_conf_find(&cp, dropin_dir, ".conf", true, &dropins, &n_dropins);
                if (r < 0) {
                        *ret_error = strprintf("%s: cannot list drop-ins: %s", arg, strerror(-r));
                        return r;
                }
                r = profile_load_file(arg, &f, dropins, n_dropins, ret, ret_error);
                np_conf_files_free(dropins, n_dropins);
                return r;
        }
        searched = np_conf_path_to_string(&cp);
        *ret_error = strprintf("no profile named \"%s\" (looked in %s)", arg, strna(searched));
        return -ENOENT;
}

void np_profile_info_free_many(NpProfileInfo *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(p[i].name);
                free(p[i].path);
                strv_free(p[i].dropins);
                free(p[i].description);
                free(p[i].shadows);
                free(p[i].error);
                np_profile_free(p[i].profile);
        }
        free(p);
}

static int profile_info_fill(const NpRoot *root, const NpConfFile *f, NpProfileInfo *info)
{
        _cleanup_(np_profile_freep) NpProfile *p = NULL;
        char *err = NULL;
        const char *e = endswith(f->name, ".conf");
        int r;

        info->name = strndup(f->name, (size_t)(e - f->name));
        if (!info->name)
                return -ENOMEM;
        if (f->shadows && !(info->shadows = strdup(f->shadows)))
                return -ENOMEM;
        r = np_profile_load(root, info->name, false, &p, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                info->error = err ? err : strdup(strerror(-r));
                return info->error ? 0 : -ENOMEM;
        }
        info->path = strdup(p->path);
        info->dropins = strv_copy(p->dropins);
        info->description = p->description ? strdup(p->description) : NULL;
        if (!info->path || !info->dropins || (p->description && !info->description))
                return -ENOMEM;
        info->profile = TAKE_PTR(p);
        return 0;
}

int np_profile_list(const NpRoot *root, NpProfileInfo **ret, size_t *ret_n)
{
        _cleanup_(np_conf_path_done) NpConfPath cp = {};
        NpConfFile *found = NULL;
        NpProfileInfo *infos;
        size_t n = 0;
        int r;

        r = np_conf_path_profiles(root, &cp);
        if (r < 0)
                return r;
        r = np_conf_find(&cp, NULL, ".conf", false, &found, &n);
        if (r < 0)
                return r;
        infos = calloc(n + 1, sizeof(NpProfileInfo));
        if (!infos) {
                np_conf_files_free(found, n);
                return -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = profile_info_fill(root, &found[i], &infos[i]);
        np_conf_files_free(found, n);
        if (r < 0) {
                np_profile_info_free_many(infos, n);
                return r;
        }
        *ret = infos;
        *ret_n = n;
        return 0;
}
