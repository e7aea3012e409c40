/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rollback: read a change's journal and undo its steps, newest first. A file is restored only
 * while it still holds exactly what nodeprep wrote (or the original, when the edit never got
 * that far); anything else means someone changed it since, and it is left alone with a note
 * saying where the original is. What cannot be undone safely is said, not done.
 */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fix/file-edit.h"
#include "fix/fix-internal.h"
#include "fix/journal.h"
#include "fix/runtime.h"
#include "util/json-util.h"
#include "util/strv.h"

NpRollback *np_rollback_free(NpRollback *r)
{
        if (!r)
                return NULL;
        free(r->change_id);
        free(r->backup_dir);
        FOREACH_ARRAY (i, r->items, r->n_items) {
                free(i->what);
                free(i->message);
        }
        free(r->items);
        free(r);
        return NULL;
}

static int add_item(NpRollback *rb, NpUndoState state, char *what, const char *fmt, ...)
    _printf_(4, 5);
static int add_item(NpRollback *rb, NpUndoState state, char *what, const char *fmt, ...)
{
        NpUndoItem *a;
        va_list ap;
        char *m;

        va_start(ap, fmt);
        m = strvprintf(fmt, ap);
        va_end(ap);
        a = reallocarray(rb->items, rb->n_items + 1, sizeof(NpUndoItem));
        if (!m || !what || !a) {
                free(m);
                free(what);
                if (a)
                        rb->items = a;
                return -ENOMEM;
        }
        rb->items = a;
        a[rb->n_items++] = (NpUndoItem){ .what = what, .state = state, .message = m };
        if (state == NP_UNDO_FAILED)
                rb->failed = true;
        return 0;
}

static const char *rec_str(json_object *o, const char *key)
{
        return json_object_get_string(json_object_object_get(o, key));
}

static char **rec_strv(json_object *o, const char *key)
{
        json_object *a = json_object_object_get(o, key);
        char **l = NULL;

        if (!a || !json_object_is_type(a, json_type_array))
                return NULL;
        for (size_t i = 0; i < json_object_array_length(a); i++)
                if (strv_extend(&l, json_object_get_string(json_object_array_get_idx(a, i))) < 0)
                        return strv_free(l);
        return l;
}

static bool same_bytes(const NpFileState *st, const char *data, size_t size)
{
        return st->exists && S_ISREG(st->mode) && st->size == size &&
               memcmp(st->data, data, size) == 0;
}

static int undo_edit(const NpRoot *root, const NpChange *c, json_object *rec, NpRollback *rb)
{
        _cleanup_(np_file_state_done) NpFileState now = {};
        _cleanup_free_ char *old = NULL, *new = NULL, *error = NULL, *shown = NULL;
        const char *path = rec_str(rec, "path"), *old_name = rec_str(rec, "old"),
                   *new_name = rec_str(rec, "new"), *temp = rec_str(rec, "temp");
        bool existed = json_object_get_boolean(json_object_object_get(rec, "existed"));
        mode_t mode = (mode_t)json_object_get_int64(json_object_object_get(rec, "mode"));
        uid_t uid = (uid_t)json_object_get_int64(json_object_object_get(rec, "uid"));
        gid_t gid = (gid_t)json_object_get_int64(json_object_object_get(rec, "gid"));
        size_t old_size = 0, new_size = 0;
        bool have_old, have_new;
        int r;

        if (!path || !new_name)
                return add_item(rb, NP_UNDO_FAILED, strdup("journal"),
                                "a file step without its path: the journal is damaged");
        shown = np_root_prefix(root, path);
        if (!shown)
                return -ENOMEM;
        if (temp)
                (void)np_file_remove_temp(root, path, temp); /* a crash's leftover, if any */
        r = existed && old_name ? np_change_read_file(root, c, old_name, &old, &old_size) : -ENOENT;
        if (r == -ENOMEM)
                return r;
        have_old = r >= 0;
        r = np_change_read_file(root, c, new_name, &new, &new_size);
        if (r == -ENOMEM)
                return r;
        have_new = r >= 0;
        r = np_file_state_read(root, path, NP_READ_MAX_DEFAULT, &now);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && r != -ENOENT)
                return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown), "cannot read it: %s",
                                strerror(-r));

        if (existed) {
                /* Saved before the temporary file existed: no backup, no edit happened. */
                if (!have_old)
                        return add_item(rb, NP_UNDO_UNCHANGED, TAKE_PTR(shown),
                                        "the edit never started");
                if (same_bytes(&now, old, old_size))
                        return add_item(rb, NP_UNDO_UNCHANGED, TAKE_PTR(shown),
                                        "already the original");
                if (!have_new || !same_bytes(&now, new, new_size))
                        return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown),
                                        "changed since nodeprep wrote it; not restored (the "
                                        "original is %s/%s)",
                                        c->shown, old_name);
                _cleanup_free_ char *fresh = np_temp_name(path);

                if (!fresh)
                        return -ENOMEM;
                r = np_file_write_atomic(root, path, old, old_size, mode, uid, gid, fresh, &error);
                if (r < 0)
                        return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown), "%s", strna(error));
                /* The replacement kept the current mode and owner; put back the original's. */
                {
                        _cleanup_close_ int fd = np_root_open(root, path, O_RDONLY | O_NOFOLLOW);

                        if (fd < 0 || fchown(fd, uid, gid) < 0 || fchmod(fd, mode & 07777) < 0)
                                return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown),
                                                "contents restored, but not owner %u:%u and "
                                                "mode %04o",
                                                (unsigned)uid, (unsigned)gid,
                                                (unsigned)(mode & 07777));
                }
                return add_item(rb, NP_UNDO_RESTORED, TAKE_PTR(shown),
                                "restored the original (%zu bytes)", old_size);
        }
        if (!now.exists)
                return add_item(rb, NP_UNDO_UNCHANGED, TAKE_PTR(shown),
                                "not there (never created)");
        if (!have_new || !same_bytes(&now, new, new_size))
                return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown),
                                "changed since nodeprep created it; not removed");
        r = np_file_remove(root, path);
        if (r < 0)
                return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown), "cannot remove it: %s",
                                strerror(-r));
        return add_item(rb, NP_UNDO_RESTORED, TAKE_PTR(shown), "removed (nodeprep created it)");
}

static int undo_mkdir(const NpRoot *root, json_object *rec, NpRollback *rb)
{
        _cleanup_strv_free_ char **entries = NULL;
        _cleanup_free_ char *shown = NULL;
        _cleanup_close_ int dfd = -EBADF;
        const char *path = rec_str(rec, "path"), *base;
        int r;

        if (!path)
                return add_item(rb, NP_UNDO_FAILED, strdup("journal"),
                                "a mkdir step without its path: the journal is damaged");
        shown = np_root_prefix(root, path);
        if (!shown)
                return -ENOMEM;
        r = np_root_list_dir(root, path, &entries);
        if (r == -ENOENT)
                return add_item(rb, NP_UNDO_UNCHANGED, TAKE_PTR(shown), "not there");
        if (r < 0)
                return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown), "cannot list it: %s",
                                strerror(-r));
        if (strv_length(entries) > 0)
                return add_item(rb, NP_UNDO_CANNOT, TAKE_PTR(shown),
                                "nodeprep created it, but it is not empty now; left in place");
        dfd = np_open_parent(root, path, &base);
        if (dfd < 0 || unlinkat(dfd, base, AT_REMOVEDIR) < 0 || fsync(dfd) < 0)
                return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown), "cannot remove it: %s",
                                strerror(dfd < 0 ? -dfd : errno));
        return add_item(rb, NP_UNDO_RESTORED, TAKE_PTR(shown), "removed (nodeprep created it)");
}

static int undo_runtime_write(json_object *rec, NpRollback *rb)
{
        const char *path = rec_str(rec, "path"), *old = rec_str(rec, "old");
        _cleanup_close_ int fd = -EBADF;

        if (!path || !old)
                return add_item(rb, NP_UNDO_FAILED, strdup("journal"),
                                "a runtime step without its old value: the journal is damaged");
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || write(fd, old, strlen(old)) != (ssize_t)strlen(old))
                return add_item(rb, NP_UNDO_FAILED, strdup(path), "cannot write %s back: %s", old,
                                strerror(errno));
        return add_item(rb, NP_UNDO_RESTORED, strdup(path), "wrote %s back", old);
}

static int undo_call(const char *kind, json_object *rec, NpRollback *rb)
{
        const char *unit = rec_str(rec, "unit"), *previous = rec_str(rec, "previous"),
                   *cannot = rec_str(rec, "cannot_undo");
        _cleanup_strv_free_ char **undo = rec_strv(rec, "undo"), **argv = rec_strv(rec, "argv");
        _cleanup_free_ char *error = NULL, *output = NULL;
        int r;

        if (streq(kind, "unit-enable")) {
                if (!unit)
                        return add_item(rb, NP_UNDO_FAILED, strdup("journal"),
                                        "a unit step without its unit: the journal is damaged");
                if (!STR_IN_SET(strempty(previous), "disabled", ""))
                        return add_item(rb, NP_UNDO_UNCHANGED, strdup(unit),
                                        "was %s before; left as it is", strna(previous));
                r = np_unit_disable(unit, &error);
                if (r < 0)
                        return add_item(rb, NP_UNDO_FAILED, strdup(unit), "%s", strna(error));
                return add_item(rb, NP_UNDO_RESTORED, strdup(unit), "disabled again (it was %s)",
                                isempty(previous) ? "not enabled" : previous);
        }
        if (streq(kind, "command") && undo) {
                _cleanup_free_ char *text = np_argv_to_text(undo);

                r = np_command_run(undo, NULL, 60, &output);
                if (r != 0)
                        return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(text), "%s",
                                        r < 0 ? strerror(-r) : strstrip(strempty(output)));
                return add_item(rb, NP_UNDO_RESTORED, TAKE_PTR(text), "ran");
        }
        return add_item(rb, NP_UNDO_CANNOT,
                        argv ? np_argv_to_text(argv)
                             : strdup(unit ? unit : strna(rec_str(rec, "module"))),
                        "%s", cannot ? cannot : "nodeprep cannot undo this step");
}

static int pick_change(const NpRoot *root, const char *id, char **ret, char **ret_error)
{
        _cleanup_strv_free_ char **ids = NULL;
        int r;

        r = np_changes_list(root, &ids);
        if (r < 0)
                return r;
        if (id) {
                if (!np_change_id_valid(id) || !strv_contains(ids, id)) {
                        _cleanup_free_ char *dir = np_root_prefix(root, NP_BACKUP_DIR);

                        *ret_error = strprintf("no change %s in %s", id, strna(dir));
                        return -ENOENT;
                }
                *ret = strdup(id);
                return *ret ? 0 : -ENOMEM;
        }
        /* The newest change not rolled back yet. */
        for (size_t i = strv_length(ids); i-- > 0;) {
                _cleanup_(np_change_freep) NpChange *c = NULL;

                r = np_change_load(root, ids[i], &c);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && !c->rolled_back) {
                        *ret = strdup(ids[i]);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        *ret = NULL;
        return 0;
}

int np_fix_rollback(const NpRoot *root, const char *change_id, uint64_t now_usec, NpRollback **ret,
                    char **ret_error)
{
        _cleanup_(np_rollback_freep) NpRollback *rb = calloc(1, sizeof(NpRollback));
        _cleanup_(np_change_freep) NpChange *c = NULL;
        _cleanup_free_ char *id = NULL, *at = NULL;
        _cleanup_close_ int lock = -EBADF;
        int r;

        if (!rb)
                return -ENOMEM;
        r = np_fix_lock(root, &lock);
        if (r == -EBUSY)
                *ret_error =
                    strprintf("another nodeprep apply or rollback is running on %s", root->path);
        if (r < 0)
                return r;
        r = pick_change(root, change_id, &id, ret_error);
        if (r < 0)
                return r;
        if (!id) {
                *ret = TAKE_PTR(rb);
                return 0;
        }
        r = np_change_load(root, id, &c);
        if (r == -EBADMSG)
                *ret_error = strprintf("the journal of change %s is damaged", id);
        if (r < 0)
                return r;
        rb->change_id = strdup(c->id);
        rb->backup_dir = strdup(c->shown);
        if (!rb->change_id || !rb->backup_dir)
                return -ENOMEM;
        if (c->rolled_back) {
                rb->already = true;
                *ret = TAKE_PTR(rb);
                return 0;
        }

        /* Newest step first; a step counts once, from its "begin" record. */
        for (size_t i = c->n_records; i-- > 0;) {
                json_object *rec = c->records[i];
                const char *type = rec_str(rec, "type"), *state = rec_str(rec, "state"),
                           *kind = rec_str(rec, "kind");

                if (!streq_ptr(type, "step") || !streq_ptr(state, "begin") || !kind)
                        continue;
                if (streq(kind, "edit-file"))
                        r = undo_edit(root, c, rec, rb);
                else if (streq(kind, "mkdir"))
                        r = undo_mkdir(root, rec, rb);
                else if (streq(kind, "runtime-write"))
                        r = undo_runtime_write(rec, rb);
                else
                        r = undo_call(kind, rec, rb);
                if (r < 0)
                        return r;
        }

        /* Marked only when everything went back: a failed rollback can be tried again. */
        if (!rb->failed) {
                _cleanup_(json_object_putp) json_object *o = json_object_new_object();

                at = np_format_timestamp(now_usec);
                if (!o || !at ||
                    json_object_object_add(o, "type", json_object_new_string("rolled-back")) < 0 ||
                    json_object_object_add(o, "at", json_object_new_string(at)) < 0)
                        return -ENOMEM;
                r = np_change_append(root, c, o);
                if (r < 0) {
                        *ret_error = strprintf("rolled back, but cannot record it in %s/journal: "
                                               "%s",
                                               c->shown, strerror(-r));
                        return r;
                }
        }
        *ret = TAKE_PTR(rb);
        return 0;
}
