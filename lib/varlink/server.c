/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Varlink server: listeners, connections, dispatch to method tables (see server.h). */

#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "util/compat.h"
#include "util/strv.h"
#include "varlink/server.h"

/* Replies queued beyond this stop the reading of further calls until the peer catches up. */
#define OUTPUT_HIGH_WATER (64U * 1024U)
/* While a call is open, read at most this much ahead (pipelined calls, or a hang-up). */
#define INPUT_AHEAD_MAX (64U * 1024U)
#define BUFFER_MIN      4096U
/* Buffers larger than this are given back to the kernel as soon as they are not needed. */
#define BUFFER_KEEP_MAX (64U * 1024U)

static const char org_varlink_service_description[] =
    "# The Varlink service interface, provided by every Varlink service: it describes the\n"
    "# service and the interfaces it implements (https://varlink.org/Service).\n"
    "interface org.varlink.service\n"
    "\n"
    "# Get a list of all the interfaces a service provides and information about the\n"
    "# implementation.\n"
    "method GetInfo() -> (\n"
    "  # who makes the service\n"
    "  vendor: string,\n"
    "  # the program that implements it\n"
    "  product: string,\n"
    "  # its version\n"
    "  version: string,\n"
    "  # where to read more about it\n"
    "  url: string,\n"
    "  # every interface the service implements\n"
    "  interfaces: []string\n"
    ")\n"
    "\n"
    "# Get the description of an interface that is implemented by this service.\n"
    "method GetInterfaceDescription(\n"
    "  # the interface's name\n"
    "  interface: string\n"
    ") -> (\n"
    "  # the interface in the Varlink interface definition language\n"
    "  description: string\n"
    ")\n"
    "\n"
    "# The requested interface was not found.\n"
    "error InterfaceNotFound (interface: string)\n"
    "\n"
    "# The requested method was not found.\n"
    "error MethodNotFound (method: string)\n"
    "\n"
    "# The implementation does not implement the requested method.\n"
    "error MethodNotImplemented (method: string)\n"
    "\n"
    "# One of the passed parameters is invalid.\n"
    "error InvalidParameter (parameter: string)\n"
    "\n"
    "# Client is denied access.\n"
    "error PermissionDenied ()\n"
    "\n"
    "# Method is expected to be called with 'more' set to true, but wasn't.\n"
    "error ExpectedMore ()\n";

typedef struct Interface {
        const char *name;
        const char *description;
        const NpVarlinkMethod *methods;
        size_t n_methods;
        void *userdata;
} Interface;

typedef struct Listener {
        NpVarlinkServer *server;
        int fd;
        sd_event_source *source;
} Listener;

typedef struct Connection Connection;

struct NpVarlinkCall {
        unsigned n_ref;
        Connection *conn; /* NULL once the connection is gone */
        char *method;
        unsigned flags;
        bool replied; /* the final answer went out */
        void (*disconnect)(NpVarlinkCall *c, void *userdata);
        void *disconnect_userdata;
};

struct Connection {
        NpVarlinkServer *server;
        Connection *prev, *next;
        int fd;
        uid_t uid;
        sd_event_source *io, *timer, *defer;
        uint32_t io_events; /* what c->io waits for (edge-triggered) */
        bool timer_on;

        char *in;
        size_t in_size, in_used;
        char *out;
        size_t out_size, out_start, out_end;

        NpVarlinkCall *current; /* the call being answered; later calls wait in `in` */
        bool read_eof;
        bool dead;       /* close at the next opportunity */
        bool processing; /* inside conn_process(): answers are flushed by it */
        uint64_t last_activity;
};

struct NpVarlinkServer {
        sd_event *event;
        NpVarlinkServerInfo info;
        NpVarlinkLimits limits;
        Interface *interfaces;
        size_t n_interfaces;
        Listener *listeners;
        size_t n_listeners;
        Connection *connections;
        unsigned n_connections;
        unsigned peak_connections;     /* since the last malloc_trim() */
        sd_event_source *accept_retry; /* listeners paused after EMFILE */
        bool accept_paused;
};

static void conn_update(Connection *c);
static void conn_schedule(Connection *c);

/* --- calls ---------------------------------------------------------------------------------- */

NpVarlinkCall *np_varlink_call_ref(NpVarlinkCall *c)
{
        if (c)
                c->n_ref++;
        return c;
}

NpVarlinkCall *np_varlink_call_unref(NpVarlinkCall *c)
{
        if (!c || --c->n_ref > 0)
                return NULL;
        free(c->method);
        free(c);
        return NULL;
}

const char *np_varlink_call_method(const NpVarlinkCall *c)
{
        return c->method;
}

unsigned np_varlink_call_flags(const NpVarlinkCall *c)
{
        return c->flags;
}

uid_t np_varlink_call_peer_uid(const NpVarlinkCall *c)
{
        return c->conn ? c->conn->uid : (uid_t)-1;
}

bool np_varlink_call_done(const NpVarlinkCall *c)
{
        return !c->conn || c->replied;
}

void np_varlink_call_set_disconnect(NpVarlinkCall *c, void (*fn)(NpVarlinkCall *c, void *userdata),
                                    void *userdata)
{
        c->disconnect = fn;
        c->disconnect_userdata = userdata;
}

/* --- output --------------------------------------------------------------------------------- */

static size_t conn_out_pending(const Connection *c)
{
        return c->out_end - c->out_start;
}

static void conn_mark_dead(Connection *c)
{
        c->dead = true;
        conn_schedule(c);
}

/* Write what is queued; the peer not reading is not an error, a broken connection is. */
static void conn_flush(Connection *c)
{
        while (!c->dead && conn_out_pending(c) > 0) {
                ssize_t n = send(c->fd, c->out + c->out_start, conn_out_pending(c),
                                 MSG_DONTWAIT | MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                conn_mark_dead(c);
                        break;
                }
                c->out_start += (size_t)n;
                (void)sd_event_now(c->server->event, CLOCK_MONOTONIC, &c->last_activity);
        }
        if (conn_out_pending(c) == 0) {
                c->out_start = c->out_end = 0;
                if (c->out_size > BUFFER_KEEP_MAX) {
                        c->out = mfree(c->out);
                        c->out_size = 0;
                }
        }
}

static int conn_queue(Connection *c, const char *data, size_t size)
{
        if (c->dead)
                return -ENOTCONN;
        /* Nothing waiting: straight to the socket, the buffer takes what it does not take. */
        while (conn_out_pending(c) == 0 && size > 0) {
                ssize_t n = send(c->fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN) {
                                conn_mark_dead(c);
                                return -errno;
                        }
                        break;
                }
                data += n;
                size -= (size_t)n;
                (void)sd_event_now(c->server->event, CLOCK_MONOTONIC, &c->last_activity);
        }
        if (size == 0)
                return 0;
        if (conn_out_pending(c) + size > c->server->limits.max_output) {
                /* A peer that does not read its replies (a stuck Watch client) is cut off. */
                conn_mark_dead(c);
                return -ENOBUFS;
        }
        if (c->out_end + size > c->out_size) {
                size_t pending = conn_out_pending(c), want = MAX(pending + size, BUFFER_MIN);
                char *p;

                if (c->out_start > 0) {
                        memmove(c->out, c->out + c->out_start, pending);
                        c->out_start = 0;
                        c->out_end = pending;
                }
                if (want > c->out_size) {
                        want = MAX(want, c->out_size * 2);
                        p = realloc(c->out, want);
                        if (!p)
                                return -ENOMEM;
                        c->out = p;
                        c->out_size = want;
                }
        }
        memcpy(c->out + c->out_end, data, size);
        c->out_end += size;
        return 0;
}

/* Send a formatted message (takes msg) on behalf of call. */
/* Send a formatted message on behalf of call (the caller keeps msg). */
static int call_send_const(NpVarlinkCall *call, const char *msg, size_t size, bool final)
{
        Connection *c = call->conn;
        int r = 0;

        if (!c || call->replied)
                return -ENOTCONN;
        /* One more update of a stream while the socket is full and earlier ones still wait
         * here: the peer does not keep up. Cut it off, as systemd's sd-varlink does when its
         * output buffer is full (-ENOBUFS), but at a bound per stream that keeps fifty stuck
         * Watch clients from costing the daemon more than a few MiB. */
        if (!final && conn_out_pending(c) > 0 &&
            conn_out_pending(c) + size > c->server->limits.max_stream_backlog) {
                conn_mark_dead(c);
                return -ENOBUFS;
        }
        if (!(call->flags & NP_VARLINK_CALL_ONEWAY))
                r = conn_queue(c, msg, size);
        if (final) {
                call->replied = true;
                if (c->current == call) {
                        c->current = NULL;
                        np_varlink_call_unref(call);
                }
        }
        if (!c->processing) {
                /* Answered outside a dispatch (a Watch update): send now, go on later. */
                conn_flush(c);
                conn_schedule(c);
        }
        return r;
}

/* Send a formatted message (takes msg) on behalf of call. */
static int call_send(NpVarlinkCall *call, char *msg, size_t size, bool final)
{
        _cleanup_free_ char *m = msg;

        return call_send_const(call, m, size, final);
}

int np_varlink_reply_message(NpVarlinkCall *c, const char *message, size_t size)
{
        return call_send_const(c, message, size, true);
}

int np_varlink_reply_raw(NpVarlinkCall *c, const char *parameters_json, size_t len, bool continues)
{
        char *msg;
        size_t size;
        int r;

        if (continues && !(c->flags & NP_VARLINK_CALL_MORE))
                return -EPROTO;
        r = np_varlink_format_reply_raw(parameters_json, len, continues, &msg, &size);
        if (r < 0)
                return r;
        return call_send(c, msg, size, !continues);
}

static int reply_common(NpVarlinkCall *c, json_object *parameters, const char *error,
                        bool continues)
{
        char *msg;
        size_t size;
        int r;

        if (continues && !(c->flags & NP_VARLINK_CALL_MORE))
                return -EPROTO;
        r = np_varlink_format_reply(parameters, error, continues, &msg, &size);
        if (r < 0)
                return r;
        return call_send(c, msg, size, !continues);
}

int np_varlink_reply(NpVarlinkCall *c, json_object *parameters)
{
        return reply_common(c, parameters, NULL, false);
}

int np_varlink_notify(NpVarlinkCall *c, json_object *parameters)
{
        return reply_common(c, parameters, NULL, true);
}

int np_varlink_error(NpVarlinkCall *c, const char *error, json_object *parameters)
{
        return reply_common(c, parameters, error, false);
}

/* An error with one string parameter. */
static int error_with(NpVarlinkCall *c, const char *error, const char *key, const char *value)
{
        json_object *p = json_object_new_object();
        int r;

        if (!p)
                return -ENOMEM;
        if (key && json_object_object_add(p, key, json_object_new_string(value)) < 0) {
                json_object_put(p);
                return -ENOMEM;
        }
        r = np_varlink_error(c, error, p);
        json_object_put(p);
        return r;
}

/* A reply with one string parameter. */
static int reply_string(NpVarlinkCall *c, const char *key, const char *value)
{
        json_object *p = json_object_new_object();
        int r;

        if (!p)
                return -ENOMEM;
        if (json_object_object_add(p, key, json_object_new_string(value)) < 0) {
                json_object_put(p);
                return -ENOMEM;
        }
        r = np_varlink_reply(c, p);
        json_object_put(p);
        return r;
}

int np_varlink_error_invalid_parameter(NpVarlinkCall *c, const char *parameter)
{
        return error_with(c, NP_VARLINK_ERROR_INVALID_PARAMETER, "parameter", parameter);
}

static int error_errno(NpVarlinkCall *c, int error)
{
        json_object *p = json_object_new_object();
        int r;

        if (!p)
                return -ENOMEM;
        json_object_object_add(p, "errno", json_object_new_int(ERRNO_VALUE(error)));
        json_object_object_add(p, "message", json_object_new_string(strerror(ERRNO_VALUE(error))));
        r = np_varlink_error(
            c, c->conn ? c->conn->server->info.internal_error : "org.varlink.service.InternalError",
            p);
        json_object_put(p);
        return r;
}

/* --- org.varlink.service -------------------------------------------------------------------- */

static int vl_get_info(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        NpVarlinkServer *s = userdata;
        json_object *p = json_object_new_object(), *ifaces = json_object_new_array();
        const char *bad = NULL;
        int r;

        if (np_varlink_dispatch(parameters, NULL, 0, NULL, &bad) < 0) {
                json_object_put(p);
                json_object_put(ifaces);
                return np_varlink_error_invalid_parameter(call, bad);
        }
        if (!p || !ifaces) {
                json_object_put(p);
                json_object_put(ifaces);
                return -ENOMEM;
        }
        for (size_t i = 0; i < s->n_interfaces; i++)
                json_object_array_add(ifaces, json_object_new_string(s->interfaces[i].name));
        json_object_object_add(p, "vendor", json_object_new_string(strempty(s->info.vendor)));
        json_object_object_add(p, "product", json_object_new_string(strempty(s->info.product)));
        json_object_object_add(p, "version", json_object_new_string(strempty(s->info.version)));
        json_object_object_add(p, "url", json_object_new_string(strempty(s->info.url)));
        json_object_object_add(p, "interfaces", ifaces);
        r = np_varlink_reply(call, p);
        json_object_put(p);
        return r;
}

static const Interface *server_find_interface(const NpVarlinkServer *s, const char *name,
                                              size_t len)
{
        for (size_t i = 0; i < s->n_interfaces; i++)
                if (strlen(s->interfaces[i].name) == len &&
                    strneq(s->interfaces[i].name, name, len))
                        return &s->interfaces[i];
        return NULL;
}

static int vl_get_interface_description(NpVarlinkCall *call, json_object *parameters,
                                        void *userdata)
{
        static const NpVarlinkField fields[] = {
                { "interface", NP_VARLINK_STRING, 0, true },
        };
        NpVarlinkServer *s = userdata;
        const char *name = NULL, *bad = NULL;
        const Interface *i;

        if (np_varlink_dispatch(parameters, fields, ELEMENTSOF(fields), &name, &bad) < 0)
                return np_varlink_error_invalid_parameter(call, bad);
        i = server_find_interface(s, name, strlen(name));
        if (!i)
                return error_with(call, NP_VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface", name);
        return reply_string(call, "description", i->description);
}

static const NpVarlinkMethod org_varlink_service_methods[] = {
        { "GetInfo", vl_get_info, 0 },
        { "GetInterfaceDescription", vl_get_interface_description, 0 },
};

/* --- connections ---------------------------------------------------------------------------- */

static void conn_free(Connection *c)
{
        NpVarlinkServer *s = c->server;
        NpVarlinkCall *call = TAKE_PTR(c->current);
        bool big = c->in_size > BUFFER_KEEP_MAX || c->out_size > BUFFER_KEEP_MAX;

        if (c->prev)
                c->prev->next = c->next;
        else
                s->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_connections--;

        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        sd_event_source_disable_unref(c->defer);
        safe_close(c->fd);
        free(c->in);
        free(c->out);
        free(c);

        if (call) {
                call->conn = NULL;
                if (call->disconnect && !call->replied)
                        call->disconnect(call, call->disconnect_userdata);
                np_varlink_call_unref(call);
        }
        /* A 16 MiB message must not leave 16 MiB behind in the heap, nor a thousand closed
         * connections their buffers. */
        if (big || (s->n_connections == 0 && s->peak_connections > 64)) {
                (void)malloc_trim(0);
                s->peak_connections = s->n_connections;
        }
        if (s->accept_paused) {
                s->accept_paused = false;
                for (size_t i = 0; i < s->n_listeners; i++)
                        (void)sd_event_source_set_enabled(s->listeners[i].source, SD_EVENT_ON);
                (void)sd_event_source_set_enabled(s->accept_retry, SD_EVENT_OFF);
        }
}

static void conn_schedule(Connection *c)
{
        (void)sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
}

static int conn_dispatch_call(Connection *c, const char *data, size_t size)
{
        NpVarlinkServer *s = c->server;
        _cleanup_(np_varlink_call_unrefp) NpVarlinkCall *call = NULL;
        _cleanup_(np_varlink_call_message_done) NpVarlinkCallMessage m = {};
        _cleanup_free_ char *error = NULL;
        const Interface *iface;
        const NpVarlinkMethod *method = NULL;
        const char *dot;
        int r;

        r = np_varlink_parse_call(data, size, &m, &error);
        if (r < 0)
                return r;

        call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        *call =
            (NpVarlinkCall){ .n_ref = 1, .conn = c, .method = strdup(m.method), .flags = m.flags };
        if (!call->method)
                return -ENOMEM;
        c->current = np_varlink_call_ref(call);

        dot = strrchr(m.method, '.');
        iface = server_find_interface(s, m.method, (size_t)(dot - m.method));
        for (size_t i = 0; iface && i < iface->n_methods && !method; i++)
                if (streq(iface->methods[i].name, dot + 1))
                        method = &iface->methods[i];

        if (!iface) {
                _cleanup_free_ char *name = strndup(m.method, (size_t)(dot - m.method));

                r = name ? error_with(call, NP_VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface", name)
                         : -ENOMEM;
        } else if (!method)
                r = error_with(call, NP_VARLINK_ERROR_METHOD_NOT_FOUND, "method", m.method);
        else if ((method->flags & NP_VARLINK_METHOD_PRIVILEGED) && c->uid != 0)
                r = error_with(call, s->info.permission_denied_error, NULL, NULL);
        else if (!method->fn)
                r = error_with(call, NP_VARLINK_ERROR_METHOD_NOT_IMPLEMENTED, "method", m.method);
        else
                r = method->fn(call, m.parameters, iface->userdata);

        if (r < 0 && !np_varlink_call_done(call))
                r = error_errno(call, r);
        else if (!np_varlink_call_done(call) && call->n_ref <= 2) {
                /* Neither answered nor kept for later: a oneway call is done; anything else is a
                 * handler bug the peer must not wait for forever. */
                if (call->flags & NP_VARLINK_CALL_ONEWAY) {
                        call->replied = true;
                        c->current = np_varlink_call_unref(call);
                } else
                        r = error_errno(call, -EPROTO);
        }
        return r == -ENOMEM ? r : 0;
}

/* Handle complete calls waiting in the input buffer, one at a time. */
static int conn_dispatch(Connection *c)
{
        size_t start = 0;
        int r = 0;

        while (!c->dead && !c->current && conn_out_pending(c) < OUTPUT_HIGH_WATER &&
               start < c->in_used) {
                char *nul = memchr(c->in + start, 0, c->in_used - start);

                if (!nul)
                        break;
                r = conn_dispatch_call(c, c->in + start, (size_t)(nul - (c->in + start)));
                start = (size_t)(nul - c->in) + 1;
                if (r < 0) {
                        /* A protocol error or no memory: the connection cannot go on. */
                        c->dead = true;
                        break;
                }
        }
        if (start > 0) {
                memmove(c->in, c->in + start, c->in_used - start);
                c->in_used -= start;
        }
        if (c->in_used > NP_VARLINK_MESSAGE_MAX && !memchr(c->in, 0, NP_VARLINK_MESSAGE_MAX + 1))
                c->dead = true; /* a message above the limit */
        if (c->in_used == 0 && c->in_size > BUFFER_KEEP_MAX) {
                c->in = mfree(c->in);
                c->in_size = 0;
                (void)malloc_trim(0);
        }
        return r;
}

static bool conn_want_input(const Connection *c)
{
        if (c->read_eof || c->dead)
                return false;
        if (c->current || conn_out_pending(c) >= OUTPUT_HIGH_WATER)
                return c->in_used < INPUT_AHEAD_MAX;
        return c->in_used <= NP_VARLINK_MESSAGE_MAX;
}

/*
 * Read what the peer sent, as long as we want input. The socket is edge-triggered: read until
 * it has nothing more (a short read says so) or until we stop wanting input, in which case
 * conn_update() takes EPOLLIN away and, putting it back, makes epoll look again.
 */
static int conn_read(Connection *c)
{
        while (conn_want_input(c)) {
                size_t room;
                ssize_t n;

                if (c->in_size - c->in_used < BUFFER_MIN) {
                        size_t want = MIN(MAX(c->in_size * 2, (size_t)BUFFER_MIN),
                                          (size_t)NP_VARLINK_MESSAGE_MAX + BUFFER_MIN);
                        char *p;

                        if (want <= c->in_size)
                                return 0;
                        p = realloc(c->in, want);
                        if (!p)
                                return -ENOMEM;
                        c->in = p;
                        c->in_size = want;
                }
                room = c->in_size - c->in_used;
                n = recv(c->fd, c->in + c->in_used, room, MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                if (n == 0)
                        c->read_eof = true;
                c->in_used += (size_t)n;
                (void)sd_event_now(c->server->event, CLOCK_MONOTONIC, &c->last_activity);
                if ((size_t)n < room)
                        return 0; /* drained: the next data makes a new edge */
        }
        return 0;
}

static void conn_update(Connection *c)
{
        uint32_t events = 0;
        bool timer;

        if (conn_want_input(c))
                events |= EPOLLIN;
        if (conn_out_pending(c) > 0)
                events |= EPOLLOUT;
        /* Level-triggered, every epoll_wait() (one per event loop iteration, each dispatching
         * one source) would look at every connection with a call waiting again: the cost of a
         * call would grow with the number of busy connections. Edge-triggered, it does not. */
        events |= EPOLLET;
        if (events != c->io_events) {
                (void)sd_event_source_set_io_events(c->io, events);
                c->io_events = events;
        }

        /* Idle: no call open (a Watch subscriber waits legitimately) or replies not taken. */
        timer = c->server->limits.idle_timeout_usec > 0 && (!c->current || conn_out_pending(c) > 0);
        if (timer != c->timer_on) {
                if (timer)
                        (void)sd_event_source_set_time(
                            c->timer, c->last_activity + c->server->limits.idle_timeout_usec);
                (void)sd_event_source_set_enabled(c->timer,
                                                  timer ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
                c->timer_on = timer;
        }
}

/* Flush, dispatch, decide: returns false when the connection was freed. */
static bool conn_process(Connection *c)
{
        c->processing = true;
        conn_flush(c);
        if (!c->dead && conn_dispatch(c) >= 0)
                conn_flush(c);
        c->processing = false;

        /* A peer that hung up while a Watch runs is gone; otherwise finish what it sent. */
        if (c->read_eof) {
                bool complete = c->in_used > 0 && memchr(c->in, 0, c->in_used);

                if (c->current || (!complete && conn_out_pending(c) == 0))
                        c->dead = true;
        }
        if (c->dead) {
                conn_free(c);
                return false;
        }
        conn_update(c);
        return true;
}

static int conn_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Connection *c = userdata;

        (void)source, (void)fd;
        if (revents & EPOLLERR)
                c->dead = true;
        else if (revents & (EPOLLIN | EPOLLHUP)) {
                int r = conn_read(c);

                if (r < 0)
                        c->dead = true;
        }
        (void)conn_process(c);
        return 0;
}

static int conn_defer(sd_event_source *source, void *userdata)
{
        (void)source;
        (void)conn_process(userdata);
        return 0;
}

static int conn_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
        Connection *c = userdata;
        uint64_t deadline = c->last_activity + c->server->limits.idle_timeout_usec;

        c->timer_on = false;
        if (deadline > usec) {
                /* There was traffic since the timer was set: look again at the new deadline. */
                (void)sd_event_source_set_time(source, deadline);
                (void)sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
                c->timer_on = true;
                return 0;
        }
        conn_free(c);
        return 0;
}

static unsigned server_count_uid(const NpVarlinkServer *s, uid_t uid)
{
        unsigned n = 0;

        for (const Connection *c = s->connections; c; c = c->next)
                n += c->uid == uid;
        return n;
}

static int conn_new(NpVarlinkServer *s, int fd)
{
        _cleanup_close_ int cfd = fd;
        struct ucred cred = {};
        socklen_t len = sizeof(cred);
        Connection *c;
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        /* Over a limit: close at once, as systemd does; the peer sees a hang-up. */
        if (s->n_connections >= s->limits.max_connections ||
            server_count_uid(s, cred.uid) >= s->limits.max_connections_per_uid)
                return -EBUSY;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->server = s;
        c->uid = cred.uid;
        c->fd = TAKE_FD(cfd);
        (void)sd_event_now(s->event, CLOCK_MONOTONIC, &c->last_activity);
        c->next = s->connections;
        if (c->next)
                c->next->prev = c;
        s->connections = c;
        s->n_connections++;
        s->peak_connections = MAX(s->peak_connections, s->n_connections);

        c->io_events = EPOLLIN | EPOLLET;
        r = sd_event_add_io(s->event, &c->io, c->fd, c->io_events, conn_io, c);
        if (r >= 0)
                r = sd_event_add_defer(s->event, &c->defer, conn_defer, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(s->event, &c->timer, CLOCK_MONOTONIC, UINT64_MAX, 1000 * 1000,
                                      conn_timer, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        if (r < 0) {
                conn_free(c);
                return r;
        }
        conn_update(c);
        return 0;
}

/* --- listeners ------------------------------------------------------------------------------ */

static int accept_retry(sd_event_source *source, uint64_t usec, void *userdata)
{
        NpVarlinkServer *s = userdata;

        (void)source, (void)usec;
        s->accept_paused = false;
        for (size_t i = 0; i < s->n_listeners; i++)
                (void)sd_event_source_set_enabled(s->listeners[i].source, SD_EVENT_ON);
        return 0;
}

static int listener_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        NpVarlinkServer *s = userdata;
        int cfd;

        (void)source, (void)revents;
        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
                uint64_t now = 0;

                if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM)
                        return 0; /* EAGAIN, ECONNABORTED, ...: nothing to do */
                /* Out of descriptors: stop accepting until a connection closes or a second
                 * passes, instead of spinning on a listener that stays readable. */
                s->accept_paused = true;
                for (size_t i = 0; i < s->n_listeners; i++)
                        (void)sd_event_source_set_enabled(s->listeners[i].source, SD_EVENT_OFF);
                (void)sd_event_now(s->event, CLOCK_MONOTONIC, &now);
                (void)sd_event_source_set_time(s->accept_retry, now + 1000 * 1000);
                (void)sd_event_source_set_enabled(s->accept_retry, SD_EVENT_ONESHOT);
                return 0;
        }
        (void)conn_new(s, cfd); /* on failure the peer sees the connection closed */
        return 0;
}

int np_varlink_server_listen_fd(NpVarlinkServer *s, int fd)
{
        _cleanup_close_ int lfd = fd;
        Listener *a;
        int r;

        r = fcntl(fd, F_GETFL);
        if (r < 0 || fcntl(fd, F_SETFL, r | O_NONBLOCK) < 0)
                return -errno;
        a = reallocarray(s->listeners, s->n_listeners + 1, sizeof(Listener));
        if (!a)
                return -ENOMEM;
        s->listeners = a;
        a = &s->listeners[s->n_listeners];
        *a = (Listener){ .server = s, .fd = lfd };
        r = sd_event_add_io(s->event, &a->source, lfd, EPOLLIN, listener_io, s);
        if (r < 0)
                return r;
        TAKE_FD(lfd);
        s->n_listeners++;
        return 0;
}

int np_varlink_server_listen_address(NpVarlinkServer *s, const char *path, mode_t mode)
{
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct stat st;

        size_t len = strlen(path);

        if (len >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, len + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* Replace a stale socket file, never anything else: not a file that is not a socket
         * (-EEXIST), not a socket something answers on (-EADDRINUSE: unlinking it would leave
         * that server running and unreachable). */
        if (lstat(path, &st) >= 0) {
                _cleanup_close_ int probe = -EBADF;

                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (probe < 0)
                        return -errno;
                if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) >= 0 || errno == EAGAIN ||
                    errno == EINPROGRESS)
                        return -EADDRINUSE; /* accepted, or a listener with a full backlog */
                if (errno != ECONNREFUSED)
                        return -errno; /* cannot tell: leave it alone */
                if (unlink(path) < 0 && errno != ENOENT)
                        return -errno;
        }
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        if (chmod(path, mode) < 0 || listen(fd, SOMAXCONN) < 0)
                return -errno;
        return np_varlink_server_listen_fd(s, TAKE_FD(fd));
}

/* --- the server ----------------------------------------------------------------------------- */

int np_varlink_server_new(sd_event *event, const NpVarlinkServerInfo *info, NpVarlinkServer **ret)
{
        _cleanup_(np_varlink_server_freep) NpVarlinkServer *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->info = *info;
        if (!s->info.permission_denied_error)
                s->info.permission_denied_error = NP_VARLINK_ERROR_PERMISSION_DENIED;
        if (!s->info.internal_error)
                s->info.internal_error = "org.varlink.service.InternalError";
        s->limits = NP_VARLINK_LIMITS_DEFAULT;
        r = sd_event_add_time(event, &s->accept_retry, CLOCK_MONOTONIC, UINT64_MAX, 0, accept_retry,
                              s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->accept_retry, SD_EVENT_OFF);
        if (r >= 0)
                r = np_varlink_server_add_interface(
                    s, "org.varlink.service", org_varlink_service_description,
                    org_varlink_service_methods, ELEMENTSOF(org_varlink_service_methods), s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

NpVarlinkServer *np_varlink_server_free(NpVarlinkServer *s)
{
        if (!s)
                return NULL;
        while (s->connections)
                conn_free(s->connections);
        for (size_t i = 0; i < s->n_listeners; i++) {
                sd_event_source_disable_unref(s->listeners[i].source);
                safe_close(s->listeners[i].fd);
        }
        free(s->listeners);
        free(s->interfaces);
        sd_event_source_disable_unref(s->accept_retry);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

void np_varlink_server_set_limits(NpVarlinkServer *s, const NpVarlinkLimits *limits)
{
        s->limits = *limits;
        if (s->limits.max_output < 2 * NP_VARLINK_MESSAGE_MAX)
                s->limits.max_output = 2 * NP_VARLINK_MESSAGE_MAX;
        if (s->limits.max_stream_backlog == 0)
                s->limits.max_stream_backlog = NP_VARLINK_LIMITS_DEFAULT.max_stream_backlog;
        /* Running timers pick the new timeout up at their next expiry. */
}

int np_varlink_server_add_interface(NpVarlinkServer *s, const char *name, const char *description,
                                    const NpVarlinkMethod *methods, size_t n_methods,
                                    void *userdata)
{
        Interface *a;

        if (!np_varlink_interface_name_valid(name) || server_find_interface(s, name, strlen(name)))
                return -EINVAL;
        a = reallocarray(s->interfaces, s->n_interfaces + 1, sizeof(Interface));
        if (!a)
                return -ENOMEM;
        s->interfaces = a;
        a[s->n_interfaces++] = (Interface){ .name = name,
                                            .description = description,
                                            .methods = methods,
                                            .n_methods = n_methods,
                                            .userdata = userdata };
        return 0;
}

unsigned np_varlink_server_n_connections(const NpVarlinkServer *s)
{
        return s->n_connections;
}
