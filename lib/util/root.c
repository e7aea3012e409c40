/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host paths resolved inside the --root prefix. */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/compat.h"
#include "util/root.h"
#include "util/strv.h"

#define MAX_SYMLINKS 40 /* as the kernel's path walk */

/*
 * Resolve path inside the directory root_fd as if it were "/", without openat2(): one component
 * at a time with O_NOFOLLOW, reading symlinks ourselves (absolute ones restart at root_fd, ".."
 * never climbs above it). Used where openat2() is missing: kernels before 5.6, valgrind, seccomp
 * filters that do not know it.
 */
static int chase_in_root(int root_fd, const char *path, int flags, mode_t mode)
{
        _cleanup_free_ char *todo = strdup(path);
        _cleanup_close_ int dir = -EBADF;
        unsigned links = 0;
        char *p;

        if (!todo)
                return -ENOMEM;
        dir = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (dir < 0)
                return -errno;
        p = todo;
        for (;;) {
                _cleanup_close_ int next = -EBADF;
                char *slash, *comp;
                bool last;
                struct stat st;

                while (*p == '/')
                        p++;
                if (*p == '\0') { /* the path names the directory we hold: reopen it as asked */
                        int fd = openat(dir, ".", flags | O_CLOEXEC, mode);

                        return fd < 0 ? -errno : fd;
                }
                comp = p;
                slash = strchr(p, '/');
                if (slash) {
                        *slash = '\0';
                        p = slash + 1;
                } else
                        p += strlen(p);
                while (*p == '/')
                        p++;
                last = *p == '\0';

                if (streq(comp, "."))
                        continue;
                if (streq(comp, "..")) {
                        struct stat a, b;

                        /* At the root, ".." is the root itself. */
                        if (fstat(dir, &a) < 0 || fstat(root_fd, &b) < 0)
                                return -errno;
                        if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                                continue;
                        next = openat(dir, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (next < 0)
                                return -errno;
                        safe_close(dir);
                        dir = TAKE_FD(next);
                        continue;
                }
                next = openat(dir, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0 && errno == ENOENT && last && (flags & O_CREAT)) {
                        int fd = openat(dir, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);

                        return fd < 0 ? -errno : fd;
                }
                if (next < 0)
                        return -errno;
                if (fstat(next, &st) < 0)
                        return -errno;
                if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
                        char target[PATH_MAX];
                        ssize_t n;
                        char *rest;

                        if (++links > MAX_SYMLINKS)
                                return -ELOOP;
                        n = readlinkat(next, "", target, sizeof(target) - 1);
                        if (n < 0)
                                return -errno;
                        target[n] = '\0';
                        rest = strprintf("%s/%s", target, p);
                        if (!rest)
                                return -ENOMEM;
                        if (target[0] == '/') {
                                safe_close(dir);
                                dir = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
                                if (dir < 0) {
                                        free(rest);
                                        return -errno;
                                }
                        }
                        free_and_replace(&todo, rest);
                        p = todo;
                        continue;
                }
                if (last) {
                        int fd;

                        if (flags & O_PATH) {
                                /* What we hold is exactly what was asked for. */
                                fd = fcntl(next, F_DUPFD_CLOEXEC, 3);
                                return fd < 0 ? -errno : fd;
                        }
                        fd = openat(dir, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                        return fd < 0 ? -errno : fd;
                }
                if (!S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                safe_close(dir);
                dir = TAKE_FD(next);
        }
}

static bool openat2_missing = false;

static bool openat2_blocked(int dirfd)
{
        struct open_how how = { .flags = O_PATH | O_CLOEXEC };
        long fd = syscall(SYS_openat2, dirfd, ".", &how, sizeof(how));

        if (fd >= 0)
                (void)close((int)fd);
        return fd < 0 && errno == EPERM;
}

static int openat2_in_root(int dirfd, const char *path, int flags, mode_t mode)
{
        struct open_how how = {
                .flags = (unsigned)flags | O_CLOEXEC,
                .mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        long fd;

        if (!openat2_missing) {
                fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
                if (fd >= 0)
                        return (int)fd;
                if (errno != ENOSYS && errno != EPERM)
                        return -errno;
                /* EPERM: the path's own (the walk below gives it again), or a seccomp filter
                 * that knows no openat2 (systemd 239's SystemCallFilter=) or blocks it
                 * (RestrictSUIDSGID= before systemd 249): then "." is refused too. */
                openat2_missing = errno == ENOSYS || openat2_blocked(dirfd);
        }
        return chase_in_root(dirfd, path, flags, mode);
}

int np_root_new(const char *path, NpRoot **ret)
{
        _cleanup_(np_root_freep) NpRoot *r = NULL;
        _cleanup_free_ char *abs = NULL;

        /* NULL is the running system; "" is refused: an unset variable must not mean "/". */
        if (!path)
                path = "/";
        if (path[0] == '\0')
                return -EINVAL;
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

void np_root_record(NpRoot *root, NpWatchList *l, int tag)
{
        root->record = l;
        root->record_tag = tag;
}

/* A change within this long of a read may leave the times as they were (file systems keep
 * whole seconds, or two for FAT; the kernel's clock for them moves by ticks): such a file's
 * identity tells nothing and compares as changed (git's "racily clean" entries, the same way). */
#define NP_FILE_ID_RACY_SEC 2

/* Is t less than NP_FILE_ID_RACY_SEC before now (or after it)? */
static bool recent(const struct timespec *t, const struct timespec *now)
{
        return t->tv_sec + NP_FILE_ID_RACY_SEC > now->tv_sec ||
               (t->tv_sec + NP_FILE_ID_RACY_SEC == now->tv_sec && t->tv_nsec >= now->tv_nsec);
}

/* What fd (opened with flags, or failed with -errno fd) is, for np_root_input_changed(). */
static void file_id_take(int fd, int flags, NpFileId *ret)
{
        struct timespec now;
        struct stat st;

        *ret = (NpFileId){ .known = true, .flags = flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW) };
        if (fd < 0) {
                ret->error = fd;
                return;
        }
        if (fstat(fd, &st) < 0) {
                ret->known = false;
                return;
        }
        /* Asked not to follow a symlink, a read gets ELOOP: so does a look at it with O_PATH. */
        if (S_ISLNK(st.st_mode) && (flags & O_NOFOLLOW) && !(flags & O_PATH)) {
                ret->error = -ELOOP;
                return;
        }
        ret->dev = st.st_dev;
        ret->ino = st.st_ino;
        ret->mode = st.st_mode;
        ret->size = st.st_size;
        ret->mtim = st.st_mtim;
        ret->ctim = st.st_ctim;
        ret->racy = clock_gettime(CLOCK_REALTIME, &now) < 0 || recent(&st.st_ctim, &now) ||
                    recent(&st.st_mtim, &now);
}

static bool file_id_equal(const NpFileId *a, const NpFileId *b)
{
        if (!a->known || !b->known || a->racy || a->error != b->error)
                return false;
        return a->error != 0 ||
               (a->dev == b->dev && a->ino == b->ino && a->mode == b->mode && a->size == b->size &&
                a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
                a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec);
}

bool np_root_input_changed(const NpRoot *root, const NpWatchPath *p)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *rel;
        NpFileId now;

        if (!p->id.known || p->id.racy)
                return true;
        path = p->name ? strprintf("%s%s%s", p->dir, endswith(p->dir, "/") ? "" : "/", p->name)
                       : strdup(p->dir);
        if (!path)
                return true;
        rel = root->host ? path : startswith(path, root->path);
        if (!rel || (*rel != '/' && *rel != '\0'))
                return true; /* not inside the root: never recorded so */
        /* Looked at as read, but never opened for reading again (a FIFO, a device). */
        fd = np_root_open(root, isempty(rel) ? "/" : rel,
                          O_PATH | (p->id.flags & (O_DIRECTORY | O_NOFOLLOW)));
        file_id_take(fd, p->id.flags, &now);
        return !file_id_equal(&p->id, &now);
}

/* Add host path p (absolute) to the record: whole when listed, else as an entry of its parent. */
static int record_path(const NpRoot *root, const char *p, bool listed, const NpFileId *id)
{
        _cleanup_free_ char *dir = NULL;
        const char *slash;

        if (listed)
                return np_watch_list_add_id(root->record, p, NULL, root->record_tag, id);
        slash = strrchr(p, '/');
        if (!slash || slash[1] == '\0')
                return 0; /* "/" itself: nothing above it to watch it from */
        dir = slash == p ? strdup("/") : strndup(p, (size_t)(slash - p));
        if (!dir)
                return -ENOMEM;
        return np_watch_list_add_id(root->record, dir, slash + 1, root->record_tag, id);
}

/* What np_root_open_mode() resolved: the path asked for and, if symlinks led elsewhere, the file
 * reached (its change is a change of what was read). A failure to record is -ENOMEM only. */
static int record_open(const NpRoot *root, const char *path, int flags, int fd)
{
        _cleanup_free_ char *asked = NULL, *clean = strdup(path);
        bool listed = fd >= 0 && (flags & O_DIRECTORY) && !(flags & O_PATH);
        char link[64], target[PATH_MAX];
        struct statfs sf;
        NpFileId id;
        size_t n;
        ssize_t k;
        int r;

        if (!clean)
                return -ENOMEM;
        n = strlen(clean); /* "/etc/modprobe.d/" is the directory "/etc/modprobe.d" */
        while (n > 1 && clean[n - 1] == '/')
                clean[--n] = '\0';
        asked = root->host && clean[0] != '/' ? NULL : np_root_prefix(root, clean);
        if (!asked)
                return clean[0] == '/' || !root->host ? -ENOMEM : 0;
        /* Taken before anything is read from fd: a change after it is a change of what is read. */
        file_id_take(fd, flags, &id);
        r = record_path(root, asked, listed, &id);
        if (r < 0 || fd < 0)
                return r;
        /* /proc/self/mounts is /proc/PID/mounts: the kernel's files are declared by the path
         * asked for (its area row's .unwatched). */
        if (fstatfs(fd, &sf) >= 0 && (sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC))
                return 0;
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        k = readlink(link, target, sizeof(target) - 1);
        if (k <= 0 || target[0] != '/')
                return 0; /* no /proc: the path asked for is what is recorded */
        target[k] = '\0';
        return streq(target, asked) ? 0 : record_path(root, target, listed, &id);
}

int np_root_open_mode(const NpRoot *root, const char *path, int flags, mode_t mode)
{
        const char *rel = path;
        int fd;

        if (root->host) {
                fd = open(path, flags | O_CLOEXEC, mode);
                fd = fd < 0 ? -errno : fd;
        } else {
                /* Relative to the root, whatever the leading slashes. */
                while (*rel == '/')
                        rel++;
                if (*rel == '\0')
                        rel = ".";
                fd = openat2_in_root(root->fd, rel, flags, mode);
        }
        if (root->record && record_open(root, path, flags, fd) < 0) {
                safe_close(fd);
                return -ENOMEM;
        }
        return fd;
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

int np_root_open_regular(const NpRoot *root, const char *path, bool nofollow, struct stat *ret_st)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        /* O_NONBLOCK: opening a FIFO for reading would wait for a writer; a tty or device may
         * block as well. Regular files ignore the flag. */
        fd = np_root_open(root, path,
                          O_RDONLY | O_NOCTTY | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0));
        if (fd == -ELOOP && nofollow)
                return -ELOOP; /* the last component is a symlink */
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        /* Only regular files and kernel pseudo-files (which report st_size 0); never a FIFO,
         * socket or device. */
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (ret_st)
                *ret_st = st;
        return TAKE_FD(fd);
}

int np_root_read_file(const NpRoot *root, const char *path, size_t max_size, char **ret,
                      size_t *ret_size)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = np_root_open_regular(root, path, false, &st);
        if (fd < 0)
                return fd;
        return np_read_fd(fd, max_size, ret, ret_size);
}

const char *np_file_type_name(mode_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFIFO:
                return "FIFO";
        case S_IFSOCK:
                return "socket";
        case S_IFCHR:
                return "character device";
        case S_IFBLK:
                return "block device";
        case S_IFLNK:
                return "symlink";
        case S_IFDIR:
                return "directory";
        case S_IFREG:
                return "regular file";
        default:
                return "unknown file type";
        }
}

char *np_root_read_error(const NpRoot *root, const char *path, int error)
{
        _cleanup_free_ char *shown = np_root_prefix(root, path);
        struct stat st;

        if (error == -EFBIG)
                return strprintf("%s: file too large (larger than nodeprep reads)", strna(shown));
        if (error == -EBADFD) {
                /* O_PATH never blocks, whatever the file is: name what is there. */
                if (np_root_stat(root, path, &st) >= 0 && !S_ISREG(st.st_mode))
                        return strprintf("%s: not a regular file: %s", strna(shown),
                                         np_file_type_name(st.st_mode));
                return strprintf("%s: not a regular file", strna(shown));
        }
        if (error == -ELOOP)
                return strprintf("%s: %s (a symlink where a file is expected, or too many "
                                 "levels of symlinks)",
                                 strna(shown), strerror(-error));
        return strprintf("%s: %s", strna(shown), strerror(-error));
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

void np_root_force_chase(bool force)
{
        openat2_missing = force;
}
