/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Free space for a path: statvfs of the path or, when it does not exist yet (IOMesh creates
 * /opt/iomesh itself), of its nearest existing ancestor; the mount is found by the mount id of
 * the very file descriptor, so bind mounts and --root trees are attributed correctly.
 */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "probe/probe.h"
#include "util/strv.h"

/* A copy of a mountinfo or fstab field without its \ooo escapes, NULL on -ENOMEM. */
static char *unescaped(const char *s)
{
        char *c = strdup(s);

        return c ? str_unescape_octal(c) : NULL;
}

static int fd_mount_id(int fd, int *ret)
{
        char path[64], *data = NULL, *p;
        _cleanup_close_ int info = -EBADF;
        int r;

        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
        info = open(path, O_RDONLY | O_CLOEXEC);
        if (info < 0)
                return -errno;
        r = np_read_fd(info, 64 * 1024, &data, NULL);
        if (r < 0)
                return r;
        p = strstr(data, "mnt_id:");
        r = p ? 0 : -ENODATA;
        if (p)
                *ret = atoi(p + strlen("mnt_id:"));
        free(data);
        return r;
}

/* *ret_outside: the mount lies outside a --root tree (the tree is part of a bigger file
 * system), so for the tree it is its "/". */
static int find_mount(int mnt_id, NpFsFacts *fs, const NpRoot *root, bool *ret_outside)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        _cleanup_close_ int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        int r;

        if (fd < 0)
                return -errno;
        r = np_read_fd(fd, 64U * 1024U * 1024U, &data, NULL);
        if (r < 0)
                return r;
        r = strv_split(data, "\n", &lines);
        if (r < 0)
                return r;
        STRV_FOREACH (l, lines) {
                _cleanup_strv_free_ char **w = NULL;
                const char *sep;
                size_t i;

                r = strv_split(*l, " ", &w);
                if (r < 0)
                        return r;
                if (strv_length(w) < 7 || atoi(w[0]) != mnt_id)
                        continue;
                for (i = 6; w[i] && !streq(w[i], "-"); i++)
                        ;
                if (!w[i] || !w[i + 1] || !w[i + 2])
                        return -EBADMSG;
                fs->mount_point = unescaped(w[4]);
                fs->fs_type = strdup(w[i + 1]);
                fs->mount_source = unescaped(w[i + 2]);
                if (!fs->mount_point || !fs->fs_type || !fs->mount_source)
                        return -ENOMEM;
                /* Inside a --root tree, show the mount point as that host would see it. */
                sep = root->host ? NULL : startswith(fs->mount_point, root->path);
                *ret_outside = !root->host && !(sep && (*sep == '/' || *sep == '\0'));
                if (sep && (*sep == '/' || *sep == '\0'))
                        free_and_replace(&fs->mount_point, strdup(*sep ? sep : "/"));
                return fs->mount_point ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

/* Is path the directory dir or below it (whole components)? */
static bool path_under(const char *path, const char *dir)
{
        const char *rest = startswith(path, dir);

        if (streq(dir, "/"))
                return path[0] == '/';
        return rest && (*rest == '\0' || *rest == '/');
}

/*
 * A file system /etc/fstab mounts at or above path, deeper than the mount we measured: it is
 * not mounted now (a failed or not yet attempted mount), so the free space it will have is not
 * what we see. The fstab entry's mount point, or NULL.
 */
static char *unmounted_fstab_entry(const NpRoot *root, const char *path, const char *measured)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_strv_free_ char **lines = NULL;

        if (np_root_read_file(root, "/etc/fstab", NP_READ_MAX_DEFAULT, &data, NULL) < 0 ||
            strv_split(data, "\n", &lines) < 0)
                return NULL;
        STRV_FOREACH (l, lines) {
                char spec[4096], file[4096], type[256];
                _cleanup_free_ char *mp = NULL;

                if (sscanf(*l, " %4095s %4095s %255s", spec, file, type) != 3 || spec[0] == '#' ||
                    file[0] != '/' || streq(type, "swap"))
                        continue;
                mp = unescaped(file); /* fstab uses the same \040 escapes */
                if (mp && strlen(mp) > 1 && mp[strlen(mp) - 1] == '/')
                        mp[strlen(mp) - 1] = '\0';
                if (mp && path_under(path, mp) && strlen(mp) > strlen(measured) &&
                    path_under(mp, measured))
                        return TAKE_PTR(mp);
        }
        return NULL;
}

int np_probe_open_nearest(const NpRoot *root, const char *path, int *ret_fd, char **ret_found,
                          char **ret_unknown)
{
        _cleanup_free_ char *candidate = strdup(path);
        int fd;

        if (!candidate)
                return -ENOMEM;
        for (;;) {
                char *slash;

                fd = np_root_open(root, candidate, O_PATH);
                if (fd >= 0)
                        break;
                if (fd != -ENOENT || streq(candidate, "/")) {
                        *ret_unknown = np_probe_reason(root, candidate, fd);
                        return *ret_unknown ? 0 : -ENOMEM;
                }
                /* A symlink to nowhere (/opt -> /mnt/big/opt, not mounted): its ancestor's
                 * file system is not where the data would go. */
                {
                        _cleanup_close_ int link =
                            np_root_open(root, candidate, O_PATH | O_NOFOLLOW);
                        struct stat st;

                        if (link >= 0 && fstat(link, &st) == 0 && S_ISLNK(st.st_mode)) {
                                *ret_unknown = strprintf("%s is a symbolic link to something "
                                                         "that does not exist (a file system "
                                                         "not mounted?)",
                                                         candidate);
                                return *ret_unknown ? 0 : -ENOMEM;
                        }
                }
                slash = strrchr(candidate, '/');
                if (slash == candidate)
                        slash[1] = '\0';
                else
                        *slash = '\0';
        }
        *ret_fd = fd;
        *ret_found = TAKE_PTR(candidate);
        return 1;
}

static int probe_one(const NpRoot *root, NpFsFacts *fs)
{
        _cleanup_close_ int fd = -EBADF;
        struct statvfs sv;
        int mnt_id = -1, r;
        bool outside = false;

        r = np_probe_open_nearest(root, fs->path, &fd, &fs->probed_path, &fs->unknown);
        if (r <= 0)
                return r;
        if (fstatvfs(fd, &sv) < 0) {
                fs->unknown = np_probe_reason(root, fs->probed_path, -errno);
                return fs->unknown ? 0 : -ENOMEM;
        }
        /* f_bavail: what a non-root writer (IOMesh's pods) can use, as df's "Avail". */
        fs->free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
        fs->total_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;

        r = fd_mount_id(fd, &mnt_id);
        if (r >= 0)
                r = find_mount(mnt_id, fs, root, &outside);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* The numbers stand; only the mount's name is missing. */
                fs->mount_point = mfree(fs->mount_point);
                return 0;
        }
        /* An automount point not triggered by our O_PATH open: the real file system is not
         * what statvfs saw. */
        if (streq_ptr(fs->fs_type, "autofs")) {
                fs->unknown = strprintf("%s is an automount point (autofs) that is not mounted "
                                        "yet",
                                        fs->mount_point);
                return fs->unknown ? 0 : -ENOMEM;
        }
        {
                _cleanup_free_ char *fstab =
                    unmounted_fstab_entry(root, fs->path, outside ? "/" : fs->mount_point);

                if (fstab) {
                        fs->unknown = strprintf("/etc/fstab mounts a file system at %s, but it "
                                                "is not mounted: what it will have free is not "
                                                "what %s has now",
                                                fstab, fs->mount_point);
                        return fs->unknown ? 0 : -ENOMEM;
                }
        }
        return 0;
}

int np_probe_fs(const NpRoot *root, char *const *paths, NpFacts *f)
{
        STRV_FOREACH (p, (char **)paths) {
                NpFsFacts *fs = np_facts_add_fs(f, *p);
                int r;

                if (!fs)
                        return -ENOMEM;
                if (fs->probed_path || fs->unknown)
                        continue;
                r = probe_one(root, fs);
                if (r < 0)
                        return r;
        }
        return 0;
}
