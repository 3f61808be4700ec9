/*
 * openccid - the EMV card model's personalisation (private to
 * tests/sim/emv): the directories, the two applications, their records
 * and data objects, built once by emv_perso_build() from the synthetic
 * values in perso.c.
 */
#ifndef OPENCCID_SIM_EMV_PERSO_H
#define OPENCCID_SIM_EMV_PERSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMV_REC_MAX 250	 /* one record: 70 L ... fits a short response */
#define EMV_FCI_MAX 250
#define EMV_RECS 12	 /* records of one application or directory */
#define EMV_DOS 8	 /* GET DATA objects of one application */
#define EMV_APPS 2

struct emv_blob {
	uint8_t b[EMV_FCI_MAX];
	size_t n;
};

struct emv_record {
	uint8_t sfi, no;
	struct emv_blob v; /* the whole record template (70 L ...) */
};

struct emv_do {
	uint16_t tag;
	struct emv_blob v; /* the value, without tag and length */
};

/* A selectable name: a directory or an application. */
struct emv_dir {
	uint8_t name[16];
	size_t name_len;
	bool contact, contactless; /* visible through that interface */
	struct emv_blob fci;	   /* the answer to SELECT */
	struct emv_record recs[EMV_RECS];
	unsigned n_recs;
	/* applications only */
	size_t pdol_len;	/* bytes of the PDOL-related data in GPO */
	struct emv_blob gpo;	/* the answer to GET PROCESSING OPTIONS */
	struct emv_do dos[EMV_DOS];
	unsigned n_dos;
	uint16_t atc; /* application transaction counter at card creation */
};

#define EMV_DIRS (2 + EMV_APPS) /* PSE, PPSE, the applications */

struct emv_perso {
	struct emv_dir dirs[EMV_DIRS];
	unsigned n_dirs;
	uint8_t atr[16];
	size_t atr_len;
	uint8_t uid[4];
	uint8_t ats[16];
	size_t ats_len;
	char pin[13];	/* offline PIN digits */
	unsigned pin_tries_max;
};

/* Returns 0, -1 if a built object overflows its buffer (a bug in perso.c,
 * caught by the unit tests). */
int emv_perso_build(struct emv_perso *p);

#endif
