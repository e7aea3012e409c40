/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Probe areas: probe some, move facts between probes, list the files each reads (see area.h). */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/area.h"
#include "probe/probe.h"
#include "util/strv.h"

/* --- the probes, one signature -------------------------------------------------------------- */

static int probe_system(const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        int r = np_probe_system(root, req->kubelet, f);

        return r < 0 ? r : np_probe_identity(root, f);
}

static int probe_selinux(const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        return req->selinux ? np_probe_selinux(root, f) : 0;
}

static int probe_iscsi(const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        int r = req->iscsi ? np_probe_iscsi(root, req->iscsi_nodes, f) : 0;

        return r < 0 || !req->iscsi ? r : np_probe_iscsi_version(root, f);
}

static int probe_modules(const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        return np_probe_modules(root, req->modules, f);
}

static int probe_units(const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        return np_probe_units(root, req->units, f);
}

static int probe_fs(const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        return np_probe_fs(root, req->fs_paths, f);
}

static int probe_disks(_unused_ const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        return req->disks ? np_probe_disks(req, f) : 0;
}

static int update_disks(NpProbeState *s, const NpProbeRequest *req, const NpProbeChanges *c,
                        bool full, NpFacts *f)
{
        int r;

        if (!req->disks)
                return 0;
        r = np_probe_disks_update(s->disks, req, c ? c->disks : NULL, full, f);
        s->reread[NP_AREA_DISKS] = np_disk_cache_reread(s->disks);
        return r;
}

static int probe_links(_unused_ const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        return req->links ? np_probe_links(f) : 0;
}

static int update_links(NpProbeState *s, const NpProbeRequest *req, const NpProbeChanges *c,
                        bool full, NpFacts *f)
{
        int r;

        if (!req->links)
                return 0;
        r = np_probe_links_update(s->links, c ? c->links : NULL, c ? c->n_links : 0,
                                  c ? c->addresses : NULL, c ? c->n_addresses : 0, full, f);
        s->reread[NP_AREA_LINKS] = np_link_cache_reread(s->links);
        return r;
}

static int probe_endpoints(_unused_ const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        return np_probe_endpoints(req, f);
}

static int probe_virt(const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        return req->virt ? np_probe_virt(root, f) : 0;
}

static int probe_peers(_unused_ const NpRoot *root, const NpProbeRequest *req, NpFacts *f)
{
        return req->peers.peers ? np_probe_peers(&req->peers, f) : 0;
}

/* What a probe reads of another area's facts (the running kernel's release: the next boot is
 * compared with it). */
static int carry_kernel(NpFacts *dst, const NpFacts *last)
{
        return free_and_strdup(&dst->system.kernel, last->system.kernel);
}

/* The next boot's facts belong to the modules and SELinux areas alike: dst keeps its own when
 * it probed either again, else takes src's. */
static void boot_move(NpFacts *dst, NpFacts *src)
{
        if (!dst->boot.probed && src->boot.probed) {
                NpBootFacts t = dst->boot;

                dst->boot = src->boot;
                src->boot = t;
        }
}

/* --- the rows ----------------------------------------------------------------------------------
 */

const NpFactArea np_area_system = {
        .name = "system",
        .area = NP_AREA_SYSTEM,
        .probe = probe_system,
        NP_FACTS_SPAN(system, system),
        .done = np_area_system_done,
        .to_json = np_area_system_to_json,
        .to_text = np_area_system_to_text,
};

const NpFactArea np_area_selinux = {
        .name = "selinux",
        .area = NP_AREA_SELINUX,
        .probe = probe_selinux,
        .reads = NP_AREA_MASK(NP_AREA_SYSTEM), /* selinux.c, boot.c */
        .carry = carry_kernel,
        NP_FACTS_SPAN(selinux, selinux),
        .done = np_area_selinux_done,
        .to_json = np_area_selinux_to_json,
        .to_text = np_area_selinux_to_text,
};

const NpFactArea np_area_boot = {
        .name = "boot",
        .area = _NP_AREA_INVALID,
        .moves_with = NP_AREA_MASK(NP_AREA_SELINUX) | NP_AREA_MASK(NP_AREA_MODULES),
        .move = boot_move,
        .done = np_area_boot_done,
        .to_json = np_area_boot_to_json,
};

const NpFactArea np_area_iscsi = {
        .name = "iscsi",
        .area = NP_AREA_ISCSI,
        .probe = probe_iscsi,
        NP_FACTS_SPAN(iscsi, iscsi),
        .done = np_area_iscsi_done,
        .to_json = np_area_iscsi_to_json,
        .to_text = np_area_iscsi_to_text,
};

const NpFactArea np_area_modules = {
        .name = "modules",
        .area = NP_AREA_MODULES,
        .probe = probe_modules,
        .reads = NP_AREA_MASK(NP_AREA_SYSTEM), /* kmod.c, boot.c */
        .carry = carry_kernel,
        NP_FACTS_SPAN(modules, modules_load_etc_unusable),
        .done = np_area_modules_done,
        .to_json = np_area_modules_to_json,
        .to_text = np_area_modules_to_text,
};

const NpFactArea np_area_units = {
        .name = "units",
        .area = NP_AREA_UNITS,
        .probe = probe_units,
        NP_FACTS_SPAN(units, n_units),
        .done = np_area_units_done,
        .to_json = np_area_units_to_json,
        .to_text = np_area_units_to_text,
};

const NpFactArea np_area_fs = {
        .name = "fs",
        .area = NP_AREA_FS,
        .probe = probe_fs,
        NP_FACTS_SPAN(fs, n_fs),
        .done = np_area_fs_done,
        .to_json = np_area_fs_to_json,
        .to_text = np_area_fs_to_text,
};

const NpFactArea np_area_endpoints = {
        .name = "endpoints",
        .area = NP_AREA_ENDPOINTS,
        .probe = probe_endpoints,
        NP_FACTS_SPAN(endpoints, n_endpoints),
        .done = np_area_endpoints_done,
        .to_json = np_area_endpoints_to_json,
        .to_text = np_area_endpoints_to_text,
};

const NpFactArea np_area_tools = {
        .name = "tools",
        .area = NP_AREA_TOOLS,
        .probe = np_probe_tools,
        NP_FACTS_SPAN(tools, n_tools),
        .done = np_area_tools_done,
        .to_json = np_area_tools_to_json,
        .to_text = np_area_tools_to_text,
};

const NpFactArea np_area_layouts = {
        .name = "layouts",
        .area = NP_AREA_LAYOUTS,
        .probe = np_probe_layouts,
        NP_FACTS_SPAN(layouts, n_layouts),
        .done = np_area_layouts_done,
        .to_json = np_area_layouts_to_json,
        .to_text = np_area_layouts_to_text,
};

const NpFactArea np_area_virt = {
        .name = "virt",
        .area = NP_AREA_VIRT,
        .probe = probe_virt,
        NP_FACTS_SPAN(virt, virt),
        .done = np_area_virt_done,
        .to_json = np_area_virt_to_json,
};

const NpFactArea np_area_disks = {
        .name = "disks",
        .area = NP_AREA_DISKS,
        .probe = probe_disks,
        .update = update_disks,
        NP_FACTS_SPAN(disks, disks_unknown),
        .done = np_area_disks_done,
        .to_json = np_area_disks_to_json,
        .to_text = np_area_disks_to_text,
};

const NpFactArea np_area_links = {
        .name = "links",
        .area = NP_AREA_LINKS,
        .probe = probe_links,
        .update = update_links,
        NP_FACTS_SPAN(links, links_unknown),
        .done = np_area_links_done,
        .to_json = np_area_links_to_json,
        .to_text = np_area_links_to_text,
};

const NpFactArea np_area_peers = {
        .name = "peers",
        .area = NP_AREA_PEERS,
        .probe = probe_peers,
        NP_FACTS_SPAN(peers, peers),
        .done = np_area_peers_done,
        .to_json = np_area_peers_to_json,
};

#define FACT_AREA_ROW(name) &np_area_##name,
static const NpFactArea *const fact_areas[] = { NP_FACT_AREAS(FACT_AREA_ROW) };

const NpFactArea *const *np_fact_areas(size_t *ret_n)
{
        *ret_n = ELEMENTSOF(fact_areas);
        return fact_areas;
}

/* The row probed as area a; NULL when a is not an area. */
static const NpFactArea *area_row(NpProbeArea a)
{
        for (size_t i = 0; i < ELEMENTSOF(fact_areas); i++)
                if (fact_areas[i]->area == a && a >= 0)
                        return fact_areas[i];
        return NULL;
}

const char *np_probe_area_to_string(NpProbeArea a)
{
        const NpFactArea *row = area_row(a);

        return row ? row->name : NULL;
}

void np_probe_changes_done(NpProbeChanges *c)
{
        strv_free(c->disks);
        free(c->links);
        free(c->addresses);
        *c = (NpProbeChanges){};
}

int np_probe_changes_add_disk(NpProbeChanges *c, const char *name)
{
        return strv_extend_unique(&c->disks, name);
}

int np_probe_changes_add_link(NpProbeChanges *c, int ifindex)
{
        return intv_extend_unique(&c->links, &c->n_links, ifindex);
}

int np_probe_changes_add_address(NpProbeChanges *c, int ifindex)
{
        return intv_extend_unique(&c->addresses, &c->n_addresses, ifindex);
}

int np_probe_state_init(NpProbeState *s)
{
        *s = (NpProbeState){ .disks = np_disk_cache_new(), .links = np_link_cache_new() };
        if (!s->disks || !s->links) {
                np_probe_state_done(s);
                return -ENOMEM;
        }
        return 0;
}

void np_probe_state_done(NpProbeState *s)
{
        np_disk_cache_free(s->disks);
        np_link_cache_free(s->links);
        *s = (NpProbeState){};
}

bool np_probe_area_incremental(NpProbeArea a)
{
        const NpFactArea *row = area_row(a);

        return row && row->update;
}

int np_probe_areas_update(const NpRoot *root, const NpProbeRequest *req, NpProbeState *state,
                          unsigned mask, const NpProbeChanges *changes, NpFacts *f)
{
        unsigned full = changes ? changes->full : NP_AREAS_ALL;
        int r = 0;

        if (!f->root && !(f->root = strdup(root->path)))
                return -ENOMEM;
        if (state)
                memset(state->reread, 0, sizeof(state->reread));
        /* In the order of NpProbeArea: the system area first, the others read its kernel. */
        for (NpProbeArea a = 0; r >= 0 && a < _NP_AREA_MAX; a++) {
                const NpFactArea *row = area_row(a);

                if (!(mask & NP_AREA_MASK(a)))
                        continue;
                if (state && row->update)
                        r = row->update(state, req, changes, full & NP_AREA_MASK(a), f);
                else
                        r = row->probe(root, req, f);
        }
        return r;
}

int np_facts_carry_inputs(NpFacts *dst, const NpFacts *last, unsigned mask)
{
        FOREACH_ARRAY (row, fact_areas, ELEMENTSOF(fact_areas)) {
                int r;

                if ((*row)->area < 0 || !(mask & NP_AREA_MASK((*row)->area)) || !(*row)->carry ||
                    ((*row)->reads & mask) == (*row)->reads)
                        continue;
                r = (*row)->carry(dst, last);
                if (r < 0)
                        return r;
        }
        return 0;
}

int np_probe_areas(const NpRoot *root, const NpProbeRequest *req, unsigned mask, NpFacts *f)
{
        return np_probe_areas_update(root, req, NULL, mask, NULL, f);
}

static void swap_bytes(void *a, void *b, size_t size)
{
        uint8_t *x = a, *y = b;

        for (size_t i = 0; i < size; i++) {
                uint8_t t = x[i];

                x[i] = y[i];
                y[i] = t;
        }
}

void np_facts_move_area(NpFacts *dst, NpFacts *src, NpProbeArea a)
{
        FOREACH_ARRAY (row, fact_areas, ELEMENTSOF(fact_areas)) {
                if (a < 0 || ((*row)->area != a && !((*row)->moves_with & NP_AREA_MASK(a))))
                        continue;
                if ((*row)->move)
                        (*row)->move(dst, src);
                else
                        swap_bytes((uint8_t *)dst + (*row)->offset, (uint8_t *)src + (*row)->offset,
                                   (*row)->size);
        }
}

static int add(const NpRoot *root, NpWatchList *l, const char *dir, const char *name,
               NpProbeArea area)
{
        _cleanup_free_ char *p = np_root_prefix(root, dir);

        return p ? np_watch_list_add(l, p, name, (int)area) : -ENOMEM;
}

/*
 * What probe/boot.c reads to find the next boot's kernel and command line, and the next kernel's
 * build configuration: the kernel list (/lib/modules/KVER with its modules.dep, builtin and
 * config; /boot/vmlinuz-KVER and /boot/config-KVER), GRUB's grub.cfg and grubenv (Debian's
 * /boot/grub, RHEL's /boot/grub2), BLS entries (/boot/loader/entries) and systemd-boot's
 * loader.conf and entries on the ESP. Both areas that judge the next boot are tagged.
 */
static int add_boot(const NpRoot *root, NpWatchList *l, NpProbeArea area)
{
        static const char *const grub_dirs[] = { "/boot/grub", "/boot/grub2" };
        static const char *const esp_dirs[] = { "/boot/efi", "/efi", "/boot" };
        _cleanup_strv_free_ char **kernels = NULL;
        int r;

        r = add(root, l, "/boot", NULL, area); /* vmlinuz-*, config-* */
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(grub_dirs); i++) {
                r = add(root, l, grub_dirs[i], "grub.cfg", area);
                if (r >= 0)
                        r = add(root, l, grub_dirs[i], "grubenv", area);
        }
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(esp_dirs); i++) {
                _cleanup_free_ char *loader = strprintf("%s/loader", esp_dirs[i]),
                                    *entries = strprintf("%s/loader/entries", esp_dirs[i]);

                if (!loader || !entries)
                        return -ENOMEM;
                r = add(root, l, loader, "loader.conf", area);
                if (r >= 0)
                        r = add(root, l, entries, NULL, area);
        }
        /* A kernel installed or removed; depmod rewriting a kernel's indexes. */
        if (r >= 0)
                r = add(root, l, "/lib/modules", NULL, area);
        if (r >= 0 && np_root_list_dir(root, "/lib/modules", &kernels) == -ENOMEM)
                return -ENOMEM;
        STRV_FOREACH (k, kernels) {
                _cleanup_free_ char *dir = strprintf("/lib/modules/%s", *k);

                if (r >= 0)
                        r = dir ? add(root, l, dir, NULL, area) : -ENOMEM;
        }
        return r;
}

/* Keep in step with the paths the probes in lib/probe/ read. */
int np_probe_watch_paths(const NpRoot *root, const NpProbeRequest *req, NpWatchList *l)
{
        static const char *const bin_dirs[] = { "/usr/sbin", "/sbin",          "/usr/bin",
                                                "/bin",      "/usr/local/bin", "/opt/bin" };
        static const char *const unit_dirs[] = {
                "/etc/systemd/system",     "/run/systemd/system", "/usr/local/lib/systemd/system",
                "/usr/lib/systemd/system", "/lib/systemd/system",
        };
        static const char *const conf_dirs[] = {
                "/etc/modules-load.d",
                "/run/modules-load.d",
                "/usr/local/lib/modules-load.d",
                "/usr/lib/modules-load.d",
                "/lib/modules-load.d",
                "/etc/modprobe.d",
                "/run/modprobe.d",
                "/usr/local/lib/modprobe.d",
                "/usr/lib/modprobe.d",
                "/lib/modprobe.d",
        };
        int r;

        r = add(root, l, "/etc", "os-release", NP_AREA_SYSTEM);
        if (r >= 0)
                r = add(root, l, "/etc", "machine-id", NP_AREA_SYSTEM);
        if (r >= 0)
                r = add(root, l, "/usr/lib", "os-release", NP_AREA_SYSTEM);
        if (r >= 0) /* the package tool (system.c probe_package_tool()) */
                r = add(root, l, "/usr/bin", "dnf", NP_AREA_SYSTEM);
        for (size_t i = 0; r >= 0 && req->kubelet && i < ELEMENTSOF(bin_dirs); i++)
                r = add(root, l, bin_dirs[i], "kubelet", NP_AREA_SYSTEM);
        if (r >= 0 && req->selinux)
                r = add(root, l, "/etc/selinux", "config", NP_AREA_SELINUX);
        if (r >= 0 && req->selinux)
                r = add_boot(root, l, NP_AREA_SELINUX);
        if (r >= 0 && req->iscsi) {
                r = add(root, l, "/etc/iscsi", NULL, NP_AREA_ISCSI);
                if (r >= 0 && req->iscsi_nodes)
                        r = add(root, l, "/etc/iscsi/nodes", NULL, NP_AREA_ISCSI);
                if (r >= 0 && req->iscsi_nodes)
                        r = add(root, l, "/var/lib/iscsi/nodes", NULL, NP_AREA_ISCSI);
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(bin_dirs); i++)
                        r = add(root, l, bin_dirs[i], "iscsiadm", NP_AREA_ISCSI);
                if (r >= 0) /* the open-iscsi version (dpkg replaces the file) */
                        r = add(root, l, "/var/lib/dpkg", "status", NP_AREA_ISCSI);
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(unit_dirs); i++) {
                        r = add(root, l, unit_dirs[i], "iscsid.service", NP_AREA_ISCSI);
                        if (r >= 0)
                                r = add(root, l, unit_dirs[i], "iscsid.socket", NP_AREA_ISCSI);
                }
        }
        if (r >= 0 && strv_length(req->modules) > 0) {
                r = add(root, l, "/etc", "modules", NP_AREA_MODULES);
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(conf_dirs); i++)
                        r = add(root, l, conf_dirs[i], NULL, NP_AREA_MODULES);
                for (size_t i = 0; r >= 0 && i < 2; i++) /* where systemctl mask writes */
                        r = add(root, l, unit_dirs[i], "systemd-modules-load.service",
                                NP_AREA_MODULES);
                if (r >= 0)
                        r = add_boot(root, l, NP_AREA_MODULES);
        }
        STRV_FOREACH (u, req->units) /* unit.c probe_unit_file() */
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(unit_dirs); i++)
                        r = add(root, l, unit_dirs[i], *u, NP_AREA_UNITS);
        for (size_t t = 0; r >= 0 && t < req->n_tools; t++)
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(bin_dirs); i++)
                        r = add(root, l, bin_dirs[i], req->tools[t].name, NP_AREA_TOOLS);
        for (size_t k = 0; r >= 0 && k < req->n_layouts; k++) {
                const NpLayoutRequest *lr = &req->layouts[k];

                r = add(root, l, lr->path, NULL, NP_AREA_LAYOUTS);
                STRV_FOREACH (e, lr->entries) {
                        _cleanup_free_ char *dir = strprintf("%s/%s", lr->path, *e);

                        if (r >= 0)
                                r = dir ? add(root, l, dir, NULL, NP_AREA_LAYOUTS) : -ENOMEM;
                }
        }
        if (r >= 0 && req->virt) {
                r = add(root, l, "/dev", "kvm", NP_AREA_VIRT);
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(bin_dirs); i++)
                        r = add(root, l, bin_dirs[i], "kata-runtime", NP_AREA_VIRT);
                if (r >= 0)
                        r = add(root, l, "/opt/kata/bin", NULL, NP_AREA_VIRT);
        }
        return r;
}
