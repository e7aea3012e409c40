/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small Varlink server on sd-event: listening sockets, connections with bounded buffers,
 * one call at a time per connection (replies leave in call order; pipelined calls wait in the
 * input buffer), a method table per interface, org.varlink.service built in.
 *
 * Limits follow systemd's: a message above NP_VARLINK_MESSAGE_MAX closes the connection, so does
 * a protocol error; connections are bounded in total and per UID; a connection that neither
 * sends nor reads for the idle timeout is closed; all I/O is non-blocking, so a slow or stuck
 * peer only ever stalls itself.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "varlink/protocol.h"

typedef struct NpVarlinkServer NpVarlinkServer;
typedef struct NpVarlinkCall NpVarlinkCall;

/*
 * A method handler. It answers with np_varlink_reply()/np_varlink_error() before returning, or
 * takes a reference (np_varlink_call_ref()) and answers later. A negative return without an
 * answer sends the server's internal error with the errno.
 */
typedef int (*NpVarlinkMethodFn)(NpVarlinkCall *call, json_object *parameters, void *userdata);

typedef enum NpVarlinkMethodFlags {
        NP_VARLINK_METHOD_PRIVILEGED = 1 << 0, /* the peer must be root (SO_PEERCRED) */
} NpVarlinkMethodFlags;

typedef struct NpVarlinkMethod {
        const char *name;     /* the member name: "GetReport" */
        NpVarlinkMethodFn fn; /* NULL: declared but not implemented yet (MethodNotImplemented) */
        unsigned flags;
} NpVarlinkMethod;

typedef struct NpVarlinkServerInfo {
        const char *vendor, *product, *version, *url; /* org.varlink.service.GetInfo */
        const char *permission_denied_error; /* default org.varlink.service.PermissionDenied */
        const char *internal_error;          /* sent with {"errno": N} when a handler fails */
} NpVarlinkServerInfo;

typedef struct NpVarlinkLimits {
        unsigned max_connections;         /* in total */
        unsigned max_connections_per_uid; /* root included, as systemd counts */
        uint64_t idle_timeout_usec;       /* 0: never */
        size_t max_output;                /* queued reply bytes before a peer is cut off */
        size_t max_stream_backlog;        /* bytes of earlier "continues" answers a peer may leave
                                           * unread when the next one is due (beyond what the socket
                                           * holds); more, and it is cut off */
} NpVarlinkLimits;

#define NP_VARLINK_LIMITS_DEFAULT                                     \
        ((NpVarlinkLimits){ .max_connections = 4096,                  \
                            .max_connections_per_uid = 1024,          \
                            .idle_timeout_usec = 60ULL * 1000000ULL,  \
                            .max_output = 2 * NP_VARLINK_MESSAGE_MAX, \
                            .max_stream_backlog = 128U * 1024U })

int np_varlink_server_new(sd_event *event, const NpVarlinkServerInfo *info, NpVarlinkServer **ret);
NpVarlinkServer *np_varlink_server_free(NpVarlinkServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpVarlinkServer *, np_varlink_server_free);

void np_varlink_server_set_limits(NpVarlinkServer *s, const NpVarlinkLimits *limits);
/* Register an interface: its description (Varlink IDL, served by GetInterfaceDescription) and
 * its methods. The arrays and strings must outlive the server. */
int np_varlink_server_add_interface(NpVarlinkServer *s, const char *name, const char *description,
                                    const NpVarlinkMethod *methods, size_t n_methods,
                                    void *userdata);
/* Serve on a listening socket (socket activation); the server takes the fd. */
int np_varlink_server_listen_fd(NpVarlinkServer *s, int fd);
/* Bind and listen on a Unix socket path (an existing socket file there is replaced). */
int np_varlink_server_listen_address(NpVarlinkServer *s, const char *path, mode_t mode);
unsigned np_varlink_server_n_connections(const NpVarlinkServer *s);

/* --- inside a method ------------------------------------------------------------------------ */

NpVarlinkCall *np_varlink_call_ref(NpVarlinkCall *c);
NpVarlinkCall *np_varlink_call_unref(NpVarlinkCall *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpVarlinkCall *, np_varlink_call_unref);

const char *np_varlink_call_method(const NpVarlinkCall *c);
unsigned np_varlink_call_flags(const NpVarlinkCall *c); /* NpVarlinkCallFlags */
uid_t np_varlink_call_peer_uid(const NpVarlinkCall *c);
/* The peer went away or the call was answered finally: further answers are dropped. */
bool np_varlink_call_done(const NpVarlinkCall *c);
/* Called once when the peer disconnects while the call is still open (a Watch subscriber). */
void np_varlink_call_set_disconnect(NpVarlinkCall *c, void (*fn)(NpVarlinkCall *c, void *userdata),
                                    void *userdata);

/* Final answer (parameters may be NULL for {}). */
int np_varlink_reply(NpVarlinkCall *c, json_object *parameters);
/* One more answer of a call made with "more" ("continues": true). -EPROTO without "more";
 * -ENOBUFS when the peer left more than max_stream_backlog of the earlier ones unread: it is
 * cut off (a Watch client that stopped reading must not make the daemon grow). */
int np_varlink_notify(NpVarlinkCall *c, json_object *parameters);
/* Answers from parameters already serialised as a JSON object. */
int np_varlink_reply_raw(NpVarlinkCall *c, const char *parameters_json, size_t len, bool continues);
/* The final answer as a whole message made earlier by np_varlink_format_reply_raw() (with its
 * NUL): a reply kept for many calls is sent without being formatted or copied again. */
int np_varlink_reply_message(NpVarlinkCall *c, const char *message, size_t size);
int np_varlink_error(NpVarlinkCall *c, const char *error, json_object *parameters);
int np_varlink_error_invalid_parameter(NpVarlinkCall *c, const char *parameter);
