/*
 * pcsc-steps: the PC/SC client run inside the QEMU guest for the usb-redir
 * scenarios sim-*.sh (tests/kernel/README.md). Each command prints one line and
 * exits 0 when what it checks holds, 1 otherwise (2: usage).
 *
 *   wait NAME present|absent|card|nocard SECS   reader / card state
 *   sweep NAME MAX STEP      echo APDUs (built-in card 80 01) of 0..MAX bytes
 *   lens NAME N...           echo APDUs of exactly these lengths
 *   loop NAME N              N short echo APDUs: ms per APDU
 *   apdu NAME HEX EXPECT     one APDU; the answer must be EXPECT (hex)
 *   fail NAME HEX            one APDU that must fail (unplug during it)
 *   strict NAME HEX EXPECT   one APDU: EXPECT or an error, never another
 *                            answer reported as success (fault scenarios)
 *   pinverify NAME           PIN_VERIFY_DIRECT (keypad digits come from the
 *                            simulator's pinpad-digits): prints the SW
 *   slots NAME1 NAME2...     echo APDUs on each reader from its own thread
 *   first NAME HEX EXPECT SECS  retry connect + APDU until the answer is
 *                            EXPECT: ms until then (plug to first APDU)
 *
 * NAME is a substring of the reader name (first match; "#N" after it picks
 * the N-th match, e.g. the second slot of one reader).
 */
#include <PCSC/reader.h>
#include <PCSC/winscard.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static SCARDCONTEXT ctx;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* the reader whose name contains want ("sub#N": the N-th such reader) */
static int find_reader(const char *want, char *out, size_t cap)
{
	char list[4096], sub[256];
	DWORD len = sizeof(list);
	const char *hash = strrchr(want, '#');
	int nth = hash ? atoi(hash + 1) : 0;
	size_t sl = hash ? (size_t)(hash - want) : strlen(want);

	if (sl >= sizeof(sub))
		return -1;
	memcpy(sub, want, sl);
	sub[sl] = '\0';
	if (SCardListReaders(ctx, NULL, list, &len) != SCARD_S_SUCCESS)
		return -1;
	for (const char *r = list; *r; r += strlen(r) + 1)
		if (strstr(r, sub) && nth-- == 0) {
			size_t n = strlen(r);

			if (n >= cap)
				return -1;
			memcpy(out, r, n + 1);
			return 0;
		}
	return -1;
}

static int unhex(const char *s, uint8_t *b, size_t cap)
{
	size_t n = 0;

	while (s[0] && s[1] && n < cap) {
		unsigned v;

		if (sscanf(s, "%2x", &v) != 1)
			return -1;
		b[n++] = (uint8_t)v;
		s += 2;
	}
	return s[0] ? -1 : (int)n;
}

static void hex(const uint8_t *b, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 3 < cap; i++)
		k += (size_t)snprintf(out + k, cap - k, "%02X", b[i]);
	out[k] = '\0';
}

static int connect_to(const char *want, SCARDHANDLE *h, DWORD *proto)
{
	char name[512];
	LONG rv;

	if (find_reader(want, name, sizeof(name)) < 0) {
		printf("no reader matching '%s'\n", want);
		return -1;
	}
	rv = SCardConnect(ctx, name, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
			  h, proto);
	if (rv != SCARD_S_SUCCESS) {
		printf("SCardConnect(%s): %s (0x%lX)\n", name, pcsc_stringify_error(rv),
		       (unsigned long)rv);
		return -1;
	}
	return 0;
}

/* One APDU, with T=0's 61xx (GET RESPONSE) and 6Cxx (Le again) rounds. */
static LONG exchange(SCARDHANDLE h, DWORD proto, const uint8_t *apdu, size_t len,
		     uint8_t *rsp, DWORD *rlen)
{
	const SCARD_IO_REQUEST *pci = proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	uint8_t cmd[65544], part[65538];
	size_t have = 0, clen = len;
	DWORD cap = *rlen;

	memcpy(cmd, apdu, len);
	for (int round = 0; round < 300; round++) {
		DWORD plen = sizeof(part);
		LONG rv = SCardTransmit(h, pci, cmd, (DWORD)clen, NULL, part, &plen);

		if (rv != SCARD_S_SUCCESS)
			return rv;
		if (plen < 2)
			return SCARD_F_COMM_ERROR;
		if (part[plen - 2] == 0x6C) {
			cmd[clen - 1] = part[plen - 1];
			continue;
		}
		if (have + plen - 2 > cap)
			return SCARD_E_INSUFFICIENT_BUFFER;
		memcpy(rsp + have, part, plen - 2);
		have += plen - 2;
		if (part[plen - 2] == 0x61) {
			uint8_t gr[5] = { 0x00, 0xC0, 0x00, 0x00, part[plen - 1] };

			memcpy(cmd, gr, 5);
			clen = 5;
			continue;
		}
		rsp[have++] = part[plen - 2];
		rsp[have++] = part[plen - 1];
		*rlen = (DWORD)have;
		return SCARD_S_SUCCESS;
	}
	return SCARD_F_COMM_ERROR;
}

/* 80 01 ECHO of n bytes (extended form above 255); 0: the answer is right */
static int echo(SCARDHANDLE h, DWORD proto, size_t n, char *why, size_t wcap)
{
	static uint8_t apdu[65544], rsp[65540];
	DWORD rlen = sizeof(rsp);
	size_t len = 0;
	LONG rv;

	apdu[len++] = 0x80;
	apdu[len++] = 0x01;
	apdu[len++] = 0x00;
	apdu[len++] = 0x00;
	if (n == 0) {
		apdu[len++] = 0x00; /* case 2: Le */
	} else if (n <= 255) {
		apdu[len++] = (uint8_t)n;
		for (size_t i = 0; i < n; i++)
			apdu[len++] = (uint8_t)(i * 7 + n);
		apdu[len++] = 0x00;
	} else {
		apdu[len++] = 0x00;
		apdu[len++] = (uint8_t)(n >> 8);
		apdu[len++] = (uint8_t)n;
		for (size_t i = 0; i < n; i++)
			apdu[len++] = (uint8_t)(i * 7 + n);
		apdu[len++] = 0x00;
		apdu[len++] = 0x00;
	}
	rv = exchange(h, proto, apdu, len, rsp, &rlen);
	if (rv != SCARD_S_SUCCESS) {
		snprintf(why, wcap, "echo %zu: %s (0x%lX)", n, pcsc_stringify_error(rv),
			 (unsigned long)rv);
		return -1;
	}
	if (rlen != n + 2 || rsp[n] != 0x90 || rsp[n + 1] != 0x00) {
		snprintf(why, wcap, "echo %zu: %lu bytes back, SW %02X%02X", n,
			 (unsigned long)rlen, rlen >= 2 ? rsp[rlen - 2] : 0,
			 rlen >= 2 ? rsp[rlen - 1] : 0);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (rsp[i] != (uint8_t)(i * 7 + n)) {
			snprintf(why, wcap, "echo %zu: byte %zu differs", n, i);
			return -1;
		}
	return 0;
}

static int cmd_wait(const char *want, const char *state, int secs)
{
	double end = now_ms() + secs * 1000.0;
	char name[512];

	for (;;) {
		bool have = find_reader(want, name, sizeof(name)) == 0;
		bool ok = false;

		if (!strcmp(state, "absent"))
			ok = !have;
		else if (!strcmp(state, "present"))
			ok = have;
		else if (have) {
			SCARD_READERSTATE rs = { .szReader = name,
						 .dwCurrentState = SCARD_STATE_UNAWARE };

			if (SCardGetStatusChange(ctx, 0, &rs, 1) == SCARD_S_SUCCESS) {
				bool card = rs.dwEventState & SCARD_STATE_PRESENT;

				ok = !strcmp(state, "card") ? card : !card;
			}
		}
		if (ok) {
			printf("%s: %s\n", want, state);
			return 0;
		}
		if (now_ms() > end) {
			printf("%s: not %s after %d s\n", want, state, secs);
			return 1;
		}
		usleep(100000);
		/* pcscd drops a context's reader list on hot-plug: ask again */
		SCardReleaseContext(ctx);
		SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	}
}

static int cmd_sweep(const char *want, size_t max, size_t step)
{
	SCARDHANDLE h;
	DWORD proto;
	char why[256];
	unsigned count = 0;
	double t0;

	if (step == 0)
		step = 1;
	if (connect_to(want, &h, &proto) < 0)
		return 1;
	t0 = now_ms();
	for (size_t n = 0;; n = n + step < max ? n + step : max) {
		if (echo(h, proto, n, why, sizeof(why)) < 0) {
			printf("T=%d %s after %u good\n", proto == SCARD_PROTOCOL_T0 ? 0 : 1, why,
			       count);
			return 1;
		}
		count++;
		if (n == max) /* the last one is MAX itself */
			break;
	}
	printf("T=%d %u echo APDUs 0..%zu bytes OK, %.1f ms/APDU\n",
	       proto == SCARD_PROTOCOL_T0 ? 0 : 1, count, max, (now_ms() - t0) / count);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	return 0;
}

static int cmd_lens(const char *want, char **lens, int n)
{
	SCARDHANDLE h;
	DWORD proto;
	char why[256];

	if (connect_to(want, &h, &proto) < 0)
		return 1;
	for (int i = 0; i < n; i++)
		if (echo(h, proto, strtoul(lens[i], NULL, 0), why, sizeof(why)) < 0) {
			printf("%s\n", why);
			return 1;
		}
	printf("%d echo APDUs of the given lengths OK\n", n);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	return 0;
}

static int cmd_loop(const char *want, unsigned n)
{
	SCARDHANDLE h;
	DWORD proto;
	char why[256];
	double t0;

	if (connect_to(want, &h, &proto) < 0)
		return 1;
	t0 = now_ms();
	for (unsigned i = 0; i < n; i++)
		if (echo(h, proto, 16, why, sizeof(why)) < 0) {
			printf("%s after %u\n", why, i);
			return 1;
		}
	printf("%u APDUs, %.2f ms/APDU\n", n, (now_ms() - t0) / n);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	return 0;
}

enum apdu_mode { MUST_MATCH, MUST_FAIL, MATCH_OR_ERROR };

static int cmd_apdu(const char *want, const char *hx, const char *expect, enum apdu_mode mode)
{
	static uint8_t apdu[65544], rsp[65540];
	char got[1024];
	SCARDHANDLE h;
	DWORD proto, rlen = sizeof(rsp);
	int n = unhex(hx, apdu, sizeof(apdu));
	LONG rv;

	if (n < 4) {
		printf("bad APDU hex\n");
		return 2;
	}
	if (connect_to(want, &h, &proto) < 0)
		return 1;
	rv = exchange(h, proto, apdu, (size_t)n, rsp, &rlen);
	if (mode == MUST_FAIL) {
		printf("%s (0x%lX)\n", pcsc_stringify_error(rv), (unsigned long)rv);
		return rv == SCARD_S_SUCCESS;
	}
	if (rv != SCARD_S_SUCCESS) {
		printf("SCardTransmit: %s (0x%lX)\n", pcsc_stringify_error(rv),
		       (unsigned long)rv);
		return mode == MATCH_OR_ERROR ? 0 : 1;
	}
	hex(rsp, rlen, got, sizeof(got));
	printf("%s\n", got);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	return strcasecmp(got, expect) != 0;
}

static int cmd_pinverify(const char *want)
{
	/* VERIFY 00 20 00 81, variable-length ASCII PIN (part 10 section 2.5.2) */
	static const uint8_t pv[] = { 0x00, 0x00, 0x82, 0x00, 0x00, 0x08, 0x04, 0x02, 0x01,
				      0x09, 0x04, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00,
				      0x00, 0x00, 0x20, 0x00, 0x81, 0x00 };
	uint8_t feat[256], rsp[64];
	DWORD flen = 0, rlen = 0, code = 0;
	SCARDHANDLE h;
	DWORD proto;
	LONG rv;

	if (connect_to(want, &h, &proto) < 0)
		return 1;
	rv = SCardControl(h, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, feat, sizeof(feat), &flen);
	if (rv != SCARD_S_SUCCESS) {
		printf("GET_FEATURE_REQUEST: %s\n", pcsc_stringify_error(rv));
		return 1;
	}
	for (DWORD i = 0; i + 6 <= flen; i += 6)
		if (feat[i] == FEATURE_VERIFY_PIN_DIRECT)
			code = (DWORD)feat[i + 2] << 24 | (DWORD)feat[i + 3] << 16 |
			       (DWORD)feat[i + 4] << 8 | feat[i + 5];
	if (!code) {
		printf("no FEATURE_VERIFY_PIN_DIRECT\n");
		return 1;
	}
	rv = SCardControl(h, code, pv, sizeof(pv), rsp, 6, &rlen);
	if (rv != SCARD_S_SUCCESS || rlen != 2) {
		printf("VERIFY_PIN_DIRECT: %s, %lu bytes\n", pcsc_stringify_error(rv),
		       (unsigned long)rlen);
		return 1;
	}
	printf("%02X%02X\n", rsp[0], rsp[1]);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	return 0;
}

static int cmd_first(const char *want, const char *hx, const char *expect, int secs)
{
	static uint8_t apdu[300], rsp[300];
	double t0 = now_ms(), end = t0 + secs * 1000.0;
	int n = unhex(hx, apdu, sizeof(apdu));
	char got[700] = "";

	if (n < 4)
		return 2;
	while (now_ms() < end) {
		char name[512];
		SCARDHANDLE h;
		DWORD proto, rlen = sizeof(rsp);

		SCardReleaseContext(ctx);
		SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
		if (find_reader(want, name, sizeof(name)) == 0 &&
		    SCardConnect(ctx, name, SCARD_SHARE_SHARED,
				 SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &h,
				 &proto) == SCARD_S_SUCCESS) {
			LONG rv = exchange(h, proto, apdu, (size_t)n, rsp, &rlen);

			SCardDisconnect(h, SCARD_LEAVE_CARD);
			if (rv == SCARD_S_SUCCESS) {
				hex(rsp, rlen, got, sizeof(got));
				if (strcasecmp(got, expect) != 0) {
					printf("wrong answer %s\n", got);
					return 1;
				}
				printf("first APDU answered %.0f ms after the plug\n", now_ms() - t0);
				return 0;
			}
		}
		usleep(20000);
	}
	printf("no answer within %d s\n", secs);
	return 1;
}

struct slot_job {
	const char *want;
	int rc;
	char why[256];
};

static void *slot_thread(void *arg)
{
	struct slot_job *j = arg;
	SCARDHANDLE h;
	DWORD proto;

	j->rc = 1;
	if (connect_to(j->want, &h, &proto) < 0)
		return NULL;
	for (int k = 0; k < 20; k++)
		if (echo(h, proto, 32 + (size_t)k, j->why, sizeof(j->why)) < 0)
			return NULL;
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	j->rc = 0;
	return NULL;
}

static int cmd_slots(char **names, int n)
{
	struct slot_job jobs[8];
	pthread_t th[8];
	int bad = 0;

	if (n > 8)
		n = 8;
	for (int i = 0; i < n; i++) {
		jobs[i].want = names[i];
		jobs[i].why[0] = '\0';
		pthread_create(&th[i], NULL, slot_thread, &jobs[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (jobs[i].rc) {
			printf("%s: %s; ", names[i], jobs[i].why);
			bad++;
		}
	}
	printf("%d of %d slots: 20 echo APDUs each OK\n", n - bad, n);
	return bad != 0;
}

int main(int argc, char **argv)
{
	LONG rv;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3)
		goto usage;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv != SCARD_S_SUCCESS) {
		printf("SCardEstablishContext: %s\n", pcsc_stringify_error(rv));
		return 1;
	}
	if (!strcmp(argv[1], "wait") && argc == 5)
		return cmd_wait(argv[2], argv[3], atoi(argv[4]));
	if (!strcmp(argv[1], "sweep") && argc == 5)
		return cmd_sweep(argv[2], strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
	if (!strcmp(argv[1], "lens") && argc >= 4)
		return cmd_lens(argv[2], argv + 3, argc - 3);
	if (!strcmp(argv[1], "loop") && argc == 4)
		return cmd_loop(argv[2], (unsigned)strtoul(argv[3], NULL, 0));
	if (!strcmp(argv[1], "apdu") && argc == 5)
		return cmd_apdu(argv[2], argv[3], argv[4], MUST_MATCH);
	if (!strcmp(argv[1], "strict") && argc == 5)
		return cmd_apdu(argv[2], argv[3], argv[4], MATCH_OR_ERROR);
	if (!strcmp(argv[1], "fail") && argc == 4)
		return cmd_apdu(argv[2], argv[3], "", MUST_FAIL);
	if (!strcmp(argv[1], "pinverify") && argc == 3)
		return cmd_pinverify(argv[2]);
	if (!strcmp(argv[1], "first") && argc == 6)
		return cmd_first(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (!strcmp(argv[1], "slots"))
		return cmd_slots(argv + 2, argc - 2);
usage:
	fprintf(stderr, "usage: see the comment at the top of pcsc-steps.c\n");
	return 2;
}
