/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Atomic file replacement inside the root, keeping mode, owner and every extended attribute. */

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fix/engine/fault.h"
#include "fix/exec/file-edit.h"
#include "util/strv.h"

void np_file_state_done(NpFileState *s)
{
        free(s->data);
        free(s->link);
        np_xattrs_done(&s->xattrs);
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

static void state_from_stat(NpFileState *s, const struct stat *st)
{
        s->exists = true;
        s->mode = st->st_mode;
        s->uid = st->st_uid;
        s->gid = st->st_gid;
        s->dev = st->st_dev;
        s->ino = st->st_ino;
        s->nlink = st->st_nlink;
}

int np_file_state_read(const NpRoot *root, const char *path, size_t max_size, NpFileState *ret)
{
        _cleanup_(np_file_state_done) NpFileState s = {};
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        const char *base;
        struct stat st;
        int r;

        dfd = np_open_parent(root, path, &base);
        if (dfd < 0)
                return dfd;
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return -errno;
                *ret = (NpFileState){};
                return 0;
        }
        state_from_stat(&s, &st);
        if (S_ISLNK(st.st_mode)) {
                char buf[4096];
                ssize_t n = readlinkat(dfd, base, buf, sizeof(buf) - 1);

                if (n < 0)
                        return -errno;
                s.link = strndup(buf, (size_t)n);
                if (!s.link)
                        return -ENOMEM;
        } else if (S_ISREG(st.st_mode)) {
                fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd < 0)
                        return -errno;
                /* What was opened is the truth (it may have been replaced since the fstatat). */
                if (fstat(fd, &st) < 0)
                        return -errno;
                state_from_stat(&s, &st);
                if (!S_ISREG(st.st_mode))
                        return -EBUSY;
                r = np_read_fd(fd, max_size, &s.data, &s.size);
                if (r >= 0)
                        r = np_xattrs_read_fd(fd, &s.xattrs);
                if (r < 0)
                        return r;
        }
        *ret = s;
        s = (NpFileState){};
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

/* 1 when the regular file fd holds exactly data (read again from its start), 0 when not. */
static int fd_holds(int fd, const char *data, size_t size)
{
        char buf[16384];
        size_t off = 0;

        for (;;) {
                ssize_t n = pread(fd, buf, sizeof(buf), (off_t)off);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return off == size;
                if ((size_t)n > size - off || memcmp(buf, data + off, (size_t)n) != 0)
                        return 0;
                off += (size_t)n;
        }
}

static bool same_inode(const struct stat *a, const struct stat *b)
{
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * Is the open file fd (st: its fstat) still what e says? NULL when it is, else why not (a
 * static string). The identity check catches a file renamed over the path, the contents check
 * a write into the same file.
 */
static const char *differs(int fd, const struct stat *st, const NpFileState *e)
{
        int r;

        if (!e)
                return NULL;
        if (!e->exists)
                return "it exists now: another program created it";
        if (st->st_dev != e->dev || st->st_ino != e->ino)
                return "another program replaced it";
        if (st->st_nlink != 1)
                return "it has been hard-linked";
        r = fd_holds(fd, e->data, e->size);
        return r < 0 ? "it cannot be read again" : r == 0 ? "another program wrote to it" : NULL;
}

static int stale(char **ret_error, const char *why)
{
        *ret_error = strdup(why);
        return *ret_error ? -ESTALE : -ENOMEM;
}

/* The kernel or file system cannot do this renameat2() flag (NFS, older ZFS, kernels < 3.15). */
static bool rename_flag_unsupported(int err)
{
        return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP || err == ENOTTY;
}

/* Fill the temporary file: data, then owner, mode and extended attributes, then fsync. */
static int fill_temp(int fd, int old_fd, const char *data, size_t size, mode_t mode, uid_t uid,
                     gid_t gid, const NpFileWrite *w, char **ret_error)
{
        _cleanup_free_ char *error = NULL;
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
        /* chown() may clear set-id bits and file capabilities, so mode and xattrs come after it;
         * an ACL last, as it sets the group bits of the mode from its mask. */
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode & 07777) < 0) {
                r = -errno;
                *ret_error = strprintf("cannot set owner %u:%u and mode %04o: %s", (unsigned)uid,
                                       (unsigned)gid, (unsigned)(mode & 07777), strerror(-r));
                return r;
        }
        if (w->restore) {
                static const NpXattrs none = {};

                r = np_xattrs_apply_fd(fd, w->xattrs ? w->xattrs : &none, &error);
        } else if (old_fd >= 0)
                r = np_xattrs_copy_fd(old_fd, fd, &error);
        if (r < 0) {
                *ret_error = strprintf("extended attributes: %s", strna(error));
                return r;
        }
        if (fsync(fd) < 0) {
                r = -errno;
                *ret_error = strprintf("fsync: %s", strerror(-r));
                return r;
        }
        np_fault_point("edit:temp-synced");
        return 0;
}

/*
 * Swap the filled temporary file (fd) in for the existing target (old_fd, whose contents and
 * identity were checked against w->expect). The window in which another writer's change could
 * be lost is as small as the kernel allows:
 *
 *   1. Right before the swap the target is checked again: still old_fd's file (a rename over it
 *      since shows as another inode) and still the expected bytes (read again through old_fd).
 *   2. renameat2(RENAME_EXCHANGE) swaps the two names atomically: from then on whoever opens
 *      the path gets our file, and the file that was there is now at the temporary name.
 *   3. That file is checked once more: if it is not the one we read (another program renamed
 *      its version over the path between 1 and 2) or its bytes differ (it wrote into it between
 *      1 and 2), the names are swapped back, so its version is in place again, and -ESTALE.
 *
 * What remains: a program that opened the old file before step 2 and writes to it after step 3
 * writes into a file that is no longer at the path (no rename-based replacement can see that;
 * README "Fixing a host" says so). Where RENAME_EXCHANGE is not supported (NFS, ZFS before 2.2)
 * a plain rename follows step 1, and a change landing between the two is lost as well.
 */
static int swap_in(int dfd, const char *base, const char *temp, int fd, int old_fd,
                   const NpFileWrite *w, bool *ret_keep_temp, char **ret_error)
{
        struct stat old_st, now_st, out_st, mine_st;
        const char *why;
        int err;

        if (fstat(old_fd, &old_st) < 0 || fstat(fd, &mine_st) < 0)
                return -errno;
        if (w->expect) {
                why = differs(old_fd, &old_st, w->expect);
                if (!why && fstatat(dfd, base, &now_st, AT_SYMLINK_NOFOLLOW) < 0)
                        why = errno == ENOENT ? "another program removed it" : "cannot stat it";
                else if (!why && !same_inode(&now_st, &old_st))
                        why = "another program replaced it";
                if (why)
                        return stale(ret_error, why);
        }
        np_fault_point("edit:verified");
        if (!w->expect || renameat2(dfd, temp, dfd, base, RENAME_EXCHANGE) < 0) {
                if (w->expect && !rename_flag_unsupported(errno))
                        return -errno;
                if (renameat(dfd, temp, dfd, base) < 0)
                        return -errno;
                np_fault_point("edit:renamed");
                return 0;
        }
        np_fault_point("edit:exchanged");
        /* temp names what the path held a moment ago: the file we checked, unchanged? */
        why = fstatat(dfd, temp, &out_st, AT_SYMLINK_NOFOLLOW) < 0 ? "cannot stat it"
              : !same_inode(&out_st, &old_st)                      ? "another program replaced it"
                                                                   : NULL;
        if (!why && fstat(old_fd, &old_st) >= 0)
                why = differs(old_fd, &old_st, w->expect);
        if (why) {
                /* Swap back: the other program's version goes back to the path. */
                if (renameat2(dfd, temp, dfd, base, RENAME_EXCHANGE) < 0) {
                        err = errno;
                        *ret_keep_temp = true;
                        *ret_error = strprintf("%s during the swap, and swapping back failed (%s): "
                                               "the other version is in %s",
                                               why, strerror(err), temp);
                        return *ret_error ? -ESTALE : -ENOMEM;
                }
                /* Ours is at temp again, unless yet another writer moved it: then keep it. */
                if (fstatat(dfd, temp, &out_st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !same_inode(&out_st, &mine_st)) {
                        *ret_keep_temp = true;
                        *ret_error = strprintf("%s while nodeprep was replacing it; a third "
                                               "version was left in %s",
                                               why, temp);
                        return *ret_error ? -ESTALE : -ENOMEM;
                }
                return stale(ret_error, why);
        }
        np_fault_point("edit:renamed");
        /* The old file, now at temp; should this fail, the next run removes it. */
        (void)unlinkat(dfd, temp, 0);
        return 0;
}

/* Put the filled temporary file at the path, which must not exist (w->expect says absent). */
static int link_in(int dfd, const char *base, const char *temp, const NpFileWrite *w,
                   char **ret_error)
{
        if (!w->expect) {
                if (renameat(dfd, temp, dfd, base) < 0)
                        return -errno;
        } else if (renameat2(dfd, temp, dfd, base, RENAME_NOREPLACE) < 0) {
                if (errno == EEXIST)
                        return stale(ret_error, "another program created it meanwhile");
                if (!rename_flag_unsupported(errno))
                        return -errno;
                /* linkat() never replaces a name either. */
                if (linkat(dfd, temp, dfd, base, 0) < 0)
                        return errno == EEXIST
                                   ? stale(ret_error, "another program created it meanwhile")
                                   : -errno;
                np_fault_point("edit:renamed");
                return unlinkat(dfd, temp, 0) < 0 ? -errno : 0;
        }
        np_fault_point("edit:renamed");
        return 0;
}

int np_file_write_atomic(const NpRoot *root, const char *path, const char *data, size_t size,
                         const NpFileWrite *w, char **ret_error)
{
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF, old_fd = -EBADF;
        _cleanup_free_ char *error = NULL;
        bool keep_temp = false;
        mode_t mode = w->mode;
        uid_t uid = w->uid;
        gid_t gid = w->gid;
        const char *base, *why = NULL;
        struct stat st;
        int r;

        dfd = np_open_parent(root, path, &base);
        if (dfd < 0) {
                *ret_error = strprintf("cannot open the directory of %s: %s", path, strerror(-dfd));
                return dfd;
        }
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (S_ISREG(st.st_mode))
                        old_fd = openat(dfd, base,
                                        O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (old_fd >= 0 && fstat(old_fd, &st) < 0)
                        return -errno;
                if (!S_ISREG(st.st_mode)) {
                        *ret_error = strprintf("%s is not a regular file; nodeprep does not "
                                               "replace it",
                                               path);
                        return -EMEDIUMTYPE;
                }
                if (old_fd < 0) {
                        r = -errno;
                        *ret_error = strprintf("cannot open %s: %s", path, strerror(-r));
                        return r;
                }
                if (st.st_nlink > 1) {
                        *ret_error = strprintf("%s is hard-linked: would break the link (%ju "
                                               "links)",
                                               path, (uintmax_t)st.st_nlink);
                        return -EMLINK;
                }
                why = differs(old_fd, &st, w->expect);
                if (!w->restore) {
                        mode = st.st_mode;
                        uid = st.st_uid;
                        gid = st.st_gid;
                }
        } else if (errno != ENOENT) {
                r = -errno;
                *ret_error = strprintf("cannot stat %s: %s", path, strerror(-r));
                return r;
        } else if (w->expect && w->expect->exists)
                why = "another program removed it";
        if (why)
                return stale(ret_error, why);

        /* 0600 until it is complete: a kill leaves nothing more readable than the target. */
        fd = openat(dfd, w->temp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
                r = -errno;
                *ret_error =
                    strprintf("cannot create a temporary file next to %s: %s", path, strerror(-r));
                return r;
        }
        r = fill_temp(fd, old_fd, data, size, mode, uid, gid, w, ret_error);
        if (r >= 0) {
                r = old_fd >= 0
                        ? swap_in(dfd, base, w->temp_name, fd, old_fd, w, &keep_temp, &error)
                        : link_in(dfd, base, w->temp_name, w, &error);
                if (r == -ESTALE)
                        *ret_error = TAKE_PTR(error);
                else if (r < 0)
                        *ret_error = strprintf("cannot rename the temporary file over %s: %s", path,
                                               error ? error : strerror(-r));
        }
        if (r < 0) {
                if (!keep_temp)
                        (void)unlinkat(dfd, w->temp_name, 0); /* the old file is untouched */
                return r;
        }
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

int np_file_remove_expected(const NpRoot *root, const char *path, const NpFileState *expect,
                            const char *temp_name, char **ret_error)
{
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        const char *base, *why;
        struct stat st;

        dfd = np_open_parent(root, path, &base);
        if (dfd < 0)
                return dfd;
        /* Aside first: from here on nobody can change it under its name. */
        if (renameat2(dfd, base, dfd, temp_name, RENAME_NOREPLACE) < 0) {
                if (!rename_flag_unsupported(errno))
                        return -errno;
                /* No renameat2(): check in place, then unlink (a change in between is lost). */
                fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd < 0 || fstat(fd, &st) < 0)
                        return -errno;
                why = S_ISREG(st.st_mode) ? differs(fd, &st, expect) : "not a regular file";
                if (why)
                        return stale(ret_error, why);
                if (unlinkat(dfd, base, 0) < 0)
                        return -errno;
                return fsync(dfd) < 0 ? -errno : 0;
        }
        fd = openat(dfd, temp_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        why = fd < 0 || fstat(fd, &st) < 0 ? "it cannot be opened"
              : !S_ISREG(st.st_mode)       ? "it is not a regular file now"
                                           : differs(fd, &st, expect);
        if (why) {
                /* Put it back, unless the path has been taken again meanwhile. */
                if (renameat2(dfd, temp_name, dfd, base, RENAME_NOREPLACE) < 0) {
                        *ret_error = strprintf("%s; it was left in %s (%s)", why, temp_name,
                                               strerror(errno));
                        return *ret_error ? -ESTALE : -ENOMEM;
                }
                return stale(ret_error, why);
        }
        np_fault_point("remove:aside");
        if (unlinkat(dfd, temp_name, 0) < 0)
                return -errno;
        return fsync(dfd) < 0 ? -errno : 0;
}

bool np_temp_name_matches(const char *path, const char *name)
{
        const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path, *rest;

        if (name[0] != '.' || !strneq(name + 1, base, strlen(base)))
                return false;
        rest = startswith(name + 1 + strlen(base), ".nodeprep-");
        return rest && strlen(rest) == 8 && strspn(rest, "0123456789abcdef") == 8;
}

int np_file_remove_temps(const NpRoot *root, const char *path)
{
        _cleanup_close_ int dfd = -EBADF;
        const char *base;
        struct dirent *de;
        int n = 0, r = 0, fd;
        DIR *d;

        dfd = np_open_parent(root, path, &base);
        if (dfd == -ENOENT || dfd == -ENOTDIR)
                return 0;
        if (dfd < 0)
                return dfd;
        fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                struct stat st;

                /* Only nodeprep's own names, only regular files: nothing else is touched. */
                if (!np_temp_name_matches(path, de->d_name) ||
                    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (unlinkat(dfd, de->d_name, 0) < 0) {
                        if (errno != ENOENT && r == 0)
                                r = -errno;
                        continue;
                }
                n++;
        }
        closedir(d);
        if (n > 0 && fsync(dfd) < 0 && r == 0)
                r = -errno;
        return r < 0 ? r : n;
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
                        r = np_mkdir_in_root(root, p, mode, geteuid(), getegid());
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
