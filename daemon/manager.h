/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nodeprepd's state: the configuration in use, the current report, the event sources that say
 * what changed, the evaluation running in its worker thread, and the Varlink server.
 */
#pragma once

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "probe/area.h"
#include "profile/profile.h"
#include "report/report.h"
#include "util/root.h"
#include "varlink/server.h"

/* Journal MESSAGE_IDs (journalctl MESSAGE_ID=...). */
#define NP_MESSAGE_CHECK_CHANGED   "8ed06d00866e4e04b66d37ba02bcbe1e" /* a check's status */
#define NP_MESSAGE_PROFILE_CHANGED "b47b0d60a5764390a97b926d31d37c3d" /* a profile's readiness */
#define NP_MESSAGE_CONFIG_ERROR    "f5851a513234495bb31a3bbe7e500c53" /* a reload failed */

/* Events within this window give one evaluation. */
#define NP_COALESCE_USEC (50ULL * 1000ULL)

struct udev;
struct udev_monitor;

typedef struct Job Job;
typedef struct FixJob FixJob;
typedef struct Inotify Inotify;
typedef struct PeersJob PeersJob;

/* A Watch call and what it last received. */
typedef struct Subscriber {
        NpVarlinkCall *call;
        char **profiles; /* NULL for all */
        bool facts;
        char *last; /* the report it last got, without generated_at */
        struct Subscriber *next;
} Subscriber;

/* A call that arrived before the first evaluation finished, answered after it. */
typedef struct Deferred {
        NpVarlinkCall *call;
        json_object *parameters;
        NpVarlinkMethodFn fn;
        struct Deferred *next;
} Deferred;

typedef struct Manager {
        sd_event *event;
        NpRoot *root;
        char *config_path; /* --config, or NULL for the site file under the root */

        NpConfig *config; /* the last good configuration, NULL when none loaded yet */
        NpProbeRequest request;
        char *config_error;           /* why the last load failed, NULL when it loaded */
        NpProfileInfo *profile_infos; /* ListProfiles, read at each load */
        size_t n_profile_infos;

        NpReport *report; /* current; NULL before the first evaluation */
        uint64_t serial;
        uint64_t finished_usec, duration_usec; /* CLOCK_REALTIME, duration */
        unsigned reprobed;                     /* areas of the last evaluation */
        unsigned settled;                      /* of those, probed again once their new inputs
                                                * were watched (daemon/manager.c job_settle()) */
        uint64_t probes[_NP_AREA_MAX];         /* evaluations that probed each area, in total */
        unsigned reread[_NP_AREA_MAX];         /* objects (disks, links) the last evaluation read */
        /* Whole GetReport reply messages for the current report, made on first use: [0] without
         * arguments, [1] with facts. Many clients ask the same; the report changes rarely. */
        char *reply_msg[2];
        size_t reply_msg_len[2];

        unsigned dirty;       /* areas to probe at the next evaluation */
        bool config_dirty;    /* read the configuration again first */
        bool reload_deferred; /* a reload's evaluation waits for the peer probe */
        /* The objects events named since the last evaluation started (disks, links), and the
         * areas to probe from scratch; moved to the next evaluation. */
        NpProbeChanges changes;
        /* Per-object caches of the disk and link areas: the evaluation thread's while it runs. */
        NpProbeState probe_state;
        bool rescan_due; /* the next evaluation is the safety re-scan: compare with its result */
        sd_event_source *coalesce, *rescan;
        Job *job; /* the evaluation running, NULL when idle */
        sd_event_source *job_source;
        int job_efd;

        /* Remediation (daemon/remedy.c): one job at a time, in a worker thread. */
        FixJob *fix_job;
        FixJob *fix_queue;
        sd_event_source *fix_source;
        int fix_efd;
        char **auto_applied; /* AutoApply= ids tried since they last passed */

        NpVarlinkServer *varlink;
        Subscriber *subscribers;
        Deferred *deferred;
        NpVarlinkCall **reload_waiters;
        size_t n_reload_waiters;

        /* Watchers (daemon/watch.c). */
        struct udev *udev;
        struct udev_monitor *udev_monitor;
        sd_event_source *udev_source;
        int rtnl_fd;
        sd_event_source *rtnl_source;
        Inotify *inotify;
        /* What the last evaluation of each area read through the root (tagged with the area): the
         * files watched (np_probe_areas_record()). probe_root: the root the evaluation thread
         * reads and records through, its own. */
        NpWatchList inputs;
        NpRoot *probe_root;
        bool dump_watch_list; /* --dump-watch-list: print the watches after the first evaluation */
        Inotify *disk_nodes;  /* without udevd: close-after-write on the disks' nodes */
        int mountinfo_fd, swaps_fd;
        sd_event_source *mountinfo_source, *swaps_source;
        sd_bus *bus;
        sd_bus_slot **bus_slots;
        size_t n_bus_slots;

        /* The peers on the data network (daemon/peers.c): probed apart from evaluations. */
        PeersJob *peers_job;
        NpFacts *peers_result; /* a probe's facts, for the next evaluation to take */
        sd_event_source *peers_source, *peers_timer;
        int peers_efd;
        bool peers_wait;                    /* evaluations wait for the probe running */
        bool peers_again, peers_wait_again; /* a change came during it: probe once more */
        /* Link and address changes re-probe on a timer of their own, bounded (daemon/peers.c). */
        sd_event_source *peers_link_timer;
        uint64_t peers_link_since;     /* the first change not probed since, 0: none */
        uint64_t peers_link_starts[2]; /* when the last two link-caused probes started */
        uint64_t peers_serial;         /* peer probes started */
        char *peers_stale;             /* a change the newest facts miss (their "stale") */

        /* Fleet outputs (daemon/outputs.c). */
        NpMetricsCounters counters;
        char *nfd_written, *nfd_error; /* the feature file last written; its last error */
        char *metrics_written, *metrics_error;

        bool ready_sent;
        char *status; /* last STATUS= */
} Manager;

int manager_new(sd_event *event, const char *root, const char *config_path, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Load the configuration and start the first evaluation. */
int manager_start(Manager *m);
/* Something in these areas changed: evaluate after the coalescing delay. */
void manager_schedule(Manager *m, unsigned areas);
/* An event named this block device (kernel name) or link (ifindex): the disk or link area reads
 * it (and what depends on it) again, the rest from memory. */
void manager_schedule_disk(Manager *m, const char *name);
void manager_schedule_link(Manager *m, int ifindex);
void manager_schedule_address(Manager *m, int ifindex);
/* Probe these areas from scratch (events were lost, the safety re-scan). */
void manager_schedule_full(Manager *m, unsigned areas);
/* Re-read the configuration (SIGHUP, Reload, a changed profile or site file). */
void manager_schedule_reload(Manager *m);

/* GetReport/Watch parameters for a view of the current report: all profiles or some, facts or
 * not; *ret_fingerprint (optional) is the report without generated_at, for change detection. */
int manager_report_view(Manager *m, char *const *profiles, bool facts, char **ret_json,
                        size_t *ret_len, char **ret_fingerprint);
/* A profile of profiles that the configuration does not evaluate, or NULL. */
const char *manager_unknown_profile(Manager *m, char *const *profiles);
json_object *manager_evaluation_json(Manager *m);

/* Fleet outputs (daemon/outputs.c): write the feature and metrics files after an evaluation. */
int manager_write_outputs(Manager *m);

/* Remediation (daemon/remedy.c). */
int manager_remedy_init(Manager *m);
void manager_remedy_done(Manager *m);
/* After an evaluation: fix the failing checks AutoApply= names, once per failure. */
void manager_auto_apply(Manager *m);
int vl_method_plan(NpVarlinkCall *call, json_object *parameters, void *userdata);
int vl_method_apply(NpVarlinkCall *call, json_object *parameters, void *userdata);
int vl_method_rollback(NpVarlinkCall *call, json_object *parameters, void *userdata);

/* Varlink (daemon/manager-varlink.c). */
int manager_varlink_init(Manager *m, const char *listen_path);
void manager_varlink_apply_limits(Manager *m);
void manager_notify_subscribers(Manager *m);
void manager_answer_deferred(Manager *m);
void manager_answer_reload(Manager *m, const char *error);
void manager_varlink_done(Manager *m);

/* In a thread that probes: SIGTERM and SIGINT end the process even while a probe blocks. */
void manager_probe_thread_signals(void);

/* Peers (daemon/peers.c). */
int manager_peers_init(Manager *m);
void manager_peers_done(Manager *m);
/* After a configuration load: probe now when what is probed changed (old: the last request). */
void manager_peers_configure(Manager *m, const NpPeersRequest *old);
/* A link or an address of link ifindex changed (0: which is not known, events were lost). */
void manager_peers_changed(Manager *m, int ifindex);
/* An evaluation must wait for the probe running (the configuration's first). */
bool manager_peers_blocking(Manager *m);
/* Move the newest probe's facts into facts; false when there are none since the last take. */
bool manager_peers_take(Manager *m, NpFacts *facts);

/* Watchers (daemon/watch.c). */
int manager_watch_init(Manager *m);
/* Set the inotify watches for the current configuration and probe request. */
int manager_watch_files(Manager *m);
/* nodeprepd --dump-watch-list: the watches manager_watch_files() sets, the kernel files read and
 * how each area's changes arrive (area.c np_probe_watch_dump()). */
int manager_dump_watch_list(Manager *m, FILE *out);
/* Without udevd, follow writes to the nodes of the disks the last evaluation found. */
void manager_watch_disk_nodes(Manager *m);
/* Connect to the system bus for unit state changes if not connected. */
void manager_watch_bus(Manager *m);
void manager_watch_done(Manager *m);
