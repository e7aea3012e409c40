/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * modules-load.d as systemd 252's systemd-modules-load reads it. The expected lines were
 * recorded by running Debian 12's systemd-modules-load on the same trees
 * (tests/fixtures/modules-load/SOURCES.md).
 */

#include "probe/modules-load.h"
#include "test.h"
#include "util/strv.h"

static char **applied_names(const char *tree)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        NpModulesLoad ml = {};
        char path[4096], *error = NULL, **names = calloc(1, sizeof(char *));

        snprintf(path, sizeof(path), "%s/modules-load/%s", FIXTURES, tree);
        ASSERT_OK(np_root_new(path, &root));
        ASSERT_OK(np_modules_load_read(root, &ml, &error));
        ASSERT_NULL(error);
        FOREACH_ARRAY (l, ml.lines, ml.n_lines)
                if (l->applied)
                        ASSERT_OK(strv_extend(&names, l->text));
        np_modules_load_done(&ml);
        return names;
}

static void assert_names(char **names, const char *expected)
{
        _cleanup_free_ char *joined = strv_join(names, "|");

        ASSERT_STREQ(joined, expected);
        strv_free(names);
}

TEST(debian12)
{
        /* /etc/modules (through the modules.conf symlink) holds only comments. */
        assert_names(applied_names("debian12"), "dm-multipath");
}

TEST(rhel9)
{
        assert_names(applied_names("rhel9"), "fuse|overlay|br_netfilter");
}

TEST(edge)
{
        /* /dev/null and empty-file masks, CRLF, ';' comments, whole-line names, byte order. */
        assert_names(applied_names("edge"),
                     "iscsi_tcp|rbd # not a comment|nbd max_part=8|dm_thin_pool|ceph|xfs");
}

TEST(hidden_lines_are_kept_for_diagnostics)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        NpModulesLoad ml = {};
        char path[4096], *error = NULL;
        bool seen = false;

        snprintf(path, sizeof(path), "%s/modules-load/edge", FIXTURES);
        ASSERT_OK(np_root_new(path, &root));
        ASSERT_OK(np_modules_load_read(root, &ml, &error));
        FOREACH_ARRAY (l, ml.lines, ml.n_lines)
                if (!l->applied && streq(l->text, "nvme_tcp")) {
                        ASSERT_STREQ(l->hidden_by, "/run/modules-load.d/20-nvme.conf");
                        seen = true;
                }
        ASSERT_TRUE(seen);
        np_modules_load_done(&ml);
}

TEST(parse_lines)
{
        NpModulesLoad ml = {};
        const char text[] = "\xef\xbb\xbf# bom\n a\t\n;c\n\n b \r\nc\rd\0e\n";

        ASSERT_OK(np_modules_load_parse("/x.conf", text, sizeof(text) - 1, true, NULL, &ml));
        ASSERT_EQ(ml.n_lines, 6);
        /* systemd-modules-load reads lines with read_line(), which does not drop a byte order
         * mark (only the unit-file parser does): the line is a (bogus) module name. */
        ASSERT_STREQ(ml.lines[0].text, "\xef\xbb\xbf# bom");
        ASSERT_STREQ(ml.lines[1].text, "a");
        ASSERT_EQ(ml.lines[1].line, 2);
        ASSERT_STREQ(ml.lines[2].text, "b");
        ASSERT_STREQ(ml.lines[3].text, "c");
        ASSERT_STREQ(ml.lines[4].text, "d");
        ASSERT_STREQ(ml.lines[5].text, "e");
        np_modules_load_done(&ml);
}

TEST(normalize)
{
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        ASSERT_OK(np_module_name_normalize("dm-multipath", &a));
        ASSERT_STREQ(a, "dm_multipath");
        ASSERT_OK(np_module_name_normalize("pci:v[0-9]*-x", &b));
        ASSERT_STREQ(b, "pci:v[0-9]*_x");
        ASSERT_EQ(np_module_name_normalize("bad]name", &a), -EINVAL);
        /* underscores(): a '[' never closed fails the name, as a stray ']' does. */
        ASSERT_EQ(np_module_name_normalize("z[e-x", &a), -EINVAL);
        /* ... and a '[' inside [...] is skipped over with the rest up to the ']'. */
        ASSERT_OK(np_module_name_normalize("a-[b[c-d]-e", &c));
        ASSERT_STREQ(c, "a_[b[c-d]_e");
}

static const TestCase tests[] = { T(debian12),    T(rhel9),
                                  T(edge),        T(hidden_lines_are_kept_for_diagnostics),
                                  T(parse_lines), T(normalize) };
RUN_TESTS(tests)
