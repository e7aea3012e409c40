/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* [Apply] of the site file and the options the daemon derives from AutoApply=. */

#include <sys/stat.h>

#include "fix/fix.h"
#include "test.h"
#include "util/strv.h"

static NpSite *load(const char *text, char **ret_error)
{
        char dir[] = "/tmp/np-test-site-XXXXXX";
        _cleanup_free_ char *top = NULL, *etc = NULL, *path = NULL, *rm = NULL;
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        NpSite *site = NULL;
        FILE *f;

        ASSERT_TRUE(mkdtemp(dir));
        top = strprintf("%s/etc", dir);
        etc = strprintf("%s/etc/nodeprep", dir);
        path = strprintf("%s/nodeprep.conf", etc);
        rm = strprintf("rm -rf %s", dir);
        ASSERT_EQ(mkdir(top, 0755), 0);
        ASSERT_EQ(mkdir(etc, 0755), 0);
        f = fopen(path, "w");
        ASSERT_TRUE(f);
        fputs(text, f);
        ASSERT_EQ(fclose(f), 0);
        ASSERT_OK(np_root_new(dir, &root));
        if (np_site_load(root, NULL, &site, ret_error) < 0)
                site = NULL;
        ASSERT_EQ(system(rm), 0);
        return site;
}

TEST(auto_apply)
{
        _cleanup_(np_site_freep) NpSite *site = NULL, *empty = NULL, *packages = NULL;
        _cleanup_free_ char *error = NULL;
        NpFixOptions o = {};

        site = load("[Apply]\nAutoApply=selinux.runtime, iscsi.node-records\n"
                    "AutoApply=kmod.loaded:iscsi_tcp\nIncludeRecommended=yes\n",
                    &error);
        ASSERT_TRUE(site);
        ASSERT_EQ(strv_length(site->auto_apply), 3);
        ASSERT_TRUE(site->include_recommended);
        ASSERT_EQ(np_fix_options_auto_apply(site, &o), 1);
        ASSERT_TRUE(strv_contains(o.only, "kmod.loaded:iscsi_tcp"));
        ASSERT_TRUE(o.update_node_records && !o.install_packages && o.include_recommended);
        np_fix_options_done(&o);

        /* The consent comes from the fix type of the check's type (package-install). */
        packages = load("[Apply]\nAutoApply=iscsi.installed\n", &error);
        ASSERT_TRUE(packages);
        ASSERT_EQ(np_fix_options_auto_apply(packages, &o), 1);
        ASSERT_TRUE(o.install_packages && !o.update_node_records);
        ASSERT_TRUE(np_fix_options_consent(&o, NP_CONSENT_PACKAGES));
        ASSERT_TRUE(np_fix_options_consent(&o, NP_CONSENT_NONE));
        ASSERT_STREQ(np_fix_consent_option(NP_CONSENT_PACKAGES), "--install-packages");
        np_fix_options_done(&o);

        /* An empty assignment resets the list: the daemon then fixes nothing by itself. */
        empty = load("[Apply]\nAutoApply=selinux.runtime\nAutoApply=\n", &error);
        ASSERT_TRUE(empty);
        ASSERT_EQ(np_fix_options_auto_apply(empty, &o), 0);
        ASSERT_NULL(o.only);
}

TEST(errors)
{
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL;

        ASSERT_NULL(load("[Apply]\nAutoApply=bogus\n", &e1));
        ASSERT_CONTAINS(e1, "nodeprep.conf:2: AutoApply=: \"bogus\" is not a check id");
        ASSERT_NULL(load("[Apply]\nIncludeRecommended=perhaps\n", &e2));
        ASSERT_CONTAINS(e2, "nodeprep.conf:2: IncludeRecommended=perhaps: expected yes or no");
        ASSERT_NULL(load("[Apply]\nAutoapply=x.y\n", &e3));
        ASSERT_CONTAINS(e3, "unknown key Autoapply= in [Apply]");
}

static const TestCase tests[] = { T(auto_apply), T(errors) };

RUN_TESTS(tests)
