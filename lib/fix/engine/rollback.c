/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rollback: read a change's journal and undo its steps, newest first. A file is restored only
 * while it still holds exactly what nodeprep wrote (or the original, when the edit never got
 * that far); anything else means someone changed it since, and it is left alone with a note
 * saying where the original is. What cannot be undone safely is said, not done.
 */

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fix/engine/fault.h"
#include "fix/engine/fix-internal.h"
#include "fix/engine/journal.h"
#include "fix/exec/file-edit.h"
#include "fix/exec/runtime.h"
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

static int64_t rec_num(json_object *o, const char *key)
{
        return json_object_get_int64(json_object_object_get(o, key));
}

/* One step to undo, with what its backup holds (read before anything is done). */
typedef struct Undo {
        json_object *rec; /* its "begin" record (checked by journal-schema.c) */
        char *old, *new;  /* edit-file: the saved original and what nodeprep wrote */
        size_t old_size, new_size;
        bool have_old, have_new;
        NpXattrs xattrs; /* edit-file: the original's extended attributes */
} Undo;

static void undo_done(Undo *u)
{
        free(u->old);
        free(u->new);
        np_xattrs_done(&u->xattrs);
}

typedef struct Rollback {
        const NpRoot *root;
        NpChange *change;
        NpRollback *rb;
} Rollback;

static bool same_bytes(const NpFileState *st, const char *data, size_t size)
{
        return st->exists && S_ISREG(st->mode) && st->size == size &&
               memcmp(st->data, data, size) == 0;
}

/* A saved file: absent is fine (a kill before it was saved); anything else wrong is fatal. */
static int read_saved(const Rollback *x, const char *name, char **ret, size_t *ret_size,
                      bool *ret_have, char **ret_error)
{
        int r;

        *ret_have = false;
        if (!name)
                return 0;
        r = np_change_read_file(x->root, x->change, name, ret, ret_size, ret_error);
        if (r == -ENOENT)
                return 0;
        if (r < 0 && !*ret_error)
                *ret_error =
                    strprintf("cannot read %s/%s: %s", x->change->shown, name, strerror(-r));
        if (r < 0)
                return r;
        *ret_have = true;
        return 0;
}

static int load_undo(const Rollback *x, json_object *rec, Undo *u, char **ret_error)
{
        _cleanup_free_ char *text = NULL;
        bool have_xattrs;
        size_t size;
        int r;

        u->rec = rec;
        if (!streq(rec_str(rec, "kind"), "edit-file"))
                return 0;
        r = read_saved(x, rec_str(rec, "old"), &u->old, &u->old_size, &u->have_old, ret_error);
        if (r >= 0)
                r = read_saved(x, rec_str(rec, "new"), &u->new, &u->new_size, &u->have_new,
                               ret_error);
        if (r >= 0)
                r = read_saved(x, rec_str(rec, "xattrs"), &text, &size, &have_xattrs, ret_error);
        if (r < 0)
                return r;
        if (have_xattrs) {
                json_object *o = json_tokener_parse(text);

                r = np_xattrs_from_json(o, &u->xattrs);
                json_object_put(o);
                if (r == -EBADMSG)
                        *ret_error = strprintf("%s/%s: not the extended attributes nodeprep "
                                               "saves; nothing was done",
                                               x->change->shown, rec_str(rec, "xattrs"));
                if (r < 0)
                        return r;
        } else if (u->have_new && rec_str(rec, "xattrs")) {
                /* Saved between the original and the new contents: missing means tampered. */
                *ret_error = strprintf("%s/%s is missing; nothing was done", x->change->shown,
                                       rec_str(rec, "xattrs"));
                return -EBADMSG;
        }
        return 0;
}

/* Rollback is about to create a temporary file: the journal says so first (a kill leaves a
 * name the next run removes). */
static int record_temp(Rollback *x, json_object *rec, const char *temp)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o || json_object_object_add(o, "type", json_object_new_string("undo-temp")) < 0 ||
            json_object_object_add(o, "n", json_object_new_int64(rec_num(rec, "n"))) < 0 ||
            json_object_object_add(o, "temp", json_object_new_string(temp)) < 0)
                return -ENOMEM;
        return np_change_append(x->root, x->change, o);
}

static int undo_edit(Rollback *x, const Undo *u)
{
        _cleanup_(np_file_state_done) NpFileState now = {};
        _cleanup_free_ char *error = NULL, *shown = NULL, *temp = NULL;
        json_object *rec = u->rec;
        const char *path = rec_str(rec, "path"), *old_name = rec_str(rec, "old");
        NpFileWrite w = {
                .mode = (mode_t)rec_num(rec, "mode"),
                .uid = (uid_t)rec_num(rec, "uid"),
                .gid = (gid_t)rec_num(rec, "gid"),
                .restore = true,
                .xattrs = &u->xattrs,
                .expect = &now,
        };
        NpRollback *rb = x->rb;
        int r;

        shown = np_root_prefix(x->root, path);
        temp = np_temp_name(path);
        if (!shown || !temp)
                return -ENOMEM;
        w.temp_name = temp;
        r = np_file_state_read(x->root, path, NP_READ_MAX_DEFAULT, &now);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && r != -ENOENT)
                return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown), "cannot read it: %s",
                                strerror(-r));

        if (json_object_get_boolean(json_object_object_get(rec, "existed"))) {
                /* Saved before the temporary file existed: no backup, no edit happened. */
                if (!u->have_old)
                        return add_item(rb, NP_UNDO_UNCHANGED, TAKE_PTR(shown),
                                        "the edit never started");
                if (same_bytes(&now, u->old, u->old_size))
                        return add_item(rb, NP_UNDO_UNCHANGED, TAKE_PTR(shown),
                                        "already the original");
                if (!u->have_new || !same_bytes(&now, u->new, u->new_size))
                        return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown),
                                        "changed since nodeprep wrote it; not restored (the "
                                        "original is %s/%s)",
                                        x->change->shown, old_name);
                r = record_temp(x, rec, temp);
                if (r < 0)
                        return r == -ENOMEM
                                   ? r
                                   : add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown),
                                              "cannot write the journal: %s", strerror(-r));
                /* The original's bytes, mode, owner and extended attributes, exactly; only
                 * while the file is still what nodeprep wrote, up to the swap. */
                r = np_file_write_atomic(x->root, path, u->old, u->old_size, &w, &error);
                if (r == -ESTALE)
                        return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown),
                                        "changed while rolling back (%s); left as the other "
                                        "writer made it (the original is %s/%s)",
                                        strna(error), x->change->shown, old_name);
                if (r < 0)
                        return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown), "%s", strna(error));
                return add_item(rb, NP_UNDO_RESTORED, TAKE_PTR(shown),
                                "restored the original (%zu bytes)", u->old_size);
        }
        if (!now.exists)
                return add_item(rb, NP_UNDO_UNCHANGED, TAKE_PTR(shown),
                                "not there (never created)");
        if (!u->have_new || !same_bytes(&now, u->new, u->new_size))
                return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown),
                                "changed since nodeprep created it; not removed");
        r = record_temp(x, rec, temp);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                r = np_file_remove_expected(x->root, path, &now, temp, &error);
        if (r == -ESTALE)
                return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown),
                                "changed while rolling back (%s); not removed", strna(error));
        if (r < 0)
                return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown), "cannot remove it: %s",
                                error ? error : strerror(-r));
        return add_item(rb, NP_UNDO_RESTORED, TAKE_PTR(shown), "removed (nodeprep created it)");
}

static int undo_mkdir(const NpRoot *root, json_object *rec, NpRollback *rb)
{
        _cleanup_strv_free_ char **entries = NULL;
        _cleanup_free_ char *shown = NULL;
        _cleanup_close_ int dfd = -EBADF;
        const char *path = rec_str(rec, "path"), *base;
        int r;

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
        /* rmdir() itself refuses a directory that is not empty (any more). */
        dfd = np_open_parent(root, path, &base);
        if (dfd < 0 || unlinkat(dfd, base, AT_REMOVEDIR) < 0 || fsync(dfd) < 0)
                return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(shown), "cannot remove it: %s",
                                strerror(dfd < 0 ? -dfd : errno));
        return add_item(rb, NP_UNDO_RESTORED, TAKE_PTR(shown), "removed (nodeprep created it)");
}

/* Only ever on the running system (checked by the caller); the path is one journal-schema.c
 * knows nodeprep writes. */
static int undo_runtime_write(json_object *rec, NpRollback *rb)
{
        const char *path = rec_str(rec, "path"), *old = rec_str(rec, "old");
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0 || write(fd, old, strlen(old)) != (ssize_t)strlen(old))
                return add_item(rb, NP_UNDO_FAILED, strdup(path), "cannot write %s back: %s", old,
                                strerror(errno));
        return add_item(rb, NP_UNDO_RESTORED, strdup(path), "wrote %s back", old);
}

/* What a step on the running system was, for people: its unit, module or command. */
static char *call_what(json_object *rec)
{
        _cleanup_strv_free_ char **argv = NULL;

        switch (np_command_from_string(rec_str(rec, "command"))) {
        case NP_COMMAND_ISCSI_NODE_UPDATE:
                argv =
                    np_iscsi_update_argv("iscsiadm", rec_str(rec, "target"), rec_str(rec, "portal"),
                                         rec_str(rec, "key"), rec_str(rec, "value"));
                return argv ? np_argv_to_text(argv) : NULL;
        case NP_COMMAND_PACKAGE_INSTALL:
                argv = np_package_install_argv(rec_str(rec, "tool"), rec_str(rec, "package"));
                return argv ? np_argv_to_text(argv) : NULL;
        default:
                return strdup(rec_str(rec, "unit") ? rec_str(rec, "unit")
                                                   : strna(rec_str(rec, "module")));
        }
}

static int undo_call(const char *kind, json_object *rec, NpRollback *rb)
{
        const char *unit = rec_str(rec, "unit"), *previous = rec_str(rec, "previous"),
                   *cannot = rec_str(rec, "cannot_undo");
        _cleanup_free_ char *error = NULL, *output = NULL;
        int r;

        if (streq(kind, "unit-enable")) {
                if (!STR_IN_SET(strempty(previous), "disabled", ""))
                        return add_item(rb, NP_UNDO_UNCHANGED, strdup(unit),
                                        "was %s before; left as it is", strna(previous));
                r = np_unit_disable(unit, &error);
                if (r < 0)
                        return add_item(rb, NP_UNDO_FAILED, strdup(unit), "%s", strna(error));
                return add_item(rb, NP_UNDO_RESTORED, strdup(unit), "disabled again (it was %s)",
                                isempty(previous) ? "not enabled" : previous);
        }
        if (np_command_from_string(rec_str(rec, "command")) == NP_COMMAND_ISCSI_NODE_UPDATE &&
            previous) {
                /* The one command rollback runs, derived from the record's typed fields. */
                _cleanup_strv_free_ char **undo =
                    np_iscsi_update_argv("iscsiadm", rec_str(rec, "target"), rec_str(rec, "portal"),
                                         rec_str(rec, "key"), previous);
                _cleanup_free_ char *text = undo ? np_argv_to_text(undo) : NULL;

                if (!text)
                        return -ENOMEM;
                r = np_command_run(undo, NULL, 60, &output);
                if (r != 0)
                        return add_item(rb, NP_UNDO_FAILED, TAKE_PTR(text), "%s",
                                        r < 0 ? strerror(-r) : strstrip(strempty(output)));
                return add_item(rb, NP_UNDO_RESTORED, TAKE_PTR(text), "ran");
        }
        return add_item(rb, NP_UNDO_CANNOT, call_what(rec), "%s",
                        cannot ? cannot : "nodeprep cannot undo this step");
}

/* Steps on the running kernel, systemd, the package or iSCSI databases: never under --root. */
static bool running_system(const char *kind)
{
        return STR_IN_SET(kind, "runtime-write", "kmod-load", "unit-enable", "unit-start",
                          "command");
}

static int undo_one(Rollback *x, const Undo *u)
{
        const char *kind = rec_str(u->rec, "kind");

        if (running_system(kind) && !x->root->host)
                return add_item(x->rb, NP_UNDO_SKIPPED,
                                streq(kind, "runtime-write") ? strdup(rec_str(u->rec, "path"))
                                                             : call_what(u->rec),
                                "not the running system (--root is not /): never performed on "
                                "this machine");
        if (streq(kind, "edit-file"))
                return undo_edit(x, u);
        if (streq(kind, "mkdir"))
                return undo_mkdir(x->root, u->rec, x->rb);
        if (streq(kind, "runtime-write"))
                return undo_runtime_write(u->rec, x->rb);
        return undo_call(kind, u->rec, x->rb);
}

static int pick_change(const NpRoot *root, const char *id, char **ret, char **ret_error)
{
        _cleanup_strv_free_ char **ids = NULL;
        int r;

        r = np_changes_list(root, &ids, ret_error);
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
        /* The newest change not rolled back yet; a journal that is not accepted stops here
         * (rolling back an older change past it would be a guess). */
        for (size_t i = strv_length(ids); i-- > 0;) {
                _cleanup_(np_change_freep) NpChange *c = NULL;

                r = np_change_load(root, ids[i], &c, ret_error);
                if (r < 0)
                        return r;
                if (!c->rolled_back) {
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
        _cleanup_strv_free_ char **paths = NULL;
        Undo *undos = NULL;
        size_t n_undos = 0;
        Rollback x = { .root = root };
        int r;

        if (!rb)
                return -ENOMEM;
        r = np_fix_lock(root, &lock, ret_error);
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
        r = np_change_load(root, id, &c, ret_error);
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
        x.change = c;
        x.rb = rb;

        /* Newest step first; a step counts once, from its "begin" record. Everything the undo
         * needs is read (and checked) before anything is done. */
        undos = calloc(c->n_records, sizeof(Undo));
        if (!undos && c->n_records > 0)
                return -ENOMEM;
        for (size_t i = c->n_records; r >= 0 && i-- > 0;) {
                json_object *rec = c->records[i];

                if (!streq_ptr(rec_str(rec, "type"), "step") ||
                    !streq_ptr(rec_str(rec, "state"), "begin"))
                        continue;
                r = load_undo(&x, rec, &undos[n_undos++], ret_error);
                if (r >= 0 && streq(rec_str(rec, "kind"), "edit-file"))
                        r = strv_extend_unique(&paths, rec_str(rec, "path"));
        }
        /* What an earlier run (apply or rollback) killed mid-way left next to the files. */
        STRV_FOREACH (p, r >= 0 ? paths : NULL)
                (void)np_file_remove_temps(root, *p); /* best effort: the next run tries again */
        for (size_t i = 0; r >= 0 && i < n_undos; i++) {
                r = undo_one(&x, &undos[i]);
                np_fault_point("rollback:step");
        }
        for (size_t i = 0; i < n_undos; i++)
                undo_done(&undos[i]);
        free(undos);
        if (r < 0)
                return r;

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
