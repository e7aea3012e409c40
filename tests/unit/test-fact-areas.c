/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fact-area table (probe/area.c): every probe area has one row with every part, the rows'
 * members of NpFacts do not overlap, and a move swaps exactly an area's facts. */

#include <string.h>

#include "probe/area.h"
#include "test.h"
#include "util/strv.h"

TEST(every_area_one_row)
{
        size_t n;
        const NpFactArea *const *areas = np_fact_areas(&n);

        for (NpProbeArea a = 0; a < _NP_AREA_MAX; a++) {
                size_t rows = 0;

                for (size_t i = 0; i < n; i++)
                        if (areas[i]->area == a) {
                                rows++;
                                ASSERT_TRUE(areas[i]->probe);
                                ASSERT_STREQ(areas[i]->name, np_probe_area_to_string(a));
                        }
                ASSERT_EQ(rows, 1);
        }
        for (size_t i = 0; i < n; i++) {
                ASSERT_TRUE(areas[i]->name && areas[i]->done && areas[i]->to_json);
                /* A row moves its span or moves itself; one probed by others moves with them. */
                ASSERT_TRUE(areas[i]->move || areas[i]->size > 0);
                ASSERT_TRUE(areas[i]->area >= 0 || (areas[i]->moves_with && !areas[i]->probe));
                ASSERT_TRUE(!areas[i]->carry == !areas[i]->reads);
        }
        ASSERT_TRUE(np_probe_area_incremental(NP_AREA_DISKS));
        ASSERT_TRUE(np_probe_area_incremental(NP_AREA_LINKS));
        ASSERT_TRUE(!np_probe_area_incremental(NP_AREA_SYSTEM));
        ASSERT_TRUE(np_probe_area_to_string(_NP_AREA_MAX) == NULL);
}

TEST(spans_apart)
{
        size_t n;
        const NpFactArea *const *areas = np_fact_areas(&n);

        for (size_t i = 0; i < n; i++) {
                ASSERT_TRUE(areas[i]->offset + areas[i]->size <= sizeof(NpFacts));
                /* the root is no area's */
                ASSERT_TRUE(areas[i]->size == 0 || areas[i]->offset >= sizeof(char *));
                for (size_t j = i + 1; j < n; j++)
                        ASSERT_TRUE(areas[i]->offset + areas[i]->size <= areas[j]->offset ||
                                    areas[j]->offset + areas[j]->size <= areas[i]->offset);
        }
}

TEST(move)
{
        _cleanup_(np_facts_freep) NpFacts *dst = np_facts_new(), *src = np_facts_new();

        ASSERT_TRUE(dst && src);
        ASSERT_TRUE(np_facts_add_module(src, "iscsi_tcp"));
        ASSERT_TRUE((src->modules_load_etc_unusable = strdup("not a directory")));
        src->boot.probed = true;
        ASSERT_TRUE((src->boot.kernel = strdup("6.1.0-28-amd64")));
        ASSERT_TRUE(np_facts_add_unit(src, "iscsid.service"));
        ASSERT_TRUE((src->disks_unknown = strdup("no udev")));
        ASSERT_TRUE(np_facts_add_unit(dst, "multipathd.service"));

        np_facts_move_area(dst, src, NP_AREA_MODULES);
        ASSERT_EQ(dst->n_modules, 1);
        ASSERT_STREQ(dst->modules[0].name, "iscsi_tcp");
        ASSERT_STREQ(dst->modules_load_etc_unusable, "not a directory");
        ASSERT_EQ(src->n_modules, 0);
        ASSERT_TRUE(!src->modules_load_etc_unusable);
        /* the next boot moved with the modules */
        ASSERT_TRUE(dst->boot.probed && !src->boot.probed);
        ASSERT_STREQ(dst->boot.kernel, "6.1.0-28-amd64");
        /* nothing else did */
        ASSERT_STREQ(dst->units[0].name, "multipathd.service");
        ASSERT_STREQ(src->units[0].name, "iscsid.service");
        ASSERT_TRUE(!dst->disks_unknown);

        /* dst probed the next boot itself: it keeps its own */
        src->boot.probed = true;
        np_facts_move_area(dst, src, NP_AREA_SELINUX);
        ASSERT_STREQ(dst->boot.kernel, "6.1.0-28-amd64");
        ASSERT_TRUE(!src->boot.kernel);

        np_facts_move_area(dst, src, NP_AREA_UNITS);
        ASSERT_STREQ(dst->units[0].name, "iscsid.service");
        ASSERT_STREQ(src->units[0].name, "multipathd.service");
        np_facts_move_area(dst, src, NP_AREA_DISKS);
        ASSERT_STREQ(dst->disks_unknown, "no udev");
}

TEST(carry_inputs)
{
        _cleanup_(np_facts_freep) NpFacts *dst = np_facts_new(), *last = np_facts_new();

        ASSERT_TRUE(dst && last && (last->system.kernel = strdup("6.1.0-28-amd64")));
        ASSERT_EQ(np_facts_carry_inputs(dst, last, NP_AREA_MASK(NP_AREA_UNITS)), 0);
        ASSERT_TRUE(!dst->system.kernel);
        /* re-probed with the system area: it reads its own */
        ASSERT_EQ(np_facts_carry_inputs(
                      dst, last, NP_AREA_MASK(NP_AREA_MODULES) | NP_AREA_MASK(NP_AREA_SYSTEM)),
                  0);
        ASSERT_TRUE(!dst->system.kernel);
        ASSERT_EQ(np_facts_carry_inputs(dst, last, NP_AREA_MASK(NP_AREA_MODULES)), 0);
        ASSERT_STREQ(dst->system.kernel, "6.1.0-28-amd64");
}

/* nodeprepd's mount-table event re-probes the rows that list it (daemon/watch.c on_mountinfo()):
 * the fs area and the disks' mount table, as before the rows said so. */
TEST(events)
{
        unsigned m = np_fact_areas_for_events(NP_AREA_EVENT_MOUNT_TABLE);

        ASSERT_TRUE(m & NP_AREA_MASK(NP_AREA_FS));
        ASSERT_TRUE(m & NP_AREA_MASK(NP_AREA_DISKS));
        ASSERT_TRUE(!(m & NP_AREA_MASK(NP_AREA_LINKS)));
        ASSERT_EQ(np_fact_areas_for_events(0), 0U);
}

/* Each row declares how the daemon follows it, consistently: the kernel files it reads that
 * inotify cannot see are kernel files, each with a reason or one of the row's own events; an area
 * updated in place has events naming its objects; every event some handler in daemon/watch.c
 * follows re-probes some area, and has a name for --dump-watch-list. */
TEST(events_and_unwatched_declared)
{
        size_t n;
        const NpFactArea *const *areas = np_fact_areas(&n);
        unsigned declared = 0;

        for (size_t i = 0; i < n; i++) {
                const NpFactArea *row = areas[i];

                ASSERT_EQ(row->events & ~(unsigned)_NP_AREA_EVENT_ALL, 0);
                declared |= row->events;
                /* Not probed on its own: followed with the areas it moves with. */
                if (row->area < 0)
                        ASSERT_TRUE(!row->events && !row->unwatched);
                if (row->update)
                        ASSERT_TRUE(row->events & (NP_AREA_EVENT_BLOCK | NP_AREA_EVENT_UDEV_NET));
                for (const NpUnwatchedInput *u = row->unwatched; u && u->path; u++) {
                        ASSERT_TRUE(startswith(u->path, "/proc/") || startswith(u->path, "/sys/"));
                        /* A reason or events; the events are the row's. */
                        ASSERT_TRUE(u->otherwise || u->events);
                        ASSERT_EQ(u->events & ~row->events, 0);
                        ASSERT_TRUE(!u->otherwise || *u->otherwise);
                }
        }
        ASSERT_EQ(declared, (unsigned)_NP_AREA_EVENT_ALL);
        for (unsigned bit = 1; bit & _NP_AREA_EVENT_ALL; bit <<= 1) {
                _cleanup_free_ char *s = np_area_events_to_string(bit);

                ASSERT_TRUE(np_fact_areas_for_events(bit) != 0);
                ASSERT_TRUE(s && *s && !strchr(s, '\t') && !strchr(s, ','));
        }
}

/* The areas each handler in daemon/watch.c re-probes, derived from the rows: what they were when
 * the handlers named them. */
TEST(handlers_areas)
{
        unsigned disks = NP_AREA_MASK(NP_AREA_DISKS);

        ASSERT_EQ(np_fact_areas_for_events(NP_AREA_EVENT_BLOCK), disks);
        ASSERT_EQ(np_fact_areas_for_events(NP_AREA_EVENT_DISK_NODES), disks);
        ASSERT_EQ(np_fact_areas_for_events(NP_AREA_EVENT_SWAPS), disks);
        ASSERT_EQ(np_fact_areas_for_events(NP_AREA_EVENT_UDEV_NET), NP_AREA_MASK(NP_AREA_LINKS));
        ASSERT_EQ(np_fact_areas_for_events(NP_AREA_EVENT_RTNL),
                  NP_AREA_MASK(NP_AREA_LINKS) | NP_AREA_MASK(NP_AREA_ENDPOINTS) |
                      NP_AREA_MASK(NP_AREA_PEERS));
        /* A lost uevent: the disks, links and modules in full (not the endpoints). */
        ASSERT_EQ(np_fact_areas_for_events(NP_AREA_EVENT_BLOCK | NP_AREA_EVENT_UDEV_NET |
                                           NP_AREA_EVENT_MODULE),
                  disks | NP_AREA_MASK(NP_AREA_LINKS) | NP_AREA_MASK(NP_AREA_MODULES));
        ASSERT_EQ(np_fact_areas_for_events(NP_AREA_EVENT_MODULE), NP_AREA_MASK(NP_AREA_MODULES));
        ASSERT_EQ(np_fact_areas_for_events(NP_AREA_EVENT_UNITS), NP_AREA_MASK(NP_AREA_UNITS));
}

/* A declared kernel file is found below its path and only for its area. */
TEST(unwatched_lookup)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;

        ASSERT_OK(np_root_new("/", &root));
        ASSERT_STREQ(np_probe_input_unwatched(root, NP_AREA_MODULES, "/sys/module/loop/refcnt"),
                     "udev \"module\" uevents");
        ASSERT_STREQ(np_probe_input_unwatched(root, NP_AREA_VIRT, "/proc/cpuinfo"),
                     "fixed for the running boot");
        ASSERT_NULL(np_probe_input_unwatched(root, NP_AREA_VIRT, "/proc/meminfo"));
        ASSERT_NULL(np_probe_input_unwatched(root, NP_AREA_SYSTEM, "/sys/modulex"));
}

static const TestCase tests[] = {
        T(every_area_one_row), T(spans_apart),      T(move),
        T(carry_inputs),       T(events),           T(events_and_unwatched_declared),
        T(handlers_areas),     T(unwatched_lookup),
};

RUN_TESTS(tests)
