/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Endpoint reachability: resolve HOST (IPv4 and IPv6) and open a TCP connection to PORT within
 * a time budget, trying each address in the resolver's order. The connection is closed at once;
 * nothing is sent. Errors are sorted into what an engineer acts on: dns, refused, timeout,
 * no-route, error.
 */

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe/probe.h"
#include "profile/profile.h"
#include "util/strv.h"

static uint64_t now_ms(void)
{
        return np_probe_now_usec() / 1000;
}

static int set_error(NpEndpointFacts *e, const char *kind, const char *fmt, ...) _printf_(3, 4);
static int set_error(NpEndpointFacts *e, const char *kind, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = free_and_vprintf(&e->error, fmt, ap);
        va_end(ap);
        return r < 0 ? r : free_and_strdup(&e->error_kind, kind);
}

static const char *errno_kind(int error)
{
        switch (error) {
        case ECONNREFUSED:
                return "refused";
        case ETIMEDOUT:
                return "timeout";
        case ENETUNREACH:
        case EHOSTUNREACH:
        case ENETDOWN:
        case EADDRNOTAVAIL:
                return "no-route";
        default:
                return "error";
        }
}

/* Resolve with a deadline (np_resolve()), so a dead resolver cannot stall us. */
static int resolve(const char *host, const char *port, uint64_t deadline, struct addrinfo **ret,
                   int *ret_gai)
{
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
        struct gaicb cb = { .ar_name = host, .ar_service = port, .ar_request = &hints };
        struct gaicb *list[] = { &cb };
        bool timed_out;
        int r;

        r = np_resolve(list, 1, deadline * 1000, &timed_out, ret_gai);
        if (r < 0)
                return -EIO;
        if (timed_out)
                return -ETIME;
        r = gai_error(&cb);
        if (r != 0) {
                *ret_gai = r;
                return -EIO;
        }
        *ret = cb.ar_result;
        return 0;
}

static char *sockaddr_text(const struct sockaddr *sa)
{
        char buf[INET6_ADDRSTRLEN];
        const void *a = sa->sa_family == AF_INET6
                            ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                            : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
        unsigned port =
            ntohs(sa->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)sa)->sin6_port
                                            : ((const struct sockaddr_in *)sa)->sin_port);

        if (!inet_ntop(sa->sa_family, a, buf, sizeof(buf)))
                return NULL;
        return sa->sa_family == AF_INET6 ? strprintf("[%s]:%u", buf, port)
                                         : strprintf("%s:%u", buf, port);
}

/* One TCP connect to ai within the deadline: 0 connected, -errno otherwise. */
static int try_connect(const struct addrinfo *ai, uint64_t deadline)
{
        _cleanup_close_ int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        struct pollfd p;
        socklen_t len = sizeof(int);
        int err = 0;

        if (fd < 0)
                return -errno;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
                return 0;
        if (errno != EINPROGRESS)
                return -errno;
        p = (struct pollfd){ .fd = fd, .events = POLLOUT };
        for (;;) {
                uint64_t now = now_ms();
                int k;

                if (now >= deadline)
                        return -ETIMEDOUT;
                k = poll(&p, 1, (int)(deadline - now));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -ETIMEDOUT;
                break;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                return -errno;
        return err ? -err : 0;
}

static int probe_endpoint(const NpEndpointRequest *req, NpEndpointFacts *e)
{
        _cleanup_free_ char *host = NULL, *port = NULL;
        struct addrinfo *list = NULL;
        uint64_t start = now_ms(), deadline = start + (req->timeout_ms ? req->timeout_ms : 5000);
        int r, gai = 0, last = 0;
        size_t tried = 0;

        if (free_and_strdup(&e->address, req->address) < 0)
                return -ENOMEM;
        r = np_endpoint_split(req->address, &host, &port);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return set_error(e, "error", "\"%s\" is not HOST:PORT", req->address);

        r = resolve(host, port, deadline, &list, &gai);
        if (r == -ETIME) {
                e->elapsed_ms = now_ms() - start;
                return set_error(e, "dns", "resolving %s timed out after %llu ms", host,
                                 (unsigned long long)e->elapsed_ms);
        }
        if (r < 0) {
                e->elapsed_ms = now_ms() - start;
                return set_error(e, "dns", "cannot resolve %s: %s", host, gai_strerror(gai));
        }
        for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
                size_t left = 0;
                uint64_t now = now_ms(), until;

                if (now >= deadline)
                        break; /* the budget is spent */
                /* Each address gets its share of what is left, as Go's dialer and libpq's
                 * connect_timeout do: a black-holed first address (IPv6 without a route, a dead
                 * A record) must not use up the time of the ones after it. */
                for (const struct addrinfo *a = ai; a; a = a->ai_next)
                        left++;
                until = now + (deadline - now) / left;
                tried++;
                r = try_connect(ai, until);
                if (r == 0) {
                        e->reachable = true;
                        e->connected = sockaddr_text(ai->ai_addr);
                        break;
                }
                last = r;
                if (!e->connected) /* remember the first address tried, for the message */
                        e->connected = sockaddr_text(ai->ai_addr);
        }
        freeaddrinfo(list);
        e->elapsed_ms = now_ms() - start;
        if (e->reachable)
                return e->connected ? 0 : -ENOMEM;
        r = set_error(e, errno_kind(-last), "%s%s%s: %s%s", req->address,
                      e->connected ? " via " : "", strempty(e->connected),
                      last == -ETIMEDOUT ? "no answer within the timeout" : strerror(-last),
                      tried > 1 ? " (every address tried)" : "");
        e->connected = mfree(e->connected);
        return r;
}

int np_probe_endpoints(const NpProbeRequest *req, NpFacts *f)
{
        FOREACH_ARRAY (er, req->endpoints, req->n_endpoints) {
                NpEndpointFacts *e = np_facts_add_endpoint(f, er->name);
                int r;

                if (!e)
                        return -ENOMEM;
                r = probe_endpoint(er, e);
                if (r < 0)
                        return r;
        }
        return 0;
}
