/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The boot loader's default entry: which kernel and which command line the next boot uses.
 *
 *  - GRUB (Debian, Ubuntu; RHEL 8/9 through blscfg): grub.cfg as grub-mkconfig writes it
 *    (10_linux: "menuentry 'TITLE' ... $menuentry_id_option 'ID' {", "linux PATH OPTIONS",
 *    "submenu"), "set default=..." with the next_entry/saved_entry pattern of 00_header, and the
 *    environment block grubenv (saved_entry=, next_entry=, kernelopts=). A default is a number,
 *    a title or an id, or a '>'-separated path through submenus (GRUB's "default" variable).
 *    Other variables in a linux line are taken from top-level "set NAME=VALUE" lines and grubenv.
 *  - Boot Loader Specification entries (/boot/loader/entries/ID.conf: title, version, linux,
 *    options; RHEL 8/9 through GRUB's blscfg, or systemd-boot).
 *  - systemd-boot's loader.conf ("default GLOB").
 * nodeprep does not run GRUB's script language: a grub.cfg it cannot follow makes the default
 * unknown (with the reason), never a guess.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct NpBootEntry {
        char *id; /* grub: the menuentry id; BLS: the file name without ".conf" */
        char *title;
        char *path;    /* GRUB's numeric path: "0", "1>2" */
        char *kernel;  /* the image path of the linux line: "/boot/vmlinuz-6.1.0-28-amd64" */
        char *version; /* BLS "version", else what follows "vmlinuz-" in the image path */
        char *options; /* the command line the entry passes, variables not yet expanded */
        unsigned line; /* line of the linux / options line */
} NpBootEntry;

typedef struct NpBootConfig {
        NpBootEntry *entries; /* in menu order */
        size_t n_entries;
        char *default_value;       /* "set default=" outside the next_entry branch, as written */
        bool next_entry;           /* grub.cfg honours grubenv's next_entry (one-time default) */
        bool blscfg;               /* grub.cfg runs blscfg: the menu is /boot/loader/entries */
        bool boot_counter_default; /* another default once grubenv's boot_counter runs out */
        char **vars;               /* "NAME=VALUE" of top-level "set" lines */
        char *unknown;             /* why the file cannot be followed */
} NpBootConfig;

void np_boot_entry_done(NpBootEntry *e);
void np_boot_config_done(NpBootConfig *c);

/* grub.cfg. -ENOMEM only; what cannot be followed goes to ret->unknown. */
int np_grub_cfg_parse(const char *data, size_t size, NpBootConfig *ret);
/* grubenv: "NAME=VALUE" strings in file order (the padding '#'s end it). */
int np_grubenv_parse(const char *data, size_t size, char ***ret);
/* One BLS entry file named NAME (with ".conf"). -EINVAL when it has no linux line. */
int np_bls_entry_parse(const char *name, const char *data, size_t size, NpBootEntry *ret);
/* systemd-boot's loader.conf "default" pattern, or NULL. -ENOMEM. */
int np_loader_conf_default(const char *data, size_t size, char **ret);

/* The entry GRUB's default value names: a number or a '>'-path, a title or an id. NULL when none
 * matches. An empty value is entry 0. */
const NpBootEntry *np_boot_config_find(const NpBootConfig *c, const char *value);
/* Expand $NAME and ${NAME} in options from vars ("NAME=VALUE" lists, the first list wins). Sets
 * *ret_unset to the first variable found in neither (it expands to nothing, as in GRUB). */
int np_boot_expand(const char *options, char *const *vars1, char *const *vars2, char **ret,
                   char **ret_unset);
/* rpm-style version order (newest first is how blscfg and systemd-boot list entries). */
int np_boot_version_cmp(const char *a, const char *b);
