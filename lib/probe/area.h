/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Probe areas: the facts split by what reads them, so that a change (one disk appeared, a config
 * file was edited) re-probes one area and keeps the others' facts from the last probe.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "facts.h"
#include "probe/probe.h"
#include "util/root.h"
#include "util/watch.h"

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
struct json_object;

/*
 * What tells nodeprepd that an area changed besides inotify on the files it read (daemon/watch.c
 * follows each): a row lists the ones its facts change with, and each handler re-probes every row
 * that lists its source (np_fact_areas_for_events()).
 */
typedef enum NpAreaEvent {
        /* The mount table changed: PID 1's or nodeprepd's mountinfo woke poll() (EPOLLPRI). */
        NP_AREA_EVENT_MOUNT_TABLE = 1U << 0,
        NP_AREA_EVENT_BLOCK = 1U << 1,      /* udev "block" uevents, naming the disk */
        NP_AREA_EVENT_UDEV_NET = 1U << 2,   /* udev "net" uevents, naming the link */
        NP_AREA_EVENT_RTNL = 1U << 3,       /* rtnetlink link and address messages */
        NP_AREA_EVENT_MODULE = 1U << 4,     /* udev "module" uevents */
        NP_AREA_EVENT_SWAPS = 1U << 5,      /* /proc/swaps (EPOLLPRI) */
        NP_AREA_EVENT_DISK_NODES = 1U << 6, /* the disks' nodes (IN_CLOSE_WRITE), without udevd */
        NP_AREA_EVENT_UNITS = 1U << 7,      /* systemd's unit signals on the system bus */
        NP_AREA_EVENT_RESCAN = 1U << 8,     /* only the safety re-scan (what no event tells) */
        _NP_AREA_EVENT_ALL = (1U << 9) - 1,
} NpAreaEvent;

/* How events (a mask) are named, "A, B, C"; NULL when out of memory. */
char *np_area_events_to_string(unsigned events);

/*
 * A file an area reads that inotify cannot follow (procfs, sysfs, selinuxfs, efivarfs: the kernel
 * makes their content up on read and sends no inotify event), with what brings its changes.
 */
typedef struct NpUnwatchedInput {
        const char *path;      /* the file, or a directory and everything below it; NULL ends */
        unsigned events;       /* the row's events that follow it, or 0 */
        const char *otherwise; /* why it needs none, or what the events miss (re-scan) */
} NpUnwatchedInput;

/*
 * One fact area (the list is NP_FACT_AREAS() in facts.h). Adding an area is adding a row: its
 * facts and its NpProbeRequest member in facts.h, and one file holding its probe, its
 * destructors, its JSON and text, and this row.
 */
struct NpFactArea {
        const char *name;
        /* Its bit in a probe mask; _NP_AREA_INVALID: not probed on its own (moved with
         * moves_with). */
        NpProbeArea area;
        unsigned moves_with;
        /* Probe what req asks of the area into f (nothing when it asks nothing). */
        int (*probe)(const NpRoot *root, const NpProbeRequest *req, NpFacts *f);
        /* Optional: update in place from s and the changes (c may be NULL), from scratch when
         * full; sets s->reread[area]. */
        int (*update)(NpProbeState *s, const NpProbeRequest *req, const NpProbeChanges *c,
                      bool full, NpFacts *f);
        /* The areas whose facts the probe reads: re-probed without them, it gets them from the
         * last facts with carry. */
        unsigned reads;
        int (*carry)(NpFacts *dst, const NpFacts *last);
        /* Its members of NpFacts (NP_FACTS_SPAN), swapped by np_facts_move_area(); or a move
         * of its own. */
        size_t offset, size;
        void (*move)(NpFacts *dst, NpFacts *src);
        /* Free its facts (the members stay, dangling: NpFacts is freed next). */
        void (*done)(NpFacts *f);
        /* Add its members to the facts' JSON object; print it for people (NULL: not shown). */
        int (*to_json)(const NpFacts *f, struct json_object *o);
        void (*to_text)(const NpFacts *f, FILE *out);
        /* Optional: free what the area's checks added to an NpProbeRequest (the first areas'
         * requests are freed in np_probe_request_done() itself). */
        void (*request_done)(NpProbeRequest *req);
        /* How nodeprepd follows it beyond the files the probe read (those are recorded and
         * watched): the events (NpAreaEvent) that re-probe it, and the kernel files it reads
         * that inotify cannot see. */
        unsigned events;
        const NpUnwatchedInput *unwatched;
};

/* The members first to last of NpFacts, for a row's offset and size. */
#define NP_FACTS_SPAN(first, last)          \
        .offset = offsetof(NpFacts, first), \
        .size =                             \
            offsetof(NpFacts, last) + sizeof(((NpFacts *)NULL)->last) - offsetof(NpFacts, first)

/* The parts of the rows of the first areas, kept by layer: the destructors in facts.c, the JSON in
 * report/json.c, the text in report/facts-text.c. */
#define NP_FACT_AREA_PARTS(name)                                               \
        void np_area_##name##_done(NpFacts *f);                                \
        int np_area_##name##_to_json(const NpFacts *f, struct json_object *o); \
        void np_area_##name##_to_text(const NpFacts *facts, FILE *f);
NP_FACT_AREAS(NP_FACT_AREA_PARTS)

/* The rows in the order facts are shown. */
const NpFactArea *const *np_fact_areas(size_t *ret_n);
/* The mask of the areas whose rows list any of events (NpAreaEvent). */
unsigned np_fact_areas_for_events(unsigned events) _pure_;

/* Give dst the area's facts of src; src gets dst's old ones (freed with src). */
void np_facts_move_area(NpFacts *dst, NpFacts *src, NpProbeArea a);

/*
 * np_probe_areas_update() recording into inputs what each area read through root (tagged with
 * the area; np_root_record()). What is read is what the daemon watches: it builds its inotify
 * watches from the last inputs of each area (np_probe_inputs_watch()).
 */
int np_probe_areas_record(NpRoot *root, const NpProbeRequest *req, NpProbeState *state,
                          unsigned mask, const NpProbeChanges *changes, NpFacts *f,
                          NpWatchList *inputs);
/* Of areas, those with a watched input that changed since it was recorded (np_root_input_changed();
 * the kernel's files are left to their events). */
unsigned np_probe_inputs_changed(const NpRoot *root, const NpWatchList *inputs, unsigned areas);
/* The watches for recorded inputs: all but the kernel files the area declares it follows
 * otherwise (its row's unwatched). A kernel file (/proc, /sys) read but not declared goes to
 * undeclared (may be NULL). */
int np_probe_inputs_watch(const NpRoot *root, const NpWatchList *inputs, NpWatchList *l,
                          NpWatchList *undeclared);
/* How a change of path (as on this machine), read by area, reaches nodeprepd when inotify cannot
 * see it, or NULL when it is not declared unwatchable. */
const char *np_probe_input_unwatched(const NpRoot *root, NpProbeArea area, const char *path);
/* For nodeprepd --dump-watch-list: one line per kernel input, undeclared kernel input and
 * area ("kernel|undeclared|events TAB area TAB path TAB detail"; an area's detail: its events,
 * or "-" when the files it reads are all that tells). */
int np_probe_watch_dump(const NpRoot *root, const NpWatchList *inputs, FILE *out);
