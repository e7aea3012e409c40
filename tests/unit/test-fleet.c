/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Node Feature Discovery feature file and the Prometheus metrics on hand-made reports. */

#include "check/check.h"
#include "report/report.h"
#include "test.h"
#include "util/strv.h"

static NpReport *report_new(void)
{
        NpReport *r = calloc(1, sizeof(*r));

        ASSERT_TRUE(r);
        r->facts = np_facts_new();
        ASSERT_TRUE(r->facts);
        r->generated_at_usec = 1795300000ULL * 1000000ULL;
        return r;
}

static NpProfileReport *add_profile(NpReport *r, const char *name, bool ready)
{
        NpProfileReport *p;

        r->profiles = reallocarray(r->profiles, r->n_profiles + 1, sizeof(*p));
        ASSERT_TRUE(r->profiles);
        p = &r->profiles[r->n_profiles++];
        *p = (NpProfileReport){ .name = strdup(name), .ready = ready };
        ASSERT_TRUE(p->name);
        return p;
}

static void add_result(NpProfileReport *p, const char *id, NpSeverity sev, NpStatus status)
{
        NpResult *res;

        p->results = reallocarray(p->results, p->n_results + 1, sizeof(*res));
        ASSERT_TRUE(p->results);
        res = &p->results[p->n_results++];
        *res = (NpResult){ .id = strdup(id), .severity = sev, .status = status };
        ASSERT_TRUE(res->id);
}

static void add_disk(NpFacts *f, const char *name, bool rotational, bool free_)
{
        f->disks = reallocarray(f->disks, f->n_disks + 1, sizeof(NpDisk));
        ASSERT_TRUE(f->disks);
        f->disks[f->n_disks] =
            (NpDisk){ .name = strdup(name), .rotational = rotational, .free = free_ };
        ASSERT_TRUE(f->disks[f->n_disks].name);
        f->n_disks++;
        f->disks_probed = true;
}

static NpLink *add_link(NpFacts *f, const char *name, NpLinkKind kind, bool up, int64_t speed)
{
        NpLink *l;

        f->links = reallocarray(f->links, f->n_links + 1, sizeof(NpLink));
        ASSERT_TRUE(f->links);
        l = &f->links[f->n_links++];
        *l = (NpLink){ .kind = kind, .admin_up = up, .carrier = up, .speed_mbps = speed };
        l->name = strdup(name);
        l->operstate = strdup(up ? "up" : "down");
        ASSERT_TRUE(l->name && l->operstate);
        f->links_probed = true;
        return l;
}

/* The labels of a feature file, comment lines left out, in order. */
static char **nfd_lines(const NpReport *r)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        char **out = NULL;

        ASSERT_OK(np_report_to_nfd(r, 0, &text, NULL));
        ASSERT_TRUE(text[0] == '#');
        ASSERT_TRUE(endswith(text, "\n"));
        ASSERT_OK(strv_split(text, "\n", &lines));
        STRV_FOREACH (l, lines)
                if (**l != '#')
                        ASSERT_OK(strv_extend(&out, *l));
        return out;
}

TEST(label_names)
{
        ASSERT_TRUE(np_label_name_valid("iomesh.ready"));
        ASSERT_TRUE(np_label_name_valid("influxdb-clustered-client.ready"));
        ASSERT_TRUE(np_label_name_valid("a"));
        ASSERT_TRUE(np_label_name_valid("A_b.c-9"));
        ASSERT_TRUE(!np_label_name_valid(""));
        ASSERT_TRUE(!np_label_name_valid("-lead.ready"));
        ASSERT_TRUE(!np_label_name_valid("_lead.ready"));
        ASSERT_TRUE(!np_label_name_valid("trail-"));
        ASSERT_TRUE(!np_label_name_valid("has space"));
        ASSERT_TRUE(!np_label_name_valid("slash/x"));
        /* 63 characters are fine, 64 are not. */
        ASSERT_TRUE(
            np_label_name_valid("a23456789012345678901234567890123456789012345678901234567890123"));
        ASSERT_TRUE(!np_label_name_valid(
            "a234567890123456789012345678901234567890123456789012345678901234"));
}

TEST(nfd_labels)
{
        _cleanup_(np_report_freep) NpReport *r = report_new();
        _cleanup_strv_free_ char **lines = NULL;
        NpLink *br;

        add_profile(r, "iomesh", false);
        add_profile(r, "the-things-stack", true);
        add_disk(r->facts, "sda", false, true);
        add_disk(r->facts, "sdb", false, true);
        add_disk(r->facts, "sdc", false, false); /* not free: not counted */
        add_disk(r->facts, "sdd", true, true);
        add_link(r->facts, "eth0", NP_LINK_PHYSICAL, true, 10000);
        add_link(r->facts, "eth1", NP_LINK_PHYSICAL, false, 100000); /* down: not counted */
        add_link(r->facts, "veth0", NP_LINK_VETH, true, 200000);     /* never counts */
        add_link(r->facts, "tap0", NP_LINK_TAP, true, 25000);
        br = add_link(r->facts, "br0", NP_LINK_BRIDGE, true, -1); /* counts its best port */
        ASSERT_OK(strv_extend(&br->members, "tap0"));

        lines = nfd_lines(r);
        ASSERT_EQ(strv_length(lines), 5);
        ASSERT_STREQ(lines[0], "nodeprep.io/free-hdd=1");
        ASSERT_STREQ(lines[1], "nodeprep.io/free-ssd=2");
        ASSERT_STREQ(lines[2], "nodeprep.io/iomesh.ready=false");
        ASSERT_STREQ(lines[3], "nodeprep.io/max-link-speed=25000");
        ASSERT_STREQ(lines[4], "nodeprep.io/the-things-stack.ready=true");
}

TEST(nfd_only_what_is_known)
{
        _cleanup_(np_report_freep) NpReport *r = report_new();
        _cleanup_strv_free_ char **lines = NULL, **skipped = NULL;
        _cleanup_free_ char *text = NULL;

        /* Disks and links not probed: no labels for them (not "0"). */
        add_profile(r, "flow-like", true);
        add_profile(r, "-odd-name", true);
        lines = nfd_lines(r);
        ASSERT_EQ(strv_length(lines), 1);
        ASSERT_STREQ(lines[0], "nodeprep.io/flow-like.ready=true");
        ASSERT_OK(np_report_to_nfd(r, 0, &text, &skipped));
        ASSERT_EQ(strv_length(skipped), 1);
        ASSERT_STREQ(skipped[0], "-odd-name.ready");
        lines = strv_free(lines);

        /* A failed probe: no figure rather than a wrong one. */
        r->facts->disks_probed = r->facts->links_probed = true;
        r->facts->disks_unknown = strdup("cannot enumerate block devices");
        lines = nfd_lines(r);
        ASSERT_EQ(strv_length(lines), 2);
        ASSERT_STREQ(lines[1], "nodeprep.io/max-link-speed=0");
}

TEST(nfd_size_limit)
{
        _cleanup_(np_report_freep) NpReport *r = report_new();
        _cleanup_free_ char *text = NULL;
        char name[64];
        int k;

        /* 1200 profiles of ~60-byte labels exceed NFD's 64 KiB: refused, never truncated. */
        for (int i = 0; i < 1200; i++) {
                snprintf(name, sizeof(name), "profile-with-a-long-name-number-%04d-xxxxxxx", i);
                add_profile(r, name, true);
        }
        k = np_report_to_nfd(r, 0, &text, NULL);
        ASSERT_EQ(k, -EFBIG);
        ASSERT_NULL(text);
}

TEST(metrics)
{
        _cleanup_(np_report_freep) NpReport *r = report_new();
        _cleanup_(np_metrics_counters_done) NpMetricsCounters c = {
                .evaluations = 7,
                .last_evaluation_usec = 1795300000123456ULL,
                .last_duration_usec = 1500,
        };
        _cleanup_free_ char *text = NULL;
        NpProfileReport *p = add_profile(r, "iomesh", false);

        add_result(p, "iscsi.conf:node.startup", NP_SEVERITY_REQUIRED, NP_STATUS_FAIL);
        add_result(p, "weird\"id\\with\nnewline", NP_SEVERITY_RECOMMENDED, NP_STATUS_PASS);
        add_disk(r->facts, "sda", false, true);
        add_link(r->facts, "eth0", NP_LINK_PHYSICAL, true, 25000);
        add_link(r->facts, "eth1", NP_LINK_PHYSICAL, true, -1);
        ASSERT_OK(np_metrics_count_fix(&c, "selinux.runtime", "changed"));
        ASSERT_OK(np_metrics_count_fix(&c, "iscsi.conf:node.startup", "failed"));
        ASSERT_OK(np_metrics_count_fix(&c, "iscsi.conf:node.startup", "changed"));
        ASSERT_OK(np_metrics_count_fix(&c, "selinux.runtime", "changed"));

        text = np_report_to_metrics(r, &c);
        ASSERT_TRUE(text);
        ASSERT_CONTAINS(text, "# TYPE nodeprep_profile_ready gauge\n"
                              "nodeprep_profile_ready{profile=\"iomesh\"} 0\n");
        ASSERT_CONTAINS(text, "nodeprep_check_status{profile=\"iomesh\",check=\"iscsi.conf:node."
                              "startup\",severity=\"required\",status=\"fail\"} 1\n");
        ASSERT_CONTAINS(text, "nodeprep_check_status{profile=\"iomesh\",check=\"iscsi.conf:node."
                              "startup\",severity=\"required\",status=\"pass\"} 0\n");
        /* Label values escape backslash, double quote and newline. */
        ASSERT_CONTAINS(text, "check=\"weird\\\"id\\\\with\\nnewline\",severity=\"recommended\","
                              "status=\"pass\"} 1\n");
        ASSERT_CONTAINS(text, "nodeprep_free_disks{kind=\"hdd\"} 0\n"
                              "nodeprep_free_disks{kind=\"ssd\"} 1\n");
        ASSERT_CONTAINS(text, "nodeprep_link_speed_mbps{link=\"eth0\"} 25000\n");
        ASSERT_TRUE(!strstr(text, "nodeprep_link_speed_mbps{link=\"eth1\"}"));
        ASSERT_CONTAINS(text, "nodeprep_link_up{link=\"eth1\"} 1\n");
        ASSERT_CONTAINS(text, "# TYPE nodeprep_evaluations_total counter\n"
                              "nodeprep_evaluations_total 7\n");
        ASSERT_CONTAINS(text, "nodeprep_last_evaluation_timestamp_seconds 1795300000.123\n");
        ASSERT_CONTAINS(text, "nodeprep_last_evaluation_duration_seconds 0.001500\n");
        /* Sorted by check, then result; counts add up. */
        ASSERT_CONTAINS(text,
                        "nodeprep_fix_applied_total{check=\"iscsi.conf:node.startup\","
                        "result=\"changed\"} 1\n"
                        "nodeprep_fix_applied_total{check=\"iscsi.conf:node.startup\","
                        "result=\"failed\"} 1\n"
                        "nodeprep_fix_applied_total{check=\"selinux.runtime\",result=\"changed\"} "
                        "2\n");
        /* Five statuses per check, exactly one of them 1. */
        {
                size_t n = 0, ones = 0;

                for (const char *s = text; (s = strstr(s, "\nnodeprep_check_status{")); s++) {
                        const char *eol = strchr(s + 1, '\n');

                        n++;
                        ones += eol && eol[-1] == '1';
                }
                ASSERT_EQ(n, 10);
                ASSERT_EQ(ones, 2);
        }
}

TEST(metrics_without_disks_and_links)
{
        _cleanup_(np_report_freep) NpReport *r = report_new();
        _cleanup_(np_metrics_counters_done) NpMetricsCounters c = {};
        _cleanup_free_ char *text = NULL;

        add_profile(r, "flow-like", true);
        text = np_report_to_metrics(r, &c);
        ASSERT_TRUE(text);
        ASSERT_CONTAINS(text, "nodeprep_profile_ready{profile=\"flow-like\"} 1\n");
        ASSERT_TRUE(!strstr(text, "nodeprep_free_disks"));
        ASSERT_TRUE(!strstr(text, "nodeprep_link_speed_mbps"));
        ASSERT_CONTAINS(text, "# TYPE nodeprep_fix_applied_total counter\n");
}

static const TestCase tests[] = {
        T(label_names),    T(nfd_labels), T(nfd_only_what_is_known),
        T(nfd_size_limit), T(metrics),    T(metrics_without_disks_and_links),
};

RUN_TESTS(tests)
