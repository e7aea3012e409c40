/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Extended attributes of replaced files: read, copy exactly, keep in the backup as JSON. */

#include <errno.h>
#include <linux/limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "fix/exec/xattr.h"
#include "util/strv.h"

void np_xattrs_done(NpXattrs *x)
{
        FOREACH_ARRAY (i, x->items, x->n) {
                free(i->name);
                free(i->value);
        }
        free(x->items);
        *x = (NpXattrs){};
}

static int xattr_cmp(const void *a, const void *b)
{
        return strcmp(((const NpXattr *)a)->name, ((const NpXattr *)b)->name);
}

/* Hand the set over, sorted by name (so two sets compare item by item). */
static int take_sorted(NpXattrs *x, NpXattrs *ret)
{
        if (x->n > 1)
                qsort(x->items, x->n, sizeof(NpXattr), xattr_cmp);
        *ret = *x;
        *x = (NpXattrs){};
        return 0;
}

static int add(NpXattrs *x, const char *name, const char *value, size_t size)
{
        NpXattr *a = reallocarray(x->items, x->n + 1, sizeof(NpXattr));
        NpXattr i = { .name = strdup(name), .value = malloc(size ? size : 1), .size = size };

        if (a)
                x->items = a;
        if (!a || !i.name || !i.value) {
                free(i.name);
                free(i.value);
                return -ENOMEM;
        }
        memcpy(i.value, value, size);
        x->items[x->n++] = i;
        return 0;
}

/* The names of fd's attributes, NUL-separated, in *ret (size in *ret_size). */
static int list_names(int fd, char **ret, size_t *ret_size)
{
        for (unsigned tries = 0; tries < 8; tries++) {
                _cleanup_free_ char *buf = NULL;
                ssize_t n = flistxattr(fd, NULL, 0);

                if (n < 0 && (errno == EOPNOTSUPP || errno == ENOTSUP)) {
                        *ret = NULL;
                        *ret_size = 0;
                        return 0;
                }
                if (n < 0)
                        return -errno;
                buf = malloc((size_t)n + 1);
                if (!buf)
                        return -ENOMEM;
                n = flistxattr(fd, buf, (size_t)n);
                if (n < 0 && errno == ERANGE)
                        continue; /* one was added meanwhile */
                if (n < 0)
                        return -errno;
                buf[n] = '\0';
                *ret_size = (size_t)n;
                *ret = TAKE_PTR(buf);
                return 0;
        }
        return -EBUSY;
}

int np_xattrs_read_fd(int fd, NpXattrs *ret)
{
        _cleanup_(np_xattrs_done) NpXattrs x = {};
        _cleanup_free_ char *names = NULL;
        size_t size = 0;
        int r;

        r = list_names(fd, &names, &size);
        if (r < 0)
                return r;
        for (const char *name = names; names && name < names + size; name += strlen(name) + 1) {
                _cleanup_free_ char *value = NULL;
                ssize_t n = fgetxattr(fd, name, NULL, 0);

                /* Gone meanwhile, or one this process may list but not read: not ours to copy. */
                if (n < 0 &&
                    (errno == ENODATA || errno == EPERM || errno == EACCES || errno == EOPNOTSUPP))
                        continue;
                if (n < 0)
                        return -errno;
                value = malloc((size_t)n + 1);
                if (!value)
                        return -ENOMEM;
                n = fgetxattr(fd, name, value, (size_t)n);
                if (n < 0)
                        return errno == ERANGE ? -EBUSY : -errno;
                r = add(&x, name, value, (size_t)n);
                if (r < 0)
                        return r;
        }
        return take_sorted(&x, ret);
}

static bool has_name(const NpXattrs *x, const char *name)
{
        FOREACH_ARRAY (i, x->items, x->n)
                if (streq(i->name, name))
                        return true;
        return false;
}

int np_xattrs_apply_fd(int fd, const NpXattrs *x, char **ret_error)
{
        _cleanup_free_ char *names = NULL;
        size_t size = 0;
        int r;

        FOREACH_ARRAY (i, x->items, x->n)
                if (fsetxattr(fd, i->name, i->value, i->size, 0) < 0) {
                        r = -errno;
                        *ret_error = strprintf("cannot set %s: %s", i->name, strerror(-r));
                        return r;
                }
        /* What the new file got on its own (a default ACL of the directory, a label from the
         * policy) but the original did not have. */
        r = list_names(fd, &names, &size);
        if (r < 0) {
                *ret_error = strprintf("cannot list extended attributes: %s", strerror(-r));
                return r;
        }
        for (const char *name = names; names && name < names + size; name += strlen(name) + 1)
                if (!has_name(x, name) && fremovexattr(fd, name) < 0 && errno != ENODATA) {
                        r = -errno;
                        *ret_error = strprintf("cannot remove %s: %s", name, strerror(-r));
                        return r;
                }
        return 0;
}

int np_xattrs_copy_fd(int from, int to, char **ret_error)
{
        _cleanup_(np_xattrs_done) NpXattrs x = {};
        int r = np_xattrs_read_fd(from, &x);

        if (r < 0) {
                *ret_error = strprintf("cannot read the extended attributes: %s", strerror(-r));
                return r;
        }
        return np_xattrs_apply_fd(to, &x, ret_error);
}

bool np_xattrs_equal(const NpXattrs *a, const NpXattrs *b)
{
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!streq(a->items[i].name, b->items[i].name) ||
                    a->items[i].size != b->items[i].size ||
                    memcmp(a->items[i].value, b->items[i].value, a->items[i].size) != 0)
                        return false;
        return true;
}

int np_xattrs_to_json(const NpXattrs *x, json_object **ret)
{
        json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        FOREACH_ARRAY (i, x->items, x->n) {
                _cleanup_free_ char *hex = malloc(i->size * 2 + 1);
                json_object *v;

                if (!hex) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                for (size_t k = 0; k < i->size; k++)
                        sprintf(hex + 2 * k, "%02x", (unsigned char)i->value[k]);
                hex[i->size * 2] = '\0';
                v = json_object_new_string(hex);
                if (!v || json_object_object_add(o, i->name, v) < 0) {
                        json_object_put(v);
                        json_object_put(o);
                        return -ENOMEM;
                }
        }
        *ret = o;
        return 0;
}

static bool name_valid(const char *name)
{
        static const char *const namespaces[] = { "user.", "trusted.", "security.", "system." };
        size_t n = strlen(name);
        bool known = false;

        for (size_t i = 0; i < ELEMENTSOF(namespaces); i++)
                if (startswith(name, namespaces[i]) && n > strlen(namespaces[i]))
                        known = true;
        if (!known || n > XATTR_NAME_MAX)
                return false;
        for (const char *p = name; *p; p++)
                if (*p <= ' ' || *p >= 127)
                        return false;
        return true;
}

static int unhex(char c)
{
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int np_xattrs_from_json(json_object *o, NpXattrs *ret)
{
        _cleanup_(np_xattrs_done) NpXattrs x = {};

        if (!o || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        json_object_object_foreach (o, name, v) {
                _cleanup_free_ char *value = NULL;
                const char *hex = json_object_get_string(v);
                size_t len = hex ? strlen(hex) : 0;
                int r;

                if (!json_object_is_type(v, json_type_string) || !name_valid(name) || len % 2 ||
                    len / 2 > XATTR_SIZE_MAX)
                        return -EBADMSG;
                value = malloc(len / 2 + 1);
                if (!value)
                        return -ENOMEM;
                for (size_t k = 0; k < len / 2; k++) {
                        int hi = unhex(hex[2 * k]), lo = unhex(hex[2 * k + 1]);

                        if (hi < 0 || lo < 0)
                                return -EBADMSG;
                        value[k] = (char)(hi << 4 | lo);
                }
                r = add(&x, name, value, len / 2);
                if (r < 0)
                        return r;
        }
        return take_sorted(&x, ret);
}
