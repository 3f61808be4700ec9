/*
 * openccid - the kernel stage's in-guest timer (make bench-kernel,
 * tests/kernel/README.md "Numbers"):
 *   kbench apdu N           connect to the first reader, send N SELECTs of
 *                           libcacard's CAC applet, print "ms_per_apdu=X"
 *                           (each answer must be 90 00 or 61 xx)
 *   kbench plug VID:PID S   wait up to S seconds for the USB device to
 *                           appear in sysfs (the guest kernel enumerated
 *                           it), then for pcscd to list a reader, connect
 *                           and get one APDU answered: print
 *                           "plug_ms=X listed_ms=Y"
 * Times are CLOCK_MONOTONIC in the guest. Exit 1 with a reason on failure.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <PCSC/winscard.h>

static const BYTE select_cac[] = {0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00,
    0x00, 0x00, 0x79, 0x01, 0x00};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int
fail(const char *what, LONG rv)
{
	fprintf(stderr, "kbench: %s: %s\n", what, pcsc_stringify_error(rv));
	return 1;
}

/*
 * One APDU; 0 if the card accepted it: 90 00, or 61 xx (libcacard answers
 * T=0 style, its data waiting for a GET RESPONSE).
 */
static int
xfer(SCARDHANDLE h, DWORD proto)
{
	const SCARD_IO_REQUEST *pci =
	    proto == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
	BYTE rx[258];
	DWORD n = sizeof(rx);
	LONG rv = SCardTransmit(h, pci, select_cac, sizeof(select_cac), NULL,
	    rx, &n);

	if (rv != SCARD_S_SUCCESS)
		return fail("SCardTransmit", rv);
	if (n < 2 || !((rx[n - 2] == 0x90 && rx[n - 1] == 0x00) ||
			   rx[n - 2] == 0x61)) {
		fprintf(stderr, "kbench: answer ends %02X %02X, not 90 00 / 61 xx\n",
		    n >= 2 ? rx[n - 2] : 0, n >= 2 ? rx[n - 1] : 0);
		return 1;
	}
	return 0;
}

/* The first reader's name into buf; 0 if there is one. */
static int
first_reader(SCARDCONTEXT ctx, char *buf, DWORD cap)
{
	DWORD n = cap;

	if (SCardListReaders(ctx, NULL, buf, &n) != SCARD_S_SUCCESS || n < 2)
		return 1;
	return 0;
}

static int
bench_apdu(long count)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto;
	char reader[512];
	double t0;
	LONG rv;
	long i;

	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
		 &ctx)) != SCARD_S_SUCCESS)
		return fail("SCardEstablishContext", rv);
	if (first_reader(ctx, reader, sizeof(reader)))
		return fail("SCardListReaders", SCARD_E_NO_READERS_AVAILABLE);
	rv = SCardConnect(ctx, reader, SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &h, &proto);
	if (rv != SCARD_S_SUCCESS)
		return fail("SCardConnect", rv);
	if (xfer(h, proto))
		return 1;
	t0 = now_ms();
	for (i = 0; i < count; i++)
		if (xfer(h, proto))
			return 1;
	printf("ms_per_apdu=%.3f apdus=%ld\n", (now_ms() - t0) / (double)count,
	    count);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return 0;
}

/* Is a USB device VID:PID (4+4 hex digits) in sysfs? */
static int
usb_present(const char *vidpid)
{
	DIR *d = opendir("/sys/bus/usb/devices");
	struct dirent *e;
	int found = 0;

	if (d == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		char p[512], v[8] = "", q[8] = "", id[16];
		FILE *f;

		snprintf(p, sizeof(p), "/sys/bus/usb/devices/%s/idVendor",
		    e->d_name);
		if ((f = fopen(p, "r")) == NULL)
			continue;
		if (fgets(v, sizeof(v), f) == NULL)
			v[0] = '\0';
		fclose(f);
		snprintf(p, sizeof(p), "/sys/bus/usb/devices/%s/idProduct",
		    e->d_name);
		if ((f = fopen(p, "r")) == NULL)
			continue;
		if (fgets(q, sizeof(q), f) == NULL)
			q[0] = '\0';
		fclose(f);
		v[strcspn(v, "\n")] = '\0';
		q[strcspn(q, "\n")] = '\0';
		snprintf(id, sizeof(id), "%s:%s", v, q);
		found = strcmp(id, vidpid) == 0;
	}
	closedir(d);
	return found;
}

static int
bench_plug(const char *vidpid, long secs)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto;
	char reader[512];
	double end = now_ms() + (double)secs * 1e3, t0, t_listed;
	LONG rv;

	/* Context first: establishing one waits for pcscd's readers. */
	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
		 &ctx)) != SCARD_S_SUCCESS)
		return fail("SCardEstablishContext", rv);
	while (!usb_present(vidpid)) {
		if (now_ms() > end) {
			fprintf(stderr, "kbench: %s never appeared\n", vidpid);
			return 1;
		}
		sleep_ms(2);
	}
	t0 = now_ms();
	while (first_reader(ctx, reader, sizeof(reader))) {
		if (now_ms() > end)
			return fail("no reader listed", SCARD_E_NO_READERS_AVAILABLE);
		sleep_ms(5);
	}
	t_listed = now_ms();
	for (;;) {
		rv = SCardConnect(ctx, reader, SCARD_SHARE_SHARED,
		    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &h, &proto);
		if (rv == SCARD_S_SUCCESS)
			break;
		if (now_ms() > end)
			return fail("SCardConnect", rv);
		sleep_ms(5);
	}
	if (xfer(h, proto))
		return 1;
	printf("plug_ms=%.1f listed_ms=%.1f\n", now_ms() - t0, t_listed - t0);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "apdu") == 0 &&
	    strtol(argv[2], NULL, 10) > 0)
		return bench_apdu(strtol(argv[2], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "plug") == 0)
		return bench_plug(argv[2], strtol(argv[3], NULL, 10));
	fprintf(stderr, "usage: kbench apdu N | kbench plug VID:PID SECONDS\n");
	return 2;
}
