/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Varlink wire protocol (https://varlink.org, and systemd's implementation): every message is
 * one JSON object followed by a NUL byte. A call has "method", "parameters", "oneway", "more"; a
 * reply has "parameters", "continues", "error". These helpers parse and format single messages;
 * they do no I/O and keep no state, so the server, the client and the fuzzer share them.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"

/* Largest message accepted, as systemd's VARLINK_BUFFER_MAX; a peer sending more is cut off. */
#define NP_VARLINK_MESSAGE_MAX (16U * 1024U * 1024U)

/* The org.varlink.service errors (https://varlink.org/Service) and systemd's two additions. */
#define NP_VARLINK_ERROR_INTERFACE_NOT_FOUND    "org.varlink.service.InterfaceNotFound"
#define NP_VARLINK_ERROR_METHOD_NOT_FOUND       "org.varlink.service.MethodNotFound"
#define NP_VARLINK_ERROR_METHOD_NOT_IMPLEMENTED "org.varlink.service.MethodNotImplemented"
#define NP_VARLINK_ERROR_INVALID_PARAMETER      "org.varlink.service.InvalidParameter"
#define NP_VARLINK_ERROR_PERMISSION_DENIED      "org.varlink.service.PermissionDenied"
#define NP_VARLINK_ERROR_EXPECTED_MORE          "org.varlink.service.ExpectedMore"

typedef enum NpVarlinkCallFlags {
        NP_VARLINK_CALL_ONEWAY = 1 << 0, /* no reply wanted */
        NP_VARLINK_CALL_MORE = 1 << 1,   /* the caller accepts several replies ("continues") */
} NpVarlinkCallFlags;

typedef struct NpVarlinkCallMessage {
        json_object *root;       /* owned: the whole message */
        const char *method;      /* "io.nodeprep.GetReport", points into root */
        json_object *parameters; /* borrowed from root; never NULL (an empty object if absent) */
        unsigned flags;          /* NpVarlinkCallFlags */
} NpVarlinkCallMessage;

typedef struct NpVarlinkReplyMessage {
        json_object *root;       /* owned */
        json_object *parameters; /* borrowed; never NULL */
        const char *error;       /* error name, or NULL for a successful reply */
        bool continues;
} NpVarlinkReplyMessage;

void np_varlink_call_message_done(NpVarlinkCallMessage *m);
void np_varlink_reply_message_done(NpVarlinkReplyMessage *m);

/*
 * Parse one message (the bytes before its NUL). -EBADMSG when it is not a valid call or reply,
 * with *ret_error saying why ("unexpected key \"foo\" in call"): the peer broke the protocol and
 * the connection should be closed, as systemd does.
 */
int np_varlink_parse_call(const char *data, size_t size, NpVarlinkCallMessage *ret,
                          char **ret_error);
int np_varlink_parse_reply(const char *data, size_t size, NpVarlinkReplyMessage *ret,
                           char **ret_error);

/* "interface.Method": interface is a reverse-domain name, Method starts with a capital letter. */
bool np_varlink_method_name_valid(const char *method) _pure_;
bool np_varlink_interface_name_valid(const char *interface) _pure_;

/* Serialise a message including its trailing NUL; *ret_size counts the NUL. */
int np_varlink_format_call(const char *method, json_object *parameters, unsigned flags, char **ret,
                           size_t *ret_size);
int np_varlink_format_reply(json_object *parameters, const char *error, bool continues, char **ret,
                            size_t *ret_size);
/* The same from parameters already serialised as a JSON object (a cached report). */
int np_varlink_format_reply_raw(const char *parameters_json, size_t len, bool continues, char **ret,
                                size_t *ret_size);

/* --- parameters ----------------------------------------------------------------------------- */

typedef enum NpVarlinkFieldType {
        NP_VARLINK_BOOL,   /* bool */
        NP_VARLINK_STRING, /* const char * pointing into the parameters object */
        NP_VARLINK_STRV,   /* char ** (owned, a list of strings) */
        _NP_VARLINK_FIELD_TYPE_MAX,
        _NP_VARLINK_FIELD_TYPE_INVALID = -EINVAL,
} NpVarlinkFieldType;

typedef struct NpVarlinkField {
        const char *name;
        NpVarlinkFieldType type;
        size_t offset; /* into the output structure */
        bool required;
} NpVarlinkField;

/*
 * Read parameters into a structure as a table says. Unknown keys, wrong types and missing
 * required fields fail with -EINVAL and *ret_bad_field naming the parameter, for the
 * org.varlink.service.InvalidParameter error. null counts as absent, as in systemd.
 */
int np_varlink_dispatch(json_object *parameters, const NpVarlinkField *fields, size_t n, void *out,
                        const char **ret_bad_field);
