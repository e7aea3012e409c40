/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hardware virtualisation (for Kata containers): /dev/kvm, the CPU's vmx/svm flag, a Kata runtime.
 */

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probe/probe.h"
#include "util/strv.h"

static const char *const kata_paths[] = {
        "/usr/bin/kata-runtime",
        "/usr/local/bin/kata-runtime",
        "/opt/kata/bin/kata-runtime",
        "/usr/bin/containerd-shim-kata-v2",
        "/usr/local/bin/containerd-shim-kata-v2",
        "/opt/kata/bin/containerd-shim-kata-v2",
};

/* The first "flags" line of /proc/cpuinfo names vmx (Intel VT-x) or svm (AMD-V). */
static int probe_cpu_flag(const NpRoot *root, NpVirtFacts *v)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        int r;

        r = np_root_read_file(root, "/proc/cpuinfo", 16U * 1024U * 1024U, &data, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                v->cpu_unknown = np_probe_reason(root, "/proc/cpuinfo", r);
                return v->cpu_unknown ? 0 : -ENOMEM;
        }
        r = strv_split(data, "\n", &lines);
        if (r < 0)
                return r;
        STRV_FOREACH (l, lines) {
                _cleanup_strv_free_ char **words = NULL;

                if (!startswith(*l, "flags"))
                        continue;
                r = strv_split(*l, " \t:", &words);
                if (r < 0)
                        return r;
                if (strv_contains(words, "vmx"))
                        return free_and_strdup(&v->cpu_flag, "vmx");
                if (strv_contains(words, "svm"))
                        return free_and_strdup(&v->cpu_flag, "svm");
                return 0;
        }
        v->cpu_unknown = strdup("/proc/cpuinfo has no flags line");
        return v->cpu_unknown ? 0 : -ENOMEM;
}

int np_probe_virt(const NpRoot *root, NpFacts *f)
{
        NpVirtFacts *v = &f->virt;
        struct stat st;
        int r;

        v->kvm_device = np_root_stat(root, "/dev/kvm", &st) >= 0 && S_ISCHR(st.st_mode);
        r = probe_cpu_flag(root, v);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(kata_paths); i++)
                if (np_root_stat(root, kata_paths[i], &st) >= 0 && S_ISREG(st.st_mode) &&
                    (st.st_mode & 0111))
                        return free_and_strdup(&v->kata_path, kata_paths[i]);
        return 0;
}
