/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host paths resolved inside the --root prefix. */

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/root.h"
#include "util/strv.h"

static int openat2_in_root(int dirfd, const char *path, int flags, mode_t mode)
{
        struct open_how how = {
                .flags = (unsigned)flags | O_CLOEXEC,
                .mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        long fd;

        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : (int)fd;
}

int np_root_new(const char *path, NpRoot **ret)
{
        _cleanup_(np_root_freep) NpRoot *r = NULL;
        _cleanup_free_ char *abs = NULL;

        if (isempty(path))
                path = "/";
        abs = realpath(path, NULL);
        if (!abs)
                return -errno;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->fd = open(abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (r->fd < 0)
                return -errno;
        r->host = streq(abs, "/");
        r->path = TAKE_PTR(abs);
        *ret = TAKE_PTR(r);
        return 0;
}

NpRoot *np_root_free(NpRoot *root)
{
        if (!root)
                return NULL;
        safe_close(root->fd);
        free(root->path);
        free(root);
        return NULL;
}

int np_root_open_mode(const NpRoot *root, const char *path, int flags, mode_t mode)
{
        int fd;

        if (root->host) {
                fd = open(path, flags | O_CLOEXEC, mode);
                return fd < 0 ? -errno : fd;
        }
        /* Relative to the root, whatever the leading slashes. */
        while (*path == '/')
                path++;
        if (*path == '\0')
                path = ".";
        return openat2_in_root(root->fd, path, flags, mode);
}

int np_root_open(const NpRoot *root, const char *path, int flags)
{
        return np_root_open_mode(root, path, flags, 0);
}

int np_root_stat(const NpRoot *root, const char *path, struct stat *ret)
{
        _cleanup_close_ int fd = np_root_open(root, path, O_PATH);

        if (fd < 0)
                return fd;
        if (fstat(fd, ret) < 0)
                return -errno;
        return 0;
}

int np_root_exists(const NpRoot *root, const char *path)
{
        struct stat st;
        int r = np_root_stat(root, path, &st);

        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        return r < 0 ? r : 1;
}

char *np_root_prefix(const NpRoot *root, const char *path)
{
        if (root->host)
                return strdup(path);
        return strprintf("%s%s%s", root->path, path[0] == '/' ? "" : "/", path);
}

int np_read_fd(int fd, size_t max_size, char **ret, size_t *ret_size)
{
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, allocated = 0;

        for (;;) {
                ssize_t k;

                if (!GREEDY_REALLOC(buf, allocated, n + 65536 + 1))
                        return -ENOMEM;
                k = read(fd, buf + n, allocated - n - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t)k;
                if (n > max_size)
                        return -EFBIG;
        }
        buf[n] = '\0';
        if (ret_size)
                *ret_size = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

int np_root_read_file(const NpRoot *root, const char *path, size_t max_size, char **ret,
                      size_t *ret_size)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = np_root_open(root, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        /* Only regular files and kernel pseudo-files (which report st_size 0); never a FIFO or device. */
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        return np_read_fd(fd, max_size, ret, ret_size);
}

int np_root_list_dir(const NpRoot *root, const char *path, char ***ret)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (!l)
                return -ENOMEM;
        fd = np_root_open(root, path, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        errno = 0;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = strv_extend(&l, de->d_name);
                if (r < 0)
                        break;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(d);
        if (r < 0)
                return r;
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}
