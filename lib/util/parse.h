/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Value parsers shared by profiles, site settings and probes. All return 0 or -EINVAL/-ERANGE. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* yes/no, true/false, on/off, 1/0 (case-insensitive), as systemd accepts. */
int np_parse_boolean(const char *s, bool *ret);
/* A plain decimal unsigned integer; no sign, no suffix, no leading/trailing junk. */
int np_parse_u64(const char *s, uint64_t *ret);
/*
 * A size in bytes: a decimal number (fraction allowed) and an optional unit. K M G T P E are
 * powers of 1024 as in systemd; KB MB GB TB PB are powers of 1000 as vendors write them;
 * Ki Mi Gi Ti Pi and KiB MiB ... are powers of 1024 as Kubernetes writes them; B or none is bytes.
 */
int np_parse_size(const char *s, uint64_t *ret);
/* "105.2 GB (97.9 GiB)"-style text is overkill in tables: one unit, 1000-based, 3 significant
 * digits. */
char *np_format_bytes(uint64_t bytes);

typedef struct NpCidr {
        int family; /* AF_INET or AF_INET6 */
        unsigned char addr[16];
        unsigned prefixlen;
} NpCidr;

/* "10.0.0.0/24" or "fd00::/64"; host bits are allowed and masked off, as Go's net.ParseCIDR does.
 */
int np_parse_cidr(const char *s, NpCidr *ret);
/* An address with optional /prefix (default full length). */
int np_parse_address(const char *s, NpCidr *ret);
bool np_cidr_contains(const NpCidr *net, int family, const void *addr);
char *np_cidr_to_string(const NpCidr *c);

/* A dotted version such as 1.21, v1.28.3, 1.27.4+k3s1 or 3.12.0-rc.1: major.minor[.patch]. */
typedef struct NpVersion {
        unsigned major, minor, patch;
        bool has_minor, has_patch;
} NpVersion;

int np_parse_version(const char *s, NpVersion *ret);
/*
 * Compare as far as the less precise of the two goes when prefix is true, so that 1.21.14
 * equals 1.21 (used for inclusive maximums such as "up to 1.21").
 */
int np_version_compare(const NpVersion *a, const NpVersion *b, bool prefix);
char *np_version_to_string(const NpVersion *v);
/* Find the first version-looking token ("v1.2.3" or "1.2") in free text such as tool output. */
int np_version_find(const char *text, NpVersion *ret);

/*
 * A time span as systemd writes it: "90", "90s", "1h", "1h 30min", "500ms", "2d"; a bare number
 * is seconds. Units: us, ms, s/sec, m/min, h/hr, d/day, w/week (+ plurals). "infinity" is
 * UINT64_MAX.
 */
int np_parse_timespan(const char *s, uint64_t *ret_usec);
