/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building json-c objects: add a member or an array element, taking ownership of the value and
 * returning -ENOMEM when json-c cannot allocate; and the _cleanup_ for json_object references.
 * Every JSON producer (report, fix output and journal, Varlink, cli, daemon) uses these.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

/* Add key: v, taking v (NULL, as from a failed json_object_new_*(), is -ENOMEM). */
int json_add(json_object *o, const char *key, json_object *v);
/* Add key: null. */
int json_add_null(json_object *o, const char *key);
/* Add key: the string, or null when value is NULL. */
int json_add_str(json_object *o, const char *key, const char *value);
int json_add_bool(json_object *o, const char *key, bool b);
int json_add_u64(json_object *o, const char *key, uint64_t v);
int json_add_int(json_object *o, const char *key, int64_t v);
/* Add key: an array of the strings (empty for NULL). */
int json_add_strv(json_object *o, const char *key, char *const *l);
/* Append v to array a, taking v (NULL is -ENOMEM). */
int json_array_push(json_object *a, json_object *v);
/* A new array of the strings (empty for NULL); NULL when out of memory. */
json_object *json_strv_new(char *const *l);

/* Run a list of json_add_*() calls, stopping at the first failure. */
#define ADD_ALL(...)                                                            \
        ({                                                                      \
                int _rs_[] = { __VA_ARGS__ };                                   \
                int _r_ = 0;                                                    \
                for (size_t _i_ = 0; _i_ < ELEMENTSOF(_rs_) && _r_ >= 0; _i_++) \
                        _r_ = _rs_[_i_];                                        \
                _r_;                                                            \
        })
