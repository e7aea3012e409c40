/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON report (schema_version 1, see DESIGN.md and nodeprepctl(8)) and the facts as JSON. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/strv.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

/* Add key: string or null. Returns -ENOMEM on allocation failure. */
static int add_str(json_object *o, const char *key, const char *value)
{
        json_object *v = NULL;

        if (value && !(v = json_object_new_string(value)))
                return -ENOMEM;
        return json_object_object_add(o, key, v) < 0 ? -ENOMEM : 0;
}

static int add_obj(json_object *o, const char *key, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int add_bool(json_object *o, const char *key, bool v)
{
        return add_obj(o, key, json_object_new_boolean(v));
}

static int add_u64(json_object *o, const char *key, uint64_t v)
{
        return add_obj(o, key, json_object_new_uint64(v));
}

static int add_int(json_object *o, const char *key, int64_t v)
{
        return add_obj(o, key, json_object_new_int64(v));
}

static int add_strv(json_object *o, const char *key, char *const *l)
{
        json_object *a = json_object_new_array();

        if (!a)
                return -ENOMEM;
        STRV_FOREACH (s, (char **)l) {
                json_object *v = json_object_new_string(*s);

                if (!v || json_object_array_add(a, v) < 0) {
                        json_object_put(v);
                        json_object_put(a);
                        return -ENOMEM;
                }
        }
        return add_obj(o, key, a);
}

static int array_push(json_object *a, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* Run a list of add_*() calls, stopping at the first failure. */
#define ADD_ALL(...)                                                            \
        ({                                                                      \
                int _rs_[] = { __VA_ARGS__ };                                   \
                int _r_ = 0;                                                    \
                for (size_t _i_ = 0; _i_ < ELEMENTSOF(_rs_) && _r_ >= 0; _i_++) \
                        _r_ = _rs_[_i_];                                        \
                _r_;                                                            \
        })

static json_object *result_to_json(const NpResult *res)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        if (ADD_ALL(add_str(o, "id", res->id), add_str(o, "title", res->title),
                    add_str(o, "severity", np_severity_to_string(res->severity)),
                    add_str(o, "status", np_status_to_string(res->status)),
                    add_str(o, "observed", res->observed), add_str(o, "expected", res->expected),
                    add_str(o, "message", res->message), add_str(o, "fix", res->fix),
                    add_str(o, "remedy", res->remedy), add_str(o, "source", res->source),
                    add_bool(o, "ignored", res->ignored),
                    add_str(o, "override", res->override)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_object *profile_to_json(const NpProfileReport *p)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                *summary = json_object_new_object(),
                                                *checks = json_object_new_array(),
                                                *settings = json_object_new_object();

        if (!o || !summary || !checks || !settings)
                return NULL;
        for (NpStatus s = 0; s < _NP_STATUS_MAX; s++)
                if (add_u64(summary, np_status_to_string(s), p->summary[s]) < 0)
                        return NULL;
        for (size_t i = 0; i < p->n_results; i++)
                if (array_push(checks, result_to_json(&p->results[i])) < 0)
                        return NULL;
        STRV_FOREACH (s, p->settings) {
                _cleanup_free_ char *k = strndup(*s, strcspn(*s, "="));

                if (!k || add_str(settings, k, *s + strlen(k) + 1) < 0)
                        return NULL;
        }
        if (ADD_ALL(add_str(o, "name", p->name), add_str(o, "description", p->description),
                    add_str(o, "source", p->source), add_bool(o, "ready", p->ready),
                    add_obj(o, "summary", TAKE_PTR(summary)),
                    add_obj(o, "settings", TAKE_PTR(settings)),
                    add_obj(o, "checks", TAKE_PTR(checks))) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int np_report_to_json(const NpReport *r, bool with_facts, json_object **ret)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                *host = json_object_new_object(),
                                                *profiles = json_object_new_array();
        _cleanup_free_ char *ts = np_format_timestamp(r->generated_at_usec);
        int k;

        if (!o || !host || !profiles || !ts)
                return -ENOMEM;
        k = ADD_ALL(add_str(host, "hostname", r->hostname), add_str(host, "os_id", r->os_id),
                    add_str(host, "os_version", r->os_version), add_str(host, "kernel", r->kernel));
        if (k < 0)
                return k;
        for (size_t i = 0; i < r->n_profiles; i++)
                if (array_push(profiles, profile_to_json(&r->profiles[i])) < 0)
                        return -ENOMEM;
        k = ADD_ALL(add_int(o, "schema_version", NP_REPORT_SCHEMA_VERSION),
                    add_obj(o, "host", TAKE_PTR(host)), add_str(o, "generated_at", ts),
                    add_bool(o, "ready", r->ready), add_obj(o, "profiles", TAKE_PTR(profiles)),
                    add_strv(o, "warnings", r->warnings));
        if (k < 0)
                return k;
        if (with_facts && r->facts) {
                json_object *f = NULL;

                k = np_facts_to_json(r->facts, &f);
                if (k < 0)
                        return k;
                k = add_obj(o, "facts", f);
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

/* --- facts ---------------------------------------------------------------------------------- */

static json_object *key_values_to_json(const NpKeyValue *kv, size_t n)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(json_object_putp) json_object *e = json_object_new_object();

                if (!e ||
                    ADD_ALL(add_str(e, "key", kv[i].key), add_str(e, "value", kv[i].value),
                            add_u64(e, "line", kv[i].line)) < 0 ||
                    array_push(a, TAKE_PTR(e)) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

static json_object *problems_to_json(const NpConfProblem *p, size_t n)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(json_object_putp) json_object *e = json_object_new_object();

                if (!e ||
                    ADD_ALL(add_u64(e, "line", p[i].line), add_str(e, "key", p[i].key),
                            add_str(e, "problem", p[i].problem)) < 0 ||
                    array_push(a, TAKE_PTR(e)) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

static json_object *system_to_json(const NpSystemFacts *s)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                *k = json_object_new_object();
        _cleanup_free_ char *v = s->kubelet_path && !s->kubelet_unknown
                                     ? np_version_to_string(&s->kubelet_version)
                                     : NULL;

        if (!o || !k)
                return NULL;
        if (ADD_ALL(add_str(k, "path", s->kubelet_path), add_str(k, "output", s->kubelet_output),
                    add_str(k, "version", v), add_str(k, "unknown", s->kubelet_unknown)) < 0)
                return NULL;
        if (ADD_ALL(add_str(o, "hostname", s->hostname), add_str(o, "os_id", s->os_id),
                    add_strv(o, "os_id_like", s->os_id_like),
                    add_str(o, "os_version_id", s->os_version_id),
                    add_str(o, "os_pretty_name", s->os_pretty_name),
                    add_str(o, "os_unknown", s->os_unknown),
                    add_str(o, "distro", np_distro_family_to_string(s->distro)),
                    add_str(o, "kernel", s->kernel), add_u64(o, "cpus", s->cpus),
                    add_u64(o, "memory_bytes", s->memory_bytes),
                    add_obj(o, "kubelet", TAKE_PTR(k))) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_object *selinux_to_json(const NpSelinuxFacts *s)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        if (ADD_ALL(
                add_str(o, "runtime",
                        s->runtime_unknown ? NULL : np_selinux_mode_to_string(s->runtime)),
                add_str(o, "runtime_detail", s->runtime_detail),
                add_str(o, "runtime_unknown", s->runtime_unknown),
                add_bool(o, "config_present", s->config_present),
                add_str(o, "config", s->config_set ? np_selinux_mode_to_string(s->config) : NULL),
                add_str(o, "config_value", s->config_value),
                add_u64(o, "config_line", s->config_line),
                add_str(o, "config_unknown", s->config_unknown),
                s->cmdline_enforcing >= 0 ? add_int(o, "cmdline_enforcing", s->cmdline_enforcing)
                                          : add_str(o, "cmdline_enforcing", NULL),
                add_str(o, "cmdline_unknown", s->cmdline_unknown)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_object *iscsi_to_json(const NpIscsiFacts *i)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                *conf = json_object_new_object(),
                                                *nodes = json_object_new_array();

        if (!o || !conf || !nodes)
                return NULL;
        if (ADD_ALL(
                add_str(conf, "path", i->conf_path), add_bool(conf, "present", i->conf_present),
                add_obj(conf, "settings", key_values_to_json(i->conf.settings, i->conf.n_settings)),
                add_obj(conf, "problems", problems_to_json(i->conf.problems, i->conf.n_problems)),
                add_str(conf, "unknown", i->conf_unknown)) < 0)
                return NULL;
        FOREACH_ARRAY (n, i->nodes, i->n_nodes) {
                _cleanup_(json_object_putp) json_object *e = json_object_new_object();

                if (!e ||
                    ADD_ALL(add_str(e, "path", n->path), add_str(e, "target", n->target),
                            add_str(e, "portal", n->portal),
                            add_obj(e, "settings",
                                    key_values_to_json(n->record.settings, n->record.n_settings)),
                            add_obj(e, "problems",
                                    problems_to_json(n->record.problems, n->record.n_problems)),
                            add_str(e, "unknown", n->unknown)) < 0 ||
                    array_push(nodes, TAKE_PTR(e)) < 0)
                        return NULL;
        }
        if (ADD_ALL(add_str(o, "iscsiadm", i->iscsiadm_path),
                    add_strv(o, "unit_files", i->unit_files), add_obj(o, "conf", TAKE_PTR(conf)),
                    add_str(o, "initiator_name", i->initiator_name),
                    add_strv(o, "nodes_dirs", i->nodes_dirs), add_obj(o, "nodes", TAKE_PTR(nodes)),
                    add_str(o, "nodes_unknown", i->nodes_unknown)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_object *modules_to_json(const NpFacts *f)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        FOREACH_ARRAY (m, f->modules, f->n_modules) {
                _cleanup_(json_object_putp) json_object *e = json_object_new_object();

                if (!e ||
                    ADD_ALL(add_str(e, "name", m->name), add_str(e, "canonical", m->canonical),
                            add_str(e, "state",
                                    m->unknown ? NULL : np_module_state_to_string(m->state)),
                            add_str(e, "detail", m->state_detail),
                            add_str(e, "unknown", m->unknown),
                            add_strv(e, "persisted_in", m->persisted_in),
                            add_strv(e, "not_applied", m->not_applied),
                            add_str(e, "blacklisted", m->blacklisted),
                            add_str(e, "persist_unknown", m->persist_unknown)) < 0 ||
                    array_push(a, TAKE_PTR(e)) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

static json_object *units_to_json(const NpFacts *f)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        FOREACH_ARRAY (u, f->units, f->n_units) {
                _cleanup_(json_object_putp) json_object *e = json_object_new_object();

                if (!e ||
                    ADD_ALL(add_str(e, "name", u->name), add_str(e, "load_state", u->load_state),
                            add_str(e, "active_state", u->active_state),
                            add_str(e, "sub_state", u->sub_state),
                            add_str(e, "unit_file_state", u->unit_file_state),
                            add_str(e, "unknown", u->unknown)) < 0 ||
                    array_push(a, TAKE_PTR(e)) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

static json_object *fs_to_json(const NpFacts *f)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        FOREACH_ARRAY (s, f->fs, f->n_fs) {
                _cleanup_(json_object_putp) json_object *e = json_object_new_object();
                bool known = !s->unknown;

                if (!e ||
                    ADD_ALL(add_str(e, "path", s->path), add_str(e, "probed_path", s->probed_path),
                            add_str(e, "mount_point", s->mount_point),
                            add_str(e, "fs_type", s->fs_type),
                            add_str(e, "source", s->mount_source),
                            known ? add_u64(e, "free_bytes", s->free_bytes)
                                  : add_str(e, "free_bytes", NULL),
                            known ? add_u64(e, "total_bytes", s->total_bytes)
                                  : add_str(e, "total_bytes", NULL),
                            add_str(e, "unknown", s->unknown)) < 0 ||
                    array_push(a, TAKE_PTR(e)) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

static json_object *disks_to_json(const NpFacts *f)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        FOREACH_ARRAY (d, f->disks, f->n_disks) {
                _cleanup_(json_object_putp) json_object *e = json_object_new_object();
                char devnum[32];

                snprintf(devnum, sizeof(devnum), "%u:%u", d->major, d->minor);
                if (!e ||
                    ADD_ALL(add_str(e, "name", d->name), add_str(e, "path", d->path),
                            add_str(e, "id", d->id), add_str(e, "devnum", devnum),
                            add_u64(e, "size_bytes", d->size_bytes),
                            add_bool(e, "rotational", d->rotational),
                            add_str(e, "kind", np_disk_kind(d)),
                            add_str(e, "transport", d->transport), add_str(e, "model", d->model),
                            add_str(e, "vendor", d->vendor), add_str(e, "serial", d->serial),
                            add_str(e, "wwn", d->wwn), add_bool(e, "removable", d->removable),
                            add_bool(e, "read_only", d->read_only),
                            add_strv(e, "partitions", d->partitions),
                            add_str(e, "partition_table", d->partition_table),
                            add_strv(e, "signatures", d->signatures),
                            add_str(e, "signatures_source", d->signatures_source),
                            add_strv(e, "mountpoints", d->mountpoints),
                            add_strv(e, "swap", d->swaps), add_strv(e, "holders", d->holders),
                            add_strv(e, "backing_for", d->backing_for),
                            add_str(e, "multipath", d->multipath), add_str(e, "remote", d->remote),
                            add_bool(e, "free", d->free), add_strv(e, "reasons", d->reasons),
                            add_str(e, "unknown", d->unknown)) < 0 ||
                    array_push(a, TAKE_PTR(e)) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

static json_object *links_to_json(const NpFacts *f)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        FOREACH_ARRAY (l, f->links, f->n_links) {
                _cleanup_(json_object_putp) json_object *e = json_object_new_object(),
                                                        *addrs = json_object_new_array(),
                                                        *unusable = json_object_new_array();

                if (!e || !addrs || !unusable)
                        return NULL;
                /* "addresses": what the link can use; the others with the kernel's reason. */
                FOREACH_ARRAY (ad, l->addresses, l->n_addresses) {
                        _cleanup_free_ char *t = ad->unusable
                                                     ? strprintf("%s %s", ad->text, ad->unusable)
                                                     : strdup(ad->text);

                        if (!t || array_push(ad->unusable ? unusable : addrs,
                                             json_object_new_string(t)) < 0)
                                return NULL;
                }
                if (ADD_ALL(add_str(e, "name", l->name), add_int(e, "ifindex", l->ifindex),
                            add_str(e, "kind", np_link_kind_to_string(l->kind)),
                            add_str(e, "kind_detail", l->kind_detail),
                            add_str(e, "operstate", l->operstate),
                            add_bool(e, "admin_up", l->admin_up),
                            add_bool(e, "carrier", l->carrier), add_bool(e, "up", np_link_is_up(l)),
                            l->speed_mbps >= 0 ? add_int(e, "speed_mbps", l->speed_mbps)
                                               : add_str(e, "speed_mbps", NULL),
                            add_str(e, "speed_source", l->speed_source),
                            add_str(e, "duplex", l->duplex), add_u64(e, "mtu", l->mtu),
                            add_str(e, "mac", l->mac), add_str(e, "master", l->master),
                            add_str(e, "parent", l->parent), add_strv(e, "members", l->members),
                            add_obj(e, "addresses", TAKE_PTR(addrs)),
                            add_obj(e, "unusable_addresses", TAKE_PTR(unusable))) < 0 ||
                    array_push(a, TAKE_PTR(e)) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

static json_object *endpoints_to_json(const NpFacts *f)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        FOREACH_ARRAY (e, f->endpoints, f->n_endpoints) {
                _cleanup_(json_object_putp) json_object *o = json_object_new_object();

                if (!o ||
                    ADD_ALL(add_str(o, "name", e->name), add_str(o, "address", e->address),
                            add_bool(o, "reachable", e->reachable),
                            add_str(o, "connected", e->connected),
                            add_str(o, "error_kind", e->error_kind), add_str(o, "error", e->error),
                            add_u64(o, "elapsed_ms", e->elapsed_ms)) < 0 ||
                    array_push(a, TAKE_PTR(o)) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

static json_object *tools_to_json(const NpFacts *f)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        FOREACH_ARRAY (t, f->tools, f->n_tools) {
                _cleanup_(json_object_putp) json_object *o = json_object_new_object();
                _cleanup_free_ char *v = t->has_version ? np_version_to_string(&t->version) : NULL;

                if (!o ||
                    ADD_ALL(add_str(o, "name", t->name), add_str(o, "path", t->path),
                            add_str(o, "output", t->output), add_str(o, "version", v),
                            add_str(o, "unknown", t->unknown)) < 0 ||
                    array_push(a, TAKE_PTR(o)) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

static json_object *layouts_to_json(const NpFacts *f)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        FOREACH_ARRAY (l, f->layouts, f->n_layouts) {
                _cleanup_(json_object_putp) json_object *o = json_object_new_object(),
                                                        *entries = json_object_new_array();

                if (!o || !entries)
                        return NULL;
                FOREACH_ARRAY (e, l->entries, l->n_entries) {
                        _cleanup_(json_object_putp) json_object *x = json_object_new_object();

                        if (!x ||
                            ADD_ALL(add_str(x, "path", e->path), add_bool(x, "exists", e->exists),
                                    add_str(x, "type",
                                            !e->exists      ? NULL
                                            : e->is_dir     ? "directory"
                                            : e->is_regular ? "file"
                                                            : "other"),
                                    add_u64(x, "uid", e->uid), add_u64(x, "gid", e->gid),
                                    add_u64(x, "size", e->size),
                                    add_str(x, "unknown", e->unknown)) < 0 ||
                            array_push(entries, TAKE_PTR(x)) < 0)
                                return NULL;
                }
                if (ADD_ALL(add_str(o, "path", l->path), add_obj(o, "entries", TAKE_PTR(entries))) <
                        0 ||
                    array_push(a, TAKE_PTR(o)) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

static json_object *virt_to_json(const NpVirtFacts *v)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o ||
            ADD_ALL(add_bool(o, "kvm_device", v->kvm_device), add_str(o, "cpu_flag", v->cpu_flag),
                    add_str(o, "cpu_unknown", v->cpu_unknown),
                    add_str(o, "kata_path", v->kata_path)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int np_facts_to_json(const NpFacts *f, json_object **ret)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        int k;

        if (!o)
                return -ENOMEM;
        k = ADD_ALL(
            add_str(o, "root", f->root), add_obj(o, "system", system_to_json(&f->system)),
            add_obj(o, "selinux", selinux_to_json(&f->selinux)),
            add_obj(o, "iscsi", iscsi_to_json(&f->iscsi)),
            add_obj(o, "modules", modules_to_json(f)),
            add_str(o, "modules_load_unknown", f->modules_load_dirs_unknown),
            add_obj(o, "units", units_to_json(f)), add_obj(o, "filesystems", fs_to_json(f)),
            add_obj(o, "endpoints", endpoints_to_json(f)), add_obj(o, "tools", tools_to_json(f)),
            add_obj(o, "layouts", layouts_to_json(f)),
            add_obj(o, "virtualization", virt_to_json(&f->virt)),
            add_obj(o, "disks", disks_to_json(f)),
            add_bool(o, "disks_include_loop", f->disks_include_loop),
            add_str(o, "disks_unknown", f->disks_unknown), add_obj(o, "links", links_to_json(f)),
            add_str(o, "links_unknown", f->links_unknown));
        if (k < 0)
                return k;
        *ret = TAKE_PTR(o);
        return 0;
}

int np_profile_infos_to_json(const NpProfileInfo *infos, size_t n, json_object **ret)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(json_object_putp) json_object *e = json_object_new_object(),
                                                        *checks = json_object_new_array();

                if (!e || !checks)
                        return -ENOMEM;
                if (infos[i].profile)
                        FOREACH_ARRAY (c, infos[i].profile->checks, infos[i].profile->n_checks) {
                                _cleanup_(json_object_putp) json_object *x =
                                    json_object_new_object();

                                if (!x ||
                                    ADD_ALL(
                                        add_str(x, "id", c->id), add_str(x, "title", c->title),
                                        add_str(x, "severity", np_severity_to_string(c->severity)),
                                        add_str(x, "source", c->source)) < 0 ||
                                    array_push(checks, TAKE_PTR(x)) < 0)
                                        return -ENOMEM;
                        }
                if (ADD_ALL(add_obj(e, "checks", TAKE_PTR(checks))) < 0 ||
                    ADD_ALL(add_str(e, "name", infos[i].name), add_str(e, "path", infos[i].path),
                            add_strv(e, "dropins", infos[i].dropins),
                            add_str(e, "description", infos[i].description),
                            add_str(e, "shadows", infos[i].shadows),
                            add_str(e, "error", infos[i].error)) < 0 ||
                    array_push(a, TAKE_PTR(e)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(a);
        return 0;
}
