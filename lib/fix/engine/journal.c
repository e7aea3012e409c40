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

#include "fix/engine/fault.h"
#include "fix/engine/journal.h"
#include "fix/exec/file-edit.h"
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

/* The owner and mode rule for the state directory and everything in a change directory: only
 * the user nodeprep runs as (root) may have written it. */
static int check_stat(const struct stat *st, const char *shown, char **ret_error)
{
        uid_t me = geteuid();

        if (st->st_uid != me) {
                *ret_error = strprintf("%s is owned by uid %u, not by %s (uid %u): nodeprep does "
                                       "not act on a journal or backup another user could have "
                                       "written; nothing was done",
                                       shown, (unsigned)st->st_uid, me == 0 ? "root" : "this user",
                                       (unsigned)me);
                return *ret_error ? -EPERM : -ENOMEM;
        }
        if (st->st_mode & 022) {
                *ret_error = strprintf("%s is writable by its group or others (mode %04o): "
                                       "nodeprep does not act on a journal or backup another user "
                                       "could have written; nothing was done",
                                       shown, (unsigned)(st->st_mode & 07777));
                return *ret_error ? -EPERM : -ENOMEM;
        }
        return 0;
}

/* A directory of the state tree: a directory (not a symlink), owned and writable as above. */
static int check_private_dir(const NpRoot *root, const char *path, char **ret_error)
{
        _cleanup_free_ char *shown = np_root_prefix(root, path);
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (!shown)
                return -ENOMEM;
        fd = np_root_open(root, path, O_PATH | O_NOFOLLOW);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode)) {
                *ret_error = strprintf("%s is not a directory%s; nothing was done", shown,
                                       S_ISLNK(st.st_mode) ? " but a symbolic link" : "");
                return *ret_error ? -EPERM : -ENOMEM;
        }
        return check_stat(&st, shown, ret_error);
}

static int check_state_dirs(const NpRoot *root, char **ret_error)
{
        int r = check_private_dir(root, NP_STATE_DIR, ret_error);

        return r < 0 ? r : check_private_dir(root, NP_BACKUP_DIR, ret_error);
}

/* Read a file of the change directory: a regular file only this user can have written. */
static int read_private(const NpRoot *root, const char *path, char **ret, size_t *ret_size,
                        char **ret_error)
{
        _cleanup_free_ char *shown = np_root_prefix(root, path);
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (!shown)
                return -ENOMEM;
        fd = np_root_open(root, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd == -ELOOP) {
                *ret_error = strprintf("%s is a symbolic link; nothing was done", shown);
                return *ret_error ? -EPERM : -ENOMEM;
        }
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode)) {
                *ret_error = strprintf("%s is not a regular file; nothing was done", shown);
                return *ret_error ? -EPERM : -ENOMEM;
        }
        r = check_stat(&st, shown, ret_error);
        if (r < 0)
                return r;
        return np_read_fd(fd, 64U * 1024U * 1024U, ret, ret_size);
}

/* flock() the open lock file fd (or pass its error on); -EBUSY when another process holds it. */
static int take_lock(int fd, int *ret_fd)
{
        int r;

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

int np_fix_lock(const NpRoot *root, int *ret_fd, char **ret_error)
{
        int fd, r;

        r = np_mkdir_p_in_root(root, NP_BACKUP_DIR, 0700);
        if (r < 0)
                return r;
        r = check_state_dirs(root, ret_error);
        if (r < 0)
                return r;
        fd = np_root_open_mode(root, NP_BACKUP_DIR "/.lock", O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
        return take_lock(fd, ret_fd);
}

int np_fix_trylock_existing(const NpRoot *root, int *ret_fd)
{
        return take_lock(np_root_open(root, NP_BACKUP_DIR "/.lock", O_RDWR | O_NOFOLLOW), ret_fd);
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
        off_t end;
        ssize_t k;
        size_t n;

        if (!line)
                return -ENOMEM;
        n = strlen(line);
        end = lseek(fd, 0, SEEK_END);
        /* O_APPEND: one write() per record, so a torn record can only be the last line ... */
        k = write(fd, line, n);
        if (k != (ssize_t)n) {
                int r = k < 0 ? -errno : -ENOSPC;

                /* ... and a short one (a full disk) is cut off again, so the next record does
                 * not continue it. */
                if (k > 0 && end >= 0)
                        (void)!ftruncate(fd, end);
                return r;
        }
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
        r = np_mkdir_in_root(root, j->dir, 0700, geteuid(), getegid());
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
        NpFileWrite w = { .temp_name = temp, .mode = 0600, .uid = geteuid(), .gid = getegid() };

        if (!path || !temp)
                return -ENOMEM;
        return np_file_write_atomic(j->root, path, data, size, &w, ret_error);
}

int np_changes_list(const NpRoot *root, char ***ret, char **ret_error)
{
        _cleanup_strv_free_ char **entries = NULL, **ids = calloc(1, sizeof(char *));
        int r;

        if (!ids)
                return -ENOMEM;
        r = np_root_list_dir(root, NP_BACKUP_DIR, &entries);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r >= 0) {
                r = check_state_dirs(root, ret_error);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH (e, entries)
                if (np_change_id_valid(*e) && strv_extend(&ids, *e) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(ids);
        return 0;
}

int np_changes_stamp(const NpRoot *root, char **ret)
{
        _cleanup_strv_free_ char **entries = NULL, **parts = NULL;
        int r;

        r = np_root_list_dir(root, NP_BACKUP_DIR, &entries);
        if (r < 0 && r != -ENOENT)
                return r;
        STRV_FOREACH (e, entries) {
                _cleanup_free_ char *path = strprintf(NP_BACKUP_DIR "/%s/journal", *e);
                struct stat st = {};

                if (!path)
                        return -ENOMEM;
                if (!np_change_id_valid(*e))
                        continue;
                /* A journal only grows: its size says whether a record was added. */
                (void)np_root_stat(root, path, &st); /* no journal yet: size 0 */
                if (strv_consume(&parts, strprintf("%s:%jd", *e, (intmax_t)st.st_size)) < 0)
                        return -ENOMEM;
        }
        *ret = parts ? strv_join(parts, " ") : strdup("");
        return *ret ? 0 : -ENOMEM;
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

/* Every line of the journal, parsed and checked against what this version writes. */
static int load_records(NpChange *c, const char *data, size_t size, char **ret_error)
{
        _cleanup_(np_journal_check_done) NpJournalCheck check = { .id = c->id };
        size_t allocated = 0;
        unsigned line = 0;

        if (size == 0) {
                *ret_error = strprintf("%s/journal is empty; nothing was done", c->shown);
                return *ret_error ? -EBADMSG : -ENOMEM;
        }
        if (memchr(data, '\0', size)) {
                *ret_error = strprintf("%s/journal holds a NUL byte; nothing was done", c->shown);
                return *ret_error ? -EBADMSG : -ENOMEM;
        }
        for (const char *p = data; p < data + size; line++) {
                const char *eol = memchr(p, '\n', (size_t)(data + size - p));
                _cleanup_free_ char *text = strndup(p, eol ? (size_t)(eol - p) : strlen(p));
                _cleanup_free_ char *why = NULL;
                json_object *o = NULL;
                int r;

                if (!text)
                        return -ENOMEM;
                p = eol ? eol + 1 : data + size;
                if (text[0] != '\0') {
                        struct json_tokener *tok = json_tokener_new();

                        if (!tok)
                                return -ENOMEM;
                        o = json_tokener_parse_ex(tok, text, (int)strlen(text));
                        /* Exactly one value on the line, nothing after it. */
                        if (o && tok->char_offset != (int)strlen(text)) {
                                json_object_put(o);
                                o = NULL;
                        }
                        json_tokener_free(tok);
                }
                r = np_journal_check_line(&check, text, o, &why);
                if (r < 0) {
                        json_object_put(o);
                        if (r == -EBADMSG)
                                *ret_error = strprintf("%s/journal:%u: %s; not a journal this "
                                                       "version of nodeprep wrote, nothing was "
                                                       "done",
                                                       c->shown, line + 1, strna(why));
                        return r == -EBADMSG && !*ret_error ? -ENOMEM : r;
                }
                if (!o) {
                        c->torn = true;
                        continue;
                }
                /* NOLINTNEXTLINE(bugprone-sizeof-expression): records holds pointers */
                if (!GREEDY_REALLOC(c->records, allocated, c->n_records + 1)) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                c->records[c->n_records++] = o;
                if (streq_ptr(json_object_get_string(json_object_object_get(o, "type")),
                              "complete"))
                        c->complete = true;
                else if (streq_ptr(json_object_get_string(json_object_object_get(o, "type")),
                                   "rolled-back"))
                        c->rolled_back = true;
        }
        return 0;
}

int np_change_load(const NpRoot *root, const char *id, NpChange **ret, char **ret_error)
{
        _cleanup_(np_change_freep) NpChange *c = calloc(1, sizeof(NpChange));
        _cleanup_free_ char *data = NULL, *path = NULL;
        size_t size = 0;
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
        r = check_private_dir(root, c->dir, ret_error);
        if (r >= 0)
                r = read_private(root, path, &data, &size, ret_error);
        if (r < 0)
                return r;
        c->unterminated = size > 0 && data[size - 1] != '\n';
        r = load_records(c, data, size, ret_error);
        if (r < 0)
                return r;
        c->torn = c->torn || c->unterminated;
        *ret = TAKE_PTR(c);
        return 0;
}

int np_change_read_file(const NpRoot *root, const NpChange *c, const char *name, char **ret,
                        size_t *ret_size, char **ret_error)
{
        _cleanup_free_ char *path = NULL;

        if (isempty(name) || strchr(name, '/') || name[0] == '.')
                return -EINVAL;
        path = strprintf("%s/%s", c->dir, name);
        if (!path)
                return -ENOMEM;
        return read_private(root, path, ret, ret_size, ret_error);
}

int np_change_append(const NpRoot *root, NpChange *c, json_object *record)
{
        _cleanup_free_ char *path = strprintf("%s/journal", c->dir);
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!path)
                return -ENOMEM;
        fd = np_root_open(root, path, O_WRONLY | O_APPEND | O_NOFOLLOW);
        if (fd < 0)
                return fd;
        /* A torn last line must not swallow this record. */
        if (c->unterminated && write(fd, "\n", 1) != 1)
                return -errno;
        c->unterminated = false;
        r = write_line(fd, record);
        if (r >= 0)
                np_fault_point("journal:appended");
        return r;
}
