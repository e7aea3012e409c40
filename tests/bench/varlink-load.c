/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A Varlink load generator in the manner of redis-benchmark: one thread, C connections, each
 * sending one call and waiting for its reply before the next (no pipelining), N calls in all.
 * Prints one line: clients calls seconds calls/s p50_us p99_us max_us reply_bytes.
 *
 * Usage: varlink-load SOCKET CLIENTS CALLS [METHOD [PARAMETERS_JSON]]
 */

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct Conn {
        int fd;
        uint64_t sent_at;
        size_t got;
} Conn;

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

static int dial(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("connect");
                exit(1);
        }
        return fd;
}

int main(int argc, char **argv)
{
        const char *method = argc > 4 ? argv[4] : "io.nodeprep.GetReport";
        const char *params = argc > 5 ? argv[5] : "{}";
        static char buf[1 << 20];
        char call[4096];
        size_t call_len, done = 0, started = 0, reply_bytes = 0;
        unsigned clients;
        size_t calls;
        uint64_t *lat, t0, t1;
        struct pollfd *pfd;
        Conn *c;

        if (argc < 4) {
                fprintf(stderr, "usage: %s SOCKET CLIENTS CALLS [METHOD [PARAMETERS]]\n", argv[0]);
                return 64;
        }
        clients = (unsigned)atoi(argv[2]);
        calls = (size_t)atol(argv[3]);
        call_len = (size_t)snprintf(call, sizeof(call), "{\"method\":\"%s\",\"parameters\":%s}",
                                    method, params) +
                   1; /* with the NUL */
        c = calloc(clients, sizeof(Conn));
        pfd = calloc(clients, sizeof(struct pollfd));
        lat = calloc(calls, sizeof(uint64_t));
        if (!c || !pfd || !lat)
                return 1;
        for (unsigned i = 0; i < clients; i++) {
                c[i].fd = dial(argv[1]);
                pfd[i] = (struct pollfd){ .fd = c[i].fd, .events = POLLIN };
        }
        t0 = now_ns();
        for (unsigned i = 0; i < clients && started < calls; i++, started++) {
                c[i].sent_at = now_ns();
                if (send(c[i].fd, call, call_len, MSG_NOSIGNAL) != (ssize_t)call_len)
                        return perror("send"), 1;
        }
        while (done < calls) {
                if (poll(pfd, clients, 10000) <= 0)
                        return fprintf(stderr, "timeout\n"), 1;
                for (unsigned i = 0; i < clients; i++) {
                        ssize_t n;

                        if (!(pfd[i].revents & (POLLIN | POLLHUP)))
                                continue;
                        n = recv(c[i].fd, buf, sizeof(buf), 0);
                        if (n <= 0)
                                return fprintf(stderr, "connection closed\n"), 1;
                        c[i].got += (size_t)n;
                        if (buf[n - 1] != '\0')
                                continue; /* the reply goes on */
                        if (reply_bytes == 0)
                                reply_bytes = c[i].got;
                        lat[done++] = now_ns() - c[i].sent_at;
                        c[i].got = 0;
                        if (started < calls) {
                                started++;
                                c[i].sent_at = now_ns();
                                if (send(c[i].fd, call, call_len, MSG_NOSIGNAL) !=
                                    (ssize_t)call_len)
                                        return perror("send"), 1;
                        } else
                                pfd[i].fd = -1;
                }
        }
        t1 = now_ns();
        qsort(lat, calls, sizeof(uint64_t), cmp_u64);
        printf("%u %zu %.3f %.0f %.0f %.0f %.0f %zu\n", clients, calls, (t1 - t0) / 1e9,
               calls / ((t1 - t0) / 1e9), lat[calls / 2] / 1e3, lat[calls * 99 / 100] / 1e3,
               lat[calls - 1] / 1e3, reply_bytes);
        return 0;
}
