/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Probe areas: the facts split by what reads them, so that a change (one disk appeared, a config
 * file was edited) re-probes one area and keeps the others' facts from the last probe.
 */
#pragma once

#include "facts.h"
#include "probe/probe.h"
#include "util/root.h"
#include "util/watch.h"

typedef enum NpProbeArea {
        NP_AREA_SYSTEM,  /* os-release, kernel, CPUs, memory, kubelet */
        NP_AREA_SELINUX, /* reads the system area's kernel release, as modules does */
        NP_AREA_ISCSI,
        NP_AREA_MODULES, /* reads the system area's kernel release (area.c area_inputs[]) */
        NP_AREA_UNITS,
        NP_AREA_FS,
        NP_AREA_DISKS,
        NP_AREA_LINKS,
        NP_AREA_ENDPOINTS, /* TCP connects: re-probed with the links and at the re-scan */
        NP_AREA_TOOLS,
        NP_AREA_LAYOUTS,
        NP_AREA_VIRT,
        NP_AREA_PEERS, /* ICMP to the Peers= on the data network: nodeprepd probes them apart */
        _NP_AREA_MAX,
        _NP_AREA_INVALID = -EINVAL,
} NpProbeArea;

#define NP_AREA_MASK(a) (1U << (a))
#define NP_AREAS_ALL    ((1U << _NP_AREA_MAX) - 1)

const char *np_probe_area_to_string(NpProbeArea a) _const_;

/* Probe the areas in mask that req asks for into f (the system area first). */
int np_probe_areas(const NpRoot *root, const NpProbeRequest *req, unsigned mask, NpFacts *f);
/* Before probing the areas in mask into dst: copy from last the facts of other areas, not in
 * mask, that those probes read (the modules and SELinux probes read the system area's kernel
 * release). */
int np_facts_carry_inputs(NpFacts *dst, const NpFacts *last, unsigned mask);

/*
 * Areas that can be updated in place keep per-object state between probes (NpProbeState, owned
 * by a caller that probes again and again) and take the objects that changed (NpProbeChanges):
 * an update reads those again and makes the area's facts from memory. An area in `full` (a lost
 * event, a reload, the safety re-scan) is read from scratch.
 */
typedef struct NpProbeChanges {
        unsigned full; /* areas to probe from scratch */
        char **disks;  /* block devices an event named (kernel names) */
        int *links;    /* links a link event named (ifindex) */
        size_t n_links;
        int *addresses; /* links an address event named (ifindex) */
        size_t n_addresses;
} NpProbeChanges;

void np_probe_changes_done(NpProbeChanges *c);
int np_probe_changes_add_disk(NpProbeChanges *c, const char *name);
int np_probe_changes_add_link(NpProbeChanges *c, int ifindex);
int np_probe_changes_add_address(NpProbeChanges *c, int ifindex);

typedef struct NpProbeState {
        NpDiskCache *disks;
        NpLinkCache *links;
        unsigned reread[_NP_AREA_MAX]; /* objects the last probe read, per updatable area */
} NpProbeState;

int np_probe_state_init(NpProbeState *s);
void np_probe_state_done(NpProbeState *s);
/* Whether area a can be updated in place. */
bool np_probe_area_incremental(NpProbeArea a) _const_;

/* np_probe_areas() with state and changes (state NULL: every area from scratch). */
int np_probe_areas_update(const NpRoot *root, const NpProbeRequest *req, NpProbeState *state,
                          unsigned mask, const NpProbeChanges *changes, NpFacts *f);
/* Give dst the area's facts of src; src gets dst's old ones (freed with src). */
void np_facts_move_area(NpFacts *dst, NpFacts *src, NpProbeArea a);
/* The files each area reads for req, as directories (+ entry names) tagged with the area. */
int np_probe_watch_paths(const NpRoot *root, const NpProbeRequest *req, NpWatchList *l);
