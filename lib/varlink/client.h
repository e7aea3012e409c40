/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A blocking Varlink client for command-line tools and tests: connect to a Unix socket, send a
 * call, read its replies (one, or a stream with "more"), each read bounded by a timeout.
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "varlink/protocol.h"

typedef struct NpVarlinkClient NpVarlinkClient;

/* -ENOENT / -ECONNREFUSED when nobody listens at path. */
int np_varlink_client_connect(const char *path, NpVarlinkClient **ret);
NpVarlinkClient *np_varlink_client_free(NpVarlinkClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpVarlinkClient *, np_varlink_client_free);

int np_varlink_client_fd(const NpVarlinkClient *c);
int np_varlink_client_send(NpVarlinkClient *c, const char *method, json_object *parameters,
                           unsigned flags);
/*
 * Read the next reply. timeout_usec UINT64_MAX waits forever. -ETIMEDOUT, -ECONNRESET when the
 * server hung up, -EBADMSG (with *ret_error) when it broke the protocol.
 */
int np_varlink_client_read(NpVarlinkClient *c, uint64_t timeout_usec, NpVarlinkReplyMessage *ret,
                           char **ret_error);
/* send + read for a call answered once. */
int np_varlink_client_call(NpVarlinkClient *c, const char *method, json_object *parameters,
                           uint64_t timeout_usec, NpVarlinkReplyMessage *ret, char **ret_error);
