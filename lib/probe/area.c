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
        int r = np_probe_system(root, f);

        (void)req;
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
        .unwatched =
            (const NpUnwatchedInput[]){
                { "/proc/sys/kernel/hostname", 0, "read again at the safety re-scan" },
                { "/proc/sys/kernel/osrelease", 0, "fixed for the running boot" },
                { "/proc/meminfo", 0, "read again at the safety re-scan" },
                { "/sys/devices/system/cpu/online", 0, "read again at the safety re-scan" },
                { "/sys/class/dmi/id", 0, "fixed while the machine runs" },
                {} },
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
        .unwatched =
            (const NpUnwatchedInput[]){
                { "/proc/self/mounts", 0, "read again at the safety re-scan" },
                { "/sys/fs/selinux", 0, "read again at the safety re-scan (setenforce)" },
                { "/proc/cmdline", 0, "fixed for the running boot" },
                { "/sys/firmware/efi/efivars", 0, "read again at the safety re-scan" },
                {} },
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
        .events = NP_AREA_EVENT_MODULE,
        .unwatched =
            (const NpUnwatchedInput[]){
                { "/proc/cmdline", 0, "fixed for the running boot" },
                { "/sys/firmware/efi/efivars", 0, "read again at the safety re-scan" },
                { "/sys/module", NP_AREA_EVENT_MODULE, NULL },
                {} },
};

const NpFactArea np_area_units = {
        .name = "units",
        .area = NP_AREA_UNITS,
        .probe = probe_units,
        NP_FACTS_SPAN(units, n_units),
        .done = np_area_units_done,
        .to_json = np_area_units_to_json,
        .to_text = np_area_units_to_text,
        .events = NP_AREA_EVENT_UNITS,
};

const NpFactArea np_area_fs = {
        .name = "fs",
        .area = NP_AREA_FS,
        .probe = probe_fs,
        NP_FACTS_SPAN(fs, n_fs),
        .done = np_area_fs_done,
        .to_json = np_area_fs_to_json,
        .to_text = np_area_fs_to_text,
        .events = NP_AREA_EVENT_MOUNT_TABLE | NP_AREA_EVENT_RESCAN, /* free space: the re-scan */
};

const NpFactArea np_area_endpoints = {
        .name = "endpoints",
        .area = NP_AREA_ENDPOINTS,
        .probe = probe_endpoints,
        NP_FACTS_SPAN(endpoints, n_endpoints),
        .done = np_area_endpoints_done,
        .to_json = np_area_endpoints_to_json,
        .to_text = np_area_endpoints_to_text,
        .events = NP_AREA_EVENT_RTNL | NP_AREA_EVENT_RESCAN,
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
        .unwatched =
            (const NpUnwatchedInput[]){ { "/proc/cpuinfo", 0, "fixed for the running boot" }, {} },
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
        /* The mount table, no device read; the swap table; the disks named. */
        .events = NP_AREA_EVENT_BLOCK | NP_AREA_EVENT_MOUNT_TABLE | NP_AREA_EVENT_SWAPS |
                  NP_AREA_EVENT_DISK_NODES,
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
        .events = NP_AREA_EVENT_UDEV_NET | NP_AREA_EVENT_RTNL,
};

const NpFactArea np_area_peers = {
        .name = "peers",
        .area = NP_AREA_PEERS,
        .probe = probe_peers,
        NP_FACTS_SPAN(peers, peers),
        .done = np_area_peers_done,
        .to_json = np_area_peers_to_json,
        .to_text = np_area_peers_to_text,
        .events = NP_AREA_EVENT_RTNL | NP_AREA_EVENT_RESCAN,
};

#define FACT_AREA_ROW(name) &np_area_##name,
static const NpFactArea *const fact_areas[] = { NP_FACT_AREAS(FACT_AREA_ROW) };

const NpFactArea *const *np_fact_areas(size_t *ret_n)
{
        *ret_n = ELEMENTSOF(fact_areas);
        return fact_areas;
}

unsigned np_fact_areas_for_events(unsigned events)
{
        unsigned mask = 0;

        FOREACH_ARRAY (row, fact_areas, ELEMENTSOF(fact_areas))
                if ((*row)->area >= 0 && ((*row)->events & events))
                        mask |= NP_AREA_MASK((*row)->area);
        return mask;
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

/* --- what the areas read, and how the daemon follows it -------------------------------------- */

/*
 * Everything a probe reads through the root is recorded by np_root_open() and watched
 * (np_probe_areas_record()), but the kernel files each row declares in its unwatched list, with
 * what brings their changes instead. A probe reading a kernel file not declared there is reported
 * by np_probe_inputs_watch() (and fails tests/daemon/test-watch-covers).
 */

/* NpAreaEvent's names, bit by bit. */
static const char *const area_event_names[] = {
        "/proc/self/mountinfo (EPOLLPRI)",
        "udev \"block\" uevents",
        "udev \"net\" uevents",
        "rtnetlink link and address messages",
        "udev \"module\" uevents",
        "/proc/swaps (EPOLLPRI)",
        "the disks' nodes (IN_CLOSE_WRITE) without udevd",
        "systemd's PropertiesChanged and UnitFilesChanged on the system bus",
        "the safety re-scan",
};

char *np_area_events_to_string(unsigned events)
{
        _cleanup_strv_free_ char **l = NULL;

        for (size_t i = 0; i < ELEMENTSOF(area_event_names); i++)
                if ((events & (1U << i)) && strv_extend(&l, area_event_names[i]) < 0)
                        return NULL;
        return l ? strv_join(l, ", ") : strdup("");
}

/* Is host path p (with the root prefix) root-relative rel, or below it? */
static bool path_under(const NpRoot *root, const char *p, const char *rel)
{
        const char *tail = root->host ? p : startswith(p, root->path);
        size_t n = strlen(rel);

        return tail && strneq(tail, rel, n) && (tail[n] == '\0' || tail[n] == '/');
}

static char *watch_path_join(const NpWatchPath *w)
{
        return w->name ? strprintf("%s%s%s", w->dir, endswith(w->dir, "/") ? "" : "/", w->name)
                       : strdup(w->dir);
}

const char *np_probe_input_unwatched(const NpRoot *root, NpProbeArea area, const char *path)
{
        const NpFactArea *row = area_row(area);

        for (const NpUnwatchedInput *u = row ? row->unwatched : NULL; u && u->path; u++)
                if (path_under(root, path, u->path))
                        return u->otherwise ?: area_event_names[__builtin_ctz(u->events)];
        return NULL;
}

unsigned np_probe_inputs_changed(const NpRoot *root, const NpWatchList *inputs, unsigned areas)
{
        unsigned changed = 0;

        FOREACH_ARRAY (w, inputs->paths, inputs->n) {
                _cleanup_free_ char *p = NULL;

                if (!(areas & ~changed & NP_AREA_MASK(w->tag)))
                        continue;
                p = watch_path_join(w);
                /* The kernel's files are not watched: their events or the re-scan tell. */
                if (p && (np_probe_input_unwatched(root, w->tag, p) ||
                          path_under(root, p, "/proc") || path_under(root, p, "/sys")))
                        continue;
                if (!p || np_root_input_changed(root, w))
                        changed |= NP_AREA_MASK(w->tag);
        }
        return changed;
}

int np_probe_inputs_watch(const NpRoot *root, const NpWatchList *inputs, NpWatchList *l,
                          NpWatchList *undeclared)
{
        FOREACH_ARRAY (w, inputs->paths, inputs->n) {
                _cleanup_free_ char *p = watch_path_join(w);
                int r;

                if (!p)
                        return -ENOMEM;
                if (np_probe_input_unwatched(root, w->tag, p))
                        continue;
                if (path_under(root, p, "/proc") || path_under(root, p, "/sys"))
                        r = undeclared ? np_watch_list_add(undeclared, w->dir, w->name, w->tag) : 0;
                else
                        r = np_watch_list_add(l, w->dir, w->name, w->tag);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The next boot's facts are read by the first of the SELinux and modules probes that runs
 * (np_probe_boot(); both judge the next boot): due before area a when its probe would read them. */
static bool boot_due(const NpProbeRequest *req, NpProbeArea a, const NpFacts *f)
{
        if (f->boot.probed)
                return false;
        if (a == NP_AREA_SELINUX)
                return req->selinux;
        return a == NP_AREA_MODULES && strv_length(req->modules) > 0 && f->system.kernel;
}

/* Read them first, recording what they read as an input of both areas: a change there is a
 * change of both verdicts. */
static int record_boot(NpRoot *root, NpFacts *f, NpWatchList *inputs)
{
        _cleanup_(np_watch_list_done) NpWatchList boot = {};
        int r;

        np_root_record(root, &boot, NP_AREA_SELINUX);
        r = np_probe_boot(root, f);
        FOREACH_ARRAY (w, boot.paths, boot.n) {
                if (r >= 0)
                        r = np_watch_list_add_id(inputs, w->dir, w->name, NP_AREA_SELINUX, &w->id);
                if (r >= 0)
                        r = np_watch_list_add_id(inputs, w->dir, w->name, NP_AREA_MODULES, &w->id);
        }
        return r;
}

int np_probe_areas_record(NpRoot *root, const NpProbeRequest *req, NpProbeState *state,
                          unsigned mask, const NpProbeChanges *changes, NpFacts *f,
                          NpWatchList *inputs)
{
        unsigned reread[_NP_AREA_MAX] = {};
        int r = 0;

        /* One area at a time, in np_probe_areas_update()'s order (the system area first), so
         * that each path read is tagged with the area that read it. */
        for (NpProbeArea a = 0; r >= 0 && a < _NP_AREA_MAX; a++) {
                if (!(mask & NP_AREA_MASK(a)))
                        continue;
                if (boot_due(req, a, f))
                        r = record_boot(root, f, inputs);
                if (r < 0)
                        break;
                np_root_record(root, inputs, a);
                r = np_probe_areas_update(root, req, state, NP_AREA_MASK(a), changes, f);
                if (state)
                        reread[a] = state->reread[a];
        }
        np_root_record(root, NULL, 0);
        if (state)
                memcpy(state->reread, reread, sizeof(reread));
        return r;
}

int np_probe_watch_dump(const NpRoot *root, const NpWatchList *inputs, FILE *out)
{
        _cleanup_(np_watch_list_done) NpWatchList l = {}, undeclared = {};
        int r = np_probe_inputs_watch(root, inputs, &l, &undeclared); /* l: the caller prints */

        if (r < 0)
                return r;
        FOREACH_ARRAY (w, inputs->paths, inputs->n) {
                _cleanup_free_ char *p = watch_path_join(w);
                const char *how = p ? np_probe_input_unwatched(root, w->tag, p) : NULL;

                if (!p)
                        return -ENOMEM;
                if (how)
                        fprintf(out, "kernel\t%s\t%s\t%s\n", np_probe_area_to_string(w->tag), p,
                                how);
        }
        FOREACH_ARRAY (w, undeclared.paths, undeclared.n)
                fprintf(out, "undeclared\t%s\t%s\t%s\n", strna(np_probe_area_to_string(w->tag)),
                        w->dir, w->name ?: "*");
        FOREACH_ARRAY (row, fact_areas, ELEMENTSOF(fact_areas)) {
                _cleanup_free_ char *how = NULL;

                if ((*row)->area < 0)
                        continue;
                /* "-": the files it reads are all that tells. */
                how = (*row)->events ? np_area_events_to_string((*row)->events) : strdup("-");
                if (!how)
                        return -ENOMEM;
                fprintf(out, "events\t%s\t-\t%s\n", (*row)->name, how);
        }
        return 0;
}
