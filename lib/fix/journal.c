/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Change directories, the journal, and the lock that serialises fixes on one root. */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fix/fault.h"
#include "fix/file-edit.h"
#include "fix/journal.h"
#include "util/strv.h"

char *np_change_id_new(uint64_t now_usec)
{
        time_t t = (time_t)(now_usec / 1000000);
        uint32_t rnd = 0;
        struct tm tm;
        char buf[32];

        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y%m%dT%H%M%S", &tm) == 0)
                return NULL;
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (uint32_t)getpid() ^ (uint32_t)now_usec;
        return strprintf("%s.%06uZ-%08x", buf, (unsigned)(now_usec % 1000000), rnd);
}

bool np_change_id_valid(const char *id)
{
        return !isempty(id) && id[0] != '.' && strlen(id) < 64 &&
               strspn(id, "0123456789abcdefABCDEFTZ.-") == strlen(id);
}

int np_fix_lock(const NpRoot *root, int *ret_fd)
{
        int fd, r;

        r = np_mkdir_p_in_root(root, NP_BACKUP_DIR, 0700);
        if (r < 0)
                return r;
        fd = np_root_open_mode(root, NP_BACKUP_DIR "/.lock", O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
        if (fd < 0)
                return fd;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

NpJournal *np_journal_free(NpJournal *j)
{
        if (!j)
                return NULL;
        safe_close(j->fd);
        free(j->id);
        free(j->dir);
        free(j->shown);
        free(j);
        return NULL;
}

static int write_line(int fd, json_object *record)
{
        const char *s = json_object_to_json_string_ext(record, JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
        _cleanup_free_ char *line = s ? strprintf("%s\n", s) : NULL;
        size_t n;

        if (!line)
                return -ENOMEM;
        n = strlen(line);
        /* O_APPEND: one write() per record, so a torn record can only be the last line. */
        if (write(fd, line, n) != (ssize_t)n)
                return errno ? -errno : -EIO;
        return fsync(fd) < 0 ? -errno : 0;
}

int np_journal_create(const NpRoot *root, const char *id, json_object *header, NpJournal **ret)
{
        _cleanup_(np_journal_freep) NpJournal *j = calloc(1, sizeof(NpJournal));
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int dfd = -EBADF;
        int r;

        if (!j)
                return -ENOMEM;
        j->fd = -EBADF;
        j->root = root;
        j->id = strdup(id);
        j->dir = strprintf(NP_BACKUP_DIR "/%s", id);
        path = strprintf(NP_BACKUP_DIR "/%s/journal", id);
        if (!j->id || !j->dir || !path || !(j->shown = np_root_prefix(root, j->dir)))
                return -ENOMEM;
        r = np_mkdir_p_in_root(root, NP_BACKUP_DIR, 0700);
        if (r < 0)
                return r;
        r = np_mkdir_in_root(root, j->dir, 0700, getuid(), getgid());
        if (r < 0)
                return r;
        j->fd = np_root_open_mode(root, path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW,
                                  0600);
        if (j->fd < 0)
                return j->fd;
        if (fchmod(j->fd, 0600) < 0)
                return -errno;
        r = write_line(j->fd, header);
        if (r < 0)
                return r;
        dfd = np_root_open(root, j->dir, O_RDONLY | O_DIRECTORY);
        if (dfd < 0)
                return dfd;
        if (fsync(dfd) < 0)
                return -errno;
        np_fault_point("journal:created");
        *ret = TAKE_PTR(j);
        return 0;
}

int np_journal_append(NpJournal *j, json_object *record)
{
        int r = write_line(j->fd, record);

        if (r >= 0)
                np_fault_point("journal:appended");
        return r;
}

int np_journal_save(NpJournal *j, const char *name, const char *data, size_t size, char **ret_error)
{
        _cleanup_free_ char *path = strprintf("%s/%s", j->dir, name),
                            *temp = strprintf(".%s.tmp", name);

        if (!path || !temp)
                return -ENOMEM;
        return np_file_write_atomic(j->root, path, data, size, 0600, getuid(), getgid(), temp,
                                    ret_error);
}

int np_changes_list(const NpRoot *root, char ***ret)
{
        _cleanup_strv_free_ char **entries = NULL, **ids = calloc(1, sizeof(char *));
        int r;

        if (!ids)
                return -ENOMEM;
        r = np_root_list_dir(root, NP_BACKUP_DIR, &entries);
        if (r < 0 && r != -ENOENT)
                return r;
        STRV_FOREACH (e, entries)
                if (np_change_id_valid(*e) && strv_extend(&ids, *e) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(ids);
        return 0;
}

NpChange *np_change_free(NpChange *c)
{
        if (!c)
                return NULL;
        free(c->id);
        free(c->dir);
        free(c->shown);
        for (size_t i = 0; i < c->n_records; i++)
                json_object_put(c->records[i]);
        free(c->records);
        free(c);
        return NULL;
}

int np_change_load(const NpRoot *root, const char *id, NpChange **ret)
{
        _cleanup_(np_change_freep) NpChange *c = calloc(1, sizeof(NpChange));
        _cleanup_free_ char *data = NULL, *path = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        size_t size = 0, allocated = 0;
        int r;

        if (!c)
                return -ENOMEM;
        if (!np_change_id_valid(id))
                return -EINVAL;
        c->id = strdup(id);
        c->dir = strprintf(NP_BACKUP_DIR "/%s", id);
        path = strprintf(NP_BACKUP_DIR "/%s/journal", id);
        if (!c->id || !c->dir || !path || !(c->shown = np_root_prefix(root, c->dir)))
                return -ENOMEM;
        r = np_root_read_file(root, path, 64U * 1024U * 1024U, &data, &size);
        if (r < 0)
                return r;
        c->torn = size > 0 && data[size - 1] != '\n';
        c->unterminated = c->torn;
        r = strv_split(data, "\n", &lines);
        if (r < 0)
                return r;
        STRV_FOREACH (l, lines) {
                json_object *o = json_tokener_parse(*l);
                const char *type;

                if (!o || !json_object_is_type(o, json_type_object)) {
                        /* A record cut short by a kill (later records start on a new line). */
                        json_object_put(o);
                        c->torn = true;
                        continue;
                }
                /* NOLINTNEXTLINE(bugprone-sizeof-expression): records holds pointers */
                if (!GREEDY_REALLOC(c->records, allocated, c->n_records + 1)) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                c->records[c->n_records++] = o;
                type = json_object_get_string(json_object_object_get(o, "type"));
                if (streq_ptr(type, "complete"))
                        c->complete = true;
                else if (streq_ptr(type, "rolled-back"))
                        c->rolled_back = true;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int np_change_read_file(const NpRoot *root, const NpChange *c, const char *name, char **ret,
                        size_t *ret_size)
{
        _cleanup_free_ char *path = NULL;

        if (isempty(name) || strchr(name, '/') || name[0] == '.')
                return -EINVAL;
        path = strprintf("%s/%s", c->dir, name);
        if (!path)
                return -ENOMEM;
        return np_root_read_file(root, path, 64U * 1024U * 1024U, ret, ret_size);
}

int np_change_append(const NpRoot *root, const NpChange *c, json_object *record)
{
        _cleanup_free_ char *path = strprintf("%s/journal", c->dir);
        _cleanup_close_ int fd = -EBADF;

        if (!path)
                return -ENOMEM;
        fd = np_root_open(root, path, O_WRONLY | O_APPEND | O_NOFOLLOW);
        if (fd < 0)
                return fd;
        /* A torn last line must not swallow this record. */
        if (c->unterminated && write(fd, "\n", 1) != 1)
                return -errno;
        return write_line(fd, record);
}
