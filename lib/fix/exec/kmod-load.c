/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading a kernel module with libkmod, the way systemd-modules-load does at boot. */

#include <stdlib.h>
#include <string.h>

#include "fix/exec/runtime.h"
#include "util/strv.h"

static void kmod_log_silent(void *data, int priority, const char *file, int line, const char *fn,
                            const char *format, va_list args)
{
        /* libkmod's own messages would go to stderr; the caller gets the reason instead. */
        (void)data, (void)priority, (void)file, (void)line, (void)fn, (void)format, (void)args;
}

const char *np_kmod_error_text(int err)
{
        switch (err) {
        case KMOD_PROBE_APPLY_BLACKLIST:
                return "blacklisted in modprobe.d (systemd-modules-load refuses it at boot too); "
                       "nodeprep does not override a blacklist";
        case -ENOENT:
                return "the module file is not installed for the running kernel (install the "
                       "kernel's modules package)";
        case -EEXIST:
                return "already loaded";
        case -EPERM:
                return "not permitted: module loading is disabled (kernel.modules_disabled=1, "
                       "lockdown, or module_blacklist= on the kernel command line) or nodeprep "
                       "lacks CAP_SYS_MODULE";
        case -ENOEXEC:
                return "not a valid module for this kernel (built for another kernel version?)";
        case -EKEYREJECTED:
        case -ENOKEY:
        case -EKEYEXPIRED:
                return "the module's signature was rejected (Secure Boot or module.sig_enforce)";
        case -EINVAL:
                return "the kernel rejected the module or one of its options (see dmesg)";
        case -ENODEV:
                return "no such device: the driver found no hardware to bind";
        case -ENOMEM:
                return "out of memory";
        default:
                return NULL;
        }
}

static char *kmod_error(const char *name, int err)
{
        const char *text = np_kmod_error_text(err);

        if (text)
                return strprintf("cannot load %s: %s", name, text);
        return strprintf("cannot load %s: %s", name, strerror(err < 0 ? -err : EIO));
}

int np_kmod_load(struct kmod_ctx *ctx, const char *name, char **ret_detail, char **ret_error)
{
        struct kmod_ctx *own = NULL;
        struct kmod_list *list = NULL, *it;
        _cleanup_strv_free_ char **loaded = NULL, **already = NULL;
        int r, result = 0;

        if (!ctx) {
                ctx = own = kmod_new(NULL, NULL);
                if (!ctx)
                        return -ENOMEM;
                kmod_set_log_fn(ctx, kmod_log_silent, NULL);
        }
        r = kmod_module_new_from_lookup(ctx, name, &list);
        if (r < 0 || !list) {
                *ret_error = r < 0 ? kmod_error(name, r)
                                   : strprintf("cannot load %s: no module of that name or "
                                               "alias for the running kernel (install the "
                                               "kernel's modules package)",
                                               name);
                if (own)
                        kmod_unref(own);
                return r < 0 ? r : -ENOENT;
        }
        kmod_list_foreach(it, list)
        {
                struct kmod_module *m = kmod_module_get_module(it);
                const char *mname = kmod_module_get_name(m);
                int state = kmod_module_get_initstate(m);

                if (state == KMOD_MODULE_BUILTIN || state == KMOD_MODULE_LIVE) {
                        r = strv_extend(&already, mname);
                } else {
                        r = kmod_module_probe_insert_module(m, KMOD_PROBE_APPLY_BLACKLIST, NULL,
                                                            NULL, NULL, NULL);
                        /* An install command (install X /bin/true) "succeeds" without inserting
                         * anything: only a live module counts as loaded. */
                        if ((r == 0 || r == -EEXIST) &&
                            kmod_module_get_initstate(m) != KMOD_MODULE_LIVE &&
                            kmod_module_get_initstate(m) != KMOD_MODULE_BUILTIN) {
                                *ret_error = strprintf("cannot load %s: libkmod reported success "
                                                       "but the module is not in the kernel (an "
                                                       "install command in modprobe.d ran "
                                                       "instead?)",
                                                       mname);
                                result = -ENOEXEC;
                                r = 0;
                        } else if (r == 0 || r == -EEXIST)
                                r = strv_extend(&loaded, mname);
                        else {
                                /* > 0: KMOD_PROBE_APPLY_BLACKLIST, the module is blacklisted. */
                                *ret_error = kmod_error(mname, r);
                                result = r > 0 ? -EPERM : r;
                                r = 0;
                        }
                }
                kmod_module_unref(m);
                if (r < 0 || result < 0)
                        break;
        }
        kmod_module_unref_list(list);
        if (own)
                kmod_unref(own);
        if (r < 0)
                return r;
        if (result < 0)
                return result;
        if (ret_detail) {
                _cleanup_free_ char *l = strv_join(loaded, ", "), *a = strv_join(already, ", ");

                *ret_detail = strv_length(loaded) > 0
                                  ? strprintf("loaded %s (with its dependencies)", strna(l))
                                  : strprintf("%s already in the kernel", strna(a));
        }
        return strv_length(loaded) > 0;
}
