/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Probes: read the host into NpFacts. They never write anything. A probe that cannot tell fills
 * the `unknown` reason of the facts it owns; the functions fail only on -ENOMEM.
 */
#pragma once

#include <netdb.h>

#include "facts.h"
#include "util/root.h"

int np_probe_system(const NpRoot *root, NpFacts *f);
int np_probe_selinux(const NpRoot *root, NpFacts *f);
int np_probe_iscsi(const NpRoot *root, bool nodes, NpFacts *f);
int np_probe_modules(const NpRoot *root, char *const *names, NpFacts *f);
/* The next boot's kernel and command line (NpFacts.boot), once per facts. */
int np_probe_boot(const NpRoot *root, NpFacts *f);
int np_probe_units(const NpRoot *root, char *const *names, NpFacts *f);
/* systemd's system unit directories, in its lookup order (systemd-analyze unit-paths). */
#define NP_UNIT_DIRS_MAX 5
extern const char *const np_unit_dirs[NP_UNIT_DIRS_MAX];
int np_probe_fs(const NpRoot *root, char *const *paths, NpFacts *f);
/* Kernel interfaces (udev, sysfs, /proc, netlink) of this machine: --root does not apply. */
int np_probe_disks(const NpProbeRequest *req, NpFacts *f);
int np_probe_links(NpFacts *f);

/*
 * The disk and link probes' per-object state between probes, for a caller that probes again and
 * again (nodeprepd): what each disk or link read gave, so that an event re-reads the objects it
 * names and the rest comes from memory. The facts equal a full probe's as long as every change
 * was named (a lost event: probe in full).
 */
typedef struct NpDiskCache NpDiskCache;
NpDiskCache *np_disk_cache_new(void);
NpDiskCache *np_disk_cache_free(NpDiskCache *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpDiskCache *, np_disk_cache_free);
/* Disks read by the last update (libblkid included). */
unsigned np_disk_cache_reread(const NpDiskCache *c);
/* Read again the block devices named in changed (kernel names: disks, partitions, holders, loop
 * devices) and the disks that depend on them, or everything when full (or when c was never
 * filled, or with other settings), then every disk's facts: the mount table and /proc/swaps are
 * read each time, the rest is memory. */
int np_probe_disks_update(NpDiskCache *c, const NpProbeRequest *req, char *const *changed,
                          bool full, NpFacts *f);

typedef struct NpLinkCache NpLinkCache;
NpLinkCache *np_link_cache_new(void);
NpLinkCache *np_link_cache_free(NpLinkCache *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpLinkCache *, np_link_cache_free);
unsigned np_link_cache_reread(const NpLinkCache *c);
/* Read again the links with these ifindexes (and their masters and upper links), the addresses
 * of those in addresses, or all of them when full (or never filled), then every link's facts
 * from memory. */
int np_probe_links_update(NpLinkCache *c, const int *ifindexes, size_t n, const int *addresses,
                          size_t n_addresses, bool full, NpFacts *f);

/* Everything the request asks for. */
int np_probe(const NpRoot *root, const NpProbeRequest *req, NpFacts **ret);

/*
 * Open path (O_PATH, inside the root) or, when it does not exist yet, its nearest existing
 * ancestor: 1 with *ret_fd and *ret_found (the path opened). 0 with *ret_unknown the reason when
 * it cannot: an error other than ENOENT, or a symbolic link to nothing on the way up (the
 * ancestor's file system is not where the path's data would go). -ENOMEM only. (fs.c)
 */
int np_probe_open_nearest(const NpRoot *root, const char *path, int *ret_fd, char **ret_found,
                          char **ret_unknown);
/* Shared by probes: "what went wrong reading PATH" with the path as on this machine. */
char *np_probe_reason(const NpRoot *root, const char *path, int error);
/*
 * Run path (on the running system only: -EPERM under --root, whose tree is data, never code)
 * with args (at most 14): its own process group, stdin /dev/null, a fixed environment
 * (PATH=/usr/sbin:/usr/bin:/sbin:/bin, LC_ALL=C, nothing else: no LD_*), default signals, a
 * 10 s timeout; at most 4096 bytes of stdout+stderr. On timeout or more output the whole group
 * is killed: -ETIME, -EFBIG. -ENOEXEC if it cannot run. *ret_status (optional): the exit
 * status, or 128 + the signal that ended it. The one place nodeprep executes a program to
 * learn about the host.
 */
int np_probe_run(const NpRoot *root, const char *path, char *const *args, char **ret_output,
                 int *ret_status);
/* "timed out after 10 s (killed)" and the like, for an np_probe_run() error. */
const char *np_probe_run_error(int error);
/*
 * Under --root: what files say of the version of the program at path, without running it.
 * Only dpkg's database is read (the installed package named like the program whose file list
 * holds path): *ret_text "kubelet 1.28.3-1.1 (dpkg database: ...)". Otherwise *ret_unknown says
 * why the version is unknown. Only -ENOMEM is an error.
 */
int np_probe_version_from_files(const NpRoot *root, const char *path, char **ret_text,
                                char **ret_unknown);
/* "Version:" of the installed package name in the text of dpkg's status file, -ENOENT if none. */
int np_dpkg_installed_version(const char *status, const char *name, char **ret);
/* The first line of output, printable, at most 200 bytes. */
char *np_first_line(const char *output);

int np_probe_endpoints(const NpProbeRequest *req, NpFacts *f);
/* lib/probe/resolve.c: CLOCK_MONOTONIC in microseconds; resolve the requests of list (ar_name,
 * ar_service, ar_request set) until deadline_usec. Then each is done (gai_error(): 0 with
 * ar_result, or an EAI_ error), or *ret_timed_out[i] is true (no result). -EIO with *ret_gai when
 * glibc refuses the batch. */
uint64_t np_probe_now_usec(void);
int np_resolve(struct gaicb **list, size_t n, uint64_t deadline_usec, bool *ret_timed_out,
               int *ret_gai);
int np_probe_tools(const NpRoot *root, const NpProbeRequest *req, NpFacts *f);
int np_probe_layouts(const NpRoot *root, const NpProbeRequest *req, NpFacts *f);
int np_probe_virt(const NpRoot *root, NpFacts *f);
/* lib/probe/identity.c: machine-id, DMI product UUID (system area); open-iscsi version. */
int np_probe_identity(const NpRoot *root, NpFacts *f);
int np_probe_iscsi_version(const NpRoot *root, NpFacts *f);
/* lib/probe/peers.c: the peers on the data network (kernel interfaces: --root does not apply). */
int np_probe_peers(const NpPeersRequest *req, NpFacts *f);
