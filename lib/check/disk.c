/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * disk.free-ssd and disk.free-hdd: at least MinFreeSSD / MinFreeHDD free disks of that kind of at
 * least MinDiskSize. "Free" is np_disk_judge() (README "Free disks"). A disk that could not be
 * probed makes the check unknown only when it could change the verdict.
 */

#include <stdio.h>
#include <stdlib.h>

#include "check/check.h"
#include "util/strv.h"

/* Lists in observed texts stop here: a node with 1000 loop devices still gets one screen. */
#define LIST_MAX 6

static int request_disks(const NpCheckDef *def, const NpSettings *s, NpProbeRequest *req)
{
        (void)def;
        req->disks = true;
        req->min_disk_size = MAX(req->min_disk_size, s->min_disk_size);
        return 0;
}

/* "sdb 480 GB sata" */
static char *disk_label(const NpDisk *d)
{
        _cleanup_free_ char *size = np_format_bytes(d->size_bytes);

        return size ? strprintf("%s %s%s%s", d->name, size, d->transport ? " " : "",
                                strempty(d->transport))
                    : NULL;
}

/* "signature:ext4, mounted at /var/lib/kubelet, holders (dm-0)" */
static char *reasons_text(const NpDisk *d, char *const *reasons, uint64_t min_size)
{
        _cleanup_strv_free_ char **parts = NULL;
        int r = 0;

        STRV_FOREACH (w, (char **)reasons) {
                _cleanup_free_ char *list = NULL, *min = NULL;
                char *p;

                if (streq(*w, "mounted")) {
                        list = strv_join(d->mountpoints, ", ");
                        p = list ? strprintf("mounted at %s", list) : NULL;
                } else if (streq(*w, "swap")) {
                        list = strv_join(d->swaps, ", ");
                        p = list ? strprintf("swap (%s)", list) : NULL;
                } else if (streq(*w, "holders")) {
                        list = strv_join(d->holders, ", ");
                        p = list ? strprintf("holders (%s)", list) : NULL;
                } else if (streq(*w, "backing-device")) {
                        list = strv_join(d->backing_for, ", ");
                        p = list ? strprintf("backing-device (of %s)", list) : NULL;
                } else if (streq(*w, "multipath") && d->multipath) {
                        p = strprintf("multipath (%s)", d->multipath);
                } else if (streq(*w, "too-small")) {
                        min = np_format_bytes(min_size);
                        p = min ? strprintf("too-small (< %s)", min) : NULL;
                } else
                        p = strdup(*w);
                r = strv_consume(&parts, p);
                if (r < 0)
                        return NULL;
        }
        return strv_join(parts, ", ");
}

/* The operating system lives there: never suggest wiping it. */
static bool holds_system(const NpDisk *d)
{
        STRV_FOREACH (m, d->mountpoints)
                if (STR_IN_SET(*m, "/", "/usr", "/var", "/home", "/etc") || startswith(*m, "/boot"))
                        return true;
        return false;
}

/* What a person does to make d free, "" when it cannot be reused, NULL on -ENOMEM. */
static char *disk_remedy(const NpDisk *d, char *const *reasons)
{
        _cleanup_strv_free_ char **steps = NULL;
        _cleanup_free_ char *mps = strv_join(d->mountpoints, " "),
                            *swaps = strv_join(d->swaps, " "),
                            *holders = strv_join(d->holders, ", ");
        int r = 0;

        if (!mps || !swaps || !holders)
                return NULL;
        if (strv_contains(reasons, "read-only") || strv_contains(reasons, "removable") ||
            strv_contains(reasons, "usb") || strv_contains(reasons, "too-small") || d->remote ||
            holds_system(d))
                return strdup(""); /* not a candidate however it is cleaned */
        if (d->multipath)
                /* Another path to the same LUN: wiping one path wipes the other. */
                return strprintf("%s is a path of a multipath LUN (%s): give the storage product "
                                 "the LUN once, or blacklist its WWID in multipath.conf if it "
                                 "really is a separate disk",
                                 d->name, d->multipath);
        if (strv_contains(reasons, "mounted"))
                r = strv_consume(&steps,
                                 strprintf("umount %s (and remove it from /etc/fstab)", mps));
        if (r >= 0 && strv_contains(reasons, "swap"))
                r = strv_consume(&steps,
                                 strprintf("swapoff %s (and remove it from /etc/fstab)", swaps));
        if (r >= 0 && strv_contains(reasons, "holders"))
                r = strv_consume(&steps,
                                 strprintf("release it from %s (LVM: vgreduce/pvremove; md: mdadm "
                                           "--stop, then --zero-superblock; multipath: remove the "
                                           "map or blacklist the WWID)",
                                           holders));
        if (r >= 0 && strv_contains(reasons, "backing-device")) {
                _cleanup_free_ char *loops = strv_join(d->backing_for, ", ");

                r = loops ? strv_consume(&steps, strprintf("detach %s (losetup -d, or the zram "
                                                           "device's reset)",
                                                           loops))
                          : -ENOMEM;
        }
        if (r >= 0)
                r = strv_consume(&steps, strprintf("wipefs -a %s (DESTROYS ALL DATA on %s: check "
                                                   "lsblk -f %s first)",
                                                   d->path, d->name, d->path));
        if (r < 0)
                return NULL;
        return strv_join(steps, "; then ");
}

typedef struct Tally {
        char **free, **unknown, **not_free, **remedies;
        size_t n_free, n_unknown, n_not_free;
        char **other_free; /* free disks of the other kind, for the "misreported" hint */
        size_t n_other;
} Tally;

static void tally_done(Tally *t)
{
        strv_free(t->free);
        strv_free(t->unknown);
        strv_free(t->not_free);
        strv_free(t->remedies);
        strv_free(t->other_free);
}

/* Append text to a capped list: LIST_MAX entries, then nothing (the count says the rest). */
static int list_add(char ***l, size_t *n, char *text)
{
        if (!text)
                return -ENOMEM;
        if ((*n)++ >= LIST_MAX) {
                free(text);
                return 0;
        }
        return strv_consume(l, text);
}

static int tally_disk(Tally *t, const NpDisk *d, bool ssd, uint64_t min_size)
{
        _cleanup_strv_free_ char **reasons = NULL;
        _cleanup_free_ char *label = disk_label(d);
        bool is_free;
        int r;

        if (!label)
                return -ENOMEM;
        r = np_disk_judge(d, min_size, &reasons, &is_free);
        if (r < 0)
                return r;
        if (d->rotational == ssd) {
                if (is_free && !strv_contains(t->other_free, d->name))
                        return strv_extend(&t->other_free, d->name);
                return 0;
        }
        if (is_free)
                return list_add(&t->free, &t->n_free, TAKE_PTR(label));
        if (!reasons)
                return list_add(&t->unknown, &t->n_unknown,
                                strprintf("%s (%s)", label, d->unknown));
        {
                _cleanup_free_ char *why = reasons_text(d, reasons, min_size),
                                    *fix = disk_remedy(d, reasons);

                if (!why || !fix)
                        return -ENOMEM;
                if (!isempty(fix) && strv_length(t->remedies) < 3) {
                        r = strv_consume(&t->remedies, strprintf("%s: %s", d->name, fix));
                        if (r < 0)
                                return r;
                }
                return list_add(&t->not_free, &t->n_not_free, strprintf("%s (%s)", label, why));
        }
}

static char *capped_join(char **l, size_t n, const char *sep)
{
        _cleanup_free_ char *s = strv_join(l, sep);

        if (!s)
                return NULL;
        if (n > LIST_MAX)
                return strprintf("%s%s... and %zu more", s, sep, n - LIST_MAX);
        return TAKE_PTR(s);
}

static char *tally_observed(const Tally *t, const char *kind)
{
        _cleanup_free_ char *fr = capped_join(t->free, t->n_free, ", "),
                            *nf = capped_join(t->not_free, t->n_not_free, "; "),
                            *un = capped_join(t->unknown, t->n_unknown, "; ");
        _cleanup_strv_free_ char **parts = NULL;
        int r;

        if (!fr || !nf || !un)
                return NULL;
        if (t->n_free + t->n_not_free + t->n_unknown == 0)
                return strprintf("no %s found", kind);
        r = strv_consume(&parts, strprintf("free: %s", t->n_free ? fr : "none"));
        if (r >= 0 && t->n_not_free)
                r = strv_consume(&parts, strprintf("not free: %s", nf));
        if (r >= 0 && t->n_unknown)
                r = strv_consume(&parts, strprintf("could not be probed: %s", un));
        return r < 0 ? NULL : strv_join(parts, "; ");
}

static int run_free(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r, bool ssd)
{
        const NpSettings *s = ctx->settings;
        uint64_t want = ssd ? s->min_free_ssd : s->min_free_hdd;
        const char *kind = ssd ? "SSD" : "HDD", *kinds = ssd ? "SSDs" : "HDDs";
        _cleanup_free_ char *size = np_format_bytes(s->min_disk_size), *expected = NULL,
                            *observed = NULL;
        _cleanup_(tally_done) Tally t = {};
        int k;
        (void)def;

        if (!size)
                return -ENOMEM;
        expected = strprintf(">= %llu free %s of >= %s (no partitions, signatures, mounts, swap "
                             "or holders)",
                             (unsigned long long)want, want == 1 ? kind : kinds, size);
        if (!expected)
                return -ENOMEM;
        if (want == 0)
                return np_result_set(r, NP_STATUS_SKIP, NULL, expected, "%s=0",
                                     ssd ? "MinFreeSSD" : "MinFreeHDD");
        if (ctx->facts->disks_unknown)
                return np_result_set(r, NP_STATUS_UNKNOWN, NULL, expected, "%s",
                                     ctx->facts->disks_unknown);

        FOREACH_ARRAY (d, ctx->facts->disks, ctx->facts->n_disks) {
                k = tally_disk(&t, d, ssd, s->min_disk_size);
                if (k < 0)
                        return k;
        }
        observed = tally_observed(&t, ssd ? "SSD (non-rotational disk)" : "HDD (rotational disk)");
        if (!observed)
                return -ENOMEM;

        if (t.n_free >= want)
                return np_result_set(r, NP_STATUS_PASS, observed, expected, NULL);
        if (t.n_free + t.n_unknown >= want)
                return np_result_set(r, NP_STATUS_UNKNOWN, observed, expected,
                                     "%zu free %s found, %llu needed; %zu more could not be "
                                     "probed and might be free",
                                     t.n_free, t.n_free == 1 ? kind : kinds,
                                     (unsigned long long)want, t.n_unknown);

        k = np_result_set(r, NP_STATUS_FAIL, observed, expected,
                          "%zu free %s of >= %s found, %llu needed", t.n_free,
                          t.n_free == 1 ? kind : kinds, size, (unsigned long long)want);
        if (k < 0)
                return k;
        {
                _cleanup_free_ char *steps = strv_join(t.remedies, " | "),
                                    *others = strv_join(t.other_free, ", "), *hint = NULL;

                if (!steps || !others)
                        return -ENOMEM;
                /* SSDs behind RAID controllers and hypervisors often claim to be rotational. */
                if (ssd && !isempty(others))
                        hint = strprintf(" If %s is really an SSD that the kernel reports as "
                                         "rotational (RAID controller, hypervisor), set "
                                         "ATTR{queue/rotational}=\"0\" in a udev rule.",
                                         others);
                else if (!ssd && !isempty(others))
                        hint = strprintf(" Free SSDs (%s) do not count as HDDs.", others);
                else
                        hint = strdup("");
                if (!hint)
                        return -ENOMEM;
                if (!isempty(steps))
                        return np_result_remedy(r,
                                                "attach a free %s of at least %s, or reuse a "
                                                "disk whose data is no longer needed: %s.%s",
                                                kind, size, steps, hint);
                return np_result_remedy(r,
                                        "attach an %s of at least %s with no partitions or "
                                        "signatures (not USB, not removable, not read-only).%s",
                                        kind, size, hint);
        }
}

static int run_ssd(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        return run_free(ctx, def, r, true);
}

static int run_hdd(const NpCheckContext *ctx, const NpCheckDef *def, NpResult *r)
{
        return run_free(ctx, def, r, false);
}

const NpCheckType np_check_disk_free_ssd = {
        .name = "disk.free-ssd",
        .default_title = "Free SSDs",
        .request = request_disks,
        .run = run_ssd,
};

const NpCheckType np_check_disk_free_hdd = {
        .name = "disk.free-hdd",
        .default_title = "Free HDDs",
        .request = request_disks,
        .run = run_hdd,
};
