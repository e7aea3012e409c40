/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Atomic file replacement inside the root, keeping mode, owner, ACL and SELinux label. */

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fix/fault.h"
#include "fix/file-edit.h"
#include "util/strv.h"

/* Metadata a replacement must carry over besides mode and owner. */
static const char *const kept_xattrs[] = { "system.posix_acl_access", "security.selinux" };

void np_file_state_done(NpFileState *s)
{
        free(s->data);
        free(s->link);
        *s = (NpFileState){};
}

int np_open_parent(const NpRoot *root, const char *path, const char **ret_base)
{
        _cleanup_free_ char *dir = NULL;
        const char *slash = strrchr(path, '/');

        if (!slash || slash[1] == '\0' || path[0] != '/')
                return -EINVAL;
        dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
        if (!dir)
                return -ENOMEM;
        *ret_base = slash + 1;
        return np_root_open(root, dir, O_RDONLY | O_DIRECTORY);
}

int np_file_state_read(const NpRoot *root, const char *path, size_t max_size, NpFileState *ret)
{
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        NpFileState s = {};
        const char *base;
        struct stat st;
        int r;

        dfd = np_open_parent(root, path, &base);
        if (dfd < 0)
                return dfd;
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return -errno;
                *ret = s;
                return 0;
        }
        s = (NpFileState){ .exists = true, .mode = st.st_mode, .uid = st.st_uid, .gid = st.st_gid };
        if (S_ISLNK(st.st_mode)) {
                char buf[4096];
                ssize_t n = readlinkat(dfd, base, buf, sizeof(buf) - 1);

                if (n < 0)
                        return -errno;
                s.link = strndup(buf, (size_t)n);
                if (!s.link)
                        return -ENOMEM;
        } else if (S_ISREG(st.st_mode)) {
                fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return -errno;
                r = np_read_fd(fd, max_size, &s.data, &s.size);
                if (r < 0)
                        return r;
        }
        *ret = s;
        return 0;
}

static int copy_xattr(int from, int to, const char *name)
{
        _cleanup_free_ char *buf = NULL;
        ssize_t n;

        n = fgetxattr(from, name, NULL, 0);
        if (n < 0) {
                if (errno != ENODATA && errno != EOPNOTSUPP)
                        return -errno;
                /* The old file has none: the new one must not keep an inherited default ACL. */
                if (fremovexattr(to, name) < 0 && errno != ENODATA && errno != EOPNOTSUPP)
                        return -errno;
                return 0;
        }
        buf = malloc((size_t)n + 1);
        if (!buf)
                return -ENOMEM;
        n = fgetxattr(from, name, buf, (size_t)n);
        if (n < 0)
                return -errno;
        if (fsetxattr(to, name, buf, (size_t)n, 0) < 0)
                return -errno;
        return 0;
}

static int write_all(int fd, const char *data, size_t size)
{
        while (size > 0) {
                ssize_t k = write(fd, data, size);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += k;
                size -= (size_t)k;
        }
        return 0;
}

/* Fill the temporary file: data, then owner, mode and the kept xattrs, then fsync. */
static int fill_temp(int fd, int old_fd, const char *data, size_t size, mode_t mode, uid_t uid,
                     gid_t gid, char **ret_error)
{
        int r;

        np_fault_point("edit:temp-created");
        r = write_all(fd, data, size / 2);
        if (r >= 0) {
                np_fault_point("edit:temp-partial");
                r = write_all(fd, data + size / 2, size - size / 2);
        }
        if (r < 0) {
                *ret_error = strprintf("cannot write the new contents: %s", strerror(-r));
                return r;
        }
        np_fault_point("edit:temp-written");
        /* chown() may clear set-id bits, so the mode comes after it. */
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode & 07777) < 0) {
                r = -errno;
                *ret_error = strprintf("cannot set owner %u:%u and mode %04o: %s", (unsigned)uid,
                                       (unsigned)gid, (unsigned)(mode & 07777), strerror(-r));
                return r;
        }
        for (size_t i = 0; old_fd >= 0 && i < ELEMENTSOF(kept_xattrs); i++) {
                r = copy_xattr(old_fd, fd, kept_xattrs[i]);
                if (r < 0) {
                        *ret_error = strprintf("cannot copy %s: %s", kept_xattrs[i], strerror(-r));
                        return r;
                }
        }
        if (fsync(fd) < 0) {
                r = -errno;
                *ret_error = strprintf("fsync: %s", strerror(-r));
                return r;
        }
        np_fault_point("edit:temp-synced");
        return 0;
}

int np_file_write_atomic(const NpRoot *root, const char *path, const char *data, size_t size,
                         mode_t mode, uid_t uid, gid_t gid, const char *temp_name, char **ret_error)
{
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF, old_fd = -EBADF;
        const char *base;
        struct stat st;
        int r;

        dfd = np_open_parent(root, path, &base);
        if (dfd < 0) {
                *ret_error = strprintf("cannot open the directory of %s: %s", path, strerror(-dfd));
                return dfd;
        }
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (!S_ISREG(st.st_mode)) {
                        *ret_error = strprintf("%s is not a regular file; nodeprep does not "
                                               "replace it",
                                               path);
                        return -EMEDIUMTYPE;
                }
                old_fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (old_fd < 0) {
                        r = -errno;
                        *ret_error = strprintf("cannot open %s: %s", path, strerror(-r));
                        return r;
                }
                mode = st.st_mode;
                uid = st.st_uid;
                gid = st.st_gid;
        } else if (errno != ENOENT) {
                r = -errno;
                *ret_error = strprintf("cannot stat %s: %s", path, strerror(-r));
                return r;
        }

        fd = openat(dfd, temp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
                r = -errno;
                *ret_error =
                    strprintf("cannot create a temporary file next to %s: %s", path, strerror(-r));
                return r;
        }
        r = fill_temp(fd, old_fd, data, size, mode, uid, gid, ret_error);
        if (r >= 0 && renameat(dfd, temp_name, dfd, base) < 0) {
                r = -errno;
                *ret_error =
                    strprintf("cannot rename the temporary file over %s: %s", path, strerror(-r));
        }
        if (r < 0) {
                (void)unlinkat(dfd, temp_name, 0); /* the old file is untouched */
                return r;
        }
        np_fault_point("edit:renamed");
        if (fsync(dfd) < 0) {
                r = -errno;
                *ret_error = strprintf("%s was replaced, but fsync of its directory failed: %s",
                                       path, strerror(-r));
                return r;
        }
        np_fault_point("edit:dir-synced");
        return 0;
}

int np_file_remove(const NpRoot *root, const char *path)
{
        _cleanup_close_ int dfd = -EBADF;
        const char *base;

        dfd = np_open_parent(root, path, &base);
        if (dfd < 0)
                return dfd;
        if (unlinkat(dfd, base, 0) < 0)
                return -errno;
        return fsync(dfd) < 0 ? -errno : 0;
}

int np_file_remove_temp(const NpRoot *root, const char *path, const char *temp_name)
{
        _cleanup_close_ int dfd = -EBADF;
        const char *base;

        if (isempty(temp_name) || strchr(temp_name, '/') || temp_name[0] != '.')
                return -EINVAL;
        dfd = np_open_parent(root, path, &base);
        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0)
                return dfd;
        if (unlinkat(dfd, temp_name, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

int np_mkdir_in_root(const NpRoot *root, const char *path, mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        const char *base;

        dfd = np_open_parent(root, path, &base);
        if (dfd < 0)
                return dfd;
        if (mkdirat(dfd, base, mode & 07777) < 0)
                return -errno;
        fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* mkdir() applies the umask: set owner and the exact mode afterwards. */
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode & 07777) < 0 || fsync(fd) < 0)
                return -errno;
        return fsync(dfd) < 0 ? -errno : 0;
}

int np_mkdir_p_in_root(const NpRoot *root, const char *path, mode_t mode)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *slash = p + 1;; slash++) {
                bool last = *slash == '\0';
                struct stat st;
                int r;

                if (*slash != '/' && !last)
                        continue;
                *slash = '\0';
                r = np_root_stat(root, p, &st);
                if (r == -ENOENT) {
                        r = np_mkdir_in_root(root, p, mode, getuid(), getgid());
                        if (r == -EEXIST)
                                r = 0;
                } else if (r >= 0 && !S_ISDIR(st.st_mode))
                        r = -ENOTDIR;
                if (r < 0)
                        return r;
                if (last)
                        return 0;
                *slash = '/';
        }
}

char *np_temp_name(const char *path)
{
        const char *base = strrchr(path, '/');
        uint32_t rnd = 0;

        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (uint32_t)getpid() ^ (uint32_t)(uintptr_t)&rnd;
        return strprintf(".%s.nodeprep-%08x", base ? base + 1 : path, rnd);
}
