/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LD_PRELOAD stand-ins for rename(), renameat() and renameat2() (as kmod's testsuite fakes its
 * syscalls): another writer that races nodeprep deterministically, right before the rename that
 * would put nodeprep's file in place. The first call (per process) whose destination's last
 * component is $NP_PRELOAD_RENAME_TARGET does, before the real call:
 *
 *   NP_PRELOAD_RENAME_MODE=append       append $NP_PRELOAD_RENAME_TEXT to the destination
 *                                       (a write into the file itself: echo >> FILE)
 *   NP_PRELOAD_RENAME_MODE=replace      rename a new file with the destination's bytes and
 *                                       the text over it (an editor's or Ansible's save)
 *   NP_PRELOAD_RENAME_MODE=no-exchange  nothing; every renameat2(RENAME_EXCHANGE) fails with
 *                                       EINVAL, as on a file system without it
 *
 * $NP_PRELOAD_RENAME_LOG, if set, gets one line per call the hook acted on.
 */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool fired;

static const char *base_of(const char *path)
{
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

static void note(const char *what, const char *path)
{
        const char *log = getenv("NP_PRELOAD_RENAME_LOG");
        FILE *f = log ? fopen(log, "ae") : NULL;

        if (f) {
                fprintf(f, "%s %s\n", what, path);
                fclose(f);
        }
}

static int copy_into(int from, int to)
{
        char buf[65536];
        ssize_t n;

        while ((n = read(from, buf, sizeof(buf))) > 0)
                if (write(to, buf, (size_t)n) != n)
                        return -1;
        return n < 0 ? -1 : 0;
}

/* The other writer: act on dirfd/path (the destination nodeprep is about to rename over). */
static void race(int dirfd, const char *path)
{
        const char *target = getenv("NP_PRELOAD_RENAME_TARGET"),
                   *mode = getenv("NP_PRELOAD_RENAME_MODE"),
                   *text = getenv("NP_PRELOAD_RENAME_TEXT");
        char tmp[4096];
        int fd, src;

        if (fired || !target || !mode || !text || strcmp(base_of(path), target) != 0)
                return;
        fired = true;
        if (strcmp(mode, "append") == 0) {
                fd = openat(dirfd, path, O_WRONLY | O_APPEND | O_CLOEXEC);
                if (fd >= 0) {
                        if (write(fd, text, strlen(text)) == (ssize_t)strlen(text))
                                note("appended", path);
                        close(fd);
                }
        } else if (strcmp(mode, "replace") == 0) {
                snprintf(tmp, sizeof(tmp), "%s.other-writer", path);
                src = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (src >= 0 && fd >= 0 && copy_into(src, fd) == 0 &&
                    write(fd, text, strlen(text)) == (ssize_t)strlen(text) &&
                    renameat(dirfd, tmp, dirfd, path) == 0)
                        note("replaced", path);
                if (src >= 0)
                        close(src);
                if (fd >= 0)
                        close(fd);
        }
}

static bool no_exchange(unsigned flags)
{
        const char *mode = getenv("NP_PRELOAD_RENAME_MODE");

        return (flags & RENAME_EXCHANGE) && mode && strcmp(mode, "no-exchange") == 0;
}

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags)
{
        int (*real)(int, const char *, int, const char *, unsigned) =
            (int (*)(int, const char *, int, const char *, unsigned))dlsym(RTLD_NEXT, "renameat2");

        if (no_exchange(flags)) {
                note("refused-exchange", newpath);
                errno = EINVAL;
                return -1;
        }
        race(newdirfd, newpath);
        return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
        int (*real)(int, const char *, int, const char *) =
            (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");

        race(newdirfd, newpath);
        return real(olddirfd, oldpath, newdirfd, newpath);
}

int rename(const char *oldpath, const char *newpath)
{
        int (*real)(const char *, const char *) =
            (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");

        race(AT_FDCWD, newpath);
        return real(oldpath, newpath);
}
