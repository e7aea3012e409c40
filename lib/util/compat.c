/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-ins for library calls the oldest supported releases lack (see compat.h). */

#include <dirent.h>
#include <fnmatch.h>
#include <libudev.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "util/compat.h"
#include "util/macro.h"
#include "util/strv.h"

#if !HAVE_SD_DEVICE
/* A libudev device with the cursors sd-device keeps for its first/next iterators. */
struct NpCompatDevice {
        unsigned n_ref;
        struct udev *udev;
        struct udev_device *dev;
        struct udev_list_entry *property, *devlink;
};

int np_compat_device_new_from_subsystem_sysname(sd_device **ret, const char *subsystem,
                                                const char *sysname)
{
        sd_device *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->n_ref = 1;
        d->udev = udev_new();
        if (!d->udev) {
                free(d);
                return -ENOMEM;
        }
        errno = 0;
        d->dev = udev_device_new_from_subsystem_sysname(d->udev, subsystem, sysname);
        if (!d->dev) {
                int r = errno > 0 ? -errno : -ENODEV;

                udev_unref(d->udev);
                free(d);
                return r;
        }
        *ret = d;
        return 0;
}

sd_device *np_compat_device_ref(sd_device *d)
{
        if (d)
                d->n_ref++;
        return d;
}

sd_device *np_compat_device_unref(sd_device *d)
{
        if (!d || --d->n_ref > 0)
                return NULL;
        udev_device_unref(d->dev);
        udev_unref(d->udev);
        free(d);
        return NULL;
}

/* sd-device's convention: 0 and the string, or -ENOENT when the device has none. */
static int string_or_enoent(const char *s, const char **ret)
{
        if (!s)
                return -ENOENT;
        *ret = s;
        return 0;
}

int np_compat_device_get_syspath(sd_device *d, const char **ret)
{
        return string_or_enoent(udev_device_get_syspath(d->dev), ret);
}

int np_compat_device_get_sysname(sd_device *d, const char **ret)
{
        return string_or_enoent(udev_device_get_sysname(d->dev), ret);
}

int np_compat_device_get_devname(sd_device *d, const char **ret)
{
        return string_or_enoent(udev_device_get_devnode(d->dev), ret);
}

int np_compat_device_get_devtype(sd_device *d, const char **ret)
{
        return string_or_enoent(udev_device_get_devtype(d->dev), ret);
}

int np_compat_device_get_devnum(sd_device *d, dev_t *ret)
{
        dev_t n = udev_device_get_devnum(d->dev);

        if (major(n) == 0 && minor(n) == 0)
                return -ENOENT;
        *ret = n;
        return 0;
}

int np_compat_device_get_sysattr_value(sd_device *d, const char *attr, const char **ret)
{
        const char *v;

        errno = 0;
        v = udev_device_get_sysattr_value(d->dev, attr);
        if (!v)
                return errno > 0 ? -errno : -ENOENT;
        *ret = v;
        return 0;
}

static const char *property_at(sd_device *d, const char **ret_value)
{
        if (!d->property)
                return NULL;
        if (ret_value)
                *ret_value = udev_list_entry_get_value(d->property);
        return udev_list_entry_get_name(d->property);
}

const char *np_compat_device_get_property_first(sd_device *d, const char **ret_value)
{
        d->property = udev_device_get_properties_list_entry(d->dev);
        return property_at(d, ret_value);
}

const char *np_compat_device_get_property_next(sd_device *d, const char **ret_value)
{
        d->property = d->property ? udev_list_entry_get_next(d->property) : NULL;
        return property_at(d, ret_value);
}

const char *np_compat_device_get_devlink_first(sd_device *d)
{
        d->devlink = udev_device_get_devlinks_list_entry(d->dev);
        return d->devlink ? udev_list_entry_get_name(d->devlink) : NULL;
}

const char *np_compat_device_get_devlink_next(sd_device *d)
{
        d->devlink = d->devlink ? udev_list_entry_get_next(d->devlink) : NULL;
        return d->devlink ? udev_list_entry_get_name(d->devlink) : NULL;
}
#endif

#if !HAVE_SD_DEVICE_ENUMERATOR_ADD_NOMATCH_SYSNAME
struct NpCompatEnumerator {
        char *subsystem;
        char **nomatch; /* fnmatch() patterns of sysnames to leave out */
        sd_device **devices;
        size_t n_devices, current;
        bool scanned;
};

int np_compat_enumerator_new(sd_device_enumerator **ret)
{
        *ret = calloc(1, sizeof(**ret));
        return *ret ? 0 : -ENOMEM;
}

static void devices_free(sd_device_enumerator *e)
{
        for (size_t i = 0; i < e->n_devices; i++)
                sd_device_unref(e->devices[i]);
        e->devices = mfree(e->devices);
        e->n_devices = e->current = 0;
}

sd_device_enumerator *np_compat_enumerator_unref(sd_device_enumerator *e)
{
        if (!e)
                return NULL;
        devices_free(e);
        free(e->subsystem);
        strv_free(e->nomatch);
        free(e);
        return NULL;
}

/* One subsystem to match, as the disk probe asks: more, or "nomatch", is not needed here. */
int np_compat_enumerator_add_match_subsystem(sd_device_enumerator *e, const char *subsystem,
                                             int match)
{
        if (!match || e->subsystem)
                return -EOPNOTSUPP;
        e->subsystem = strdup(subsystem);
        e->scanned = false;
        return e->subsystem ? 0 : -ENOMEM;
}

int np_compat_enumerator_add_nomatch_sysname(sd_device_enumerator *e, const char *pattern)
{
        e->scanned = false;
        return strv_extend(&e->nomatch, pattern);
}

/* Devices built by name are never filtered on udev's "initialized" flag: nothing to do. */
int np_compat_enumerator_allow_uninitialized(sd_device_enumerator *e)
{
        (void)e;
        return 0;
}

/* /sys/class/SUBSYSTEM holds one link per device (partitions included for "block"), as
 * sd-device's enumerator scans it; names sorted, as it sorts by device path. */
static void scan(sd_device_enumerator *e)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        DIR *dir;
        size_t n;

        devices_free(e);
        e->scanned = true;
        if (!e->subsystem || !(path = strprintf("/sys/class/%s", e->subsystem)) ||
            !(dir = opendir(path)))
                return; /* as sd-device: an enumeration error is an empty result */
        while ((de = readdir(dir))) {
                bool skip = de->d_name[0] == '.';

                STRV_FOREACH (p, e->nomatch)
                        skip = skip || fnmatch(*p, de->d_name, 0) == 0;
                if (!skip && strv_extend(&names, de->d_name) < 0)
                        break;
        }
        closedir(dir);
        n = strv_length(names);
        if (n == 0 || !(e->devices = calloc(n, sizeof(sd_device *))))
                return;
        strv_sort(names);
        STRV_FOREACH (name, names)
                if (sd_device_new_from_subsystem_sysname(&e->devices[e->n_devices], e->subsystem,
                                                         *name) >= 0)
                        e->n_devices++; /* gone meanwhile: left out */
}

sd_device *np_compat_enumerator_get_device_first(sd_device_enumerator *e)
{
        if (!e->scanned)
                scan(e);
        e->current = 0;
        return e->current < e->n_devices ? e->devices[e->current] : NULL;
}

sd_device *np_compat_enumerator_get_device_next(sd_device_enumerator *e)
{
        if (e->current + 1 >= e->n_devices)
                return NULL;
        return e->devices[++e->current];
}
#endif
