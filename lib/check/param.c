/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* [Check] parameters: parse, free and compare values by walking a check type's NpParam table. */

#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "util/strv.h"

static void *param_field(const NpCheckDef *def, const NpParam *p)
{
        return (char *)def->params + p->offset;
}

static const NpParam *param_find(const NpCheckType *t, const char *key)
{
        for (size_t i = 0; i < t->n_params; i++)
                if (streq(t->params[i].key, key))
                        return &t->params[i];
        return NULL;
}

int np_check_def_init(NpCheckDef *def, const NpCheckType *type)
{
        def->type = type;
        def->params = NULL;
        if (type->params_size == 0)
                return 0;
        def->params = calloc(1, type->params_size);
        return def->params ? 0 : -ENOMEM;
}

static void param_free(const NpCheckDef *def, const NpParam *p)
{
        void *field = param_field(def, p);

        switch (p->type) {
        case NP_PARAM_STRING:
        case NP_PARAM_ABS_PATH:
                free(*(char **)field);
                *(char **)field = NULL;
                break;
        case NP_PARAM_ARGS:
        case NP_PARAM_NAMES:
        case NP_PARAM_RELPATHS:
                *(char ***)field = strv_free(*(char ***)field);
                break;
        default: /* held in place */
                break;
        }
}

void np_check_def_done(NpCheckDef *def)
{
        free(def->id);
        free(def->instance);
        free(def->title);
        free(def->source);
        free(def->remedy);
        free(def->origin);
        free(def->param_origin);
        free(def->override);
        if (def->params)
                for (size_t i = 0; i < def->type->n_params; i++)
                        param_free(def, &def->type->params[i]);
        free(def->params);
        *def = (NpCheckDef){};
}

/* "886:886" */
static int parse_owner(const char *value, NpParamOwner *ret)
{
        _cleanup_free_ char *uid = strndup(value, strcspn(value, ":"));
        const char *colon = strchr(value, ':');
        uint64_t u, g;

        if (!uid)
                return -ENOMEM;
        if (!colon || np_parse_u64(uid, &u) < 0 || np_parse_u64(colon + 1, &g) < 0 ||
            u >= UINT32_MAX || g >= UINT32_MAX)
                return -EINVAL;
        *ret = (NpParamOwner){ .uid = (uint32_t)u, .gid = (uint32_t)g, .set = true };
        return 0;
}

static bool relpath_valid(const char *p)
{
        _cleanup_strv_free_ char **parts = NULL;

        if (p[0] == '/' || strv_split(p, "/", &parts) < 0)
                return false;
        STRV_FOREACH (c, parts)
                if (streq(*c, "..") || streq(*c, "."))
                        return false;
        return strv_length(parts) > 0;
}

/* Words separated by spaces or tabs, at least one; each a clean relative path if relpaths. */
static int parse_words(const char *value, bool relpaths, char ***field)
{
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = strv_split(value, " \t", &l);
        if (r < 0)
                return r;
        if (strv_length(l) == 0)
                return -EINVAL;
        STRV_FOREACH (w, l)
                if (relpaths && !relpath_valid(*w))
                        return -EINVAL;
        strv_free(*field);
        *field = TAKE_PTR(l);
        return 0;
}

static int param_parse(const NpParam *p, const char *value, void *field)
{
        NpParamU64 *u = field;
        int r;

        switch (p->type) {
        case NP_PARAM_STRING:
                return free_and_strdup(field, value);
        case NP_PARAM_ABS_PATH:
                return value[0] == '/' && !strstr(value, "/../") ? free_and_strdup(field, value)
                                                                 : -EINVAL;
        case NP_PARAM_U64:
        case NP_PARAM_SECONDS:
        case NP_PARAM_SIZE:
                r = p->type == NP_PARAM_SIZE ? np_parse_size(value, &u->value)
                                             : np_parse_u64(value, &u->value);
                if (r >= 0)
                        u->set = true;
                return r;
        case NP_PARAM_VERSION: {
                NpParamVersion *v = field;

                r = np_parse_version(value, &v->value);
                if (r >= 0)
                        v->set = true;
                return r;
        }
        case NP_PARAM_OWNER:
                return parse_owner(value, field);
        case NP_PARAM_BOOL: {
                NpParamBool *b = field;

                r = np_parse_boolean(value, &b->value);
                if (r >= 0)
                        b->set = true;
                return r;
        }
        case NP_PARAM_ARGS:
        case NP_PARAM_NAMES:
        case NP_PARAM_RELPATHS:
                return parse_words(value, p->type == NP_PARAM_RELPATHS, field);
        default:
                return -EINVAL;
        }
}

static char *keys_list(const NpCheckType *t)
{
        _cleanup_strv_free_ char **keys = NULL;

        for (size_t i = 0; i < t->n_params; i++)
                if (strv_extend(&keys, t->params[i].key) < 0)
                        return NULL;
        return strv_join(keys, "=, ");
}

int np_check_def_set_param(NpCheckDef *def, const char *key, const char *value, char **ret_error)
{
        const NpParam *p = param_find(def->type, key);
        int r;

        if (!p) {
                _cleanup_free_ char *list = keys_list(def->type);

                if (def->type->n_params == 0)
                        *ret_error = strprintf("unknown key %s= (check type %s takes only Id=, "
                                               "Title=, Severity=, Source=, Remedy=)",
                                               key, def->type->name);
                else
                        *ret_error = strprintf("unknown key %s= (check type %s takes %s= besides "
                                               "Id=, Title=, Severity=, Source=, Remedy=)",
                                               key, def->type->name, strna(list));
                return -EINVAL;
        }
        /* A value that does not parse leaves the field as it was (a drop-in amends, or fails). */
        r = param_parse(p, value, param_field(def, p));
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_error = strprintf("%s=%s: expected %s", key, value, p->hint);
                return -EINVAL;
        }
        return 0;
}

const void *np_check_def_param(const NpCheckDef *def, const char *key)
{
        const NpParam *p = param_find(def->type, key);

        return p && def->params ? param_field(def, p) : NULL;
}

/* Every word of a is in b. */
static bool strv_subset(char *const *a, char *const *b)
{
        STRV_FOREACH (w, (char **)a)
                if (!strv_contains(b, *w))
                        return false;
        return true;
}

static bool strv_equal(char *const *a, char *const *b)
{
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

static bool version_equal(const NpVersion *a, const NpVersion *b)
{
        /* 1.21 and 1.21.0 differ: as a MaxVersion= the first allows 1.21.5, the second not. */
        return a->major == b->major && a->minor == b->minor && a->patch == b->patch &&
               a->has_minor == b->has_minor && a->has_patch == b->has_patch;
}

static bool param_equal(const NpParam *p, const void *a, const void *b)
{
        switch (p->type) {
        case NP_PARAM_STRING:
        case NP_PARAM_ABS_PATH:
                return streq_ptr(*(char *const *)a, *(char *const *)b);
        case NP_PARAM_U64:
        case NP_PARAM_SECONDS:
        case NP_PARAM_SIZE: {
                const NpParamU64 *x = a, *y = b;

                return x->set == y->set && (!x->set || x->value == y->value);
        }
        case NP_PARAM_VERSION: {
                const NpParamVersion *x = a, *y = b;

                return x->set == y->set && (!x->set || version_equal(&x->value, &y->value));
        }
        case NP_PARAM_OWNER: {
                const NpParamOwner *x = a, *y = b;

                return x->set == y->set && (!x->set || (x->uid == y->uid && x->gid == y->gid));
        }
        case NP_PARAM_BOOL: {
                const NpParamBool *x = a, *y = b;

                return x->set == y->set && (!x->set || x->value == y->value);
        }
        case NP_PARAM_ARGS:
                return strv_equal(*(char **const *)a, *(char **const *)b);
        case NP_PARAM_NAMES:
        case NP_PARAM_RELPATHS: {
                char **x = *(char **const *)a, **y = *(char **const *)b;

                return !x == !y && strv_subset(x, y) && strv_subset(y, x);
        }
        default:
                return false;
        }
}

bool np_check_defs_agree(const NpCheckDef *a, const NpCheckDef *b, const char **ret_key)
{
        if (a->type != b->type) { /* cannot happen for one id; never agree if it did */
                *ret_key = "Id";
                return false;
        }
        for (size_t i = 0; i < a->type->n_params; i++) {
                const NpParam *p = &a->type->params[i];

                if (p->conflict == NP_PARAM_CONFLICT_DIFFERENT &&
                    !param_equal(p, param_field(a, p), param_field(b, p))) {
                        *ret_key = p->key;
                        return false;
                }
        }
        return true;
}
