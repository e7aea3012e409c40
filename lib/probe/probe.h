/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Probes: read the host into NpFacts. They never write anything. A probe that cannot tell fills
 * the `unknown` reason of the facts it owns; the functions fail only on -ENOMEM.
 */
#pragma once

#include "facts.h"
#include "util/root.h"

int np_probe_system(const NpRoot *root, bool kubelet, NpFacts *f);
int np_probe_selinux(const NpRoot *root, NpFacts *f);
int np_probe_iscsi(const NpRoot *root, bool nodes, NpFacts *f);
int np_probe_modules(const NpRoot *root, char *const *names, NpFacts *f);
int np_probe_units(const NpRoot *root, char *const *names, NpFacts *f);
int np_probe_fs(const NpRoot *root, char *const *paths, NpFacts *f);
/* Kernel interfaces (udev, sysfs, /proc, netlink) of this machine: --root does not apply. */
int np_probe_disks(const NpProbeRequest *req, NpFacts *f);
int np_probe_links(NpFacts *f);

/* Everything the request asks for. */
int np_probe(const NpRoot *root, const NpProbeRequest *req, NpFacts **ret);

/* Shared by probes: "what went wrong reading PATH" with the path as on this machine. */
char *np_probe_reason(const NpRoot *root, const char *path, int error);
/* Run path (a file under the root) with args (at most 14), a clean environment and a 10 s
 * timeout; the first 4 KiB of its stdout+stderr. -ETIME on timeout, -ENOEXEC if it cannot run. */
/* *ret_status (optional): the exit status, or 128 + the signal that ended it. */
int np_probe_run(const NpRoot *root, const char *path, char *const *args, char **ret_output,
                 int *ret_status);
/* The first line of output, printable, at most 200 bytes. */
char *np_first_line(const char *output);

int np_probe_endpoints(const NpProbeRequest *req, NpFacts *f);
int np_probe_tools(const NpRoot *root, const NpProbeRequest *req, NpFacts *f);
int np_probe_layouts(const NpRoot *root, const NpProbeRequest *req, NpFacts *f);
int np_probe_virt(const NpRoot *root, NpFacts *f);
