/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Files nodeprepd keeps for fleet tools after every evaluation: the Node Feature Discovery
 * feature file (FeatureFile=) and the node_exporter textfile-collector file (MetricsFile=).
 *
 * Each is replaced atomically: a hidden temporary file in the same directory (NFD skips dot-files,
 * node_exporter reads only *.prom) is written, fsync()ed and renamed over the old one, so a
 * reader sees the old content or the new, never a mix. A file is written only when its content
 * differs from what is on disk, so NFD's inotify watch fires only for a real change. Moving a
 * file elsewhere or turning it off removes the one nodeprepd wrote before (only if it still holds
 * nodeprepd's header: a file someone else put there stays). A failure is logged once per distinct
 * error, and retried at the next evaluation.
 *
 * The feature file expires (NFD's "# +expiry-time=" directive), so the labels of a host whose
 * nodeprepd died go away instead of saying "ready" for ever: it is written with a lifetime of
 * twice RescanSec= plus two minutes (the re-scan timer's accuracy is one), and written again,
 * with the same labels, by the first evaluation that finds less than RescanSec= plus two
 * minutes left. The hourly re-scan is such an evaluation at the latest, so this adds no wake-up.
 * RescanSec=0 (no re-scan) writes no expiry: nothing would renew it.
 */

#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/manager.h"
#include "evaluate.h"
#include "fix/exec/file-edit.h"
#include "util/strv.h"

#define NFD_HEADER     "# Node Feature Discovery labels from nodeprepd"
#define METRICS_HEADER "# HELP nodeprep_profile_ready "
/* The re-scan timer's accuracy (manager.c), doubled: what the feature file's lifetime allows for
 * a late re-scan. */
#define NFD_SLACK_USEC (2ULL * 60ULL * 1000000ULL)

typedef struct Output {
        const char *what; /* "feature file", "metrics file" */
        const char *header;
        size_t max_size;
        char **written; /* Manager field: the path last written, as in the root */
        char **error;   /* Manager field: the last error logged */
        /* The file on disk need not be written again; NULL: when its bytes are the same. */
        int (*unchanged)(Manager *m, const char *old, size_t old_size, const char *text);
} Output;

static void output_error(const Output *o, const char *path, const char *text)
{
        _cleanup_free_ char *msg = strprintf("%s %s: %s", o->what, path, text);

        if (!msg || streq_ptr(*o->error, msg))
                return;
        log_error("Cannot write the %s", msg);
        free(*o->error);
        *o->error = TAKE_PTR(msg);
}

/* 1 when the file was written, 0 when it was unchanged or the error is logged, -ENOMEM. */
static int output_write(Manager *m, const Output *o, const char *path, const char *text);

/* Remove the file written before at another path (or when the output was turned off). */
static void output_forget(Manager *m, const Output *o, const char *now)
{
        _cleanup_free_ char *data = NULL;
        size_t size;

        if (!*o->written || streq_ptr(*o->written, now))
                return;
        if (np_root_read_file(m->root, *o->written, o->max_size, &data, &size) >= 0 &&
            strncmp(data, o->header, strlen(o->header)) == 0) {
                int r = np_file_remove(m->root, *o->written);

                if (r < 0)
                        log_warning_errno(r, "Cannot remove the old %s %s: %m", o->what,
                                          *o->written);
                else
                        log_info("Removed the %s %s (no longer configured)", o->what, *o->written);
        }
        *o->written = mfree(*o->written);
}

static int output_write(Manager *m, const Output *o, const char *path, const char *text)
{
        _cleanup_free_ char *old = NULL, *temp = NULL, *dir = NULL, *error = NULL;
        size_t old_size, len = strlen(text);
        char *slash;
        int r;

        output_forget(m, o, path);
        if (!path)
                return 0;
        r = np_root_read_file(m->root, path, o->max_size, &old, &old_size);
        if (r >= 0)
                r = o->unchanged ? o->unchanged(m, old, old_size, text)
                                 : old_size == len && memcmp(old, text, len) == 0;
        if (r == -ENOMEM)
                return r;
        if (r > 0) {
                if (!*o->written && !(*o->written = strdup(path)))
                        return -ENOMEM;
                *o->error = mfree(*o->error);
                return 0; /* unchanged */
        }

        dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                r = np_mkdir_p_in_root(m->root, dir, 0755);
                if (r < 0) {
                        _cleanup_free_ char *t =
                            strprintf("cannot create the directory %s: %s%s", dir, strerror(-r),
                                      r == -EROFS ? " (create it, or allow it with "
                                                    "ReadWritePaths= in nodeprepd.service)"
                                                  : "");

                        output_error(o, path, t ? t : "out of memory");
                        return 0;
                }
        }
        temp = np_temp_name(path);
        if (!temp)
                return -ENOMEM;
        r = np_file_write_atomic(m->root, path, text, len,
                                 &(NpFileWrite){ .temp_name = temp, .mode = 0644 }, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                output_error(o, path, error ? error : strerror(-r));
                return 0;
        }
        if (*o->error)
                log_info("Wrote the %s %s again", o->what, path);
        r = 1;
        *o->error = mfree(*o->error);
        if (!streq_ptr(*o->written, path) && free_and_strdup(o->written, path) < 0)
                return -ENOMEM;
        log_debug("Wrote the %s %s (%zu bytes)", o->what, path, len);
        return r;
}

static uint64_t rescan_usec(Manager *m)
{
        return m->config ? m->config->site->daemon.rescan_usec : 0;
}

/* The same labels, and the expiry not due for renewal (or none, as asked). */
static int nfd_unchanged(Manager *m, const char *old, size_t old_size, const char *text)
{
        _cleanup_free_ char *old_rest = NULL, *new_rest = NULL;
        uint64_t old_expiry, new_expiry, rescan = rescan_usec(m);
        int r;

        r = np_nfd_split_expiry(old, old_size, &old_expiry, &old_rest);
        if (r >= 0)
                r = np_nfd_split_expiry(text, strlen(text), &new_expiry, &new_rest);
        if (r < 0)
                return r;
        if (!streq(old_rest, new_rest))
                return 0;
        if (rescan == 0)
                return old_expiry == 0;
        return old_expiry > np_now_usec() + rescan + NFD_SLACK_USEC;
}

int manager_write_outputs(Manager *m)
{
        const NpDaemonSettings *d = m->config ? &m->config->site->daemon : NULL;
        const Output nfd = { "feature file",  NFD_HEADER,    NP_NFD_MAX_SIZE,
                             &m->nfd_written, &m->nfd_error, nfd_unchanged };
        const Output metrics = { "metrics file",      METRICS_HEADER,    16U << 20,
                                 &m->metrics_written, &m->metrics_error, NULL };
        uint64_t rescan = rescan_usec(m);
        int r;

        if (!m->report)
                return 0;
        if (d && d->feature_file) {
                _cleanup_free_ char *text = NULL;
                _cleanup_strv_free_ char **skipped = NULL;

                r = np_report_to_nfd(m->report,
                                     rescan > 0 ? np_now_usec() + 2 * rescan + NFD_SLACK_USEC : 0,
                                     &text, &skipped);
                if (r == -EFBIG)
                        output_error(&nfd, d->feature_file,
                                     "the labels exceed 64 KiB, which Node Feature Discovery "
                                     "ignores");
                else if (r < 0)
                        return r;
                else {
                        r = output_write(m, &nfd, d->feature_file, text);
                        if (r < 0)
                                return r;
                        /* Said when the file changes, not at every evaluation. */
                        STRV_FOREACH (s, r > 0 ? skipped : NULL)
                                log_warning("No label for profile %.*s: " NP_NFD_PREFIX
                                            "%s is not a valid Kubernetes label name",
                                            (int)(strlen(*s) - strlen(".ready")), *s, *s);
                }
        } else
                output_forget(m, &nfd, NULL);

        if (d && d->metrics_file) {
                _cleanup_free_ char *text = np_report_to_metrics(m->report, &m->counters);

                if (!text)
                        return -ENOMEM;
                r = output_write(m, &metrics, d->metrics_file, text);
                if (r < 0)
                        return r;
        } else
                output_forget(m, &metrics, NULL);
        return 0;
}
