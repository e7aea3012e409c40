/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Construction, lookup and destruction of NpFacts. */

#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "probe/area.h"
#include "util/strv.h"

NpFacts *np_facts_new(void)
{
        NpFacts *f = calloc(1, sizeof(*f));

        if (!f)
                return NULL;
        f->system.distro = NP_DISTRO_OTHER;
        f->selinux.cmdline_enforcing = -1;
        f->selinux.next_lsm = -1;
        return f;
}

void np_key_values_free(NpKeyValue *kv, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

void np_iscsi_record_done(NpIscsiRecord *r)
{
        np_key_values_free(r->settings, r->n_settings);
        FOREACH_ARRAY (p, r->problems, r->n_problems) {
                free(p->key);
                free(p->problem);
        }
        free(r->problems);
        free(r->undefined);
        *r = (NpIscsiRecord){};
}

const NpKeyValue *np_key_values_get(const NpKeyValue *kv, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (streq(kv[i].key, key))
                        return &kv[i];
        return NULL;
}

void np_area_system_done(NpFacts *f)
{
        NpSystemFacts *s = &f->system;

        free(s->hostname);
        free(s->os_id);
        strv_free(s->os_id_like);
        free(s->os_version_id);
        free(s->os_pretty_name);
        free(s->os_unknown);
        free(s->kernel);
        free(s->package_tool);
        free(s->machine_id);
        free(s->machine_id_unknown);
        free(s->product_uuid);
        free(s->product_uuid_unknown);
}

void np_area_selinux_done(NpFacts *f)
{
        NpSelinuxFacts *s = &f->selinux;

        free(s->runtime_detail);
        free(s->runtime_unknown);
        free(s->config_value);
        free(s->config_unknown);
        free(s->cmdline_unknown);
        free(s->next_lsm_detail);
        free(s->next_detail);
        free(s->next_unknown);
}

void np_area_boot_done(NpFacts *f)
{
        NpBootFacts *b = &f->boot;

        strv_free(b->kernels);
        free(b->kernel);
        free(b->kernel_source);
        free(b->kernel_unknown);
        free(b->cmdline);
        free(b->cmdline_source);
        free(b->cmdline_unknown);
        free(b->config_path);
        strv_free(b->config);
        free(b->config_unknown);
}

void np_area_iscsi_done(NpFacts *f)
{
        NpIscsiFacts *i = &f->iscsi;

        free(i->iscsiadm_path);
        strv_free(i->unit_files);
        free(i->start_requires_conf);
        free(i->start_unknown);
        free(i->start_fails);
        free(i->conf_path);
        np_iscsi_record_done(&i->conf);
        free(i->conf_unknown);
        free(i->initiator_name);
        strv_free(i->nodes_dirs);
        for (size_t k = 0; k < i->n_nodes; k++) {
                free(i->nodes[k].path);
                free(i->nodes[k].target);
                free(i->nodes[k].portal);
                np_iscsi_record_done(&i->nodes[k].record);
                free(i->nodes[k].unknown);
        }
        free(i->nodes);
        free(i->nodes_unknown);
        free(i->version);
        free(i->version_source);
        free(i->version_unknown);
}

void np_disk_done(NpDisk *d)
{
        free(d->name);
        free(d->path);
        free(d->id);
        free(d->transport);
        free(d->model);
        free(d->vendor);
        free(d->serial);
        free(d->wwn);
        strv_free(d->partitions);
        free(d->partition_table);
        strv_free(d->signatures);
        free(d->signatures_source);
        strv_free(d->mountpoints);
        strv_free(d->swaps);
        strv_free(d->holders);
        strv_free(d->backing_for);
        free(d->multipath);
        free(d->remote);
        strv_free(d->reasons);
        free(d->unknown);
        *d = (NpDisk){};
}

void np_disks_free(NpDisk *disks, size_t n)
{
        FOREACH_ARRAY (d, disks, n)
                np_disk_done(d);
        free(disks);
}

/* A copy of src (NULL stays NULL) into *dst; false when out of memory. */
static bool copy_str(char **dst, const char *src)
{
        return !src || (*dst = strdup(src));
}

static bool copy_strv(char ***dst, char *const *src)
{
        return !src || (*dst = strv_copy(src));
}

int np_disk_copy(const NpDisk *src, NpDisk *ret)
{
        NpDisk d = {
                .major = src->major,
                .minor = src->minor,
                .size_bytes = src->size_bytes,
                .rotational = src->rotational,
                .removable = src->removable,
                .read_only = src->read_only,
                .loop = src->loop,
                .free = src->free,
        };

        if (!copy_str(&d.name, src->name) || !copy_str(&d.path, src->path) ||
            !copy_str(&d.id, src->id) || !copy_str(&d.transport, src->transport) ||
            !copy_str(&d.model, src->model) || !copy_str(&d.vendor, src->vendor) ||
            !copy_str(&d.serial, src->serial) || !copy_str(&d.wwn, src->wwn) ||
            !copy_strv(&d.partitions, src->partitions) ||
            !copy_str(&d.partition_table, src->partition_table) ||
            !copy_strv(&d.signatures, src->signatures) ||
            !copy_str(&d.signatures_source, src->signatures_source) ||
            !copy_strv(&d.mountpoints, src->mountpoints) || !copy_strv(&d.swaps, src->swaps) ||
            !copy_strv(&d.holders, src->holders) || !copy_strv(&d.backing_for, src->backing_for) ||
            !copy_str(&d.multipath, src->multipath) || !copy_str(&d.remote, src->remote) ||
            !copy_strv(&d.reasons, src->reasons) || !copy_str(&d.unknown, src->unknown)) {
                np_disk_done(&d);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

void np_link_done(NpLink *l)
{
        free(l->name);
        free(l->kind_detail);
        free(l->operstate);
        free(l->speed_source);
        free(l->duplex);
        free(l->mac);
        free(l->master);
        free(l->parent);
        strv_free(l->members);
        FOREACH_ARRAY (a, l->addresses, l->n_addresses)
                free(a->text);
        free(l->addresses);
        *l = (NpLink){};
}

void np_links_free(NpLink *links, size_t n)
{
        FOREACH_ARRAY (l, links, n)
                np_link_done(l);
        free(links);
}

void np_peers_facts_done(NpPeersFacts *p)
{
        FOREACH_ARRAY (e, p->peers, p->n_peers) {
                free(e->peer);
                free(e->address);
                free(e->resolve_error);
                free(e->route_interface);
                free(e->route_gateway);
                free(e->route_source);
                free(e->route_error);
                free(e->error);
                free(e->unknown);
        }
        free(p->peers);
        free(p->data_cidr);
        free(p->address);
        free(p->interface);
        free(p->other_addresses);
        free(p->method);
        free(p->unknown);
        free(p->stale);
        *p = (NpPeersFacts){};
}

int np_link_copy(const NpLink *src, NpLink *ret)
{
        NpLink l = {
                .ifindex = src->ifindex,
                .kind = src->kind,
                .admin_up = src->admin_up,
                .carrier = src->carrier,
                .speed_mbps = src->speed_mbps,
                .mtu = src->mtu,
        };
        bool ok = copy_str(&l.name, src->name) && copy_str(&l.kind_detail, src->kind_detail) &&
                  copy_str(&l.operstate, src->operstate) &&
                  copy_str(&l.speed_source, src->speed_source) &&
                  copy_str(&l.duplex, src->duplex) && copy_str(&l.mac, src->mac) &&
                  copy_str(&l.master, src->master) && copy_str(&l.parent, src->parent) &&
                  copy_strv(&l.members, src->members);

        if (ok && src->n_addresses > 0) {
                l.addresses = calloc(src->n_addresses, sizeof(NpLinkAddress));
                ok = l.addresses;
                for (size_t i = 0; ok && i < src->n_addresses; i++) {
                        l.addresses[i] = src->addresses[i];
                        l.addresses[i].text = NULL;
                        l.n_addresses++;
                        ok = copy_str(&l.addresses[i].text, src->addresses[i].text);
                }
        }
        if (!ok) {
                np_link_done(&l);
                return -ENOMEM;
        }
        *ret = l;
        return 0;
}

void np_area_modules_done(NpFacts *f)
{
        FOREACH_ARRAY (m, f->modules, f->n_modules) {
                free(m->name);
                free(m->canonical);
                free(m->state_detail);
                free(m->unknown);
                strv_free(m->persisted_in);
                strv_free(m->not_applied);
                free(m->blacklisted);
                free(m->persist_unknown);
                free(m->next_detail);
                free(m->next_unknown);
                free(m->prevented);
                free(m->prevented_unknown);
                strv_free(m->notes);
                free(m->load_prevented);
                free(m->load_prevented_unknown);
        }
        free(f->modules);
        free(f->modules_load_dirs_unknown);
        free(f->modules_load_masked);
        free(f->modules_load_etc_unusable);
}

void np_area_units_done(NpFacts *f)
{
        FOREACH_ARRAY (u, f->units, f->n_units) {
                free(u->name);
                free(u->load_state);
                free(u->active_state);
                free(u->sub_state);
                free(u->unit_file_state);
                free(u->file);
                free(u->unknown);
                free(u->start_fails);
        }
        free(f->units);
}

void np_area_fs_done(NpFacts *f)
{
        FOREACH_ARRAY (s, f->fs, f->n_fs) {
                free(s->path);
                free(s->probed_path);
                free(s->mount_point);
                free(s->fs_type);
                free(s->mount_source);
                free(s->unknown);
        }
        free(f->fs);
}

void np_area_endpoints_done(NpFacts *f)
{
        FOREACH_ARRAY (e, f->endpoints, f->n_endpoints) {
                free(e->name);
                free(e->address);
                free(e->connected);
                free(e->error_kind);
                free(e->error);
        }
        free(f->endpoints);
}

void np_area_tools_done(NpFacts *f)
{
        FOREACH_ARRAY (t, f->tools, f->n_tools) {
                free(t->name);
                free(t->path);
                free(t->output);
                free(t->unknown);
        }
        free(f->tools);
}

void np_area_layouts_done(NpFacts *f)
{
        FOREACH_ARRAY (l, f->layouts, f->n_layouts) {
                FOREACH_ARRAY (e, l->entries, l->n_entries) {
                        free(e->path);
                        free(e->unknown);
                }
                free(l->entries);
                free(l->path);
        }
        free(f->layouts);
}

void np_area_virt_done(NpFacts *f)
{
        free(f->virt.cpu_flag);
        free(f->virt.cpu_unknown);
        free(f->virt.kata_path);
}

void np_area_disks_done(NpFacts *f)
{
        np_disks_free(f->disks, f->n_disks);
        free(f->disks_unknown);
}

void np_area_links_done(NpFacts *f)
{
        np_links_free(f->links, f->n_links);
        free(f->links_unknown);
}

void np_area_peers_done(NpFacts *f)
{
        np_peers_facts_done(&f->peers);
}

NpFacts *np_facts_free(NpFacts *f)
{
        size_t n;
        const NpFactArea *const *areas = np_fact_areas(&n);

        if (!f)
                return NULL;
        free(f->root);
        for (size_t i = 0; i < n; i++)
                areas[i]->done(f);
        free(f);
        return NULL;
}

/* Grow an array of n elements of size sz by one zeroed element; NULL on failure. */
static void *array_append(void **array, size_t *n, size_t sz)
{
        char *a = reallocarray(*array, *n + 1, sz);

        if (!a)
                return NULL;
        *array = a;
        memset(a + *n * sz, 0, sz);
        return a + (*n)++ * sz;
}

const NpModuleFacts *np_facts_module(const NpFacts *f, const char *name)
{
        FOREACH_ARRAY (m, f->modules, f->n_modules)
                if (streq(m->name, name))
                        return m;
        return NULL;
}

const NpUnitFacts *np_facts_unit(const NpFacts *f, const char *name)
{
        FOREACH_ARRAY (u, f->units, f->n_units)
                if (streq(u->name, name))
                        return u;
        return NULL;
}

const NpFsFacts *np_facts_fs(const NpFacts *f, const char *path)
{
        FOREACH_ARRAY (s, f->fs, f->n_fs)
                if (streq(s->path, path))
                        return s;
        return NULL;
}

const NpLink *np_facts_link(const NpFacts *f, const char *name)
{
        FOREACH_ARRAY (l, f->links, f->n_links)
                if (streq(l->name, name))
                        return l;
        return NULL;
}

const NpPeerFacts *np_facts_peer(const NpFacts *f, const char *peer)
{
        FOREACH_ARRAY (p, f->peers.peers, f->peers.n_peers)
                if (streq(p->peer, peer))
                        return p;
        return NULL;
}

const NpDisk *np_facts_disk(const NpFacts *f, const char *name)
{
        FOREACH_ARRAY (d, f->disks, f->n_disks)
                if (streq(d->name, name))
                        return d;
        return NULL;
}

NpModuleFacts *np_facts_add_module(NpFacts *f, const char *name)
{
        NpModuleFacts *m = (NpModuleFacts *)np_facts_module(f, name);
        char *key;

        if (m)
                return m;
        key = strdup(name);
        if (!key || !(m = array_append((void **)&f->modules, &f->n_modules, sizeof(*m)))) {
                free(key);
                return NULL;
        }
        m->name = key;
        m->state = NP_MODULE_MISSING; /* zero would read as "loaded" */
        return m;
}

NpUnitFacts *np_facts_add_unit(NpFacts *f, const char *name)
{
        NpUnitFacts *u = (NpUnitFacts *)np_facts_unit(f, name);
        char *key;

        if (u)
                return u;
        key = strdup(name);
        if (!key || !(u = array_append((void **)&f->units, &f->n_units, sizeof(*u)))) {
                free(key);
                return NULL;
        }
        u->name = key;
        return u;
}

NpFsFacts *np_facts_add_fs(NpFacts *f, const char *path)
{
        NpFsFacts *s = (NpFsFacts *)np_facts_fs(f, path);
        char *key;

        if (s)
                return s;
        key = strdup(path);
        if (!key || !(s = array_append((void **)&f->fs, &f->n_fs, sizeof(*s)))) {
                free(key);
                return NULL;
        }
        s->path = key;
        return s;
}

const NpEndpointFacts *np_facts_endpoint(const NpFacts *f, const char *name)
{
        FOREACH_ARRAY (e, f->endpoints, f->n_endpoints)
                if (streq(e->name, name))
                        return e;
        return NULL;
}

const NpToolFacts *np_facts_tool(const NpFacts *f, const char *name)
{
        FOREACH_ARRAY (t, f->tools, f->n_tools)
                if (streq(t->name, name))
                        return t;
        return NULL;
}

const NpLayoutFacts *np_facts_layout(const NpFacts *f, const char *path)
{
        FOREACH_ARRAY (l, f->layouts, f->n_layouts)
                if (streq(l->path, path))
                        return l;
        return NULL;
}

const NpLayoutEntry *np_layout_entry(const NpLayoutFacts *l, const char *path)
{
        FOREACH_ARRAY (e, l->entries, l->n_entries)
                if (streq(e->path, path))
                        return e;
        return NULL;
}

/* Find or append an entry whose first member is a string equal to key. */
#define FIND_OR_ADD(array, n, key)                                                              \
        ({                                                                                      \
                typeof(&(array)[0]) _e_ = NULL;                                                 \
                for (size_t _i_ = 0; _i_ < (n) && !_e_; _i_++)                                  \
                        if (streq(*(char **)&(array)[_i_], (key)))                              \
                                _e_ = &(array)[_i_];                                            \
                if (!_e_) {                                                                     \
                        char *_k_ = strdup(key);                                                \
                        if (_k_ && (_e_ = array_append((void **)&(array), &(n), sizeof(*_e_)))) \
                                *(char **)_e_ = _k_;                                            \
                        else                                                                    \
                                free(_k_);                                                      \
                }                                                                               \
                _e_;                                                                            \
        })

NpEndpointFacts *np_facts_add_endpoint(NpFacts *f, const char *name)
{
        return FIND_OR_ADD(f->endpoints, f->n_endpoints, name);
}

NpToolFacts *np_facts_add_tool(NpFacts *f, const char *name)
{
        return FIND_OR_ADD(f->tools, f->n_tools, name);
}

NpLayoutFacts *np_facts_add_layout(NpFacts *f, const char *path)
{
        return FIND_OR_ADD(f->layouts, f->n_layouts, path);
}

static const char *const selinux_mode_table[_NP_SELINUX_MODE_MAX] = {
        [NP_SELINUX_DISABLED] = "disabled",
        [NP_SELINUX_PERMISSIVE] = "permissive",
        [NP_SELINUX_ENFORCING] = "enforcing",
};

const char *np_selinux_mode_to_string(NpSelinuxMode m)
{
        return m >= 0 && m < _NP_SELINUX_MODE_MAX ? selinux_mode_table[m] : NULL;
}

static const char *const module_state_table[_NP_MODULE_STATE_MAX] = {
        [NP_MODULE_LOADED] = "loaded",
        [NP_MODULE_BUILTIN] = "builtin",
        [NP_MODULE_AVAILABLE] = "available",
        [NP_MODULE_MISSING] = "missing",
};

const char *np_module_state_to_string(NpModuleState s)
{
        return s >= 0 && s < _NP_MODULE_STATE_MAX ? module_state_table[s] : NULL;
}

static const char *const distro_table[_NP_DISTRO_MAX] = {
        [NP_DISTRO_DEBIAN] = "debian",
        [NP_DISTRO_RHEL] = "rhel",
        [NP_DISTRO_SUSE] = "suse",
        [NP_DISTRO_OTHER] = "other",
};

const char *np_distro_family_to_string(NpDistroFamily d)
{
        return d >= 0 && d < _NP_DISTRO_MAX ? distro_table[d] : NULL;
}

NpDistroFamily np_distro_family_from_os_release(const char *id, char *const *id_like)
{
        static const struct {
                const char *id;
                NpDistroFamily family;
        } ids[] = {
                { "debian", NP_DISTRO_DEBIAN },
                { "ubuntu", NP_DISTRO_DEBIAN },
                { "rhel", NP_DISTRO_RHEL },
                { "fedora", NP_DISTRO_RHEL },
                { "centos", NP_DISTRO_RHEL },
                { "rocky", NP_DISTRO_RHEL },
                { "almalinux", NP_DISTRO_RHEL },
                { "ol", NP_DISTRO_RHEL },
                { "suse", NP_DISTRO_SUSE },
                { "sles", NP_DISTRO_SUSE },
                { "opensuse", NP_DISTRO_SUSE },
                { "opensuse-leap", NP_DISTRO_SUSE },
                { "opensuse-tumbleweed", NP_DISTRO_SUSE },
        };

        /* ID first, then ID_LIKE in order, as os-release(5) says. */
        for (size_t i = 0; id && i < ELEMENTSOF(ids); i++)
                if (streq(id, ids[i].id))
                        return ids[i].family;
        STRV_FOREACH (like, (char **)id_like)
                for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                        if (streq(*like, ids[i].id))
                                return ids[i].family;
        return NP_DISTRO_OTHER;
}

void np_probe_request_done(NpProbeRequest *req)
{
        strv_free(req->modules);
        strv_free(req->units);
        strv_free(req->fs_paths);
        FOREACH_ARRAY (e, req->endpoints, req->n_endpoints) {
                free(e->name);
                free(e->address);
        }
        free(req->endpoints);
        FOREACH_ARRAY (t, req->tools, req->n_tools) {
                free(t->name);
                strv_free(t->args);
        }
        free(req->tools);
        FOREACH_ARRAY (l, req->layouts, req->n_layouts) {
                free(l->path);
                strv_free(l->entries);
        }
        free(req->layouts);
        np_peers_request_done(&req->peers);
        {
                size_t n;
                const NpFactArea *const *rows = np_fact_areas(&n);

                FOREACH_ARRAY (row, rows, n)
                        if ((*row)->request_done)
                                (*row)->request_done(req);
        }
        *req = (NpProbeRequest){};
}

void np_peers_request_done(NpPeersRequest *r)
{
        strv_free(r->peers);
        *r = (NpPeersRequest){};
}

int np_peers_request_copy(NpPeersRequest *dst, const NpPeersRequest *src)
{
        *dst = *src;
        dst->peers = NULL;
        if (src->peers && !(dst->peers = strv_copy(src->peers)))
                return -ENOMEM;
        return 0;
}

int np_probe_request_add_peers(NpProbeRequest *req, char *const *peers, const NpCidr *data_cidr,
                               uint64_t timeout_usec)
{
        /* The first data CIDR asked for is the one probed from; a check of a profile with another
         * one says so instead of reading these facts. */
        if (!req->peers.peers)
                req->peers.data_cidr = *data_cidr;
        STRV_FOREACH (p, (char **)peers)
                if (strv_extend_unique(&req->peers.peers, *p) < 0)
                        return -ENOMEM;
        req->peers.timeout_usec = MAX(req->peers.timeout_usec, timeout_usec);
        return 0;
}

int np_probe_request_add_endpoint(NpProbeRequest *req, const char *name, const char *address,
                                  unsigned timeout_ms)
{
        NpEndpointRequest *e = FIND_OR_ADD(req->endpoints, req->n_endpoints, name);

        if (!e || free_and_strdup(&e->address, address) < 0)
                return -ENOMEM;
        e->timeout_ms = MAX(e->timeout_ms, timeout_ms);
        return 0;
}

int np_probe_request_add_tool(NpProbeRequest *req, const char *name, char *const *args)
{
        NpToolRequest *t = FIND_OR_ADD(req->tools, req->n_tools, name);

        if (!t)
                return -ENOMEM;
        if (!args && t->args) /* the program's own version command unless a profile says */
                return 0;
        strv_free(t->args);
        t->args = strv_copy(args);
        return t->args ? 0 : -ENOMEM;
}

int np_probe_request_add_layout(NpProbeRequest *req, const char *path, char *const *entries)
{
        NpLayoutRequest *l = FIND_OR_ADD(req->layouts, req->n_layouts, path);

        if (!l)
                return -ENOMEM;
        STRV_FOREACH (e, (char **)entries)
                if (strv_extend_unique(&l->entries, *e) < 0)
                        return -ENOMEM;
        return 0;
}

/* --- disks and links ------------------------------------------------------------------------ */

const char *np_disk_kind(const NpDisk *d)
{
        return d->rotational ? "hdd" : "ssd";
}

int np_disk_judge(const NpDisk *d, uint64_t min_size, char ***ret_reasons, bool *ret_free)
{
        _cleanup_strv_free_ char **reasons = NULL;
        int r = 0;

        /* Order: what holds data first, then what makes the device unusable. */
        if (strv_length(d->partitions) > 0)
                r = strv_extend(&reasons, "partitions");
        if (r >= 0 && d->partition_table) {
                _cleanup_free_ char *w = strprintf("partition-table:%s", d->partition_table);

                r = w ? strv_extend_unique(&reasons, w) : -ENOMEM;
        }
        STRV_FOREACH (s, d->signatures) {
                _cleanup_free_ char *w = strprintf("signature:%s", *s);

                if (r >= 0)
                        r = w ? strv_extend_unique(&reasons, w) : -ENOMEM;
        }
        if (r >= 0 && strv_length(d->mountpoints) > 0)
                r = strv_extend(&reasons, "mounted");
        if (r >= 0 && strv_length(d->swaps) > 0)
                r = strv_extend(&reasons, "swap");
        if (r >= 0 && strv_length(d->holders) > 0)
                r = strv_extend(&reasons, "holders");
        if (r >= 0 && strv_length(d->backing_for) > 0)
                r = strv_extend(&reasons, "backing-device");
        if (r >= 0 && d->multipath)
                r = strv_extend(&reasons, "multipath");
        if (r >= 0 && d->remote) {
                _cleanup_free_ char *w = strprintf("remote:%s", d->remote);

                r = w ? strv_extend(&reasons, w) : -ENOMEM;
        }
        if (r >= 0 && d->read_only)
                r = strv_extend(&reasons, "read-only");
        if (r >= 0 && d->removable)
                r = strv_extend(&reasons, "removable");
        if (r >= 0 && streq_ptr(d->transport, "usb"))
                r = strv_extend(&reasons, "usb");
        if (r >= 0 && d->size_bytes < min_size)
                r = strv_extend(&reasons, "too-small");
        if (r < 0)
                return r;
        *ret_free = !reasons && !d->unknown;
        *ret_reasons = TAKE_PTR(reasons);
        return 0;
}

bool np_link_is_up(const NpLink *l)
{
        /* RFC 2863 "unknown" with carrier is how tap and several real drivers report a working
         * link; systemd-networkd calls that "carrier". Admin state must be up as well. */
        if (!l->admin_up)
                return false;
        if (streq_ptr(l->operstate, "up"))
                return true;
        return streq_ptr(l->operstate, "unknown") && l->carrier;
}

static const char *const link_kind_table[_NP_LINK_KIND_MAX] = {
        [NP_LINK_PHYSICAL] = "physical", [NP_LINK_BOND] = "bond",
        [NP_LINK_TEAM] = "team",         [NP_LINK_VLAN] = "vlan",
        [NP_LINK_BRIDGE] = "bridge",     [NP_LINK_VETH] = "veth",
        [NP_LINK_TAP] = "tap",           [NP_LINK_TUN] = "tun",
        [NP_LINK_MACVLAN] = "macvlan",   [NP_LINK_VXLAN] = "vxlan",
        [NP_LINK_LOOPBACK] = "loopback", [NP_LINK_VIRTUAL] = "virtual",
};

const char *np_link_kind_to_string(NpLinkKind k)
{
        return k >= 0 && k < _NP_LINK_KIND_MAX ? link_kind_table[k] : NULL;
}
