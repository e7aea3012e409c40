/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The running-system steps that can be exercised without changing this machine: libkmod
 * loading against a fake module tree (init_module/finit_module are refused by a seccomp filter
 * first, so nothing can reach the kernel) and running programs.
 */

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "fix/exec/runtime.h"
#include "test.h"
#include "util/strv.h"

#define KVER "6.1.0-28-amd64"

/* From here on this process gets EPERM from init_module and finit_module. */
static void forbid_module_loading(void)
{
        struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_init_module, 2, 0),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_finit_module, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        };
        struct sock_fprog prog = { .len = ELEMENTSOF(filter), .filter = filter };

        ASSERT_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        ASSERT_EQ(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
}

TEST(kmod_error_text)
{
        ASSERT_CONTAINS(np_kmod_error_text(KMOD_PROBE_APPLY_BLACKLIST), "blacklisted");
        ASSERT_CONTAINS(np_kmod_error_text(-EPERM), "kernel.modules_disabled=1");
        ASSERT_CONTAINS(np_kmod_error_text(-ENOENT), "not installed for the running kernel");
        ASSERT_CONTAINS(np_kmod_error_text(-ENOEXEC), "another kernel version");
        ASSERT_CONTAINS(np_kmod_error_text(-EKEYREJECTED), "signature");
        ASSERT_CONTAINS(np_kmod_error_text(-ENOKEY), "signature");
        ASSERT_NULL(np_kmod_error_text(-EXDEV));
}

/* A module tree with one (unloadable) module file and a built-in dm_mod, indexed by depmod. */
static bool make_tree(const char *dir)
{
        _cleanup_free_ char *cmd = strprintf(
            "set -e; d=%s/lib/modules/" KVER "; mkdir -p $d/kernel/drivers/scsi %s/etc/modprobe.d; "
            "printf 'static const char n[] __attribute__((section(\".modinfo\"), used)) = "
            "\"name=np_fake_tcp\";\\n' > $d/m.c; "
            "cc -c $d/m.c -o $d/kernel/drivers/scsi/np_fake_tcp.ko; rm $d/m.c; "
            "echo kernel/drivers/md/dm-mod.ko > $d/modules.builtin; "
            /* What kernels since 5.2 install beside it: without it kmod 28 (Debian 11) does not
             * fall back to modules.builtin (libkmod-builtin.c returns -ENOENT, not -ENOSYS). */
            "printf 'dm_mod.file=drivers/md/dm-mod\\000' > $d/modules.builtin.modinfo; "
            "PATH=$PATH:/sbin:/usr/sbin depmod -b %s " KVER " 2>/dev/null",
            dir, dir, dir);

        return cmd && system(cmd) == 0;
}

static struct kmod_ctx *ctx_for(const char *dir, const char *modprobe_conf)
{
        _cleanup_free_ char *moddir = strprintf("%s/lib/modules/" KVER, dir),
                            *confdir = strprintf("%s/etc/modprobe.d", dir),
                            *conf = strprintf("%s/etc/modprobe.d/test.conf", dir);
        const char *paths[] = { confdir, NULL };
        FILE *f = fopen(conf, "w");
        struct kmod_ctx *ctx;

        ASSERT_TRUE(f);
        fputs(modprobe_conf, f);
        ASSERT_EQ(fclose(f), 0);
        ctx = kmod_new(moddir, paths);
        ASSERT_TRUE(ctx);
        return ctx;
}

TEST(kmod_load)
{
        char dir[] = "/tmp/np-test-kmod-XXXXXX";
        _cleanup_free_ char *rm = NULL;
        struct kmod_ctx *ctx;

        ASSERT_TRUE(mkdtemp(dir));
        rm = strprintf("rm -rf %s", dir);
        if (!make_tree(dir)) {
                printf("# skipping kmod_load: needs cc and depmod\n");
                (void)!system(rm);
                return;
        }
        forbid_module_loading();

        {
                _cleanup_free_ char *detail = NULL, *error = NULL;

                /* Found and not blacklisted: libkmod tries, the (filtered) kernel says EPERM. */
                ctx = ctx_for(dir, "alias np-fake-alias np_fake_tcp\n");
                ASSERT_EQ(np_kmod_load(ctx, "np_fake_tcp", &detail, &error), -EPERM);
                ASSERT_CONTAINS(error, "cannot load np_fake_tcp: not permitted");
                kmod_unref(ctx);
        }
        {
                _cleanup_free_ char *error = NULL, *error2 = NULL;

                /* Blacklisted, by name and through an alias: refused before any syscall. */
                ctx = ctx_for(dir, "alias np-fake-alias np_fake_tcp\nblacklist np_fake_tcp\n");
                ASSERT_EQ(np_kmod_load(ctx, "np_fake_tcp", NULL, &error), -EPERM);
                ASSERT_CONTAINS(error, "blacklisted in modprobe.d");
                ASSERT_EQ(np_kmod_load(ctx, "np-fake-alias", NULL, &error2), -EPERM);
                ASSERT_CONTAINS(error2, "cannot load np_fake_tcp: blacklisted");
                kmod_unref(ctx);
        }
        {
                _cleanup_free_ char *detail = NULL, *error = NULL, *error2 = NULL;

                ctx = ctx_for(dir, "");
                ASSERT_EQ(np_kmod_load(ctx, "np_no_such_module", NULL, &error), -ENOENT);
                ASSERT_CONTAINS(error, "no module of that name or alias");
                /* Built in: nothing to load, and it says so. */
                ASSERT_EQ(np_kmod_load(ctx, "dm-mod", &detail, &error2), 0);
                ASSERT_STREQ(detail, "dm_mod already in the kernel");
                kmod_unref(ctx);
        }
        ASSERT_EQ(system(rm), 0);
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

TEST(command_run)
{
        _cleanup_free_ char *out = NULL, *out2 = NULL, *out3 = NULL, *out4 = NULL;
        uint64_t t;

        ASSERT_EQ(np_command_run(STRV_MAKE("echo", "hello", "world"), NULL, 5, &out), 0);
        ASSERT_STREQ(out, "hello world\n");
        ASSERT_EQ(np_command_run(STRV_MAKE("sh", "-c", "echo \"$NP_X\" >&2; exit 3"),
                                 STRV_MAKE("NP_X=from env"), 5, &out2),
                  3);
        ASSERT_STREQ(out2, "from env\n");
        /* stdin is /dev/null: a program asking a question gets EOF, not the terminal. */
        ASSERT_EQ(np_command_run(STRV_MAKE("sh", "-c", "read x || echo eof"), NULL, 5, &out3), 0);
        ASSERT_STREQ(out3, "eof\n");
        ASSERT_EQ(np_command_run(STRV_MAKE("np-no-such-program"), NULL, 5, NULL), -ENOENT);
        ASSERT_EQ(np_command_run(STRV_MAKE("sh", "-c", "kill -9 $$"), NULL, 5, NULL), 128 + 9);

        t = now_ms();
        ASSERT_EQ(np_command_run(STRV_MAKE("sleep", "30"), NULL, 1, &out4), -ETIMEDOUT);
        ASSERT_TRUE(now_ms() - t < 5000);
}

static const TestCase tests[] = { T(kmod_error_text), T(command_run), T(kmod_load) };

RUN_TESTS(tests)
