/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `nodeprepctl facts` for people: what the probes saw, area by area. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "probe/area.h"
#include "report/report.h"
#include "util/strv.h"

static void line(FILE *f, const char *key, const char *value, const char *unknown)
{
        if (unknown)
                fprintf(f, "  %-22s unknown: %s\n", key, unknown);
        else
                fprintf(f, "  %-22s %s\n", key, value ? value : "-");
}

static void print_system(FILE *f, const NpSystemFacts *s, const NpToolFacts *k)
{
        _cleanup_free_ char *mem = np_format_bytes(s->memory_bytes),
                            *kv = k && k->has_version && !k->unknown
                                      ? np_version_to_string(&k->version)
                                      : NULL;
        char cpus[32];

        snprintf(cpus, sizeof(cpus), "%u", s->cpus);
        fprintf(f, "System\n");
        line(f, "hostname", s->hostname, NULL);
        line(f, "os", s->os_pretty_name ? s->os_pretty_name : s->os_id, s->os_unknown);
        line(f, "distribution family", np_distro_family_to_string(s->distro), NULL);
        line(f, "kernel", s->kernel, NULL);
        line(f, "package tool", s->package_tool, NULL);
        line(f, "cpus", s->cpus ? cpus : NULL, NULL);
        line(f, "memory", s->memory_bytes ? mem : NULL, NULL);
        line(f, "kubelet", k && k->path ? kv : "not installed", k ? k->unknown : NULL);
        fprintf(f, "\n");
}

static void print_selinux(FILE *f, const NpSelinuxFacts *s)
{
        _cleanup_free_ char *rt =
            strprintf("%s (%s)", np_selinux_mode_to_string(s->runtime), strna(s->runtime_detail));
        _cleanup_free_ char *cf =
            !s->config_present ? strdup("no /etc/selinux/config")
            : s->config_set    ? strprintf("SELINUX=%s (line %u)", s->config_value, s->config_line)
                               : strdup("no valid SELINUX= line");
        char cmd[32];

        snprintf(cmd, sizeof(cmd), "%d", s->cmdline_enforcing);
        fprintf(f, "SELinux\n");
        line(f, "runtime", rt, s->runtime_unknown);
        line(f, "/etc/selinux/config", cf, s->config_unknown);
        line(f, "cmdline enforcing=", s->cmdline_enforcing >= 0 ? cmd : "not set",
             s->cmdline_unknown);
        {
                _cleanup_free_ char *next = strprintf(
                    "%s (%s)", np_selinux_mode_to_string(s->next_mode), strna(s->next_detail));

                line(f, "after the next boot", next, s->next_unknown);
        }
        fprintf(f, "\n");
}

/* The kernel and command line the next boot uses, and where nodeprep read them. */
static void print_boot(FILE *f, const NpBootFacts *b)
{
        _cleanup_free_ char *kernels = strv_join(b->kernels, ", "),
                            *kernel =
                                strprintf("%s (%s)", strna(b->kernel), strna(b->kernel_source)),
                            *cmdline =
                                strprintf("%s (%s)", strna(b->cmdline), strna(b->cmdline_source));

        fprintf(f, "Next boot\n");
        line(f, "installed kernels", isempty(kernels) ? "none found" : kernels, NULL);
        line(f, "kernel", kernel, b->kernel_unknown);
        line(f, "command line", cmdline, b->cmdline_unknown);
        line(f, "kernel config", b->config_path ? b->config_path : "not found", b->config_unknown);
        fprintf(f, "\n");
}

static void print_iscsi(FILE *f, const NpIscsiFacts *i)
{
        _cleanup_free_ char *units = strv_join(i->unit_files, ", ");
        _cleanup_free_ char *dirs = strv_join(i->nodes_dirs, ", ");
        static const char *const keys[] = {
                "node.startup",
                "node.conn[0].startup",
                "node.conn[0].iscsi.MaxRecvDataSegmentLength",
        };

        fprintf(f, "iSCSI\n");
        line(f, "iscsiadm", i->iscsiadm_path ? i->iscsiadm_path : "not found", NULL);
        line(f, "iscsid units", isempty(units) ? "none" : units, NULL);
        line(f, "initiator name", i->initiator_name, NULL);
        line(f, "iscsid.conf", i->conf_present ? i->conf_path : "not found", i->conf_unknown);
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                const NpKeyValue *kv =
                    np_key_values_get(i->conf.settings, i->conf.n_settings, keys[k]);

                if (kv)
                        fprintf(f, "    %s = %s (line %u)\n", kv->key, kv->value, kv->line);
        }
        FOREACH_ARRAY (p, i->conf.problems, i->conf.n_problems)
                fprintf(f, "    line %u: %s\n", p->line, p->problem);
        line(f, "node database", isempty(dirs) ? "none" : dirs, i->nodes_unknown);
        FOREACH_ARRAY (n, i->nodes, i->n_nodes) {
                const NpKeyValue *s =
                    np_key_values_get(n->record.settings, n->record.n_settings, "node.startup");

                fprintf(f, "    %s %s: %s\n", n->target, n->portal,
                        n->unknown ? n->unknown
                        : s        ? s->value
                                   : "node.startup not set");
        }
        fprintf(f, "\n");
}

/* --- tables (like lsblk and ip -br link) ---------------------------------------------------- */

#define TABLE_COLUMNS_MAX 10

typedef struct Table {
        size_t n_columns;
        char **cells; /* row-major, n_columns per row */
        size_t n_cells;
        bool oom;
} Table;

static void table_add(Table *t, const char *text)
{
        char *c = strdup(isempty(text) ? "-" : text);
        char **cells = c ? reallocarray(t->cells, t->n_cells + 1, sizeof(char *)) : NULL;

        if (!cells) {
                free(c);
                t->oom = true;
                return;
        }
        t->cells = cells;
        t->cells[t->n_cells++] = c;
}

/* Print with every column but the last padded to its widest cell; frees the cells. */
static void table_print(FILE *f, Table *t)
{
        size_t width[TABLE_COLUMNS_MAX] = {};

        for (size_t i = 0; i < t->n_cells; i++)
                width[i % t->n_columns] = MAX(width[i % t->n_columns], strlen(t->cells[i]));
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t col = i % t->n_columns;

                if (col == 0)
                        fputs("  ", f);
                if (col + 1 == t->n_columns)
                        fprintf(f, "%s\n", t->cells[i]);
                else
                        fprintf(f, "%-*s  ", (int)width[col], t->cells[i]);
        }
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        if (t->oom)
                fputs("  (out of memory: table incomplete)\n", f);
        *t = (Table){};
}

/* "signature:ext4, mounted (/var/lib/kubelet)", or "unknown: why" */
static char *disk_why(const NpDisk *d)
{
        _cleanup_strv_free_ char **parts = NULL;

        STRV_FOREACH (w, d->reasons) {
                _cleanup_free_ char *list =
                    streq(*w, "mounted")                     ? strv_join(d->mountpoints, " ")
                    : streq(*w, "holders")                   ? strv_join(d->holders, " ")
                    : streq(*w, "swap")                      ? strv_join(d->swaps, " ")
                    : streq(*w, "backing-device")            ? strv_join(d->backing_for, " ")
                    : streq(*w, "multipath") && d->multipath ? strdup(d->multipath)
                                                             : NULL;

                if (strv_consume(&parts, list ? strprintf("%s (%s)", *w, list) : strdup(*w)) < 0)
                        return NULL;
        }
        if (d->unknown &&
            strv_consume(&parts,
                         strprintf("%s%s", d->reasons ? "also could not probe: " : "unknown: ",
                                   d->unknown)) < 0)
                return NULL;
        return strv_join(parts, ", ");
}

static void print_disks(FILE *f, const NpFacts *facts)
{
        Table t = { .n_columns = 8 };

        fprintf(f, "\nDisks%s%s\n",
                facts->disks_include_loop ? " (loop devices included: IncludeLoopDevices=yes)" : "",
                streq_ptr(facts->root, "/") ? ""
                                            : " (of the running kernel: --root does not apply)");
        if (facts->disks_unknown) {
                fprintf(f, "  unknown: %s\n", facts->disks_unknown);
                return;
        }
        if (facts->n_disks == 0) {
                fprintf(f, "  no disks\n");
                return;
        }
        for (const char *const *h = (const char *const[]){ "NAME", "SIZE", "KIND", "TRAN", "MODEL",
                                                           "SERIAL", "FREE", "WHY NOT FREE", NULL };
             *h; h++)
                table_add(&t, *h);
        FOREACH_ARRAY (d, facts->disks, facts->n_disks) {
                _cleanup_free_ char *size = np_format_bytes(d->size_bytes), *why = disk_why(d);

                table_add(&t, d->name);
                table_add(&t, size);
                table_add(&t, np_disk_kind(d));
                table_add(&t, d->transport);
                table_add(&t, d->model);
                table_add(&t, d->serial);
                table_add(&t, d->free ? "yes" : d->reasons || !d->unknown ? "no" : "?");
                table_add(&t, d->free ? "" : why);
        }
        table_print(f, &t);
}

static void print_links(FILE *f, const NpFacts *facts)
{
        Table t = { .n_columns = 8 };

        fprintf(f, "\nLinks%s\n",
                streq_ptr(facts->root, "/")
                    ? ""
                    : " (of this network namespace: --root does not apply)");
        if (facts->links_unknown) {
                fprintf(f, "  unknown: %s\n", facts->links_unknown);
                return;
        }
        for (const char *const *h = (const char *const[]){ "NAME", "KIND", "STATE", "SPEED", "MTU",
                                                           "MASTER", "PARENT", "ADDRESSES", NULL };
             *h; h++)
                table_add(&t, *h);
        FOREACH_ARRAY (l, facts->links, facts->n_links) {
                _cleanup_strv_free_ char **addrs = NULL;
                _cleanup_free_ char *state = NULL, *speed = NULL, *mtu = strprintf("%u", l->mtu),
                                    *joined = NULL;

                FOREACH_ARRAY (a, l->addresses, l->n_addresses)
                        if (strv_consume(&addrs, a->unusable
                                                     ? strprintf("%s(%s)", a->text, a->unusable)
                                                     : strdup(a->text)) < 0)
                                t.oom = true;
                joined = strv_join(addrs, " ");
                /* "unknown" with carrier is up (RFC 2863): say so next to the kernel's word. */
                state = strprintf(
                    "%s%s", strna(l->operstate),
                    streq_ptr(l->operstate, "unknown") && np_link_is_up(l) ? " (carrier)" : "");
                if (l->speed_mbps >= 0)
                        speed = strprintf("%lldMb/s%s%s", (long long)l->speed_mbps,
                                          l->duplex ? " " : "", strempty(l->duplex));
                table_add(&t, l->name);
                table_add(&t, np_link_kind_to_string(l->kind));
                table_add(&t, state);
                table_add(&t, speed ? speed : "unknown");
                table_add(&t, mtu);
                table_add(&t, l->master);
                table_add(&t, l->parent);
                table_add(&t, joined);
        }
        table_print(f, &t);
}

void np_area_system_to_text(const NpFacts *facts, FILE *f)
{
        print_system(f, &facts->system, np_facts_tool(facts, "kubelet"));
}

/* The next boot first (the boot area shows nothing of its own): SELinux is judged against it. */
void np_area_selinux_to_text(const NpFacts *facts, FILE *f)
{
        if (facts->boot.probed)
                print_boot(f, &facts->boot);
        print_selinux(f, &facts->selinux);
}

void np_area_iscsi_to_text(const NpFacts *facts, FILE *f)
{
        print_iscsi(f, &facts->iscsi);
}

void np_area_modules_to_text(const NpFacts *facts, FILE *f)
{
        fprintf(f, "Kernel modules\n");
        if (facts->modules_load_dirs_unknown)
                fprintf(f, "  modules-load.d unknown: %s\n", facts->modules_load_dirs_unknown);
        if (facts->modules_load_etc_missing || facts->modules_load_etc_unusable)
                fprintf(f, "  /etc/modules-load.d    %s\n",
                        facts->modules_load_etc_unusable ? facts->modules_load_etc_unusable
                                                         : "missing");
        FOREACH_ARRAY (m, facts->modules, facts->n_modules) {
                _cleanup_free_ char *where = strv_join(m->persisted_in, ", ");

                fprintf(f, "  %-22s %s", m->name,
                        m->unknown ? "unknown" : np_module_state_to_string(m->state));
                fprintf(f, " (%s)", m->unknown ? m->unknown : strna(m->state_detail));
                fprintf(f, "; at boot: %s\n",
                        m->persist_unknown ? m->persist_unknown
                        : m->blacklisted   ? m->blacklisted
                        : !isempty(where)  ? where
                                           : "not listed");
                STRV_FOREACH (n, m->not_applied)
                        fprintf(f, "    not applied: %s\n", *n);
                if (m->unknown)
                        continue;
                if (m->next_unknown)
                        fprintf(f, "    next boot: unknown: %s\n", m->next_unknown);
                else if (m->next_detail)
                        fprintf(f, "    next boot: %s (%s)\n",
                                np_module_state_to_string(m->next_state), m->next_detail);
                if (m->prevented)
                        fprintf(f, "    prevented at boot: %s\n", m->prevented);
                else if (m->prevented_unknown)
                        fprintf(f, "    prevented at boot: unknown: %s\n", m->prevented_unknown);
                if (m->load_prevented)
                        fprintf(f, "    modprobe now: prevented: %s\n", m->load_prevented);
                STRV_FOREACH (n, m->notes)
                        fprintf(f, "    note: %s\n", *n);
        }
}

void np_area_units_to_text(const NpFacts *facts, FILE *f)
{
        fprintf(f, "\nServices\n");
        FOREACH_ARRAY (u, facts->units, facts->n_units) {
                if (u->unknown)
                        fprintf(f, "  %-22s unknown: %s\n", u->name, u->unknown);
                else
                        fprintf(f, "  %-22s %s, %s (%s), unit file %s\n", u->name,
                                strna(u->load_state), strna(u->active_state), strna(u->sub_state),
                                isempty(u->unit_file_state) ? "-" : u->unit_file_state);
                if (u->file)
                        fprintf(f, "    file: %s\n", u->file);
        }
}

void np_area_fs_to_text(const NpFacts *facts, FILE *f)
{
        fprintf(f, "\nFile systems\n");
        FOREACH_ARRAY (s, facts->fs, facts->n_fs) {
                _cleanup_free_ char *fr = np_format_bytes(s->free_bytes),
                                    *tot = np_format_bytes(s->total_bytes);

                if (s->unknown)
                        fprintf(f, "  %-22s unknown: %s\n", s->path, s->unknown);
                else
                        fprintf(f, "  %-22s %s free of %s on %s (%s) via %s\n", s->path, strna(fr),
                                strna(tot), strna(s->mount_point), strna(s->fs_type),
                                s->probed_path);
        }
}

void np_area_endpoints_to_text(const NpFacts *facts, FILE *f)
{
        if (facts->n_endpoints > 0)
                fprintf(f, "\nEndpoints\n");
        FOREACH_ARRAY (e, facts->endpoints, facts->n_endpoints)
                if (e->reachable)
                        fprintf(f, "  %-22s %s: connected to %s in %llu ms\n", e->name, e->address,
                                strna(e->connected), (unsigned long long)e->elapsed_ms);
                else
                        fprintf(f, "  %-22s %s: %s: %s\n", e->name, strna(e->address),
                                strna(e->error_kind), strna(e->error));
}

void np_area_tools_to_text(const NpFacts *facts, FILE *f)
{
        if (facts->n_tools > 0)
                fprintf(f, "\nTools\n");
        FOREACH_ARRAY (t, facts->tools, facts->n_tools)
                fprintf(f, "  %-22s %s%s%s\n", t->name, t->path ? t->path : "not found",
                        t->output ? ": " : "", t->unknown ? t->unknown : strempty(t->output));
}

void np_area_layouts_to_text(const NpFacts *facts, FILE *f)
{
        FOREACH_ARRAY (l, facts->layouts, facts->n_layouts) {
                fprintf(f, "\nDirectory %s\n", l->path);
                FOREACH_ARRAY (e, l->entries, l->n_entries)
                        if (e->unknown)
                                fprintf(f, "  %-22s unknown: %s\n",
                                        isempty(e->path) ? "." : e->path, e->unknown);
                        else if (!e->exists)
                                fprintf(f, "  %-22s missing\n", isempty(e->path) ? "." : e->path);
                        else
                                fprintf(f, "  %-22s %s, %u:%u, %llu bytes\n",
                                        isempty(e->path) ? "." : e->path,
                                        e->is_dir       ? "directory"
                                        : e->is_regular ? "file"
                                                        : "other",
                                        e->uid, e->gid, (unsigned long long)e->size);
        }
}

void np_area_disks_to_text(const NpFacts *facts, FILE *f)
{
        print_disks(f, facts);
}

void np_area_links_to_text(const NpFacts *facts, FILE *f)
{
        print_links(f, facts);
}

static char *ms_text(uint64_t usec)
{
        return strprintf("%" PRIu64 ".%03" PRIu64 " ms", usec / 1000, usec % 1000);
}

/* One Peers= entry: its address, the kernel's route, whether and how fast it answers, and the
 * largest echo with don't-fragment that came back. */
static void print_peer(FILE *f, const NpPeerFacts *p)
{
        _cleanup_free_ char *route = NULL, *echo = NULL, *median = NULL, *max = NULL,
                            *name = p->address && !streq(p->address, p->peer)
                                        ? strprintf("%s (%s)", p->peer, p->address)
                                        : strdup(p->peer);
        const char *a = name ? name : p->peer;

        if (p->self) {
                fprintf(f, "  %-22s this host\n", a);
                return;
        }
        if (p->resolve_error || p->unknown || p->route_error || !p->route_interface) {
                fprintf(f, "  %-22s %s%s\n", a, p->unknown ? "unknown: " : "",
                        p->resolve_error ? p->resolve_error
                        : p->unknown     ? p->unknown
                                         : strna(p->route_error));
                return;
        }
        route = p->route_gateway
                    ? strprintf("via %s on %s", p->route_gateway, strna(p->route_interface))
                    : strprintf("on %s, on-segment", strna(p->route_interface));
        if (p->received == 0 && p->largest_ok == 0)
                echo = strprintf("no answer to %u echo requests%s%s", p->sent, p->error ? ": " : "",
                                 strempty(p->error));
        else {
                median = ms_text(p->rtt_median_usec);
                max = ms_text(p->rtt_max_usec);
                echo =
                    p->full_size_ok
                        ? strprintf("%u of %u answered, rtt %s median, %s max; %u bytes "
                                    "(full size) passed",
                                    p->received, p->sent, strna(median), strna(max), p->full_size)
                        : strprintf("%u of %u answered, rtt %s median, %s max; the largest "
                                    "that passed is %s%u bytes of %u",
                                    p->received, p->sent, strna(median), strna(max),
                                    p->largest_exact ? "" : "at least ", p->largest_ok,
                                    p->full_size);
        }
        fprintf(f, "  %-22s %s; %s\n", a, strna(route), strna(echo));
}

void np_area_peers_to_text(const NpFacts *facts, FILE *f)
{
        const NpPeersFacts *pf = &facts->peers;

        if (!pf->probed)
                return;
        fprintf(f, "\nPeers\n");
        if (pf->address) {
                _cleanup_free_ char *from = strprintf("%s on %s, MTU %u (DataCIDR %s, ICMP by %s)",
                                                      pf->address, strna(pf->interface), pf->mtu,
                                                      strna(pf->data_cidr), strna(pf->method));

                line(f, "from", from, pf->unknown);
        } else
                line(f, "from", NULL, pf->unknown ? pf->unknown : "no address in the data network");
        FOREACH_ARRAY (p, pf->peers, pf->n_peers)
                if (!pf->address || pf->unknown)
                        fprintf(f, "  %-22s not probed\n", p->peer);
                else
                        print_peer(f, p);
}

char *np_facts_to_text(const NpFacts *facts)
{
        char *buf = NULL;
        size_t size = 0, n;
        const NpFactArea *const *areas = np_fact_areas(&n);
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        if (!streq_ptr(facts->root, "/"))
                fprintf(f, "Root: %s\n\n", facts->root);
        for (size_t i = 0; i < n; i++)
                if (areas[i]->to_text)
                        areas[i]->to_text(facts, f);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}
