/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The blocking Varlink client (see client.h). */

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "util/strv.h"
#include "varlink/client.h"

struct NpVarlinkClient {
        int fd;
        char *in;
        size_t in_size, in_used;
        size_t consumed; /* bytes of the last message handed out, dropped at the next read */
};

int np_varlink_client_connect(const char *path, NpVarlinkClient **ret)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        NpVarlinkClient *c;

        size_t len = strlen(path);

        if (len >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, len + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = TAKE_FD(fd);
        *ret = c;
        return 0;
}

NpVarlinkClient *np_varlink_client_free(NpVarlinkClient *c)
{
        if (!c)
                return NULL;
        safe_close(c->fd);
        free(c->in);
        free(c);
        return NULL;
}

int np_varlink_client_fd(const NpVarlinkClient *c)
{
        return c->fd;
}

int np_varlink_client_send(NpVarlinkClient *c, const char *method, json_object *parameters,
                           unsigned flags)
{
        _cleanup_free_ char *msg = NULL;
        size_t size, done = 0;
        int r;

        r = np_varlink_format_call(method, parameters, flags, &msg, &size);
        if (r < 0)
                return r;
        while (done < size) {
                ssize_t n = send(c->fd, msg + done, size - done, MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EPIPE ? -ECONNRESET : -errno;
                }
                done += (size_t)n;
        }
        return 0;
}

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

int np_varlink_client_read(NpVarlinkClient *c, uint64_t timeout_usec, NpVarlinkReplyMessage *ret,
                           char **ret_error)
{
        uint64_t deadline = timeout_usec == UINT64_MAX ? UINT64_MAX : now_usec() + timeout_usec;

        if (c->consumed > 0) {
                memmove(c->in, c->in + c->consumed, c->in_used - c->consumed);
                c->in_used -= c->consumed;
                c->consumed = 0;
        }
        for (;;) {
                char *nul = c->in_used > 0 ? memchr(c->in, 0, c->in_used) : NULL;
                struct pollfd p = { .fd = c->fd, .events = POLLIN };
                ssize_t n;
                int r;

                if (nul) {
                        c->consumed = (size_t)(nul - c->in) + 1;
                        return np_varlink_parse_reply(c->in, (size_t)(nul - c->in), ret, ret_error);
                }
                if (c->in_used > NP_VARLINK_MESSAGE_MAX) {
                        *ret_error = strdup("reply larger than 16 MiB");
                        return -EBADMSG;
                }
                if (c->in_size - c->in_used < 4096) {
                        size_t want = MAX(c->in_size * 2, (size_t)65536);
                        char *q = realloc(c->in, want);

                        if (!q)
                                return -ENOMEM;
                        c->in = q;
                        c->in_size = want;
                }
                if (deadline != UINT64_MAX) {
                        uint64_t now = now_usec();

                        if (now >= deadline)
                                return -ETIMEDOUT;
                        r = poll(&p, 1,
                                 (int)MIN((deadline - now + 999) / 1000, (uint64_t)INT32_MAX));
                } else
                        r = poll(&p, 1, -1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        continue;
                n = recv(c->fd, c->in + c->in_used, c->in_size - c->in_used, 0);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -ECONNRESET;
                c->in_used += (size_t)n;
        }
}

int np_varlink_client_call(NpVarlinkClient *c, const char *method, json_object *parameters,
                           uint64_t timeout_usec, NpVarlinkReplyMessage *ret, char **ret_error)
{
        int r = np_varlink_client_send(c, method, parameters, 0);

        if (r < 0)
                return r;
        return np_varlink_client_read(c, timeout_usec, ret, ret_error);
}
