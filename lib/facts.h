/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Plain data describing a host: what the probes saw, nothing more. Checks read only this.
 *
 * Convention: a field named `unknown` (or `*_unknown`) is NULL when the data next to it is valid,
 * else it holds the reason the probe could not tell ("permission denied reading ...").
 * A check that needs that data reports `unknown` with that reason; it never guesses.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"
#include "util/parse.h"

/* --- system -------------------------------------------------------------------------------- */

typedef enum NpDistroFamily {
        NP_DISTRO_DEBIAN, /* Debian, Ubuntu and ID_LIKE=debian */
        NP_DISTRO_RHEL,   /* RHEL, CentOS, Rocky, Alma, Fedora and ID_LIKE=rhel/fedora */
        NP_DISTRO_SUSE,   /* SLES, openSUSE and ID_LIKE=suse */
        NP_DISTRO_OTHER,
        _NP_DISTRO_MAX,
        _NP_DISTRO_INVALID = -EINVAL,
} NpDistroFamily;

typedef struct NpSystemFacts {
        char *hostname;
        char *os_id;         /* os-release ID=, e.g. "debian" */
        char **os_id_like;   /* os-release ID_LIKE= words */
        char *os_version_id; /* os-release VERSION_ID= */
        char *os_pretty_name;
        char *os_unknown; /* why os-release could not be read */
        NpDistroFamily distro;
        char *kernel;          /* uname -r of the running kernel */
        char *package_tool;    /* what installs packages: "apt-get", "dnf", "yum", "zypper" */
        unsigned cpus;         /* online CPUs; 0 when unknown */
        uint64_t memory_bytes; /* MemTotal; 0 when unknown */
        /* Identity, for the cross-host comparison (nodeprepctl cluster): /etc/machine-id and the
         * firmware's /sys/class/dmi/id/product_uuid (root-only), lower case; NULL with the reason
         * in the *_unknown field when unreadable (no DMI on ARM boards and some VMs). */
        char *machine_id;
        char *machine_id_unknown;
        char *product_uuid;
        char *product_uuid_unknown;
} NpSystemFacts;

/* --- SELinux ------------------------------------------------------------------------------- */

typedef enum NpSelinuxMode {
        NP_SELINUX_DISABLED,
        NP_SELINUX_PERMISSIVE,
        NP_SELINUX_ENFORCING,
        _NP_SELINUX_MODE_MAX,
        _NP_SELINUX_MODE_INVALID = -EINVAL,
} NpSelinuxMode;

typedef struct NpSelinuxFacts {
        /* Runtime: /sys/fs/selinux/enforce; no selinuxfs means SELinux is disabled. */
        NpSelinuxMode runtime;
        char *runtime_detail; /* "enforce=1" or "selinuxfs not mounted" */
        char *runtime_unknown;

        /* Configuration as libselinux reads it at boot. */
        bool config_present;  /* the file exists */
        NpSelinuxMode config; /* the mode the file selects; valid when config_set */
        bool config_set;      /* a SELINUX= line that libselinux honours was found */
        char *config_value;   /* the value as written on that line */
        unsigned config_line; /* 1-based line number */
        char *config_unknown;

        /* enforcing= on the next boot's kernel command line (NpFacts.boot) overrides the file
         * (libselinux 3.4 reads the first word-initial "enforcing="); -1 when absent. */
        int cmdline_enforcing;
        char *cmdline_unknown;

        /* The next boot: whether the SELinux LSM is active in the next kernel (1, 0; -1 unknown:
         * see lsm_unknown) and why, and the mode it runs in after systemd's
         * selinux_init_load_policy() (valid when next_unknown is NULL). */
        int next_lsm;
        char *next_lsm_detail; /* "security=selinux (/boot/grub/grub.cfg:12)", ... */
        NpSelinuxMode next_mode;
        char *next_detail;
        char *next_unknown;
} NpSelinuxFacts;

/* --- the next boot ------------------------------------------------------------------------- */

typedef struct NpBootFacts {
        bool probed;
        char **kernels; /* installed kernels: /lib/modules/KVER/modules.dep and an image */
        char *kernel;   /* release the next boot runs; NULL when unknown */
        char
            *kernel_source; /* how it was chosen: "the only installed kernel", "GRUB default ..." */
        char *kernel_unknown; /* why it is not known */
        char *cmdline;        /* the next boot's kernel command line */
        char *cmdline_source; /* "/boot/grub/grub.cfg:31 (default entry ...)" or "/proc/cmdline" */
        char *cmdline_unknown;
        char *config_path;    /* the next kernel's build configuration, when found */
        char **config;        /* its "CONFIG_...=" lines that nodeprep uses */
        char *config_unknown; /* a configuration file exists but cannot be read: why */
} NpBootFacts;

/* --- iSCSI --------------------------------------------------------------------------------- */

typedef struct NpKeyValue {
        char *key;
        char *value;
        unsigned line; /* line of the occurrence that wins */
} NpKeyValue;

/* A line the owning program rejects or mangles, with the key when one can be read. */
typedef struct NpConfProblem {
        unsigned line;
        char *key;
        char *problem;
} NpConfProblem;

/* A file in open-iscsi's "key = value" format, as idbm_recinfo_config() reads it. */
typedef struct NpIscsiRecord {
        NpKeyValue *settings; /* the values iscsid keeps, in order of first appearance */
        size_t n_settings;
        NpConfProblem *problems;
        size_t n_problems;
        /* Why open-iscsi's own reading of the file is undefined (a key or value longer than
         * its fixed buffers, which it copies without a bound), NULL when it is not. */
        char *undefined;
} NpIscsiRecord;

typedef struct NpIscsiNode {
        char *path;   /* the record file, as on the host */
        char *target; /* the target directory name (IQN) */
        char *portal; /* the portal directory or legacy file name: "address,port[,tpgt]" */
        NpIscsiRecord record;
        char *unknown; /* record could not be read */
} NpIscsiNode;

typedef struct NpIscsiFacts {
        char *iscsiadm_path; /* NULL when not found */
        char **unit_files;   /* iscsid.service / iscsid.socket unit files found on disk */

        char *conf_path; /* "/etc/iscsi/iscsid.conf" */
        bool conf_present;
        NpIscsiRecord conf;
        char *conf_unknown;
        /* iscsid.service runs a start check that fails without iscsid.conf (Debian, Ubuntu):
         * "UNIT:LINE: ExecStartPre=SCRIPT exits 1 ..."; NULL when not seen. */
        char *start_requires_conf;
        /* iscsid.service does not start at all: an ExecStartPre= executable systemd cannot run
         * (no '-'), a line it refuses, a masked unit file: "FILE:LINE: ..."; NULL when not seen */
        char *start_fails;
        /* the unit file or its start check exists but cannot be read: why */
        char *start_unknown;

        char *initiator_name; /* InitiatorName= of /etc/iscsi/initiatorname.iscsi */

        char **nodes_dirs; /* node database directories found (/etc/iscsi/nodes,
                              /var/lib/iscsi/nodes) */
        NpIscsiNode *nodes;
        size_t n_nodes;
        char *nodes_unknown;

        /* The open-iscsi version (upstream part: "2.1.8"), for the cross-host comparison. */
        char *version;
        char *version_source; /* "dpkg: open-iscsi 2.1.8-1" or "iscsiadm --version" */
        char *version_unknown;
} NpIscsiFacts;

/* --- kernel modules ------------------------------------------------------------------------ */

typedef enum NpModuleState {
        NP_MODULE_LOADED,    /* a loadable module that is live in the kernel */
        NP_MODULE_BUILTIN,   /* compiled into the running kernel */
        NP_MODULE_AVAILABLE, /* installed for the running kernel, not loaded */
        NP_MODULE_MISSING,   /* not loaded, not built in, not installed */
        _NP_MODULE_STATE_MAX,
        _NP_MODULE_STATE_INVALID = -EINVAL,
} NpModuleState;

typedef struct NpModuleFacts {
        char *name;      /* as the profile names it */
        char *canonical; /* the kernel's name: '-' folded to '_', aliases resolved */
        NpModuleState state;
        char *state_detail; /* "/sys/module/iscsi_tcp/initstate: live", module file path, ... */
        char *unknown;

        /* The next boot (kernel and command line of NpFacts.boot, modprobe.d and modules-load.d
         * without /run, which is empty at every boot). */
        char **persisted_in; /* "FILE:LINE" of every modules-load.d line naming it that the next
                                boot reads, "kernel command line: modules_load=..." */
        char **not_applied;  /* "FILE:LINE: why" for lines naming it that systemd will not load */
        char *blacklisted;   /* "FILE:LINE: blacklist X": systemd-modules-load refuses it */
        char *persist_unknown;
        NpModuleState next_state; /* in the next kernel: BUILTIN, AVAILABLE or MISSING */
        char *next_detail;
        char *next_unknown;      /* e.g. the installed kernels disagree and the default is
                                    unknown */
        char *prevented;         /* what keeps a load at boot from inserting it: "FILE:LINE:
                                    install X /bin/true", "kernel command line: module_blacklist=X" */
        char *prevented_unknown; /* an install command nodeprep cannot judge, ... */
        char **notes;            /* softdeps whose failure libkmod ignores, options, ... */
        /* Now: what keeps a load on the running system from inserting it (kmod-load). */
        char *load_prevented;
        char *load_prevented_unknown;
} NpModuleFacts;

/* --- services ------------------------------------------------------------------------------ */

typedef struct NpUnitFacts {
        char *name;            /* "iscsid.service" */
        char *load_state;      /* "loaded", "not-found", "masked", ... */
        char *active_state;    /* "active", "inactive", "failed", ... */
        char *sub_state;       /* "running", "listening", "dead", ... */
        char *unit_file_state; /* "enabled", "disabled", "static", "masked", "" ... */
        char *file;            /* its unit file under the root (first in np_unit_dirs), or NULL */
        char *unknown;         /* the bus did not answer: the states are unknown (file is read) */
        /* a service systemd cannot start from the files (probe/unit-exec.c): why, "FILE:LINE:
         * ExecStartPre=..."; NULL when not seen */
        char *start_fails;
} NpUnitFacts;

/* --- file systems -------------------------------------------------------------------------- */

typedef struct NpFsFacts {
        char *path;        /* as asked, e.g. "/opt" */
        char *probed_path; /* the path or its nearest existing ancestor */
        char *mount_point; /* mount point holding probed_path, as on the host */
        char *fs_type;
        char *mount_source;
        uint64_t free_bytes; /* available to unprivileged users (f_bavail), as df shows */
        uint64_t total_bytes;
        char *unknown;
} NpFsFacts;

/* --- mount propagation (lib/probe/mount.c) ------------------------------------------------- */

/* The mount that holds a path in PID 1's mount table (/proc/1/mountinfo) and its propagation. */
typedef struct NpMountFacts {
        char *path;        /* as asked, e.g. "/var/lib/kubelet" */
        char *probed_path; /* path, symlinks resolved inside the root; or its nearest existing
                              ancestor (exists false) */
        bool exists;
        char *mount_point; /* the mount holding probed_path, as PID 1 sees it */
        int mount_id;
        /* "shared", "slave", "shared,slave" (a slave that is shared on), "private", "unbindable" */
        char *propagation;
        unsigned peer_group; /* shared:N, 0 when not shared */
        unsigned master;     /* master:N, 0 when not a slave */
        char *line;          /* its mountinfo line, as read */
        char *table;         /* the mount table read, as on this machine */
        char *unknown;
} NpMountFacts;

/* --- endpoints, tools, directory layouts, virtualisation ------------------------------------ */

typedef struct NpEndpointFacts {
        char *name;       /* "postgres" */
        char *address;    /* "db.example:5432" as configured */
        bool reachable;   /* a TCP connection was established */
        char *connected;  /* the address that answered, "10.1.2.3:5432" */
        char *error_kind; /* "dns", "refused", "timeout", "no-route", "error" */
        char *error;      /* the error as the system says it */
        uint64_t elapsed_ms;
} NpEndpointFacts;

/* A versioned program (lib/probe/tool.c): the kubelet (RKE2's, k3s, MicroK8s), kubectl, helm... */
typedef struct NpToolFacts {
        char *name; /* "kubectl" */
        char *path; /* where it was found; NULL when not found */
        /* How: "location" (a known install location), "search-path", or the program that carries
         * it ("k3s", "microk8s" for the kubelet); NULL when not found. Static text. */
        const char *found;
        char *output; /* first line of the version output */
        NpVersion version;
        bool has_version;
        char *unknown;
} NpToolFacts;

typedef struct NpLayoutEntry {
        char *path; /* relative to the layout's directory; "" is the directory itself */
        bool exists, is_dir, is_regular;
        bool is_symlink; /* an entry below the directory that is a symbolic link */
        uint32_t uid, gid;
        uint64_t size;
        char *unknown;
} NpLayoutEntry;

typedef struct NpLayoutFacts {
        char *path; /* the directory, as on the host */
        NpLayoutEntry *entries;
        size_t n_entries;
} NpLayoutFacts;

typedef struct NpVirtFacts {
        bool kvm_device; /* /dev/kvm is a character device */
        char *cpu_flag;  /* "vmx" or "svm" from /proc/cpuinfo, NULL when neither */
        char *cpu_unknown;
        char *kata_path; /* kata-runtime or containerd-shim-kata-v2, NULL when absent */
} NpVirtFacts;

/* --- peers on the data network ------------------------------------------------------------ */

/*
 * One Peers= entry as this host reaches it from its data-network address (lib/probe/peers.c):
 * the kernel's route to it, ICMP echo replies to small probes (RTT) and to a full-size probe with
 * don't-fragment set, and, when the full size fails, the largest size that came back. Sizes are
 * IP packet sizes (what an MTU counts): `ping -M do -s 8972` is 9000.
 */
typedef struct NpPeerFacts {
        char *peer;    /* as written in Peers= */
        char *address; /* the address probed (a name's address in the data CIDR first) */
        bool self;     /* the address is this host's own */
        bool in_data_cidr;
        char *resolve_error; /* the name did not resolve (NULL when it did) */
        bool resolve_timeout;
        /* The kernel's route (RTM_GETROUTE), NULL/0 when there is none. */
        char *route_interface;
        int route_ifindex;
        char *route_gateway; /* NULL: on-segment (no gateway) */
        char *route_source;  /* the preferred source address */
        unsigned route_mtu;  /* RTAX_MTU of the route, 0 when the route sets none */
        char *route_error;   /* "no route to host", "unreachable route", ... */
        /* Echo. */
        unsigned sent, received; /* small echo requests */
        uint64_t rtt_median_usec, rtt_max_usec;
        unsigned full_size; /* the size asked for: the data interface's MTU */
        bool full_size_ok;
        unsigned largest_ok; /* the largest size that came back, 0 when none did */
        bool largest_exact;  /* the next size up failed (else the search ran out of time) */
        unsigned path_mtu;   /* an MTU named by an ICMP "fragmentation needed"/"packet too big" */
        char *error;         /* an ICMP error or a send error, as the system says it */
        char *unknown;       /* why this peer could not be probed */
} NpPeerFacts;

typedef struct NpPeersFacts {
        bool probed;     /* the peer probe ran (Peers= and DataCIDR set) */
        char *data_cidr; /* the DataCIDR probed from */
        char *address;   /* this host's address in it (the source); NULL when it has none */
        char *interface; /* the link that holds it */
        int ifindex;
        unsigned mtu;          /* that link's MTU: the full size */
        char *other_addresses; /* further addresses in the data CIDR, not used */
        char *method;          /* "ping socket" or "raw socket" */
        uint64_t elapsed_usec;
        uint64_t timeout_usec; /* PeerTimeout= used */
        char *unknown;         /* why no peer could be probed (no ICMP socket, netlink failed) */
        /* nodeprepd only (daemon/peers.c); 0 and NULL from nodeprepctl: */
        uint64_t serial; /* the daemon's peer probe that found these, counting from 1 */
        char *stale;     /* a change since this probe ("link data0 changed"): a re-probe is due */
        NpPeerFacts *peers;
        size_t n_peers;
} NpPeersFacts;

/* --- disks -------------------------------------------------------------------------------- */

/*
 * One whole disk (libudev block/disk), what libblkid found on it, and what uses it. `free` and
 * `reasons` are filled by np_disk_judge() with the probe request's MinDiskSize; checks judge again
 * with their own profile's settings.
 */
typedef struct NpDisk {
        char *name; /* "sdb" */
        char *path; /* "/dev/sdb" */
        char *id;   /* stable /dev/disk/by-id link (wwn- first), NULL without udev data */
        unsigned major, minor;
        uint64_t size_bytes;
        bool rotational; /* queue/rotational: the kernel's SSD/HDD answer */
        char *transport; /* "sata", "sas", "nvme", "usb", "virtio", "scsi", "loop", ... or NULL */
        char *model;
        char *vendor;
        char *serial;
        char *wwn;
        bool removable;
        bool read_only;
        bool loop;
        char **partitions;     /* kernel partitions: "sdb1", ... */
        char *partition_table; /* libblkid PTTYPE of the whole disk: "gpt", "dos", ... */
        char **signatures;     /* superblock TYPEs on the whole disk: "ext4", "LVM2_member", ... */
        char *signatures_source; /* "libblkid", or "udev" when the node could not be read */
        char **mountpoints;      /* where the disk or one of its partitions is mounted */
        char **swaps;            /* the disk or partitions listed in /proc/swaps */
        char **holders;          /* dm-*, md* holding the disk or one of its partitions */
        char **backing_for; /* loop and zram devices backed by the disk or a partition: "loop3" */
        char *multipath;    /* why it is a multipath path ("udev DM_MULTIPATH_DEVICE_PATH=1",
                             * "same WWN as sdc"), NULL when it is not one */
        char *remote;       /* "iscsi", "fc", "nvme-tcp", ...: a LUN of another machine */
        bool free;
        char **reasons; /* why not free: stable words, see np_disk_judge() */
        char *unknown;  /* why the disk could not be fully probed (it is never free then) */
} NpDisk;

/*
 * The "free disk" rules (README "Free disks"): fill *ret_reasons with the stable words of every
 * rule the disk breaks ("partitions", "partition-table:gpt", "signature:ext4", "mounted", "swap",
 * "holders", "backing-device", "multipath", "remote:iscsi", "read-only", "removable", "usb",
 * "too-small"). *ret_free is true when the disk is
 * free: no reasons and nothing unknown about it. -ENOMEM only.
 */
int np_disk_judge(const NpDisk *d, uint64_t min_size, char ***ret_reasons, bool *ret_free);
/* "ssd" or "hdd" */
const char *np_disk_kind(const NpDisk *d) _pure_;

/* --- links --------------------------------------------------------------------------------- */

typedef enum NpLinkKind {
        NP_LINK_PHYSICAL, /* has a device behind it (/sys/class/net/X/device) */
        NP_LINK_BOND,
        NP_LINK_TEAM,
        NP_LINK_VLAN,
        NP_LINK_BRIDGE,
        NP_LINK_VETH,
        NP_LINK_TAP,
        NP_LINK_TUN,
        NP_LINK_MACVLAN, /* macvlan, macvtap, ipvlan: ride on a parent */
        NP_LINK_VXLAN,
        NP_LINK_LOOPBACK,
        NP_LINK_VIRTUAL, /* any other software device (dummy, gre, wireguard, ...) */
        _NP_LINK_KIND_MAX,
        _NP_LINK_KIND_INVALID = -EINVAL,
} NpLinkKind;

typedef struct NpLinkAddress {
        NpCidr cidr;          /* the address as assigned (host bits kept) and its prefix length */
        char *text;           /* "10.20.0.5/24" */
        const char *unusable; /* "dadfailed", "tentative": the kernel does not use it (yet); NULL */
} NpLinkAddress;

typedef struct NpLink {
        char *name;
        int ifindex;
        NpLinkKind kind;
        char *kind_detail; /* the rtnetlink kind ("bond", "tun", "dummy") or NULL */
        char *operstate; /* RFC 2863 as the kernel says: "up", "down", "unknown", "dormant", ... */
        bool admin_up;   /* IFF_UP */
        bool carrier;    /* IFF_LOWER_UP */
        int64_t speed_mbps; /* -1 when unknown */
        char *speed_source; /* "ethtool-netlink", "ioctl", "sysfs" or NULL */
        char *duplex;       /* "full", "half" or NULL */
        unsigned mtu;
        char *mac;
        char *master;   /* bond or bridge this link is enslaved to */
        char *parent;   /* VLAN, macvlan: the lower link */
        char **members; /* bond slaves and bridge ports */
        NpLinkAddress *addresses;
        size_t n_addresses;
} NpLink;

/* Up the way RFC 2863 and systemd-networkd read it: operstate up, or unknown with carrier. */
bool np_link_is_up(const NpLink *l) _pure_;
const char *np_link_kind_to_string(NpLinkKind k) _const_;

/* --- what to probe ------------------------------------------------------------------------ */

typedef struct NpEndpointRequest {
        char *name;
        char *address;
        unsigned timeout_ms;
} NpEndpointRequest;

typedef struct NpToolRequest {
        char *name;
        char **args; /* the arguments that make it print its version; empty: the program's own */
} NpToolRequest;

/* Peers to probe on the data network (net.peers). */
typedef struct NpPeersRequest {
        char **peers;
        NpCidr data_cidr;
        uint64_t timeout_usec; /* PeerTimeout=: for all peers together */
} NpPeersRequest;

typedef struct NpLayoutRequest {
        char *path;
        char **entries; /* relative paths to stat below path */
} NpLayoutRequest;

/* What the probes must look at for a set of profiles. */
typedef struct NpProbeRequest {
        bool system;
        bool selinux;
        bool iscsi;
        bool iscsi_nodes;
        bool disks;
        bool links;
        bool include_loop_devices;
        bool virt;
        uint64_t min_disk_size; /* the largest MinDiskSize asked for, for facts' "free" */
        char **modules;
        char **units;
        char **fs_paths;
        char **mount_paths; /* mount.propagation (freed by its row, lib/probe/mount.c) */
        NpEndpointRequest *endpoints;
        size_t n_endpoints;
        NpToolRequest *tools;
        size_t n_tools;
        NpLayoutRequest *layouts;
        size_t n_layouts;
        NpPeersRequest peers; /* peers.peers is NULL when no check asks */
} NpProbeRequest;

int np_probe_request_add_endpoint(NpProbeRequest *req, const char *name, const char *address,
                                  unsigned timeout_ms);
/* Ask for the versioned program name; args NULL: its own version command (lib/probe/tool.c's
 * table), unless another check gave arguments. */
int np_probe_request_add_tool(NpProbeRequest *req, const char *name, char *const *args);
int np_probe_request_add_layout(NpProbeRequest *req, const char *path, char *const *entries);
/* Ask for peers (added to those asked for already) probed from data_cidr within timeout_usec. */
int np_probe_request_add_peers(NpProbeRequest *req, char *const *peers, const NpCidr *data_cidr,
                               uint64_t timeout_usec);
void np_peers_request_done(NpPeersRequest *r);
int np_peers_request_copy(NpPeersRequest *dst, const NpPeersRequest *src);

void np_probe_request_done(NpProbeRequest *req);

/* --- fact areas ---------------------------------------------------------------------------- */

/*
 * The facts split by what reads them (probe/area.h), so that a change (one disk appeared, a
 * config file was edited) re-probes one area and keeps the others' facts from the last probe.
 */
typedef enum NpProbeArea {
        NP_AREA_SYSTEM,  /* os-release, kernel, CPUs, memory */
        NP_AREA_SELINUX, /* reads the system area's kernel release, as modules does */
        NP_AREA_ISCSI,
        NP_AREA_MODULES, /* reads the system area's kernel release (area.c area_inputs[]) */
        NP_AREA_UNITS,
        NP_AREA_FS,
        NP_AREA_DISKS,
        NP_AREA_LINKS,
        NP_AREA_ENDPOINTS, /* TCP connects: re-probed with the links and at the re-scan */
        NP_AREA_TOOLS,
        NP_AREA_LAYOUTS,
        NP_AREA_VIRT,
        NP_AREA_PEERS,  /* ICMP to the Peers= on the data network: nodeprepd probes them apart */
        NP_AREA_MOUNTS, /* mount propagation: PID 1's mount table */
        _NP_AREA_MAX,
        _NP_AREA_INVALID = -EINVAL,
} NpProbeArea;

#define NP_AREA_MASK(a) (1U << (a))
#define NP_AREAS_ALL    ((1U << _NP_AREA_MAX) - 1)

/*
 * Every fact area is one row (NpFactArea in probe/area.h, named np_area_NAME): its probe, its
 * update, what it carries from other areas, where its facts are in NpFacts, its destructor and its
 * JSON and text. Listed in the order the facts are shown. "boot" (the next boot) is not probed on
 * its own: the modules and SELinux probes read it, and it moves with them.
 */
#define NP_FACT_AREAS(X) \
        X(system)        \
        X(selinux)       \
        X(boot)          \
        X(iscsi)         \
        X(modules)       \
        X(units)         \
        X(fs)            \
        X(mounts)        \
        X(endpoints)     \
        X(tools)         \
        X(layouts)       \
        X(virt)          \
        X(disks)         \
        X(links)         \
        X(peers)

typedef struct NpFactArea NpFactArea;
#define NP_FACT_AREA_DECLARE(name) extern const NpFactArea np_area_##name;
NP_FACT_AREAS(NP_FACT_AREA_DECLARE)

/* --- everything ---------------------------------------------------------------------------- */

/* Each area's members are next to each other (its row moves them as one span). */
typedef struct NpFacts {
        char *root; /* the --root the facts were read under */
        NpSystemFacts system;
        NpSelinuxFacts selinux;
        NpIscsiFacts iscsi;
        NpBootFacts boot; /* the next boot: probed for modules and SELinux */

        NpModuleFacts *modules;
        size_t n_modules;
        char *modules_load_dirs_unknown;
        char *modules_load_masked; /* the unit file that masks systemd-modules-load.service */
        /* /etc/modules-load.d, where the modules-load-persist fix writes: missing, or why it is
         * not a directory nodeprep can use (NULL: a directory). */
        bool modules_load_etc_missing;
        char *modules_load_etc_unusable;

        NpUnitFacts *units;
        size_t n_units;

        NpFsFacts *fs;
        size_t n_fs;
        NpMountFacts *mounts;
        size_t n_mounts;

        NpEndpointFacts *endpoints;
        size_t n_endpoints;
        NpToolFacts *tools;
        size_t n_tools;
        NpLayoutFacts *layouts;
        size_t n_layouts;
        NpVirtFacts virt;

        NpDisk *disks; /* sorted by name */
        size_t n_disks;
        bool disks_probed; /* the disk probe ran (a profile asked for disks) */
        bool disks_include_loop;
        char *disks_unknown;

        NpLink *links;
        size_t n_links;
        bool links_probed; /* the link probe ran (a profile asked for links) */
        char *links_unknown;

        NpPeersFacts peers;
} NpFacts;

NpFacts *np_facts_new(void);
void np_disks_free(NpDisk *disks, size_t n);
void np_links_free(NpLink *links, size_t n);
void np_peers_facts_done(NpPeersFacts *p);
/* One disk or link: free its fields (the struct itself is the caller's), or copy every field. */
void np_disk_done(NpDisk *d);
int np_disk_copy(const NpDisk *src, NpDisk *ret);
void np_link_done(NpLink *l);
int np_link_copy(const NpLink *src, NpLink *ret);
NpFacts *np_facts_free(NpFacts *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpFacts *, np_facts_free);

void np_key_values_free(NpKeyValue *kv, size_t n);
void np_iscsi_record_done(NpIscsiRecord *r);
/* The effective value of key, or NULL. */
const NpKeyValue *np_key_values_get(const NpKeyValue *kv, size_t n, const char *key);

const NpModuleFacts *np_facts_module(const NpFacts *f, const char *name);
const NpUnitFacts *np_facts_unit(const NpFacts *f, const char *name);
const NpFsFacts *np_facts_fs(const NpFacts *f, const char *path);
const NpEndpointFacts *np_facts_endpoint(const NpFacts *f, const char *name);
const NpToolFacts *np_facts_tool(const NpFacts *f, const char *name);
const NpLayoutFacts *np_facts_layout(const NpFacts *f, const char *path);
const NpLayoutEntry *np_layout_entry(const NpLayoutFacts *l, const char *path);
const NpLink *np_facts_link(const NpFacts *f, const char *name);
const NpDisk *np_facts_disk(const NpFacts *f, const char *name);
const NpPeerFacts *np_facts_peer(const NpFacts *f, const char *peer);

/* Add an empty entry for name, or return the existing one. */
NpModuleFacts *np_facts_add_module(NpFacts *f, const char *name);
NpUnitFacts *np_facts_add_unit(NpFacts *f, const char *name);
NpFsFacts *np_facts_add_fs(NpFacts *f, const char *path);
NpEndpointFacts *np_facts_add_endpoint(NpFacts *f, const char *name);
NpToolFacts *np_facts_add_tool(NpFacts *f, const char *name);
NpLayoutFacts *np_facts_add_layout(NpFacts *f, const char *path);

const char *np_selinux_mode_to_string(NpSelinuxMode m) _const_;
const char *np_module_state_to_string(NpModuleState s) _const_;
const char *np_distro_family_to_string(NpDistroFamily d) _const_;
NpDistroFamily np_distro_family_from_os_release(const char *id, char *const *id_like);
