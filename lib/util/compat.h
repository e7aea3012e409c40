/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library calls newer than the oldest releases nodeprep supports (RHEL 8: libsystemd 239,
 * json-c 0.13). meson.build asks the installed libraries for each call (HAVE_*, by symbol, not by
 * version: RHEL 8's "239" has sd_event_source_disable_unref and sd_bus_set_method_call_timeout
 * backported). Where one is missing, the call is renamed to the np_compat_* stand-in below, the
 * way systemd's missing_*.h emulate what an older kernel or libc lacks; call sites stay as they
 * are. `-Dapi-floor=true` takes every stand-in even where the real call exists, so the fallbacks
 * are built and tested on newer hosts, and tests/distros/check-floor.py checks that such a build
 * imports no symbol newer than the floor.
 *
 * Include this instead of <systemd/sd-device.h>, and in every file that uses one of the calls
 * listed in meson.build's compat_calls.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"

/* sd-device became public in systemd 240; 239 has libudev, which reads the same sysfs and udev
 * database: the calls nodeprep uses, over libudev (compat.c). */
#if HAVE_SD_DEVICE
#include <systemd/sd-device.h>
#else
typedef struct NpCompatDevice NpCompatDevice;
#define sd_device                            NpCompatDevice
int np_compat_device_new_from_subsystem_sysname(sd_device **ret, const char *subsystem,
                                                const char *sysname);
sd_device *np_compat_device_ref(sd_device *d);
sd_device *np_compat_device_unref(sd_device *d);
int np_compat_device_get_syspath(sd_device *d, const char **ret);
int np_compat_device_get_sysname(sd_device *d, const char **ret);
int np_compat_device_get_devname(sd_device *d, const char **ret);
int np_compat_device_get_devtype(sd_device *d, const char **ret);
int np_compat_device_get_devnum(sd_device *d, dev_t *ret);
int np_compat_device_get_sysattr_value(sd_device *d, const char *attr, const char **ret);
const char *np_compat_device_get_property_first(sd_device *d, const char **ret_value);
const char *np_compat_device_get_property_next(sd_device *d, const char **ret_value);
const char *np_compat_device_get_devlink_first(sd_device *d);
const char *np_compat_device_get_devlink_next(sd_device *d);
static inline void np_compat_device_unrefp(sd_device **d)
{
        np_compat_device_unref(*d);
}
#define sd_device_new_from_subsystem_sysname np_compat_device_new_from_subsystem_sysname
#define sd_device_ref                        np_compat_device_ref
#define sd_device_unref                      np_compat_device_unref
#define sd_device_unrefp                     np_compat_device_unrefp
#define sd_device_get_syspath                np_compat_device_get_syspath
#define sd_device_get_sysname                np_compat_device_get_sysname
#define sd_device_get_devname                np_compat_device_get_devname
#define sd_device_get_devtype                np_compat_device_get_devtype
#define sd_device_get_devnum                 np_compat_device_get_devnum
#define sd_device_get_sysattr_value          np_compat_device_get_sysattr_value
#define sd_device_get_property_first         np_compat_device_get_property_first
#define sd_device_get_property_next          np_compat_device_get_property_next
#define sd_device_get_devlink_first          np_compat_device_get_devlink_first
#define sd_device_get_devlink_next           np_compat_device_get_devlink_next
#endif

/* sd_device_enumerator_add_nomatch_sysname() is systemd 251. Without it, leaving hundreds of idle
 * loop devices out before each is built (the point of the disk probe's filter) needs our own
 * enumerator: sysfs's directory of the subsystem, names filtered, then each device built by name
 * with sd_device_new_from_subsystem_sysname() (real or the libudev one above). */
#if !HAVE_SD_DEVICE_ENUMERATOR_ADD_NOMATCH_SYSNAME
typedef struct NpCompatEnumerator NpCompatEnumerator;
#define sd_device_enumerator NpCompatEnumerator
int np_compat_enumerator_new(sd_device_enumerator **ret);
sd_device_enumerator *np_compat_enumerator_unref(sd_device_enumerator *e);
int np_compat_enumerator_add_match_subsystem(sd_device_enumerator *e, const char *subsystem,
                                             int match);
int np_compat_enumerator_add_nomatch_sysname(sd_device_enumerator *e, const char *pattern);
int np_compat_enumerator_allow_uninitialized(sd_device_enumerator *e);
sd_device *np_compat_enumerator_get_device_first(sd_device_enumerator *e);
sd_device *np_compat_enumerator_get_device_next(sd_device_enumerator *e);
static inline void np_compat_enumerator_unrefp(sd_device_enumerator **e)
{
        np_compat_enumerator_unref(*e);
}
#define sd_device_enumerator_new                 np_compat_enumerator_new
#define sd_device_enumerator_unref               np_compat_enumerator_unref
#define sd_device_enumerator_unrefp              np_compat_enumerator_unrefp
#define sd_device_enumerator_add_match_subsystem np_compat_enumerator_add_match_subsystem
#define sd_device_enumerator_add_nomatch_sysname np_compat_enumerator_add_nomatch_sysname
#define sd_device_enumerator_allow_uninitialized np_compat_enumerator_allow_uninitialized
#define sd_device_enumerator_get_device_first    np_compat_enumerator_get_device_first
#define sd_device_enumerator_get_device_next     np_compat_enumerator_get_device_next
#endif

/* systemd 243 (RHEL 8 backported it); the same two calls as systemd's own sd-event.c. */
#if !HAVE_SD_EVENT_SOURCE_DISABLE_UNREF
static inline sd_event_source *np_compat_event_source_disable_unref(sd_event_source *s)
{
        if (s)
                (void)sd_event_source_set_enabled(s,
                                                  SD_EVENT_OFF); /* as sd-event.c: unref anyway */
        return sd_event_source_unref(s);
}
#define sd_event_source_disable_unref np_compat_event_source_disable_unref
#endif

/* systemd 240 (RHEL 8 backported it). Without it every method call keeps libsystemd's default
 * timeout of 25 s: a unit probe waits longer for a hung systemd than the 5 s asked, and an
 * enable/start fix gives up on a busy systemd after 25 s instead of 90 s (the error says
 * "Connection timed out"). */
#if !HAVE_SD_BUS_SET_METHOD_CALL_TIMEOUT
static inline int np_compat_bus_set_method_call_timeout(sd_bus *bus, uint64_t usec)
{
        (void)bus;
        (void)usec;
        return 0;
}
#define sd_bus_set_method_call_timeout np_compat_bus_set_method_call_timeout
#endif

/* json-c 0.14 added unsigned 64-bit integers. Before, what nodeprep writes (counters, sizes) is an
 * int64 up to INT64_MAX and a double above it; reading, a negative number is 0, as 0.14 does. */
#if !HAVE_JSON_OBJECT_NEW_UINT64
static inline json_object *np_compat_json_object_new_uint64(uint64_t v)
{
        return v <= INT64_MAX ? json_object_new_int64((int64_t)v)
                              : json_object_new_double((double)v);
}
static inline uint64_t np_compat_json_object_get_uint64(const json_object *o)
{
        int64_t v = json_object_get_int64(o);

        return v < 0 ? 0 : (uint64_t)v;
}
#define json_object_new_uint64 np_compat_json_object_new_uint64
#define json_object_get_uint64 np_compat_json_object_get_uint64
#endif

/* json-c 0.14: json_tokener_get_parse_end() reads the field 0.13 has in its public struct, and
 * JSON_TOKENER_VALIDATE_UTF8 is missing: NP_JSON_TOKENER_VALIDATES_UTF8 tells the caller to check
 * the bytes itself (utf8_is_valid(), which also refuses the overlong forms and surrogates that
 * json-c lets through). */
#if !HAVE_JSON_TOKENER_GET_PARSE_END
#define json_tokener_get_parse_end(tok) ((size_t)(tok)->char_offset)
#endif
#if HAVE_JSON_TOKENER_VALIDATE_UTF8
#define NP_JSON_TOKENER_VALIDATES_UTF8 true
#else
#undef JSON_TOKENER_VALIDATE_UTF8
#define JSON_TOKENER_VALIDATE_UTF8     0
#define NP_JSON_TOKENER_VALIDATES_UTF8 false
#endif

/* openat2() (Linux 5.6): glibc names it from 2.32 on; kernel headers before 5.6 (RHEL 8's 4.18)
 * lack it altogether, and then an invalid number makes the call fail with ENOSYS, so that
 * lib/util/root.c walks the path itself, as it does on a kernel without openat2(). */
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#else
struct open_how {
        uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT       0x10
#endif
#ifndef SYS_openat2
#ifdef __NR_openat2
#define SYS_openat2 __NR_openat2
#else
#define SYS_openat2 (-1)
#endif
#endif
