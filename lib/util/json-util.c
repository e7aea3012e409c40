/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building json-c objects with ownership and -ENOMEM handled in one place (see json-util.h). */

#include "util/json-util.h"
#include "util/compat.h"
#include "util/strv.h"

int json_add(json_object *o, const char *key, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

int json_add_null(json_object *o, const char *key)
{
        return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
}

int json_add_str(json_object *o, const char *key, const char *value)
{
        return value ? json_add(o, key, json_object_new_string(value)) : json_add_null(o, key);
}

int json_add_bool(json_object *o, const char *key, bool b)
{
        return json_add(o, key, json_object_new_boolean(b));
}

int json_add_u64(json_object *o, const char *key, uint64_t v)
{
        return json_add(o, key, json_object_new_uint64(v));
}

int json_add_int(json_object *o, const char *key, int64_t v)
{
        return json_add(o, key, json_object_new_int64(v));
}

int json_array_push(json_object *a, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

json_object *json_strv_new(char *const *l)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        STRV_FOREACH (s, (char **)l)
                if (json_array_push(a, json_object_new_string(*s)) < 0)
                        return NULL;
        return TAKE_PTR(a);
}

int json_add_strv(json_object *o, const char *key, char *const *l)
{
        return json_add(o, key, json_strv_new(l));
}
