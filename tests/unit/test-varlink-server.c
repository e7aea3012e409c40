/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Varlink server on a real event loop and Unix socket: calls that arrive together, in pieces
 * or larger than any buffer are all answered (its sockets are edge-triggered); a reply kept as a
 * whole message is sent as is; a stream whose peer stops reading is cut off once it leaves more
 * than the backlog bound unread, while a reading peer gets every update.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "test.h"
#include "util/strv.h"
#include "varlink/protocol.h"
#include "varlink/server.h"

typedef struct Fixture {
        sd_event *event;
        NpVarlinkServer *server;
        char dir[64];
        char path[96];
        NpVarlinkCall *streams[4];
        size_t n_streams;
        char *cached;
        size_t cached_len;
} Fixture;

static int vl_echo(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        (void)userdata;
        return np_varlink_reply(call, parameters);
}

static int vl_cached(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        Fixture *f = userdata;

        (void)parameters;
        return np_varlink_reply_message(call, f->cached, f->cached_len);
}

static int vl_stream(NpVarlinkCall *call, json_object *parameters, void *userdata)
{
        Fixture *f = userdata;

        (void)parameters;
        ASSERT_TRUE(f->n_streams < ELEMENTSOF(f->streams));
        f->streams[f->n_streams++] = np_varlink_call_ref(call);
        return np_varlink_notify(call, NULL);
}

static const NpVarlinkMethod methods[] = {
        { "Echo", vl_echo, 0 },
        { "Cached", vl_cached, 0 },
        { "Stream", vl_stream, 0 },
};

static const char description[] = "interface io.test\n"
                                  "method Echo(x: ?string) -> (x: ?string)\n"
                                  "method Cached() -> (x: string)\n"
                                  "method Stream() -> ()\n";

static void fixture_init(Fixture *f)
{
        static const NpVarlinkServerInfo info = { "test", "test", "0", "none" };

        *f = (Fixture){};
        snprintf(f->dir, sizeof(f->dir), "/tmp/np-varlink-XXXXXX");
        ASSERT_TRUE(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/socket", f->dir);
        ASSERT_OK(sd_event_new(&f->event));
        ASSERT_OK(np_varlink_server_new(f->event, &info, &f->server));
        ASSERT_OK(np_varlink_server_add_interface(f->server, "io.test", description, methods,
                                                  ELEMENTSOF(methods), f));
        ASSERT_OK(np_varlink_server_listen_address(f->server, f->path, 0600));
        ASSERT_OK(
            np_varlink_format_reply_raw("{\"x\":\"kept\"}", 12, false, &f->cached, &f->cached_len));
}

static void fixture_done(Fixture *f)
{
        for (size_t i = 0; i < f->n_streams; i++)
                np_varlink_call_unref(f->streams[i]);
        np_varlink_server_free(f->server);
        sd_event_unref(f->event);
        free(f->cached);
        (void)unlink(f->path);
        (void)rmdir(f->dir);
}

/* Run the loop until nothing is left to do right now. */
static void spin(Fixture *f)
{
        for (int i = 0; i < 1000 && sd_event_run(f->event, 10 * 1000) > 0; i++)
                ;
}

static int dial(Fixture *f, int rcvbuf)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        ASSERT_TRUE(fd >= 0);
        if (rcvbuf > 0)
                ASSERT_TRUE(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) == 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
        ASSERT_TRUE(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
        spin(f); /* accepted */
        return fd;
}

static void send_all(Fixture *f, int fd, const char *data, size_t len)
{
        while (len > 0) {
                ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

                if (n < 0 && errno == EAGAIN) {
                        spin(f);
                        continue;
                }
                ASSERT_TRUE(n > 0);
                data += n;
                len -= (size_t)n;
        }
        spin(f);
}

/* Read whole messages until n arrived; their texts, NUL-separated, in *ret. */
static size_t read_messages(Fixture *f, int fd, size_t n, char **ret, size_t *ret_len)
{
        size_t got = 0, len = 0, size = 0;
        char *buf = NULL;

        for (int round = 0; got < n && round < 2000; round++) {
                ssize_t k;

                if (size - len < 65536) {
                        size = size * 2 + 65536;
                        buf = realloc(buf, size);
                        ASSERT_TRUE(buf);
                }
                k = recv(fd, buf + len, size - len, MSG_DONTWAIT);
                if (k <= 0) {
                        ASSERT_TRUE(k < 0 && errno == EAGAIN);
                        spin(f);
                        continue;
                }
                for (ssize_t i = 0; i < k; i++)
                        got += buf[len + (size_t)i] == '\0';
                len += (size_t)k;
        }
        *ret = buf;
        *ret_len = len;
        return got;
}

TEST(calls_together_in_pieces_and_large)
{
        _cleanup_free_ char *big = NULL, *call = NULL, *replies = NULL;
        static const char three[] = "{\"method\":\"io.test.Echo\",\"parameters\":{\"x\":\"1\"}}\0"
                                    "{\"method\":\"io.test.Echo\",\"parameters\":{\"x\":\"2\"}}\0"
                                    "{\"method\":\"io.test.Cached\"}";
        Fixture f;
        size_t len;
        int fd;

        fixture_init(&f);
        fd = dial(&f, 0);
        /* Three calls in one write: three answers, in order. */
        send_all(&f, fd, three, sizeof(three));
        ASSERT_EQ(read_messages(&f, fd, 3, &replies, &len), 3);
        ASSERT_STREQ(replies, "{\"parameters\":{\"x\":\"1\"}}");
        ASSERT_STREQ(replies + strlen(replies) + 1, "{\"parameters\":{\"x\":\"2\"}}");
        ASSERT_STREQ(replies + len - strlen("{\"parameters\":{\"x\":\"kept\"}}") - 1,
                     "{\"parameters\":{\"x\":\"kept\"}}");
        replies = mfree(replies);

        /* One call in two writes, the loop running in between. */
        send_all(&f, fd, "{\"method\":\"io.te", 16);
        send_all(&f, fd, "st.Echo\"}", 10);
        ASSERT_EQ(read_messages(&f, fd, 1, &replies, &len), 1);
        ASSERT_STREQ(replies, "{\"parameters\":{}}");
        replies = mfree(replies);

        /* A call of 1 MiB: read across many buffer growths, answered whole. */
        big = malloc(1 << 20);
        ASSERT_TRUE(big);
        memset(big, 'a', (1 << 20) - 1);
        big[(1 << 20) - 1] = '\0';
        call = strprintf("{\"method\":\"io.test.Echo\",\"parameters\":{\"x\":\"%s\"}}", big);
        ASSERT_TRUE(call);
        send_all(&f, fd, call, strlen(call) + 1);
        ASSERT_EQ(read_messages(&f, fd, 1, &replies, &len), 1);
        ASSERT_EQ(len, strlen("{\"parameters\":{\"x\":\"\"}}") + (1 << 20) - 1 + 1);
        close(fd);
        spin(&f);
        ASSERT_EQ(np_varlink_server_n_connections(f.server), 0);
        fixture_done(&f);
}

TEST(stream_backlog)
{
        static const char stream[] = "{\"method\":\"io.test.Stream\",\"more\":true}";
        _cleanup_free_ char *update = malloc(32 * 1024), *params = NULL, *replies = NULL;
        Fixture f;
        int slow, reader, r = 0;
        size_t sent = 0, len;
        char c;

        ASSERT_TRUE(update);
        fixture_init(&f);
        slow = dial(&f, 4096);
        reader = dial(&f, 0);
        send_all(&f, slow, stream, sizeof(stream));
        send_all(&f, reader, stream, sizeof(stream));
        ASSERT_EQ(f.n_streams, 2);
        ASSERT_EQ(read_messages(&f, reader, 1, &replies, &len), 1);
        replies = mfree(replies);

        memset(update, 'u', 32 * 1024 - 1);
        update[32 * 1024 - 1] = '\0';
        params = strprintf("{\"x\":\"%s\"}", update);
        ASSERT_TRUE(params);
        /* 32 KiB updates to a peer that never reads: the socket fills, then 128 KiB may wait
         * in the server, then the stream is cut off. The reader gets every one. */
        for (int i = 0; i < 100 && r >= 0; i++) {
                r = np_varlink_reply_raw(f.streams[0], params, strlen(params), true);
                sent += r >= 0;
                ASSERT_OK(np_varlink_reply_raw(f.streams[1], params, strlen(params), true));
                ASSERT_EQ(read_messages(&f, reader, 1, &replies, &len), 1);
                replies = mfree(replies);
        }
        ASSERT_EQ(r, -ENOBUFS);
        ASSERT_TRUE(sent > 4 && sent < 100);
        spin(&f);
        ASSERT_TRUE(np_varlink_call_done(f.streams[0]));
        ASSERT_TRUE(!np_varlink_call_done(f.streams[1]));
        /* The slow peer finds what was sent, then the end. */
        for (;;) {
                ssize_t k = recv(slow, &c, 1, MSG_DONTWAIT);

                if (k == 0)
                        break;
                ASSERT_TRUE(k == 1 || errno != EAGAIN);
        }
        ASSERT_EQ(np_varlink_server_n_connections(f.server), 1);
        close(slow);
        close(reader);
        spin(&f);
        fixture_done(&f);
}

static const TestCase tests[] = {
        T(calls_together_in_pieces_and_large),
        T(stream_backlog),
};

RUN_TESTS(tests)
