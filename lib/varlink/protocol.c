/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Varlink messages: parse and format single NUL-terminated JSON objects (see protocol.h). */

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/compat.h"
#include "util/json-util.h"
#include "util/strv.h"
#include "varlink/protocol.h"

void np_varlink_call_message_done(NpVarlinkCallMessage *m)
{
        json_object_put(m->root);
        *m = (NpVarlinkCallMessage){};
}

void np_varlink_reply_message_done(NpVarlinkReplyMessage *m)
{
        json_object_put(m->root);
        *m = (NpVarlinkReplyMessage){};
}

/* One JSON object, nothing but whitespace after it, valid UTF-8. */
static int parse_object(const char *data, size_t size, json_object **ret, char **ret_error)
{
        json_tokener *tok;
        json_object *o;
        size_t end;

        if (size > INT_MAX) {
                *ret_error = strdup("message too large");
                return -EBADMSG;
        }
        if (!NP_JSON_TOKENER_VALIDATES_UTF8 && !utf8_is_valid(data, size)) {
                *ret_error = strdup("invalid JSON: invalid utf-8 string"); /* json-c's words */
                return -EBADMSG;
        }
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, data, (int)size);
        if (!o) {
                enum json_tokener_error e = json_tokener_get_error(tok);

                *ret_error =
                    strprintf("invalid JSON: %s", e == json_tokener_continue
                                                      ? "message ends in the middle of a value"
                                                      : json_tokener_error_desc(e));
                json_tokener_free(tok);
                return -EBADMSG;
        }
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        for (; end < size; end++)
                if (!strchr(" \t\r\n", data[end])) {
                        json_object_put(o);
                        *ret_error = strdup("invalid JSON: data after the object");
                        return -EBADMSG;
                }
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                *ret_error = strdup("message is not a JSON object");
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

static _printf_(2, 3) int bad(char **ret_error, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        *ret_error = strvprintf(fmt, ap);
        va_end(ap);
        return -EBADMSG;
}

static bool is_bool(json_object *v)
{
        return json_object_is_type(v, json_type_boolean);
}

int np_varlink_parse_call(const char *data, size_t size, NpVarlinkCallMessage *ret,
                          char **ret_error)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        NpVarlinkCallMessage m = {};
        int r;

        r = parse_object(data, size, &o, ret_error);
        if (r < 0)
                return r;
        json_object_object_foreach (o, key, value) {
                if (streq(key, "method")) {
                        if (!json_object_is_type(value, json_type_string))
                                return bad(ret_error, "\"%s\" is not a string", key);
                        m.method = json_object_get_string(value);
                } else if (streq(key, "parameters")) {
                        /* null is accepted as "no parameters", as systemd does. */
                        if (value && !json_object_is_type(value, json_type_object))
                                return bad(ret_error, "\"%s\" is not an object", key);
                        m.parameters = value;
                } else if (streq(key, "oneway") || streq(key, "more")) {
                        unsigned flag =
                            streq(key, "oneway") ? NP_VARLINK_CALL_ONEWAY : NP_VARLINK_CALL_MORE;

                        if (value && !is_bool(value))
                                return bad(ret_error, "\"%s\" is not a boolean", key);
                        if (value && json_object_get_boolean(value))
                                m.flags |= flag;
                } else
                        /* "upgrade" included: we cannot hand the connection over. */
                        return bad(ret_error, "unexpected key \"%s\" in a call", key);
        }
        if (!m.method)
                return bad(ret_error, "%s", "call without \"method\"");
        if (!np_varlink_method_name_valid(m.method))
                return bad(ret_error, "\"%s\" is not a valid method name", m.method);
        if ((m.flags & NP_VARLINK_CALL_ONEWAY) && (m.flags & NP_VARLINK_CALL_MORE))
                return bad(ret_error, "%s", "\"oneway\" and \"more\" in the same call");
        if (!m.parameters) {
                m.parameters = json_object_new_object();
                if (!m.parameters || json_object_object_add(o, "parameters", m.parameters) < 0)
                        return -ENOMEM;
        }
        m.root = TAKE_PTR(o);
        *ret = m;
        return 0;
}

int np_varlink_parse_reply(const char *data, size_t size, NpVarlinkReplyMessage *ret,
                           char **ret_error)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        NpVarlinkReplyMessage m = {};
        int r;

        r = parse_object(data, size, &o, ret_error);
        if (r < 0)
                return r;
        json_object_object_foreach (o, key, value) {
                if (streq(key, "error")) {
                        if (!json_object_is_type(value, json_type_string))
                                return bad(ret_error, "\"%s\" is not a string", key);
                        m.error = json_object_get_string(value);
                } else if (streq(key, "parameters")) {
                        if (value && !json_object_is_type(value, json_type_object))
                                return bad(ret_error, "\"%s\" is not an object", key);
                        m.parameters = value;
                } else if (streq(key, "continues")) {
                        if (value && !is_bool(value))
                                return bad(ret_error, "\"%s\" is not a boolean", key);
                        m.continues = value && json_object_get_boolean(value);
                }
                /* Other keys are ignored: replies may grow fields (the spec's "upgraded"). */
        }
        if (m.error && m.continues)
                return bad(ret_error, "%s", "an error reply with \"continues\"");
        if (!m.parameters) {
                m.parameters = json_object_new_object();
                if (!m.parameters || json_object_object_add(o, "parameters", m.parameters) < 0)
                        return -ENOMEM;
        }
        m.root = TAKE_PTR(o);
        *ret = m;
        return 0;
}

/* A reverse-domain name: dot-separated labels of [a-zA-Z0-9-], at least two, none empty,
 * a label neither starting nor ending with '-', the first starting with a letter. */
bool np_varlink_interface_name_valid(const char *s)
{
        size_t label = 0, labels = 1;

        if (isempty(s) || !isalpha((unsigned char)s[0]))
                return false;
        for (const char *p = s; *p; p++) {
                if (*p == '.') {
                        if (label == 0 || p[-1] == '-')
                                return false;
                        label = 0;
                        labels++;
                        continue;
                }
                if (!isalnum((unsigned char)*p) && *p != '-')
                        return false;
                if (*p == '-' && label == 0)
                        return false;
                label++;
        }
        return label > 0 && labels >= 2 && s[strlen(s) - 1] != '-';
}

bool np_varlink_method_name_valid(const char *s)
{
        const char *dot = s ? strrchr(s, '.') : NULL;
        _cleanup_free_ char *iface = NULL;

        if (!dot || !isupper((unsigned char)dot[1]))
                return false;
        for (const char *p = dot + 1; *p; p++)
                if (!isalnum((unsigned char)*p))
                        return false;
        iface = strndup(s, (size_t)(dot - s));
        return iface && np_varlink_interface_name_valid(iface);
}

/* Serialise o plus a NUL into a new buffer. */
static int finish(json_object *o, char **ret, size_t *ret_size)
{
        size_t len;
        const char *s = json_object_to_json_string_length(
            o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        char *buf;

        if (!s)
                return -ENOMEM;
        buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, s, len);
        buf[len] = '\0';
        *ret = buf;
        *ret_size = len + 1;
        return 0;
}

int np_varlink_format_call(const char *method, json_object *parameters, unsigned flags, char **ret,
                           size_t *ret_size)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        int r;

        if (!o)
                return -ENOMEM;
        r = json_add(o, "method", json_object_new_string(method));
        if (r >= 0)
                r = json_add(o, "parameters",
                             parameters ? json_object_get(parameters) : json_object_new_object());
        if (r >= 0 && (flags & NP_VARLINK_CALL_ONEWAY))
                r = json_add(o, "oneway", json_object_new_boolean(true));
        if (r >= 0 && (flags & NP_VARLINK_CALL_MORE))
                r = json_add(o, "more", json_object_new_boolean(true));
        if (r < 0)
                return r;
        return finish(o, ret, ret_size);
}

int np_varlink_format_reply(json_object *parameters, const char *error, bool continues, char **ret,
                            size_t *ret_size)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        int r = 0;

        if (!o)
                return -ENOMEM;
        if (error)
                r = json_add(o, "error", json_object_new_string(error));
        if (r >= 0)
                r = json_add(o, "parameters",
                             parameters ? json_object_get(parameters) : json_object_new_object());
        if (r >= 0 && continues)
                r = json_add(o, "continues", json_object_new_boolean(true));
        if (r < 0)
                return r;
        return finish(o, ret, ret_size);
}

int np_varlink_format_reply_raw(const char *parameters_json, size_t len, bool continues, char **ret,
                                size_t *ret_size)
{
        static const char head[] = "{\"parameters\":", tail_more[] = ",\"continues\":true}";
        size_t tail = continues ? sizeof(tail_more) - 1 : 1;
        size_t n = sizeof(head) - 1 + len + tail + 1;
        char *buf = malloc(n), *p;

        if (!buf)
                return -ENOMEM;
        p = mempcpy(buf, head, sizeof(head) - 1);
        p = mempcpy(p, parameters_json, len);
        p = continues ? mempcpy(p, tail_more, tail) : mempcpy(p, "}", 1);
        *p = '\0';
        *ret = buf;
        *ret_size = n;
        return 0;
}

static bool field_type_ok(json_object *v, NpVarlinkFieldType t)
{
        switch (t) {
        case NP_VARLINK_BOOL:
                return json_object_is_type(v, json_type_boolean);
        case NP_VARLINK_STRING:
                return json_object_is_type(v, json_type_string);
        case NP_VARLINK_STRV:
                if (!json_object_is_type(v, json_type_array))
                        return false;
                for (size_t i = 0; i < json_object_array_length(v); i++)
                        if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
                                return false;
                return true;
        default:
                return false;
        }
}

int np_varlink_dispatch(json_object *parameters, const NpVarlinkField *fields, size_t n, void *out,
                        const char **ret_bad_field)
{
        json_object_object_foreach (parameters, key, value) {
                const NpVarlinkField *f = NULL;

                for (size_t i = 0; i < n && !f; i++)
                        if (streq(fields[i].name, key))
                                f = &fields[i];
                if (!f || (value && !field_type_ok(value, f->type))) {
                        /* key is owned by parameters, which outlives this call's reply. */
                        *ret_bad_field = key;
                        return -EINVAL;
                }
        }
        for (size_t i = 0; i < n; i++) {
                const NpVarlinkField *f = &fields[i];
                json_object *v = json_object_object_get(parameters, f->name);
                void *p = (char *)out + f->offset;

                if (!v) {
                        if (f->required) {
                                *ret_bad_field = f->name;
                                return -EINVAL;
                        }
                        continue;
                }
                switch (f->type) {
                case NP_VARLINK_BOOL:
                        *(bool *)p = json_object_get_boolean(v);
                        break;
                case NP_VARLINK_STRING:
                        *(const char **)p = json_object_get_string(v);
                        break;
                case NP_VARLINK_STRV: {
                        char **l = calloc(json_object_array_length(v) + 1, sizeof(char *));

                        if (!l)
                                return -ENOMEM;
                        for (size_t k = 0; k < json_object_array_length(v); k++) {
                                l[k] =
                                    strdup(json_object_get_string(json_object_array_get_idx(v, k)));
                                if (!l[k]) {
                                        strv_free(l);
                                        return -ENOMEM;
                                }
                        }
                        strv_free(*(char ***)p);
                        *(char ***)p = l;
                        break;
                }
                default:
                        return -EINVAL;
                }
        }
        return 0;
}
