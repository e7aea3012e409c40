/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Value parsers shared by profiles, site settings and probes. */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/parse.h"
#include "util/strv.h"

int np_parse_boolean(const char *s, bool *ret)
{
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcaseeq(s, yes[i])) {
                        *ret = true;
                        return 0;
                }
                if (strcaseeq(s, no[i])) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

int np_parse_u64(const char *s, uint64_t *ret)
{
        unsigned long long v;
        char *end;

        if (!isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

static const struct {
        const char *suffix;
        uint64_t factor;
} size_units[] = {
        { "KiB", 1ULL << 10 },
        { "MiB", 1ULL << 20 },
        { "GiB", 1ULL << 30 },
        { "TiB", 1ULL << 40 },
        { "PiB", 1ULL << 50 },
        { "EiB", 1ULL << 60 },
        { "Ki", 1ULL << 10 },
        { "Mi", 1ULL << 20 },
        { "Gi", 1ULL << 30 },
        { "Ti", 1ULL << 40 },
        { "Pi", 1ULL << 50 },
        { "Ei", 1ULL << 60 },
        { "KB", 1000ULL },
        { "MB", 1000000ULL },
        { "GB", 1000000000ULL },
        { "TB", 1000000000000ULL },
        { "PB", 1000000000000000ULL },
        { "EB", 1000000000000000000ULL },
        { "K", 1ULL << 10 },
        { "M", 1ULL << 20 },
        { "G", 1ULL << 30 },
        { "T", 1ULL << 40 },
        { "P", 1ULL << 50 },
        { "E", 1ULL << 60 },
        { "B", 1 },
        { "", 1 },
};

int np_parse_size(const char *s, uint64_t *ret)
{
        const char *p = s, *unit;
        uint64_t whole = 0, factor = 0;
        double frac = 0;
        char *end;

        if (!isdigit((unsigned char)*p))
                return -EINVAL;
        errno = 0;
        whole = strtoull(p, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        p = end;
        if (*p == '.') {
                const char *f = ++p;
                double scale = 0.1;

                if (!isdigit((unsigned char)*f))
                        return -EINVAL;
                for (; isdigit((unsigned char)*p); p++, scale /= 10)
                        frac += (*p - '0') * scale;
        }
        while (*p == ' ')
                p++;
        unit = p;
        for (size_t i = 0; i < ELEMENTSOF(size_units); i++)
                if (streq(unit, size_units[i].suffix)) {
                        factor = size_units[i].factor;
                        break;
                }
        if (factor == 0)
                return -EINVAL;
        if (whole > UINT64_MAX / factor)
                return -ERANGE;
        *ret = whole * factor + (uint64_t)llround(frac * (double)factor);
        return 0;
}

char *np_format_bytes(uint64_t bytes)
{
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
        double v = (double)bytes;
        size_t i = 0;

        while (v >= 1000 && i + 1 < ELEMENTSOF(units)) {
                v /= 1000;
                i++;
        }
        if (i == 0)
                return strprintf("%" PRIu64 " B", bytes);
        return strprintf("%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[i]);
}

static int parse_addr_part(const char *s, size_t n, NpCidr *ret)
{
        char buf[INET6_ADDRSTRLEN + 1];

        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = '\0';
        memset(ret, 0, sizeof(*ret));
        if (inet_pton(AF_INET, buf, ret->addr) == 1) {
                ret->family = AF_INET;
                ret->prefixlen = 32;
                return 0;
        }
        if (inet_pton(AF_INET6, buf, ret->addr) == 1) {
                ret->family = AF_INET6;
                ret->prefixlen = 128;
                return 0;
        }
        return -EINVAL;
}

static int parse_with_prefix(const char *s, bool require_prefix, NpCidr *ret)
{
        const char *slash = strchr(s, '/');
        NpCidr c;
        uint64_t plen;
        int r;

        if (!slash && require_prefix)
                return -EINVAL;
        r = parse_addr_part(s, slash ? (size_t)(slash - s) : strlen(s), &c);
        if (r < 0)
                return r;
        if (slash) {
                r = np_parse_u64(slash + 1, &plen);
                if (r < 0 || plen > c.prefixlen)
                        return -EINVAL;
                c.prefixlen = (unsigned)plen;
        }
        *ret = c;
        return 0;
}

int np_parse_address(const char *s, NpCidr *ret)
{
        return parse_with_prefix(s, false, ret);
}

int np_parse_cidr(const char *s, NpCidr *ret)
{
        NpCidr c;
        unsigned len;
        int r;

        r = parse_with_prefix(s, true, &c);
        if (r < 0)
                return r;
        len = c.family == AF_INET ? 4 : 16;
        for (unsigned i = 0; i < len; i++) {
                unsigned bits = c.prefixlen > i * 8 ? c.prefixlen - i * 8 : 0;

                if (bits < 8)
                        c.addr[i] &= (unsigned char)(0xff00 >> bits);
        }
        *ret = c;
        return 0;
}

bool np_cidr_contains(const NpCidr *net, int family, const void *addr)
{
        const unsigned char *a = addr;
        unsigned full, rest;

        if (family != net->family)
                return false;
        full = net->prefixlen / 8;
        rest = net->prefixlen % 8;
        if (memcmp(net->addr, a, full) != 0)
                return false;
        if (rest == 0)
                return true;
        return ((net->addr[full] ^ a[full]) & (unsigned char)(0xff00 >> rest)) == 0;
}

char *np_cidr_to_string(const NpCidr *c)
{
        char buf[INET6_ADDRSTRLEN];

        if (!inet_ntop(c->family, c->addr, buf, sizeof(buf)))
                return NULL;
        return strprintf("%s/%u", buf, c->prefixlen);
}

/* Parse "[v]N[.N[.N]]" at s; the token must end at a non-alphanumeric or a '+'/'-' suffix. */
static int parse_version_at(const char *s, NpVersion *ret, const char **ret_end)
{
        NpVersion v = {};
        unsigned *fields[] = { &v.major, &v.minor, &v.patch };
        const char *p = s;
        size_t i;

        if (*p == 'v' || *p == 'V')
                p++;
        for (i = 0; i < ELEMENTSOF(fields); i++) {
                unsigned long n;
                char *end;

                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                errno = 0;
                n = strtoul(p, &end, 10);
                if (errno == ERANGE || n > 1000000)
                        return -ERANGE;
                *fields[i] = (unsigned)n;
                p = end;
                if (*p != '.' || !isdigit((unsigned char)p[1]))
                        break;
                p++;
        }
        v.has_minor = i >= 1;
        v.has_patch = i >= 2;
        if (ret_end)
                *ret_end = p;
        *ret = v;
        return 0;
}

int np_parse_version(const char *s, NpVersion *ret)
{
        const char *end;
        NpVersion v;
        int r;

        r = parse_version_at(s, &v, &end);
        if (r < 0)
                return r;
        /* Accept build/pre-release suffixes (+k3s1, -rc.1, -eks-1234) but nothing else. */
        if (*end != '\0' && *end != '+' && *end != '-')
                return -EINVAL;
        if (!v.has_minor)
                return -EINVAL;
        *ret = v;
        return 0;
}

int np_version_compare(const NpVersion *a, const NpVersion *b, bool prefix)
{
        if (a->major != b->major)
                return a->major < b->major ? -1 : 1;
        if (prefix && (!a->has_minor || !b->has_minor))
                return 0;
        if (a->minor != b->minor)
                return a->minor < b->minor ? -1 : 1;
        if (prefix && (!a->has_patch || !b->has_patch))
                return 0;
        if (a->patch != b->patch)
                return a->patch < b->patch ? -1 : 1;
        return 0;
}

char *np_version_to_string(const NpVersion *v)
{
        if (v->has_patch)
                return strprintf("%u.%u.%u", v->major, v->minor, v->patch);
        if (v->has_minor)
                return strprintf("%u.%u", v->major, v->minor);
        return strprintf("%u", v->major);
}

int np_version_find(const char *text, NpVersion *ret)
{
        for (const char *p = text; *p; p++) {
                const char *end;
                NpVersion v;

                /* A token starts at the beginning or after a non-alphanumeric character. */
                if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '.'))
                        continue;
                if (!isdigit((unsigned char)*p) &&
                    !((*p == 'v' || *p == 'V') && isdigit((unsigned char)p[1])))
                        continue;
                if (parse_version_at(p, &v, &end) < 0 || !v.has_minor)
                        continue;
                *ret = v;
                return 0;
        }
        return -ENOENT;
}

int np_parse_timespan(const char *s, uint64_t *ret_usec)
{
        static const struct {
                const char *unit;
                uint64_t usec;
        } units[] = {
                { "usec", 1ULL },
                { "us", 1ULL },
                { "msec", 1000ULL },
                { "ms", 1000ULL },
                { "seconds", 1000000ULL },
                { "second", 1000000ULL },
                { "sec", 1000000ULL },
                { "s", 1000000ULL },
                { "minutes", 60000000ULL },
                { "minute", 60000000ULL },
                { "min", 60000000ULL },
                { "m", 60000000ULL },
                { "hours", 3600000000ULL },
                { "hour", 3600000000ULL },
                { "hr", 3600000000ULL },
                { "h", 3600000000ULL },
                { "days", 86400000000ULL },
                { "day", 86400000000ULL },
                { "d", 86400000000ULL },
                { "weeks", 604800000000ULL },
                { "week", 604800000000ULL },
                { "w", 604800000000ULL },
        };
        uint64_t total = 0;
        bool any = false;

        while (isspace((unsigned char)*s))
                s++;
        if (streq(s, "infinity")) {
                *ret_usec = UINT64_MAX;
                return 0;
        }
        while (*s) {
                unsigned long long v;
                uint64_t factor = 1000000ULL;
                char *end;
                size_t n;

                if (!isdigit((unsigned char)*s))
                        return -EINVAL;
                errno = 0;
                v = strtoull(s, &end, 10);
                if (errno == ERANGE)
                        return -ERANGE;
                s = end;
                while (isspace((unsigned char)*s))
                        s++;
                n = strcspn(s, " \t0123456789");
                if (n > 0) {
                        size_t i;

                        for (i = 0; i < ELEMENTSOF(units); i++)
                                if (strlen(units[i].unit) == n && strneq(s, units[i].unit, n))
                                        break;
                        if (i == ELEMENTSOF(units))
                                return -EINVAL;
                        factor = units[i].usec;
                        s += n;
                }
                if (v > (UINT64_MAX - total) / factor)
                        return -ERANGE;
                total += v * factor;
                any = true;
                while (isspace((unsigned char)*s))
                        s++;
        }
        if (!any)
                return -EINVAL;
        *ret_usec = total;
        return 0;
}
