/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fix steps that act on the running system rather than on files: load a kernel module with
 * libkmod, enable and start units through systemd's D-Bus API, run a named program. Library
 * calls wherever one exists; a program only where none does (iscsiadm -m node -o update, the
 * distribution's package tool).
 */
#pragma once

#include <libkmod.h>
#include <stdbool.h>

/*
 * Load a module and what it depends on, as systemd-modules-load does: libkmod lookup (aliases
 * resolved), options and install commands from modprobe.d, KMOD_PROBE_APPLY_BLACKLIST (a
 * blacklisted module is refused, as it will be at boot). ctx NULL: the running system's.
 * Returns 1 when loaded now, 0 when it was already loaded or built in.
 */
int np_kmod_load(struct kmod_ctx *ctx, const char *name, char **ret_detail, char **ret_error);
/* What a libkmod/init_module error means, for people. */
const char *np_kmod_error_text(int err);

/* EnableUnitFiles([unit]) + Reload. *ret_detail says what systemd changed. */
int np_unit_enable(const char *unit, char **ret_detail, char **ret_error);
/* DisableUnitFiles([unit]) + Reload (rollback of an enable). */
int np_unit_disable(const char *unit, char **ret_error);
/* StartUnit(unit, "replace") and wait up to timeout_sec for the job's JobRemoved result. */
int np_unit_start(const char *unit, unsigned timeout_sec, char **ret_error);

/*
 * Run a program without a shell: argv[0] is an absolute path or a name looked up in
 * /usr/sbin:/usr/bin:/sbin:/bin. stdin is /dev/null; stdout and stderr are collected (the last
 * 64 KiB). extra_env ("K=V" strings) is added to the environment. Returns the exit status
 * (0-255, or 128+signal), -ENOENT when the program is not there, -ETIMEDOUT after killing it.
 */
int np_command_run(char *const *argv, char *const *extra_env, unsigned timeout_sec,
                   char **ret_output);
