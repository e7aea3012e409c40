/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The floor under any disk probe that reads the devices: open each device, read its first and
 * last 64 KiB, close it; 8 threads take the next device until none is left. Prints the wall
 * time in milliseconds.
 *
 * Usage: read-floor DEVICE...
 */

#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define THREADS 8
#define CHUNK   (64 * 1024)

static char **devices;
static size_t n_devices, next;

static void *worker(void *arg)
{
        static _Thread_local char buf[CHUNK];

        (void)arg;
        for (;;) {
                size_t i = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
                uint64_t size = 0;
                int fd;

                if (i >= n_devices)
                        return NULL;
                fd = open(devices[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                if (fd < 0)
                        continue;
                if (ioctl(fd, BLKGETSIZE64, &size) == 0 && size >= 2 * CHUNK) {
                        (void)!pread(fd, buf, CHUNK, 0);
                        (void)!pread(fd, buf, CHUNK, (off_t)(size - CHUNK));
                }
                close(fd);
        }
}

int main(int argc, char **argv)
{
        pthread_t threads[THREADS];
        struct timespec a, b;

        devices = argv + 1;
        n_devices = (size_t)(argc - 1);
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int i = 0; i < THREADS; i++)
                if (pthread_create(&threads[i], NULL, worker, NULL) != 0)
                        return 1;
        for (int i = 0; i < THREADS; i++)
                pthread_join(threads[i], NULL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("%.1f\n",
               (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
        return 0;
}
