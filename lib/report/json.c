/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON report (schema_version 1, see DESIGN.md and nodeprepctl(8)) and the facts as JSON. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/area.h"
#include "report/report.h"
#include "util/json-util.h"
#include "util/strv.h"

/*
 * An array of objects, one per item, each filled by FILL(object, item[, extra]): ARRAY_OF()
 * calls FILL_array(), which DEFINE_ARRAY_OF(FILL, TYPE) (or DEFINE_ARRAY_OF_WITH(FILL, TYPE,
 * EXTRA_TYPE)) defines right after FILL; NULL when memory runs out or a fill fails. A function
 * per fill rather than one over void *: the items keep their type, and cppcheck reads a loop in
 * a function body where it cannot read one in a statement expression inside a call.
 */
#define ARRAY_BODY(fill, ...)                                                                  \
        {                                                                                      \
                _cleanup_(json_object_putp) json_object *a = json_object_new_array();          \
                                                                                               \
                if (!a)                                                                        \
                        return NULL;                                                           \
                FOREACH_ARRAY (i, items, n) {                                                  \
                        _cleanup_(json_object_putp) json_object *e = json_object_new_object(); \
                                                                                               \
                        if (!e || fill(e, i __VA_ARGS__) < 0 ||                                \
                            json_array_push(a, TAKE_PTR(e)) < 0)                               \
                                return NULL;                                                   \
                }                                                                              \
                return TAKE_PTR(a);                                                            \
        }
#define DEFINE_ARRAY_OF(fill, type) \
        static json_object *fill##_array(const type *items, size_t n) ARRAY_BODY(fill, )
#define DEFINE_ARRAY_OF_WITH(fill, type, extra_type)                                    \
        static json_object *fill##_array(const type *items, size_t n, extra_type extra) \
            ARRAY_BODY(fill, , extra)
#define ARRAY_OF(items, n, fill, ...) fill##_array((items), (n), ##__VA_ARGS__)

static int result_fill(json_object *o, const NpResult *res)
{
        return ADD_ALL(
            json_add_str(o, "id", res->id), json_add_str(o, "title", res->title),
            json_add_str(o, "severity", np_severity_to_string(res->severity)),
            json_add_str(o, "status", np_status_to_string(res->status)),
            json_add_str(o, "observed", res->observed), json_add_str(o, "expected", res->expected),
            json_add_str(o, "message", res->message), json_add_str(o, "fix", res->fix),
            json_add_str(o, "remedy", res->remedy), json_add_str(o, "source", res->source),
            json_add_bool(o, "ignored", res->ignored), json_add_str(o, "override", res->override));
}
DEFINE_ARRAY_OF(result_fill, NpResult)

static int profile_fill(json_object *o, const NpProfileReport *p)
{
        _cleanup_(json_object_putp) json_object *summary = json_object_new_object(),
                                                *checks =
                                                    ARRAY_OF(p->results, p->n_results, result_fill),
                                                *settings = json_object_new_object();

        if (!summary || !checks || !settings)
                return -ENOMEM;
        for (NpStatus s = 0; s < _NP_STATUS_MAX; s++)
                if (json_add_u64(summary, np_status_to_string(s), p->summary[s]) < 0)
                        return -ENOMEM;
        STRV_FOREACH (s, p->settings) {
                _cleanup_free_ char *k = strndup(*s, strcspn(*s, "="));

                if (!k || json_add_str(settings, k, *s + strlen(k) + 1) < 0)
                        return -ENOMEM;
        }
        return ADD_ALL(
            json_add_str(o, "name", p->name), json_add_str(o, "description", p->description),
            json_add_str(o, "source", p->source), json_add_bool(o, "ready", p->ready),
            json_add_u64(o, "min_ready_nodes", p->min_ready_nodes),
            json_add(o, "summary", TAKE_PTR(summary)), json_add(o, "settings", TAKE_PTR(settings)),
            json_add(o, "checks", TAKE_PTR(checks)));
}
DEFINE_ARRAY_OF(profile_fill, NpProfileReport)

static json_object *cluster_to_json(const NpReportCluster *c)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o || ADD_ALL(json_add_str(o, "data_cidr", c->data_cidr),
                          json_add_str(o, "data_address", c->data_address),
                          json_add_str(o, "data_interface", c->data_interface),
                          c->data_mtu ? json_add_u64(o, "data_mtu", c->data_mtu)
                                      : json_add_null(o, "data_mtu"),
                          json_add_strv(o, "peers", c->peers)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int np_report_to_json(const NpReport *r, bool with_facts, json_object **ret)
{
        _cleanup_(json_object_putp)
            json_object *o = json_object_new_object(),
                        *host = json_object_new_object(),
                        *profiles = ARRAY_OF(r->profiles, r->n_profiles, profile_fill);
        _cleanup_free_ char *ts = np_format_timestamp(r->generated_at_usec);
        int k;

        if (!o || !host || !profiles || !ts)
                return -ENOMEM;
        k = ADD_ALL(json_add_str(host, "hostname", r->hostname),
                    json_add_str(host, "os_id", r->os_id),
                    json_add_str(host, "os_version", r->os_version),
                    json_add_str(host, "kernel", r->kernel),
                    json_add_str(host, "machine_id", r->machine_id),
                    json_add_str(host, "product_uuid", r->product_uuid),
                    json_add_str(host, "open_iscsi_version", r->open_iscsi_version));
        if (k < 0)
                return k;
        k = ADD_ALL(json_add_int(o, "schema_version", NP_REPORT_SCHEMA_VERSION),
                    json_add(o, "host", TAKE_PTR(host)), json_add_str(o, "generated_at", ts),
                    json_add_bool(o, "ready", r->ready),
                    json_add(o, "profiles", TAKE_PTR(profiles)),
                    json_add_strv(o, "warnings", r->warnings),
                    json_add(o, "cluster", cluster_to_json(&r->cluster)));
        if (k < 0)
                return k;
        if (with_facts && r->facts) {
                json_object *f = NULL;

                k = np_facts_to_json(r->facts, &f);
                if (k < 0)
                        return k;
                k = json_add(o, "facts", f);
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

/* --- facts ---------------------------------------------------------------------------------- */

static int key_value_fill(json_object *e, const NpKeyValue *kv)
{
        return ADD_ALL(json_add_str(e, "key", kv->key), json_add_str(e, "value", kv->value),
                       json_add_u64(e, "line", kv->line));
}
DEFINE_ARRAY_OF(key_value_fill, NpKeyValue)

static int problem_fill(json_object *e, const NpConfProblem *p)
{
        return ADD_ALL(json_add_u64(e, "line", p->line), json_add_str(e, "key", p->key),
                       json_add_str(e, "problem", p->problem));
}
DEFINE_ARRAY_OF(problem_fill, NpConfProblem)

/* facts.system.kubelet: kept for compatibility (schema_version 1), the tools[] entry "kubelet". */
static json_object *kubelet_to_json(const NpToolFacts *t)
{
        _cleanup_(json_object_putp) json_object *k = json_object_new_object();
        _cleanup_free_ char *v =
            t && t->has_version && !t->unknown ? np_version_to_string(&t->version) : NULL;

        if (!k ||
            ADD_ALL(json_add_str(k, "path", t ? t->path : NULL),
                    json_add_str(k, "output", t ? t->output : NULL), json_add_str(k, "version", v),
                    json_add_str(k, "unknown", t ? t->unknown : NULL)) < 0)
                return NULL;
        return TAKE_PTR(k);
}

static json_object *system_to_json(const NpSystemFacts *s, const NpToolFacts *kubelet)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                *k = kubelet_to_json(kubelet);

        if (!o || !k)
                return NULL;
        if (ADD_ALL(json_add_str(o, "hostname", s->hostname), json_add_str(o, "os_id", s->os_id),
                    json_add_strv(o, "os_id_like", s->os_id_like),
                    json_add_str(o, "os_version_id", s->os_version_id),
                    json_add_str(o, "os_pretty_name", s->os_pretty_name),
                    json_add_str(o, "os_unknown", s->os_unknown),
                    json_add_str(o, "distro", np_distro_family_to_string(s->distro)),
                    json_add_str(o, "kernel", s->kernel),
                    json_add_str(o, "package_tool", s->package_tool),
                    json_add_str(o, "machine_id", s->machine_id),
                    json_add_str(o, "machine_id_unknown", s->machine_id_unknown),
                    json_add_str(o, "product_uuid", s->product_uuid),
                    json_add_str(o, "product_uuid_unknown", s->product_uuid_unknown),
                    json_add_u64(o, "cpus", s->cpus),
                    json_add_u64(o, "memory_bytes", s->memory_bytes),
                    json_add(o, "kubelet", TAKE_PTR(k))) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int np_area_system_to_json(const NpFacts *f, json_object *o)
{
        return json_add(o, "system", system_to_json(&f->system, np_facts_tool(f, "kubelet")));
}

static json_object *selinux_to_json(const NpSelinuxFacts *s)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        if (ADD_ALL(json_add_str(o, "runtime",
                                 s->runtime_unknown ? NULL : np_selinux_mode_to_string(s->runtime)),
                    json_add_str(o, "runtime_detail", s->runtime_detail),
                    json_add_str(o, "runtime_unknown", s->runtime_unknown),
                    json_add_bool(o, "config_present", s->config_present),
                    json_add_str(o, "config",
                                 s->config_set ? np_selinux_mode_to_string(s->config) : NULL),
                    json_add_str(o, "config_value", s->config_value),
                    json_add_u64(o, "config_line", s->config_line),
                    json_add_str(o, "config_unknown", s->config_unknown),
                    s->cmdline_enforcing >= 0
                        ? json_add_int(o, "cmdline_enforcing", s->cmdline_enforcing)
                        : json_add_str(o, "cmdline_enforcing", NULL),
                    json_add_str(o, "cmdline_unknown", s->cmdline_unknown),
                    s->next_lsm >= 0 ? json_add_bool(o, "next_lsm_active", s->next_lsm > 0)
                                     : json_add_str(o, "next_lsm_active", NULL),
                    json_add_str(o, "next_lsm_detail", s->next_lsm_detail),
                    json_add_str(o, "next_mode",
                                 s->next_unknown ? NULL : np_selinux_mode_to_string(s->next_mode)),
                    json_add_str(o, "next_detail", s->next_detail),
                    json_add_str(o, "next_unknown", s->next_unknown)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int np_area_selinux_to_json(const NpFacts *f, json_object *o)
{
        return json_add(o, "selinux", selinux_to_json(&f->selinux));
}

static json_object *boot_to_json(const NpBootFacts *b)
{
        _cleanup_(json_object_putp) json_object *o = NULL;

        if (!b->probed)
                return json_object_new_object(); /* not probed: an empty object */
        o = json_object_new_object();
        if (!o ||
            ADD_ALL(json_add_strv(o, "kernels", b->kernels), json_add_str(o, "kernel", b->kernel),
                    json_add_str(o, "kernel_source", b->kernel_source),
                    json_add_str(o, "kernel_unknown", b->kernel_unknown),
                    json_add_str(o, "cmdline", b->cmdline),
                    json_add_str(o, "cmdline_source", b->cmdline_source),
                    json_add_str(o, "cmdline_unknown", b->cmdline_unknown),
                    json_add_str(o, "kernel_config", b->config_path),
                    json_add_str(o, "kernel_config_unknown", b->config_unknown)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int np_area_boot_to_json(const NpFacts *f, json_object *o)
{
        return json_add(o, "boot", boot_to_json(&f->boot));
}

static int iscsi_node_fill(json_object *e, const NpIscsiNode *n)
{
        return ADD_ALL(json_add_str(e, "path", n->path), json_add_str(e, "target", n->target),
                       json_add_str(e, "portal", n->portal),
                       json_add(e, "settings",
                                ARRAY_OF(n->record.settings, n->record.n_settings, key_value_fill)),
                       json_add(e, "problems",
                                ARRAY_OF(n->record.problems, n->record.n_problems, problem_fill)),
                       json_add_str(e, "unknown", n->unknown));
}
DEFINE_ARRAY_OF(iscsi_node_fill, NpIscsiNode)

static json_object *iscsi_to_json(const NpIscsiFacts *i)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                *conf = json_object_new_object();

        if (!o || !conf)
                return NULL;
        if (ADD_ALL(json_add_str(conf, "path", i->conf_path),
                    json_add_bool(conf, "present", i->conf_present),
                    json_add(conf, "settings",
                             ARRAY_OF(i->conf.settings, i->conf.n_settings, key_value_fill)),
                    json_add(conf, "problems",
                             ARRAY_OF(i->conf.problems, i->conf.n_problems, problem_fill)),
                    json_add_str(conf, "unknown", i->conf_unknown)) < 0)
                return NULL;
        if (ADD_ALL(json_add_str(o, "iscsiadm", i->iscsiadm_path),
                    json_add_strv(o, "unit_files", i->unit_files),
                    json_add_str(o, "start_requires_conf", i->start_requires_conf),
                    json_add_str(o, "start_unknown", i->start_unknown),
                    json_add_str(o, "start_fails", i->start_fails),
                    json_add(o, "conf", TAKE_PTR(conf)),
                    json_add_str(o, "initiator_name", i->initiator_name),
                    json_add_strv(o, "nodes_dirs", i->nodes_dirs),
                    json_add(o, "nodes", ARRAY_OF(i->nodes, i->n_nodes, iscsi_node_fill)),
                    json_add_str(o, "nodes_unknown", i->nodes_unknown),
                    json_add_str(o, "version", i->version),
                    json_add_str(o, "version_source", i->version_source),
                    json_add_str(o, "version_unknown", i->version_unknown)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int np_area_iscsi_to_json(const NpFacts *f, json_object *o)
{
        return json_add(o, "iscsi", iscsi_to_json(&f->iscsi));
}

static int module_fill(json_object *e, const NpModuleFacts *m)
{
        return ADD_ALL(
            json_add_str(e, "name", m->name), json_add_str(e, "canonical", m->canonical),
            json_add_str(e, "state", m->unknown ? NULL : np_module_state_to_string(m->state)),
            json_add_str(e, "detail", m->state_detail), json_add_str(e, "unknown", m->unknown),
            json_add_strv(e, "persisted_in", m->persisted_in),
            json_add_strv(e, "not_applied", m->not_applied),
            json_add_str(e, "blacklisted", m->blacklisted),
            json_add_str(e, "persist_unknown", m->persist_unknown),
            json_add_str(e, "next_state",
                         m->next_unknown || !m->next_detail
                             ? NULL
                             : np_module_state_to_string(m->next_state)),
            json_add_str(e, "next_detail", m->next_detail),
            json_add_str(e, "next_unknown", m->next_unknown),
            json_add_str(e, "prevented", m->prevented),
            json_add_str(e, "prevented_unknown", m->prevented_unknown),
            json_add_strv(e, "notes", m->notes),
            json_add_str(e, "load_prevented", m->load_prevented),
            json_add_str(e, "load_prevented_unknown", m->load_prevented_unknown));
}
DEFINE_ARRAY_OF(module_fill, NpModuleFacts)

int np_area_modules_to_json(const NpFacts *f, json_object *o)
{
        return ADD_ALL(json_add(o, "modules", ARRAY_OF(f->modules, f->n_modules, module_fill)),
                       json_add_str(o, "modules_load_unknown", f->modules_load_dirs_unknown),
                       json_add_bool(o, "modules_load_etc_missing", f->modules_load_etc_missing),
                       json_add_str(o, "modules_load_etc_unusable", f->modules_load_etc_unusable));
}

static int unit_fill(json_object *e, const NpUnitFacts *u)
{
        return ADD_ALL(json_add_str(e, "name", u->name),
                       json_add_str(e, "load_state", u->load_state),
                       json_add_str(e, "active_state", u->active_state),
                       json_add_str(e, "sub_state", u->sub_state),
                       json_add_str(e, "unit_file_state", u->unit_file_state),
                       json_add_str(e, "file", u->file), json_add_str(e, "unknown", u->unknown),
                       json_add_str(e, "start_fails", u->start_fails));
}
DEFINE_ARRAY_OF(unit_fill, NpUnitFacts)

int np_area_units_to_json(const NpFacts *f, json_object *o)
{
        return json_add(o, "units", ARRAY_OF(f->units, f->n_units, unit_fill));
}

static int fs_fill(json_object *e, const NpFsFacts *s)
{
        bool known = !s->unknown;

        return ADD_ALL(
            json_add_str(e, "path", s->path), json_add_str(e, "probed_path", s->probed_path),
            json_add_str(e, "mount_point", s->mount_point), json_add_str(e, "fs_type", s->fs_type),
            json_add_str(e, "source", s->mount_source),
            known ? json_add_u64(e, "free_bytes", s->free_bytes)
                  : json_add_str(e, "free_bytes", NULL),
            known ? json_add_u64(e, "total_bytes", s->total_bytes)
                  : json_add_str(e, "total_bytes", NULL),
            json_add_str(e, "unknown", s->unknown));
}
DEFINE_ARRAY_OF(fs_fill, NpFsFacts)

int np_area_fs_to_json(const NpFacts *f, json_object *o)
{
        return json_add(o, "filesystems", ARRAY_OF(f->fs, f->n_fs, fs_fill));
}

static int disk_fill(json_object *e, const NpDisk *d)
{
        char devnum[32];

        snprintf(devnum, sizeof(devnum), "%u:%u", d->major, d->minor);
        return ADD_ALL(
            json_add_str(e, "name", d->name), json_add_str(e, "path", d->path),
            json_add_str(e, "id", d->id), json_add_str(e, "devnum", devnum),
            json_add_u64(e, "size_bytes", d->size_bytes),
            json_add_bool(e, "rotational", d->rotational), json_add_str(e, "kind", np_disk_kind(d)),
            json_add_str(e, "transport", d->transport), json_add_str(e, "model", d->model),
            json_add_str(e, "vendor", d->vendor), json_add_str(e, "serial", d->serial),
            json_add_str(e, "wwn", d->wwn), json_add_bool(e, "removable", d->removable),
            json_add_bool(e, "read_only", d->read_only),
            json_add_strv(e, "partitions", d->partitions),
            json_add_str(e, "partition_table", d->partition_table),
            json_add_strv(e, "signatures", d->signatures),
            json_add_str(e, "signatures_source", d->signatures_source),
            json_add_strv(e, "mountpoints", d->mountpoints), json_add_strv(e, "swap", d->swaps),
            json_add_strv(e, "holders", d->holders),
            json_add_strv(e, "backing_for", d->backing_for),
            json_add_str(e, "multipath", d->multipath), json_add_str(e, "remote", d->remote),
            json_add_bool(e, "free", d->free), json_add_strv(e, "reasons", d->reasons),
            json_add_str(e, "unknown", d->unknown));
}
DEFINE_ARRAY_OF(disk_fill, NpDisk)

int np_area_disks_to_json(const NpFacts *f, json_object *o)
{
        return ADD_ALL(json_add(o, "disks", ARRAY_OF(f->disks, f->n_disks, disk_fill)),
                       json_add_bool(o, "disks_include_loop", f->disks_include_loop),
                       json_add_str(o, "disks_unknown", f->disks_unknown));
}

static int link_fill(json_object *e, const NpLink *l)
{
        _cleanup_(json_object_putp) json_object *addrs = json_object_new_array(),
                                                *unusable = json_object_new_array();

        if (!addrs || !unusable)
                return -ENOMEM;
        /* "addresses": what the link can use; the others with the kernel's reason. */
        FOREACH_ARRAY (ad, l->addresses, l->n_addresses) {
                _cleanup_free_ char *t =
                    ad->unusable ? strprintf("%s %s", ad->text, ad->unusable) : strdup(ad->text);

                if (!t ||
                    json_array_push(ad->unusable ? unusable : addrs, json_object_new_string(t)) < 0)
                        return -ENOMEM;
        }
        return ADD_ALL(
            json_add_str(e, "name", l->name), json_add_int(e, "ifindex", l->ifindex),
            json_add_str(e, "kind", np_link_kind_to_string(l->kind)),
            json_add_str(e, "kind_detail", l->kind_detail),
            json_add_str(e, "operstate", l->operstate), json_add_bool(e, "admin_up", l->admin_up),
            json_add_bool(e, "carrier", l->carrier), json_add_bool(e, "up", np_link_is_up(l)),
            l->speed_mbps >= 0 ? json_add_int(e, "speed_mbps", l->speed_mbps)
                               : json_add_str(e, "speed_mbps", NULL),
            json_add_str(e, "speed_source", l->speed_source), json_add_str(e, "duplex", l->duplex),
            json_add_u64(e, "mtu", l->mtu), json_add_str(e, "mac", l->mac),
            json_add_str(e, "master", l->master), json_add_str(e, "parent", l->parent),
            json_add_strv(e, "members", l->members), json_add(e, "addresses", TAKE_PTR(addrs)),
            json_add(e, "unusable_addresses", TAKE_PTR(unusable)));
}
DEFINE_ARRAY_OF(link_fill, NpLink)

int np_area_links_to_json(const NpFacts *f, json_object *o)
{
        return ADD_ALL(json_add(o, "links", ARRAY_OF(f->links, f->n_links, link_fill)),
                       json_add_str(o, "links_unknown", f->links_unknown));
}

static int endpoint_fill(json_object *o, const NpEndpointFacts *e)
{
        return ADD_ALL(
            json_add_str(o, "name", e->name), json_add_str(o, "address", e->address),
            json_add_bool(o, "reachable", e->reachable), json_add_str(o, "connected", e->connected),
            json_add_str(o, "error_kind", e->error_kind), json_add_str(o, "error", e->error),
            json_add_u64(o, "elapsed_ms", e->elapsed_ms));
}
DEFINE_ARRAY_OF(endpoint_fill, NpEndpointFacts)

int np_area_endpoints_to_json(const NpFacts *f, json_object *o)
{
        return json_add(o, "endpoints", ARRAY_OF(f->endpoints, f->n_endpoints, endpoint_fill));
}

static int tool_fill(json_object *o, const NpToolFacts *t)
{
        _cleanup_free_ char *v = t->has_version ? np_version_to_string(&t->version) : NULL;

        return ADD_ALL(json_add_str(o, "name", t->name), json_add_str(o, "path", t->path),
                       json_add_str(o, "found", t->found), json_add_str(o, "output", t->output),
                       json_add_str(o, "version", v), json_add_str(o, "unknown", t->unknown));
}
DEFINE_ARRAY_OF(tool_fill, NpToolFacts)

int np_area_tools_to_json(const NpFacts *f, json_object *o)
{
        return json_add(o, "tools", ARRAY_OF(f->tools, f->n_tools, tool_fill));
}

static int layout_entry_fill(json_object *x, const NpLayoutEntry *e)
{
        return ADD_ALL(json_add_str(x, "path", e->path), json_add_bool(x, "exists", e->exists),
                       json_add_str(x, "type",
                                    !e->exists      ? NULL
                                    : e->is_dir     ? "directory"
                                    : e->is_regular ? "file"
                                                    : "other"),
                       json_add_u64(x, "uid", e->uid), json_add_u64(x, "gid", e->gid),
                       json_add_u64(x, "size", e->size), json_add_str(x, "unknown", e->unknown));
}
DEFINE_ARRAY_OF(layout_entry_fill, NpLayoutEntry)

static int layout_fill(json_object *o, const NpLayoutFacts *l)
{
        return ADD_ALL(
            json_add_str(o, "path", l->path),
            json_add(o, "entries", ARRAY_OF(l->entries, l->n_entries, layout_entry_fill)));
}
DEFINE_ARRAY_OF(layout_fill, NpLayoutFacts)

int np_area_layouts_to_json(const NpFacts *f, json_object *o)
{
        return json_add(o, "layouts", ARRAY_OF(f->layouts, f->n_layouts, layout_fill));
}

static json_object *virt_to_json(const NpVirtFacts *v)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o || ADD_ALL(json_add_bool(o, "kvm_device", v->kvm_device),
                          json_add_str(o, "cpu_flag", v->cpu_flag),
                          json_add_str(o, "cpu_unknown", v->cpu_unknown),
                          json_add_str(o, "kata_path", v->kata_path)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int np_area_virt_to_json(const NpFacts *f, json_object *o)
{
        return json_add(o, "virtualization", virt_to_json(&f->virt));
}

/* facts.peers[]: one entry per Peers= entry, as reached from this host's data address. */
static int peer_fill(json_object *o, const NpPeerFacts *p, const NpPeersFacts *pf)
{
        bool echoed = p->sent > 0, answered = echoed && p->received > 0;

        return ADD_ALL(
            json_add_str(o, "peer", p->peer), json_add_str(o, "address", p->address),
            json_add_bool(o, "self", p->self), json_add_bool(o, "in_data_cidr", p->in_data_cidr),
            json_add_str(o, "resolve_error", p->resolve_error),
            json_add_str(o, "interface", p->route_interface),
            json_add_str(o, "gateway", p->route_gateway),
            json_add_bool(o, "on_segment",
                          p->route_interface && !p->route_gateway &&
                              p->route_ifindex == pf->ifindex),
            json_add_str(o, "route_source", p->route_source),
            p->route_mtu ? json_add_u64(o, "route_mtu", p->route_mtu)
                         : json_add_null(o, "route_mtu"),
            json_add_str(o, "route_error", p->route_error), json_add_u64(o, "sent", p->sent),
            json_add_u64(o, "received", p->received),
            answered ? json_add_u64(o, "rtt_median_usec", p->rtt_median_usec)
                     : json_add_null(o, "rtt_median_usec"),
            answered ? json_add_u64(o, "rtt_max_usec", p->rtt_max_usec)
                     : json_add_null(o, "rtt_max_usec"),
            echoed ? json_add_u64(o, "full_size", p->full_size) : json_add_null(o, "full_size"),
            json_add_bool(o, "full_size_ok", p->full_size_ok),
            echoed ? json_add_u64(o, "largest_ok", p->largest_ok) : json_add_null(o, "largest_ok"),
            json_add_bool(o, "largest_exact", p->largest_exact),
            p->path_mtu ? json_add_u64(o, "path_mtu", p->path_mtu) : json_add_null(o, "path_mtu"),
            json_add_str(o, "error", p->error), json_add_str(o, "unknown", p->unknown));
}
DEFINE_ARRAY_OF_WITH(peer_fill, NpPeerFacts, const NpPeersFacts *)

/* facts.peers_probe: where the peers were probed from, and how. */
static json_object *peers_probe_to_json(const NpPeersFacts *pf)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o ||
            ADD_ALL(json_add_bool(o, "probed", pf->probed),
                    json_add_str(o, "data_cidr", pf->data_cidr),
                    json_add_str(o, "address", pf->address),
                    json_add_str(o, "interface", pf->interface),
                    pf->mtu ? json_add_u64(o, "mtu", pf->mtu) : json_add_null(o, "mtu"),
                    json_add_str(o, "other_addresses", pf->other_addresses),
                    json_add_str(o, "method", pf->method),
                    json_add_u64(o, "elapsed_usec", pf->elapsed_usec),
                    json_add_u64(o, "timeout_usec", pf->timeout_usec),
                    json_add_str(o, "unknown", pf->unknown),
                    pf->serial ? json_add_u64(o, "serial", pf->serial) : json_add_null(o, "serial"),
                    json_add_str(o, "stale", pf->stale)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int np_area_peers_to_json(const NpFacts *f, json_object *o)
{
        return ADD_ALL(
            json_add(o, "peers", ARRAY_OF(f->peers.peers, f->peers.n_peers, peer_fill, &f->peers)),
            json_add(o, "peers_probe", peers_probe_to_json(&f->peers)));
}

int np_facts_to_json(const NpFacts *f, json_object **ret)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        size_t n;
        const NpFactArea *const *areas = np_fact_areas(&n);
        int k;

        if (!o)
                return -ENOMEM;
        k = json_add_str(o, "root", f->root);
        for (size_t i = 0; k >= 0 && i < n; i++)
                k = areas[i]->to_json(f, o);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(o);
        return 0;
}

static int check_info_fill(json_object *x, const NpCheckDef *c)
{
        return ADD_ALL(json_add_str(x, "id", c->id), json_add_str(x, "title", c->title),
                       json_add_str(x, "severity", np_severity_to_string(c->severity)),
                       json_add_str(x, "source", c->source));
}
DEFINE_ARRAY_OF(check_info_fill, NpCheckDef)

static int profile_info_fill(json_object *e, const NpProfileInfo *info)
{
        const NpProfile *p = info->profile;

        return ADD_ALL(json_add(e, "checks",
                                p ? ARRAY_OF(p->checks, p->n_checks, check_info_fill)
                                  : json_object_new_array()),
                       json_add_str(e, "name", info->name), json_add_str(e, "path", info->path),
                       json_add_strv(e, "dropins", info->dropins),
                       json_add_str(e, "description", info->description),
                       json_add_str(e, "shadows", info->shadows),
                       json_add_str(e, "error", info->error));
}
DEFINE_ARRAY_OF(profile_info_fill, NpProfileInfo)

int np_profile_infos_to_json(const NpProfileInfo *infos, size_t n, json_object **ret)
{
        json_object *a = ARRAY_OF(infos, n, profile_info_fill);

        if (!a)
                return -ENOMEM;
        *ret = a;
        return 0;
}
