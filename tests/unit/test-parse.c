/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Value parsers: sizes, booleans, CIDRs, versions. */

#include <arpa/inet.h>

#include "test.h"
#include "util/parse.h"
#include "util/strv.h"

TEST(size)
{
        uint64_t v;

        ASSERT_OK(np_parse_size("100GB", &v));
        ASSERT_EQ(v, 100000000000ULL);
        ASSERT_OK(np_parse_size("60 GB", &v));
        ASSERT_EQ(v, 60000000000ULL);
        ASSERT_OK(np_parse_size("2Gi", &v));
        ASSERT_EQ(v, 2ULL << 30);
        ASSERT_OK(np_parse_size("2GiB", &v));
        ASSERT_EQ(v, 2ULL << 30);
        ASSERT_OK(np_parse_size("1.5G", &v));
        ASSERT_EQ(v, 3ULL << 29);
        ASSERT_OK(np_parse_size("512", &v));
        ASSERT_EQ(v, 512);
        ASSERT_OK(np_parse_size("1MB", &v));
        ASSERT_EQ(v, 1000000);
        ASSERT_EQ(np_parse_size("100QB", &v), -EINVAL);
        ASSERT_EQ(np_parse_size("-1G", &v), -EINVAL);
        ASSERT_EQ(np_parse_size("G", &v), -EINVAL);
        ASSERT_EQ(np_parse_size("", &v), -EINVAL);
        ASSERT_EQ(np_parse_size("1.G", &v), -EINVAL);
        ASSERT_EQ(np_parse_size("99999999999999999999", &v), -ERANGE);
        ASSERT_EQ(np_parse_size("20EiB", &v), -ERANGE);
}

TEST(boolean_and_u64)
{
        bool b;
        uint64_t u;

        ASSERT_OK(np_parse_boolean("yes", &b));
        ASSERT_TRUE(b);
        ASSERT_OK(np_parse_boolean("OFF", &b));
        ASSERT_TRUE(!b);
        ASSERT_EQ(np_parse_boolean("maybe", &b), -EINVAL);
        ASSERT_OK(np_parse_u64("163840", &u));
        ASSERT_EQ(u, 163840);
        ASSERT_EQ(np_parse_u64("163840abc", &u), -EINVAL);
        ASSERT_EQ(np_parse_u64(" 1", &u), -EINVAL);
        ASSERT_EQ(np_parse_u64("-1", &u), -EINVAL);
}

TEST(cidr)
{
        NpCidr c;
        unsigned char a4[4], a6[16];
        _cleanup_free_ char *s = NULL;

        ASSERT_OK(np_parse_cidr("10.20.0.0/24", &c));
        ASSERT_EQ(c.family, AF_INET);
        ASSERT_EQ(c.prefixlen, 24);
        inet_pton(AF_INET, "10.20.0.77", a4);
        ASSERT_TRUE(np_cidr_contains(&c, AF_INET, a4));
        inet_pton(AF_INET, "10.20.1.1", a4);
        ASSERT_TRUE(!np_cidr_contains(&c, AF_INET, a4));

        /* Host bits are masked off, as Go's net.ParseCIDR does. */
        ASSERT_OK(np_parse_cidr("10.20.0.5/22", &c));
        s = np_cidr_to_string(&c);
        ASSERT_STREQ(s, "10.20.0.0/22");
        inet_pton(AF_INET, "10.20.3.200", a4);
        ASSERT_TRUE(np_cidr_contains(&c, AF_INET, a4));

        ASSERT_OK(np_parse_cidr("fd00:10::/64", &c));
        inet_pton(AF_INET6, "fd00:10::1", a6);
        ASSERT_TRUE(np_cidr_contains(&c, AF_INET6, a6));
        inet_pton(AF_INET6, "fd00:11::1", a6);
        ASSERT_TRUE(!np_cidr_contains(&c, AF_INET6, a6));
        ASSERT_TRUE(!np_cidr_contains(&c, AF_INET, a4));

        ASSERT_OK(np_parse_cidr("0.0.0.0/0", &c));
        ASSERT_TRUE(np_cidr_contains(&c, AF_INET, a4));

        ASSERT_EQ(np_parse_cidr("10.0.0.0/33", &c), -EINVAL);
        ASSERT_EQ(np_parse_cidr("10.0.0.0", &c), -EINVAL);
        ASSERT_EQ(np_parse_cidr("10.0.0/24", &c), -EINVAL);
        ASSERT_EQ(np_parse_cidr("fd00::/129", &c), -EINVAL);
        ASSERT_EQ(np_parse_cidr("10.0.0.0/x", &c), -EINVAL);
        ASSERT_EQ(np_parse_cidr("/24", &c), -EINVAL);
}

TEST(version)
{
        NpVersion v, w;

        ASSERT_OK(np_parse_version("1.21", &v));
        ASSERT_TRUE(v.has_minor && !v.has_patch);
        ASSERT_OK(np_parse_version("v1.28.3", &w));
        ASSERT_EQ(w.major, 1);
        ASSERT_EQ(w.minor, 28);
        ASSERT_EQ(w.patch, 3);
        ASSERT_OK(np_parse_version("1.27.4+k3s1", &w));
        ASSERT_EQ(w.patch, 4);
        ASSERT_OK(np_parse_version("3.12.0-rc.1", &w));
        ASSERT_EQ(np_parse_version("1", &w), -EINVAL);
        ASSERT_EQ(np_parse_version("1.x", &w), -EINVAL);
        ASSERT_EQ(np_parse_version("latest", &w), -EINVAL);

        /* MaxVersion=1.21 admits 1.21.14 (prefix comparison) but not 1.22.0. */
        ASSERT_OK(np_parse_version("1.21.14", &w));
        ASSERT_EQ(np_version_compare(&w, &v, true), 0);
        ASSERT_EQ(np_version_compare(&w, &v, false), 1);
        ASSERT_OK(np_parse_version("1.22.0", &w));
        ASSERT_EQ(np_version_compare(&w, &v, true), 1);
        ASSERT_OK(np_parse_version("1.9.0", &w));
        ASSERT_EQ(np_version_compare(&w, &v, true), -1);

        ASSERT_OK(np_version_find("Kubernetes v1.28.2", &w));
        ASSERT_EQ(w.minor, 28);
        ASSERT_OK(
            np_version_find("version.BuildInfo{Version:\"v3.12.0\", GitCommit:\"c9f5\"}", &w));
        ASSERT_EQ(w.major, 3);
        ASSERT_EQ(w.minor, 12);
        ASSERT_EQ(np_version_find("no version here 42", &w), -ENOENT);
}

TEST(escape)
{
        _cleanup_free_ char *a = str_escape_printable("ok\x01\xff", 4, 100);
        _cleanup_free_ char *b = str_escape_printable("abcdef", 6, 3);

        ASSERT_STREQ(a, "ok\\x01\\xff");
        ASSERT_STREQ(b, "abc...");
        ASSERT_TRUE(utf8_is_valid("caf\xc3\xa9", 5));
        ASSERT_TRUE(!utf8_is_valid("\xc0\xaf", 2));     /* overlong '/' */
        ASSERT_TRUE(!utf8_is_valid("\xed\xa0\x80", 3)); /* surrogate */
}

TEST(name)
{
        ASSERT_TRUE(str_is_name("tts-blob_2", NULL));
        ASSERT_TRUE(!str_is_name("", NULL));
        ASSERT_TRUE(!str_is_name(NULL, NULL));
        ASSERT_TRUE(!str_is_name("a.b", NULL));
        ASSERT_TRUE(str_is_name("a.b", "."));
        ASSERT_TRUE(!str_is_name("a/b", "."));
        ASSERT_TRUE(!str_is_name("caf\xc3\xa9", NULL));
        ASSERT_TRUE(!str_is_name("a b", NULL));
}

static const TestCase tests[] = { T(size),    T(boolean_and_u64), T(cidr),
                                  T(version), T(escape),          T(name) };
RUN_TESTS(tests)
