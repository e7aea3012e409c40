/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* modules-load.d, read with systemd-modules-load's rules (systemd 252). */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "probe/modules-load.h"
#include "util/strv.h"

static const char *const modules_load_dirs[] = {
        "/etc/modules-load.d",     "/run/modules-load.d", "/usr/local/lib/modules-load.d",
        "/usr/lib/modules-load.d", "/lib/modules-load.d",
};

/* systemd-modules-load gives up on a file at a line longer than LONG_LINE_MAX. */
#define LONG_LINE_MAX (1024U * 1024U)

void np_modules_load_done(NpModulesLoad *m)
{
        FOREACH_ARRAY (l, m->lines, m->n_lines) {
                free(l->file);
                free(l->text);
                free(l->hidden_by);
        }
        free(m->lines);
        *m = (NpModulesLoad){};
}

static int add_line(NpModulesLoad *m, const char *file, unsigned line, const char *text, size_t n,
                    bool applied, const char *hidden_by)
{
        NpModulesLoadLine *a = reallocarray(m->lines, m->n_lines + 1, sizeof(NpModulesLoadLine));

        if (!a)
                return -ENOMEM;
        m->lines = a;
        a[m->n_lines] = (NpModulesLoadLine){
                .file = strdup(file),
                .line = line,
                .text = strndup(text, n),
                .applied = applied,
                .hidden_by = hidden_by ? strdup(hidden_by) : NULL,
        };
        m->n_lines++;
        if (!a[m->n_lines - 1].file || !a[m->n_lines - 1].text ||
            (hidden_by && !a[m->n_lines - 1].hidden_by))
                return -ENOMEM;
        return 0;
}

static bool is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int np_modules_load_parse(const char *file, const char *data, size_t size, bool applied,
                          const char *hidden_by, NpModulesLoad *m)
{
        unsigned lineno = 1;
        size_t pos = 0;

        while (pos < size) {
                /* read_line() ends a line at '\n', '\r', "\r\n", "\n\r" or NUL. */
                size_t start = pos, end;
                unsigned this_line = lineno;
                int r;

                while (pos < size && data[pos] != '\n' && data[pos] != '\r' && data[pos] != '\0')
                        pos++;
                end = pos;
                if (pos < size) {
                        char c = data[pos++];

                        if ((c == '\r' && pos < size && data[pos] == '\n') ||
                            (c == '\n' && pos < size && data[pos] == '\r'))
                                pos++;
                        if (c != '\0')
                                lineno++;
                }
                if (end - start > LONG_LINE_MAX)
                        return 0; /* systemd aborts the rest of the file */

                while (start < end && is_ws(data[start]))
                        start++;
                while (end > start && is_ws(data[end - 1]))
                        end--;
                if (start == end || data[start] == '#' || data[start] == ';')
                        continue;
                r = add_line(m, file, this_line, data + start, end - start, applied, hidden_by);
                if (r < 0)
                        return r;
        }
        return 0;
}

typedef struct ConfFile {
        char *name;
        char *path;      /* as on the described host */
        char *hidden_by; /* for files hidden by a higher one */
} ConfFile;

static int conf_file_cmp(const void *a, const void *b)
{
        return strcmp(((const ConfFile *)a)->name, ((const ConfFile *)b)->name);
}

static void conf_files_free(ConfFile *f, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(f[i].name);
                free(f[i].path);
                free(f[i].hidden_by);
        }
        free(f);
}

static int read_one(const NpRoot *root, const ConfFile *f, bool applied, NpModulesLoad *m,
                    char **ret_error)
{
        size_t first = m->n_lines;
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = np_root_read_file(root, f->path, 64U * 1024U * 1024U, &data, &size);
        /* systemd skips a vanished file, a dangling symlink (and /dev/null, outside the root). */
        if (r == -ENOENT)
                return 0;
        if (r == -EBADFD) {
                struct stat st;

                /* A mask (/dev/null) is skipped; any other FIFO, socket or device would block or
                 * fail systemd-modules-load's read: what it loads is unknown. */
                if (np_root_stat(root, f->path, &st) >= 0 && S_ISCHR(st.st_mode) &&
                    st.st_rdev == makedev(1, 3))
                        return 0;
        }
        if (r == -EISDIR)
                return 0; /* systemd logs a read error and carries on */
        if (r < 0) {
                _cleanup_free_ char *why = np_root_read_error(root, f->path, r);

                *ret_error = strprintf("cannot read %s", strna(why));
                return r;
        }
        r = np_modules_load_parse(f->path, data, size, applied, f->hidden_by, m);
        for (size_t i = first; r >= 0 && i < m->n_lines; i++)
                m->lines[i].in_run = startswith(f->path, "/run/");
        return r;
}

static int read_dirs(const NpRoot *root, bool next_boot, NpModulesLoad *ret, char **ret_error)
{
        ConfFile *files = NULL, *hidden = NULL;
        size_t n = 0, n_hidden = 0;
        dev_t seen_dev[ELEMENTSOF(modules_load_dirs)];
        ino_t seen_ino[ELEMENTSOF(modules_load_dirs)];
        size_t n_seen = 0;
        NpModulesLoad m = {};
        int r = 0;

        for (size_t d = 0; r >= 0 && d < ELEMENTSOF(modules_load_dirs); d++) {
                _cleanup_strv_free_ char **entries = NULL;
                bool dup = false, in_run = startswith(modules_load_dirs[d], "/run/");
                struct stat st;

                r = np_root_stat(root, modules_load_dirs[d], &st);
                if (r == -ENOENT || r == -ENOTDIR) {
                        r = 0;
                        continue;
                }
                if (r < 0) {
                        *ret_error =
                            strprintf("cannot open %s: %s", modules_load_dirs[d], strerror(-r));
                        break;
                }
                /* /lib -> usr/lib on merged-/usr systems: the same directory, read once. */
                for (size_t i = 0; i < n_seen; i++)
                        if (seen_dev[i] == st.st_dev && seen_ino[i] == st.st_ino)
                                dup = true;
                if (dup)
                        continue;
                seen_dev[n_seen] = st.st_dev;
                seen_ino[n_seen++] = st.st_ino;

                r = np_root_list_dir(root, modules_load_dirs[d], &entries);
                if (r < 0) {
                        *ret_error =
                            strprintf("cannot list %s: %s", modules_load_dirs[d], strerror(-r));
                        break;
                }
                STRV_FOREACH (e, entries) {
                        ConfFile *winner = NULL, **list;
                        size_t *count;
                        ConfFile *a;

                        if ((*e)[0] == '.' || !endswith(*e, ".conf"))
                                continue;
                        for (size_t i = 0; i < n; i++)
                                if (streq(files[i].name, *e))
                                        winner = &files[i];
                        /* next boot: /run files win nothing; they are listed as not applied */
                        list = (winner || (next_boot && in_run)) ? &hidden : &files;
                        count = (winner || (next_boot && in_run)) ? &n_hidden : &n;
                        a = reallocarray(*list, *count + 1, sizeof(ConfFile));
                        if (!a) {
                                r = -ENOMEM;
                                break;
                        }
                        *list = a;
                        a[*count] = (ConfFile){
                                .name = strdup(*e),
                                .path = strprintf("%s/%s", modules_load_dirs[d], *e),
                                .hidden_by = winner ? strdup(winner->path) : NULL,
                        };
                        (*count)++;
                        if (!a[*count - 1].name || !a[*count - 1].path ||
                            (winner && !a[*count - 1].hidden_by)) {
                                r = -ENOMEM;
                                break;
                        }
                }
        }
        if (r >= 0) {
                if (n > 1)
                        qsort(files, n, sizeof(ConfFile), conf_file_cmp);
                for (size_t i = 0; r >= 0 && i < n; i++)
                        r = read_one(root, &files[i], true, &m, ret_error);
                /* Hidden files too, so a check can say "listed, but hidden by ...". */
                for (size_t i = 0; r >= 0 && i < n_hidden; i++)
                        r = read_one(root, &hidden[i], false, &m, ret_error);
        }
        conf_files_free(files, n);
        conf_files_free(hidden, n_hidden);
        if (r < 0) {
                np_modules_load_done(&m);
                return r;
        }
        *ret = m;
        return 0;
}

int np_modules_load_read(const NpRoot *root, NpModulesLoad *ret, char **ret_error)
{
        return read_dirs(root, false, ret, ret_error);
}

int np_modules_load_read_next_boot(const NpRoot *root, NpModulesLoad *ret, char **ret_error)
{
        return read_dirs(root, true, ret, ret_error);
}

int np_module_name_underscores(char *s)
{
        if (!s)
                return -EINVAL;
        for (size_t i = 0; s[i]; i++)
                switch (s[i]) {
                case '-':
                        s[i] = '_';
                        break;
                case ']':
                        return -EINVAL;
                case '[':
                        i += strcspn(&s[i], "]");
                        if (!s[i])
                                return -EINVAL;
                        break;
                }
        return 0;
}

int np_module_name_normalize(const char *name, char **ret)
{
        _cleanup_free_ char *s = strdup(name);
        int r;

        if (!s)
                return -ENOMEM;
        r = np_module_name_underscores(s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}
