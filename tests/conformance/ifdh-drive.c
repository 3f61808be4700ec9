/*
 * ifdh-drive - drive an IFD handler (the openccid driver module) directly,
 * the way pcscd does, against the virtual reader of tests/sim/.
 *
 * It dlopen()s the driver, exports the log_msg()/log_xxd() symbols pcscd
 * normally provides (link with -rdynamic), and for every CCID interface of
 * the device: IFDHCreateChannelByName with the name pcscd's libudev hotplug
 * builds ("usb:VVVV/PPPP:libudev:IF:/dev/bus/usb/BBB/DDD"), Lun = reader <<
 * 16 | slot, one channel per slot; IFDHGetCapabilities; then per slot
 * IFDHICCPresence, IFDHPowerICC up, IFDHSetProtocolParameters, an echo
 * sweep through IFDHTransmitToICC (the built-in card's 80 01 echo, short
 * and, where the exchange level allows, extended APDUs), card out and in
 * through the simulator's control socket, power down, IFDHCloseChannel.
 *
 * Output: one JSON line per interface/slot on stdout (outcome works /
 * refused / failed, the stage, the IFD code, the driver's critical log
 * lines of the failing stage, counts, timings). Exit status: 0 if every
 * slot works or was refused with a logged reason, 1 if any failed, 2 on a
 * usage or set-up error.
 *
 * Runs under LD_PRELOAD=libumockdev-preload.so.0 with UMOCKDEV_DIR set to
 * the testbed the simulator wrote into its ready file. Also the driver of
 * the benchmark: --iterations, --short-sizes, --ext-sizes, --no-events.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <debuglog.h>
#include <ifdhandler.h>
/* part 10 codes; src/reader/reader.h is another file */
#include <PCSC/reader.h>

#define MAX_IFACES 8
#define MAX_SLOTS 16
#define SIM_MAX_SLOTS 8 /* tests/sim/sim.h: the simulator caps slots */
#define MAX_SIZES 64
#define RX_CAP 65548 /* pcscd's MAX_BUFFER_SIZE_EXTENDED */
#define REASON_MAX 6
#define LINE_MAX_LEN 600
#define POLL_MS 3000
#define PRESENCE_WAIT_MS 3000

/* ---- the log symbols pcscd exports -------------------------------------- */

static FILE *log_out;
static char reasons[REASON_MAX][LINE_MAX_LEN];
static unsigned n_reasons;
static unsigned n_crit_total;

static void
reason_reset(void)
{
	n_reasons = 0;
}

static void
log_line(int priority, const char *text)
{
	static const char *const names[] = {"DEBUG", "INFO", "ERROR",
		"CRITICAL"};
	const char *pn = priority >= 0 && priority <= 3 ? names[priority] : "?";

	if (log_out != NULL) {
		fprintf(log_out, "%s %s\n", pn, text);
		fflush(log_out);
	}
	if (priority >= PCSC_LOG_ERROR) {
		n_crit_total++;
		if (n_reasons < REASON_MAX) {
			snprintf(reasons[n_reasons], sizeof(reasons[0]), "%s",
			    text);
			n_reasons++;
		}
	}
}

__attribute__((visibility("default"))) void
log_msg(const int priority, const char *fmt, ...)
{
	char buf[LINE_MAX_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_line(priority, buf);
}

__attribute__((visibility("default"))) void
log_xxd(const int priority, const char *msg, const unsigned char *buffer,
    const int size)
{
	char buf[LINE_MAX_LEN];
	size_t off;
	int i;

	off = (size_t)snprintf(buf, sizeof(buf), "%s", msg ? msg : "");
	for (i = 0; i < size && off + 4 < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%02X ",
		    buffer[i]);
	log_line(priority, buf);
}

/* pcsc-lite 2 also exports this one; the driver may use it. */
__attribute__((visibility("default"))) void
log_msg_rv(const int priority, unsigned int rv, const char *fmt, ...)
{
	char buf[LINE_MAX_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	(void)rv;
	log_line(priority, buf);
}

/* ---- the driver ----------------------------------------------------------- */

struct ifdh {
	RESPONSECODE (*create_by_name)(DWORD, LPSTR);
	RESPONSECODE (*close)(DWORD);
	RESPONSECODE (*get_cap)(DWORD, DWORD, PDWORD, PUCHAR);
	RESPONSECODE (*set_proto)(DWORD, DWORD, UCHAR, UCHAR, UCHAR, UCHAR);
	RESPONSECODE (*power)(DWORD, DWORD, PUCHAR, PDWORD);
	RESPONSECODE (*transmit)(DWORD, SCARD_IO_HEADER, PUCHAR, DWORD, PUCHAR,
	    PDWORD, PSCARD_IO_HEADER);
	RESPONSECODE (*presence)(DWORD);
	RESPONSECODE (*control)(DWORD, DWORD, PUCHAR, DWORD, PUCHAR, DWORD,
	    LPDWORD);
};

typedef RESPONSECODE (*poll_fn)(DWORD, int);

static struct ifdh F;

static int
load_driver(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		fprintf(stderr, "ifdh-drive: dlopen %s: %s\n", path, dlerror());
		return -1;
	}
#define SYM(field, name)                                                     \
	do {                                                                 \
		void *p_ = dlsym(h, name);                                   \
		if (p_ == NULL) {                                            \
			fprintf(stderr, "ifdh-drive: %s: no %s\n", path, name); \
			return -1;                                           \
		}                                                            \
		memcpy(&F.field, &p_, sizeof(p_));                           \
	} while (0)
	SYM(create_by_name, "IFDHCreateChannelByName");
	SYM(close, "IFDHCloseChannel");
	SYM(get_cap, "IFDHGetCapabilities");
	SYM(set_proto, "IFDHSetProtocolParameters");
	SYM(power, "IFDHPowerICC");
	SYM(transmit, "IFDHTransmitToICC");
	SYM(presence, "IFDHICCPresence");
	SYM(control, "IFDHControl");
#undef SYM
	return 0;
}

static const char *
ifd_name(RESPONSECODE rc)
{
	switch (rc) {
	case IFD_SUCCESS: return "IFD_SUCCESS";
	case IFD_ERROR_TAG: return "IFD_ERROR_TAG";
	case IFD_ERROR_SET_FAILURE: return "IFD_ERROR_SET_FAILURE";
	case IFD_ERROR_VALUE_READ_ONLY: return "IFD_ERROR_VALUE_READ_ONLY";
	case IFD_ERROR_PTS_FAILURE: return "IFD_ERROR_PTS_FAILURE";
	case IFD_ERROR_NOT_SUPPORTED: return "IFD_ERROR_NOT_SUPPORTED";
	case IFD_PROTOCOL_NOT_SUPPORTED: return "IFD_PROTOCOL_NOT_SUPPORTED";
	case IFD_ERROR_POWER_ACTION: return "IFD_ERROR_POWER_ACTION";
	case IFD_COMMUNICATION_ERROR: return "IFD_COMMUNICATION_ERROR";
	case IFD_RESPONSE_TIMEOUT: return "IFD_RESPONSE_TIMEOUT";
	case IFD_NOT_SUPPORTED: return "IFD_NOT_SUPPORTED";
	case IFD_ICC_PRESENT: return "IFD_ICC_PRESENT";
	case IFD_ICC_NOT_PRESENT: return "IFD_ICC_NOT_PRESENT";
	case IFD_NO_SUCH_DEVICE: return "IFD_NO_SUCH_DEVICE";
	case IFD_ERROR_INSUFFICIENT_BUFFER:
		return "IFD_ERROR_INSUFFICIENT_BUFFER";
	default: return "?";
	}
}

/* ---- options -------------------------------------------------------------- */

struct opts {
	const char *driver;
	const char *profile;
	const char *node;
	const char *control;
	const char *log_path;
	const char *tag;
	unsigned vid, pid;
	bool have_vidpid;
	unsigned ifnum[MAX_IFACES];
	unsigned if_slots[MAX_IFACES]; /* from the profile; 0: unknown */
	unsigned long if_features[MAX_IFACES];
	unsigned n_if;
	int proto; /* -1: from the ATR */
	int ext;   /* -1 auto, 0 no, 1 yes */
	bool events;
	bool poll;
	unsigned iterations;
	size_t short_sizes[MAX_SIZES], ext_sizes[MAX_SIZES];
	unsigned n_short, n_ext;
};

static struct opts O;

static int
parse_sizes(const char *s, size_t *out, unsigned *n)
{
	char *dup = strdup(s), *tok, *save = NULL, *end;
	unsigned long v;

	*n = 0;
	if (dup == NULL)
		return -1;
	for (tok = strtok_r(dup, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		errno = 0;
		v = strtoul(tok, &end, 0);
		if (errno != 0 || *end != '\0' || v > 65535 || *n >= MAX_SIZES) {
			free(dup);
			return -1;
		}
		out[(*n)++] = (size_t)v;
	}
	free(dup);
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* The keys of a tests/sim profile that name the device and interfaces. */
static int
read_profile(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");
	unsigned n_if = 0;

	if (f == NULL) {
		fprintf(stderr, "ifdh-drive: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash = strchr(line, '#'), *eq, *k, *v;
		unsigned idx;
		char field[64];

		if (hash != NULL)
			*hash = '\0';
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		k = trim(line);
		v = trim(eq + 1);
		if (strcmp(k, "idVendor") == 0)
			O.vid = (unsigned)strtoul(v, NULL, 0);
		else if (strcmp(k, "idProduct") == 0)
			O.pid = (unsigned)strtoul(v, NULL, 0);
		else if (strcmp(k, "interfaces") == 0)
			n_if = (unsigned)strtoul(v, NULL, 0);
		else if (sscanf(k, "if%u.%63s", &idx, field) == 2 &&
		    idx < MAX_IFACES) {
			if (strcmp(field, "bInterfaceNumber") == 0)
				O.ifnum[idx] = (unsigned)strtoul(v, NULL, 0);
			else if (strcmp(field, "bMaxSlotIndex") == 0)
				O.if_slots[idx] =
				    (unsigned)strtoul(v, NULL, 0) + 1;
			else if (strcmp(field, "dwFeatures") == 0)
				O.if_features[idx] = strtoul(v, NULL, 0);
		}
	}
	fclose(f);
	if (n_if == 0 || n_if > MAX_IFACES) {
		fprintf(stderr, "ifdh-drive: %s: bad interfaces count %u\n",
		    path, n_if);
		return -1;
	}
	O.n_if = n_if;
	O.have_vidpid = true;
	return 0;
}

/* The simulator's one device node under $UMOCKDEV_DIR/dev/bus/usb. */
static int
find_node(char *out, size_t cap)
{
	const char *root = getenv("UMOCKDEV_DIR");
	char path[512];
	DIR *bus, *d;
	struct dirent *be, *de;
	int found = -1;

	if (root == NULL) {
		fprintf(stderr, "ifdh-drive: UMOCKDEV_DIR is not set\n");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/dev/bus/usb", root);
	if ((bus = opendir(path)) == NULL) {
		fprintf(stderr, "ifdh-drive: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (found < 0 && (be = readdir(bus)) != NULL) {
		char sub[1024];

		if (be->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, be->d_name);
		if ((d = opendir(sub)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if ((size_t)snprintf(out, cap, "/dev/bus/usb/%.8s/%.8s",
				be->d_name, de->d_name) >= cap)
				break;
			found = 0;
			break;
		}
		closedir(d);
	}
	closedir(bus);
	if (found < 0)
		fprintf(stderr, "ifdh-drive: no device node under %s\n", path);
	return found;
}

/* ---- the simulator's control socket ---------------------------------------- */

static int
sim_control(const char *cmd, char *reply, size_t cap)
{
	struct sockaddr_un sa;
	struct timeval tv = {10, 0};
	size_t got = 0;
	int fd;

	reply[0] = '\0';
	if (O.control == NULL || strlen(O.control) >= sizeof(sa.sun_path))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, O.control, strlen(O.control) + 1);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) ||
	    write(fd, "\n", 1) != 1) {
		close(fd);
		return -1;
	}
	while (got + 1 < cap) {
		ssize_t n = read(fd, reply + got, cap - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (reply[got - 1] == '\n')
			break;
	}
	reply[got] = '\0';
	close(fd);
	if (got > 0 && reply[got - 1] == '\n')
		reply[got - 1] = '\0';
	return strncmp(reply, "ok", 2) == 0 ? 0 : -1;
}

/* ---- JSON output ------------------------------------------------------------ */

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- one slot ---------------------------------------------------------------- */

struct result {
	unsigned if_index, ifnum, slot;
	DWORD lun;
	const char *outcome; /* works, refused, failed */
	const char *stage;
	RESPONSECODE rc;
	char detail[LINE_MAX_LEN];
	char reasons[REASON_MAX][LINE_MAX_LEN];
	unsigned n_reasons;
	unsigned char atr[MAX_ATR_SIZE];
	DWORD atr_len;
	int protocol;
	DWORD slots_reported;
	unsigned long apdus, apdus_short, apdus_ext;
	unsigned long long bytes_tx, bytes_rx;
	double ms_total, ms_apdu_min, ms_apdu_max, ms_apdu_sum;
	bool extended;
	/* dwMaxAPDUDataSize the driver advertises (PC/SC v2 part 10). */
	long max_apdu_data;
	/* Descriptor level allows extended APDUs, the driver says short only. */
	bool short_only;
	/* The short sweep met the reader's message size: the largest echo
	 * (Lc) that worked, the smallest refused, and the driver's reason. */
	bool limited;
	size_t limit_ok, limit_refused;
	char limit_reason[LINE_MAX_LEN];
	const char *events; /* ok, skipped, or what failed */
	bool ran_poll;
};

static void
result_init(struct result *r, unsigned i, unsigned slot, DWORD lun)
{
	memset(r, 0, sizeof(*r));
	r->if_index = i;
	r->ifnum = O.ifnum[i];
	r->slot = slot;
	r->lun = lun;
	r->outcome = "works";
	r->stage = "done";
	r->rc = IFD_SUCCESS;
	r->protocol = -1;
	r->events = "skipped";
	r->ms_apdu_min = -1;
	r->max_apdu_data = -1;
}

/* A failing IFDH call: refused when the driver said why, else failed. */
static void
result_fail(struct result *r, const char *stage, RESPONSECODE rc,
    const char *fmt, ...)
{
	va_list ap;
	unsigned i;

	r->stage = stage;
	r->rc = rc;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	for (i = 0; i < n_reasons; i++)
		memcpy(r->reasons[i], reasons[i], sizeof(reasons[i]));
	r->n_reasons = n_reasons;
	r->outcome = n_reasons > 0 && rc != IFD_SUCCESS ? "refused" : "failed";
}

/* Wrong behaviour (data, state): never a clean refusal. */
static void
result_wrong(struct result *r, const char *stage, RESPONSECODE rc,
    const char *fmt, ...)
{
	va_list ap;
	unsigned i;

	r->stage = stage;
	r->rc = rc;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	for (i = 0; i < n_reasons; i++)
		memcpy(r->reasons[i], reasons[i], sizeof(reasons[i]));
	r->n_reasons = n_reasons;
	r->outcome = "failed";
}

static void
result_print(const struct result *r)
{
	FILE *f = stdout;
	unsigned i;

	fprintf(f, "{");
	if (O.tag != NULL) {
		fprintf(f, "\"tag\": ");
		json_str(f, O.tag);
		fprintf(f, ", ");
	}
	fprintf(f, "\"vidpid\": \"%04x:%04x\", \"if_index\": %u, "
		   "\"interface\": %u, \"slot\": %u, \"lun\": \"0x%lX\", "
		   "\"outcome\": \"%s\", \"stage\": \"%s\", \"ifd_rc\": %ld, "
		   "\"ifd_rc_name\": \"%s\", \"detail\": ",
	    O.vid, O.pid, r->if_index, r->ifnum, r->slot,
	    (unsigned long)r->lun, r->outcome, r->stage, (long)r->rc,
	    ifd_name(r->rc));
	json_str(f, r->detail);
	fprintf(f, ", \"reasons\": [");
	for (i = 0; i < r->n_reasons; i++) {
		if (i)
			fprintf(f, ", ");
		json_str(f, r->reasons[i]);
	}
	fprintf(f, "], \"atr\": \"");
	for (i = 0; i < r->atr_len; i++)
		fprintf(f, "%02X", r->atr[i]);
	fprintf(f, "\", \"protocol\": %d, \"slots_reported\": %lu, "
		   "\"extended\": %s, \"apdus\": %lu, \"apdus_short\": %lu, "
		   "\"apdus_ext\": %lu, \"bytes_tx\": %llu, \"bytes_rx\": %llu, "
		   "\"events\": \"%s\", \"polled\": %s, \"ms_total\": %.1f, "
		   "\"ms_apdu_min\": %.3f, \"ms_apdu_avg\": %.3f, "
		   "\"ms_apdu_max\": %.3f, \"max_apdu_data\": %ld, "
		   "\"short_only\": %s",
	    r->protocol, (unsigned long)r->slots_reported,
	    r->extended ? "true" : "false", r->apdus, r->apdus_short,
	    r->apdus_ext, r->bytes_tx, r->bytes_rx, r->events,
	    r->ran_poll ? "true" : "false", r->ms_total,
	    r->ms_apdu_min < 0 ? 0 : r->ms_apdu_min,
	    r->apdus ? r->ms_apdu_sum / (double)r->apdus : 0, r->ms_apdu_max,
	    r->max_apdu_data, r->short_only ? "true" : "false");
	if (r->limited) {
		fprintf(f, ", \"apdu_limit\": {\"max_ok_lc\": %zu, "
			   "\"min_refused_lc\": %zu, \"reason\": ",
		    r->limit_ok, r->limit_refused);
		json_str(f, r->limit_reason);
		fprintf(f, "}");
	}
	fprintf(f, "}\n");
	fflush(f);
}

/* Protocols an ATR offers (ISO 7816-3 section 8.2.3): bit t for T=t. */
static unsigned
atr_protocols(const unsigned char *atr, DWORD len, int *first)
{
	unsigned mask = 0;
	DWORD i = 1;
	unsigned char y;

	*first = -1;
	if (len < 2)
		return 1;
	y = atr[1] >> 4;
	i = 2;
	for (;;) {
		unsigned char td;

		i += (DWORD)((y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1));
		if (!(y & 8) || i >= len)
			break;
		td = atr[i++];
		if (*first < 0)
			*first = td & 0x0f;
		mask |= 1u << (td & 0x0f);
		y = td >> 4;
	}
	if (mask == 0) {
		mask = 1;
		*first = 0;
	}
	return mask;
}

static unsigned char txbuf[65536 + 16];
static unsigned char rxbuf[RX_CAP];

/* One echo of n bytes (80 01 00 00, case 4; case 1 when n is 0). */
static int
echo(struct result *r, size_t n, bool extended)
{
	SCARD_IO_HEADER spci, rpci;
	DWORD rxlen = sizeof(rxbuf), txlen;
	RESPONSECODE rc;
	double t0, dt;
	size_t i;

	txbuf[0] = 0x80;
	txbuf[1] = 0x01;
	txbuf[2] = 0x00;
	txbuf[3] = 0x00;
	txlen = 4;
	if (n > 0 && !extended) {
		txbuf[4] = (unsigned char)n;
		for (i = 0; i < n; i++)
			txbuf[5 + i] = (unsigned char)(i * 7 + n);
		txbuf[5 + n] = 0x00;
		txlen = (DWORD)(6 + n);
	} else if (n > 0) {
		txbuf[4] = 0x00;
		txbuf[5] = (unsigned char)(n >> 8);
		txbuf[6] = (unsigned char)n;
		for (i = 0; i < n; i++)
			txbuf[7 + i] = (unsigned char)(i * 7 + n);
		txbuf[7 + n] = 0x00;
		txbuf[8 + n] = 0x00;
		txlen = (DWORD)(9 + n);
	}
	spci.Protocol = (DWORD)(r->protocol < 0 ? 0 : r->protocol);
	spci.Length = 0;
	reason_reset();
	t0 = now_ms();
	rc = F.transmit(r->lun, spci, txbuf, txlen, rxbuf, &rxlen, &rpci);
	dt = now_ms() - t0;
	if (rc != IFD_SUCCESS) {
		result_fail(r, "echo", rc, "%s echo of %zu bytes: %s",
		    extended ? "extended" : "short", n, ifd_name(rc));
		return -1;
	}
	if (rxlen != n + 2 || rxbuf[n] != 0x90 || rxbuf[n + 1] != 0x00) {
		result_wrong(r, "echo", rc,
		    "%s echo of %zu bytes: got %lu bytes, SW %02X%02X",
		    extended ? "extended" : "short", n, (unsigned long)rxlen,
		    rxlen >= 2 ? rxbuf[rxlen - 2] : 0,
		    rxlen >= 2 ? rxbuf[rxlen - 1] : 0);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (rxbuf[i] != (unsigned char)(i * 7 + n)) {
			result_wrong(r, "echo", rc,
			    "%s echo of %zu bytes: wrong data at offset %zu",
			    extended ? "extended" : "short", n, i);
			return -1;
		}
	}
	r->apdus++;
	if (extended)
		r->apdus_ext++;
	else
		r->apdus_short++;
	r->bytes_tx += txlen;
	r->bytes_rx += rxlen;
	r->ms_apdu_sum += dt;
	if (r->ms_apdu_min < 0 || dt < r->ms_apdu_min)
		r->ms_apdu_min = dt;
	if (dt > r->ms_apdu_max)
		r->ms_apdu_max = dt;
	return 0;
}

static int
power_up(struct result *r, const char *stage)
{
	DWORD len = MAX_ATR_SIZE;
	RESPONSECODE rc;

	reason_reset();
	rc = F.power(r->lun, IFD_POWER_UP, r->atr, &len);
	if (rc != IFD_SUCCESS) {
		r->atr_len = 0;
		result_fail(r, stage, rc, "IFDHPowerICC(IFD_POWER_UP): %s",
		    ifd_name(rc));
		return -1;
	}
	if (len == 0 || len > MAX_ATR_SIZE) {
		result_wrong(r, stage, rc, "ATR length %lu", (unsigned long)len);
		return -1;
	}
	r->atr_len = len;
	return 0;
}

static int
set_protocol(struct result *r)
{
	unsigned offered;
	int first, t;
	RESPONSECODE rc;

	offered = atr_protocols(r->atr, r->atr_len, &first);
	t = O.proto >= 0 ? O.proto : first;
	r->protocol = t;
	reason_reset();
	/* pcscd: SCARD_PROTOCOL_T0 = 1, T1 = 2; no PTS flags by default. */
	rc = F.set_proto(r->lun, t == 1 ? SCARD_PROTOCOL_T1 : SCARD_PROTOCOL_T0,
	    0, 0, 0, 0);
	if (rc != IFD_SUCCESS) {
		result_fail(r, "protocol", rc,
		    "IFDHSetProtocolParameters(T=%d, ATR offers 0x%X): %s", t,
		    offered, ifd_name(rc));
		return -1;
	}
	return 0;
}

/* Presence until it is `want`, bounded; IFDH result in *last. */
static bool
presence_wait(struct result *r, RESPONSECODE want, RESPONSECODE *last)
{
	double end = now_ms() + PRESENCE_WAIT_MS;

	do {
		reason_reset();
		*last = F.presence(r->lun);
		if (*last == want)
			return true;
		if (*last != IFD_ICC_PRESENT && *last != IFD_ICC_NOT_PRESENT)
			return false;
		usleep(20000);
	} while (now_ms() < end);
	return false;
}

static poll_fn
get_poll_fn(DWORD lun)
{
	void *p = NULL;
	DWORD len = sizeof(p);
	poll_fn fn = NULL;

	if (F.get_cap(lun, TAG_IFD_POLLING_THREAD_WITH_TIMEOUT, &len,
		(PUCHAR)&p) == IFD_SUCCESS && len == sizeof(p) && p != NULL)
		memcpy(&fn, &p, sizeof(fn));
	return fn;
}

/* Card out and back in through the simulator; sim_slot counts across
 * interfaces (tests/sim/README.md). */
static int
card_events(struct result *r, unsigned sim_slot)
{
	char cmd[64], reply[256];
	RESPONSECODE rc;
	poll_fn poll = O.poll ? get_poll_fn(r->lun) : NULL;

	snprintf(cmd, sizeof(cmd), "card-remove %u", sim_slot);
	if (sim_control(cmd, reply, sizeof(reply)) < 0) {
		result_wrong(r, "remove", IFD_SUCCESS, "sim %s: %s", cmd, reply);
		return -1;
	}
	if (poll != NULL) {
		/* pcscd's polling thread: returns on the slot change. */
		reason_reset();
		(void)poll(r->lun, POLL_MS);
		r->ran_poll = true;
	}
	if (!presence_wait(r, IFD_ICC_NOT_PRESENT, &rc)) {
		result_wrong(r, "remove", rc,
		    "card removed, IFDHICCPresence says %s", ifd_name(rc));
		r->events = "remove";
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "card-insert %u", sim_slot);
	if (sim_control(cmd, reply, sizeof(reply)) < 0) {
		result_wrong(r, "insert", IFD_SUCCESS, "sim %s: %s", cmd, reply);
		return -1;
	}
	if (poll != NULL) {
		reason_reset();
		(void)poll(r->lun, POLL_MS);
	}
	if (!presence_wait(r, IFD_ICC_PRESENT, &rc)) {
		result_wrong(r, "insert", rc,
		    "card inserted, IFDHICCPresence says %s", ifd_name(rc));
		r->events = "insert";
		return -1;
	}
	if (power_up(r, "repower") < 0 || set_protocol(r) < 0) {
		r->events = "repower";
		return -1;
	}
	if (echo(r, 16, false) < 0) {
		r->events = "echo-after-insert";
		return -1;
	}
	r->events = "ok";
	return 0;
}

static bool
want_extended(unsigned i, int protocol)
{
	unsigned long level = O.if_features[i] & 0x00070000ul;

	if (O.ext >= 0)
		return O.ext == 1;
	/* Extended APDU level; TPDU with T=1 (the driver chains blocks). */
	return level == 0x00040000ul || (level == 0x00010000ul && protocol == 1);
}

/*
 * An echo the driver refused with a reason (e.g. longer than the reader's
 * messages): the larger sizes would be refused too, so the sweep stops,
 * the rest of the slot's steps still run, and the refusal is the outcome.
 */
static bool
sweep_refused(struct result *r, struct result *keep)
{
	if (strcmp(r->outcome, "refused") != 0)
		return false;
	memcpy(keep, r, sizeof(*r));
	r->outcome = "works";
	r->stage = "done";
	r->rc = IFD_SUCCESS;
	r->detail[0] = '\0';
	r->n_reasons = 0;
	return true;
}

/* Forget a refusal the sweep expected (after keeping what it needs). */
static void
clear_refusal(struct result *r)
{
	r->outcome = "works";
	r->stage = "done";
	r->rc = IFD_SUCCESS;
	r->detail[0] = '\0';
	r->n_reasons = 0;
}

/* The driver's reason line when it refused an APDU for the reader's
 * message size, else NULL. */
static const char *
size_refusal(const struct result *r)
{
	unsigned i;

	if (strcmp(r->outcome, "refused") != 0)
		return NULL;
	for (i = 0; i < r->n_reasons; i++)
		if (strstr(r->reasons[i],
			"does not fit dwMaxCCIDMessageLength") != NULL)
			return r->reasons[i];
	return NULL;
}

/*
 * The short sweep met the reader's message size. Below the extended APDU
 * level a reader's dwMaxCCIDMessageLength may be smaller than the 261+10
 * bytes the largest short APDU needs (CCID rev 1.1 section 5.1 asks for
 * that only at extended APDU level), and a short APDU cannot be split
 * (wLevelParameter chaining exists at extended APDU level only, section
 * 6.1.4). Pin the exact boundary: echo Lc `lo` worked, `hi` was refused;
 * bisect so that every size up to the boundary is shown to work and the
 * next one to be refused for its size, then check the largest short APDU
 * is refused the same way (never sent, never a wrong answer).
 */
static int
find_size_limit(struct result *r, size_t lo, size_t hi)
{
	const char *why = size_refusal(r);

	snprintf(r->limit_reason, sizeof(r->limit_reason), "%s",
	    why != NULL ? why : "");
	clear_refusal(r);
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (echo(r, mid, false) == 0) {
			lo = mid;
			continue;
		}
		if (size_refusal(r) == NULL)
			return -1;
		hi = mid;
		clear_refusal(r);
	}
	if (hi < 255) {
		if (echo(r, 255, false) == 0) {
			result_wrong(r, "echo", IFD_SUCCESS,
			    "short echo of 255 bytes worked, %zu was refused "
			    "for the reader's message size", hi);
			return -1;
		}
		if (size_refusal(r) == NULL)
			return -1;
		clear_refusal(r);
	}
	r->limited = true;
	r->limit_ok = lo;
	r->limit_refused = hi;
	return 0;
}

/*
 * dwMaxAPDUDataSize as the driver advertises it (PC/SC v2 part 10,
 * FEATURE_GET_TLV_PROPERTIES): what a client such as OpenSC reads before
 * it sends extended APDUs. -1 when the driver does not tell.
 */
static long
advertised_max_apdu(DWORD lun)
{
	unsigned char buf[256];
	DWORD n = 0, code = 0, i;
	long v = -1;

	if (F.control(lun, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, buf,
		sizeof(buf), &n) != IFD_SUCCESS || n > sizeof(buf))
		return -1;
	/* Feature TLVs: tag, length 4, control code big-endian. */
	for (i = 0; i + 6 <= n; i += 6)
		if (buf[i] == FEATURE_GET_TLV_PROPERTIES && buf[i + 1] == 4)
			code = (DWORD)buf[i + 2] << 24 |
			       (DWORD)buf[i + 3] << 16 |
			       (DWORD)buf[i + 4] << 8 | buf[i + 5];
	n = 0;
	if (code == 0 || F.control(lun, code, NULL, 0, buf, sizeof(buf),
			     &n) != IFD_SUCCESS || n > sizeof(buf))
		return -1;
	/* Properties: tag, length, value little-endian. */
	for (i = 0; i + 2 <= n && i + 2 + buf[i + 1] <= n; i += 2 + buf[i + 1])
		if (buf[i] == PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize &&
		    buf[i + 1] == 4)
			v = (long)((unsigned long)buf[i + 2] |
				   (unsigned long)buf[i + 3] << 8 |
				   (unsigned long)buf[i + 4] << 16 |
				   (unsigned long)buf[i + 5] << 24);
	return v;
}

/*
 * Whether the slot gets the extended sweep. A reader whose descriptor
 * allows extended APDUs but for which the driver advertises short ones
 * only (a quirk forced the short APDU level) must refuse an extended APDU
 * with a reason: a client that read the advertisement never sends one.
 */
static int
choose_extended(struct result *r)
{
	r->max_apdu_data = advertised_max_apdu(r->lun);
	r->extended = want_extended(r->if_index, r->protocol);
	/* --ext yes/no: the benchmark drives the reference driver too. */
	if (O.ext >= 0)
		return 0;
	if (r->max_apdu_data < 0) {
		result_wrong(r, "features", IFD_SUCCESS,
		    "no dwMaxAPDUDataSize in FEATURE_GET_TLV_PROPERTIES");
		return -1;
	}
	if (!r->extended || r->max_apdu_data > 0)
		return 0;
	r->extended = false;
	r->short_only = true;
	reason_reset();
	if (echo(r, 256, true) == 0) {
		result_wrong(r, "echo", IFD_SUCCESS, "extended echo worked, "
		    "the driver advertises short APDUs only");
		return -1;
	}
	if (strcmp(r->outcome, "refused") != 0)
		return -1;
	clear_refusal(r);
	return 0;
}

/* The short sweep; a size limit found on the way ends it (see above). */
static int
short_sweep(struct result *r, struct result *keep, bool *refused)
{
	size_t best = 0;
	bool any_ok = false;
	unsigned k;

	for (k = 0; k < O.n_short && !*refused && !r->limited; k++) {
		size_t n = O.short_sizes[k];

		if (echo(r, n, false) == 0) {
			if (!any_ok || n > best)
				best = n;
			any_ok = true;
			continue;
		}
		if (any_ok && n > best && size_refusal(r) != NULL) {
			if (find_size_limit(r, best, n) < 0)
				return -1;
			continue;
		}
		if (!(*refused = sweep_refused(r, keep)))
			return -1;
	}
	return 0;
}

static void
run_slot(struct result *r, unsigned sim_slot)
{
	static struct result refusal;
	bool refused = false;
	RESPONSECODE rc;
	DWORD len;
	unsigned it, k;
	double t0 = now_ms();

	reason_reset();
	rc = F.presence(r->lun);
	if (rc != IFD_ICC_PRESENT) {
		if (rc == IFD_ICC_NOT_PRESENT)
			result_wrong(r, "presence", rc,
			    "card in the slot, IFDHICCPresence says absent");
		else
			result_fail(r, "presence", rc, "IFDHICCPresence: %s",
			    ifd_name(rc));
		goto out;
	}
	if (power_up(r, "power") < 0 || set_protocol(r) < 0)
		goto out;
	if (choose_extended(r) < 0)
		goto out;
	for (it = 0; it < O.iterations && !refused && !r->limited; it++) {
		if (short_sweep(r, &refusal, &refused) < 0)
			goto out;
		for (k = 0; r->extended && k < O.n_ext && !refused &&
		     !r->limited; k++)
			if (echo(r, O.ext_sizes[k], true) < 0 &&
			    !(refused = sweep_refused(r, &refusal)))
				goto out;
	}
	if (O.events && O.control != NULL && card_events(r, sim_slot) < 0)
		goto out;
	reason_reset();
	len = MAX_ATR_SIZE;
	{
		unsigned char atr[MAX_ATR_SIZE];

		rc = F.power(r->lun, IFD_POWER_DOWN, atr, &len);
	}
	if (rc != IFD_SUCCESS)
		result_fail(r, "power-down", rc, "IFDHPowerICC(IFD_POWER_DOWN): %s",
		    ifd_name(rc));
out:
	/* A clean refusal in the sweep is the outcome if nothing failed. */
	if (refused && strcmp(r->outcome, "works") == 0) {
		const char *events = r->events;
		unsigned long apdus = r->apdus;

		memcpy(r, &refusal, sizeof(*r));
		r->events = events;
		r->apdus = apdus;
	}
	r->ms_total = now_ms() - t0;
}

/* ---- main ----------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ifdh-drive --driver LIB.so (--profile FILE | --vidpid VVVV:PPPP "
	    "--interface N...)\n"
	    "         [--node /dev/bus/usb/BBB/DDD] [--control SOCKET] [--log FILE]\n"
	    "         [--proto 0|1] [--ext auto|yes|no] [--short-sizes LIST]\n"
	    "         [--ext-sizes LIST] [--iterations N] [--no-events] [--poll]\n"
	    "         [--tag TEXT]\n"
	    "Run under LD_PRELOAD=libumockdev-preload.so.0 with UMOCKDEV_DIR.\n");
}

int
main(int argc, char **argv)
{
	static struct result res[MAX_IFACES][MAX_SLOTS];
	bool opened[MAX_IFACES][MAX_SLOTS];
	unsigned nslots[MAX_IFACES];
	char node[256] = "", name[400];
	unsigned i, s, sim_base = 0;
	int a, status = 0;

	memset(opened, 0, sizeof(opened));
	O.driver = getenv("OPENCCID_DRIVER");
	O.proto = -1;
	O.ext = -1;
	O.events = true;
	O.iterations = 1;
	parse_sizes("0,1,2,5,16,64,127,128,200,254,255", O.short_sizes,
	    &O.n_short);
	parse_sizes("256,261,1024,4096,65535", O.ext_sizes, &O.n_ext);
	for (a = 1; a < argc; a++) {
		const char *k = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
		bool used = true;

		if (strcmp(k, "--no-events") == 0) {
			O.events = false;
			continue;
		}
		if (strcmp(k, "--poll") == 0) {
			O.poll = true;
			continue;
		}
		if (strcmp(k, "-h") == 0 || strcmp(k, "--help") == 0) {
			usage();
			return 0;
		}
		if (v == NULL) {
			usage();
			return 2;
		}
		if (strcmp(k, "--driver") == 0)
			O.driver = v;
		else if (strcmp(k, "--profile") == 0)
			O.profile = v;
		else if (strcmp(k, "--node") == 0)
			O.node = v;
		else if (strcmp(k, "--control") == 0)
			O.control = v;
		else if (strcmp(k, "--log") == 0)
			O.log_path = v;
		else if (strcmp(k, "--tag") == 0)
			O.tag = v;
		else if (strcmp(k, "--proto") == 0)
			O.proto = atoi(v);
		else if (strcmp(k, "--iterations") == 0)
			O.iterations = (unsigned)strtoul(v, NULL, 0);
		else if (strcmp(k, "--ext") == 0)
			O.ext = strcmp(v, "yes") == 0 ? 1
			    : strcmp(v, "no") == 0    ? 0
						      : -1;
		else if (strcmp(k, "--short-sizes") == 0) {
			if (parse_sizes(v, O.short_sizes, &O.n_short) < 0) {
				usage();
				return 2;
			}
		} else if (strcmp(k, "--ext-sizes") == 0) {
			if (parse_sizes(v, O.ext_sizes, &O.n_ext) < 0) {
				usage();
				return 2;
			}
		} else if (strcmp(k, "--vidpid") == 0) {
			if (sscanf(v, "%x:%x", &O.vid, &O.pid) != 2) {
				usage();
				return 2;
			}
			O.have_vidpid = true;
		} else if (strcmp(k, "--interface") == 0) {
			if (O.n_if >= MAX_IFACES) {
				usage();
				return 2;
			}
			O.ifnum[O.n_if++] = (unsigned)strtoul(v, NULL, 0);
		} else
			used = false;
		if (!used) {
			usage();
			return 2;
		}
		a++;
	}
	for (s = 0; s < O.n_short; s++)
		if (O.short_sizes[s] > 255) {
			fprintf(stderr, "ifdh-drive: short sizes are 0..255\n");
			return 2;
		}
	if (O.driver == NULL || (O.profile == NULL && (!O.have_vidpid ||
					 O.n_if == 0))) {
		usage();
		return 2;
	}
	if (O.profile != NULL && read_profile(O.profile) < 0)
		return 2;
	if (O.node != NULL)
		snprintf(node, sizeof(node), "%s", O.node);
	else if (find_node(node, sizeof(node)) < 0)
		return 2;
	if (O.log_path != NULL) {
		if ((log_out = fopen(O.log_path, "a")) == NULL) {
			fprintf(stderr, "ifdh-drive: %s: %s\n", O.log_path,
			    strerror(errno));
			return 2;
		}
	} else {
		log_out = stderr;
	}
	if (load_driver(O.driver) < 0)
		return 2;

	/* pcscd adds every interface as its own reader, all at once. */
	for (i = 0; i < O.n_if; i++) {
		DWORD lun = (DWORD)i << 16, len;
		UCHAR n = 0;
		RESPONSECODE rc;

		nslots[i] = 0;
		result_init(&res[i][0], i, 0, lun);
		snprintf(name, sizeof(name), "usb:%04x/%04x:libudev:%u:%s",
		    O.vid, O.pid, O.ifnum[i], node);
		log_msg(PCSC_LOG_INFO, "ifdh-drive: IFDHCreateChannelByName(0x%lX, %s)",
		    (unsigned long)lun, name);
		reason_reset();
		rc = F.create_by_name(lun, name);
		if (rc != IFD_SUCCESS) {
			result_fail(&res[i][0], "open", rc,
			    "IFDHCreateChannelByName(%s): %s", name,
			    ifd_name(rc));
			continue;
		}
		opened[i][0] = true;
		len = sizeof(n);
		reason_reset();
		rc = F.get_cap(lun, TAG_IFD_SLOTS_NUMBER, &len, &n);
		if (rc != IFD_SUCCESS || len != 1 || n == 0 || n > MAX_SLOTS) {
			result_wrong(&res[i][0], "slots", rc,
			    "TAG_IFD_SLOTS_NUMBER: %s, length %lu, value %u",
			    ifd_name(rc), (unsigned long)len, n);
			continue;
		}
		nslots[i] = n;
		res[i][0].slots_reported = n;
		if (O.if_slots[i] != 0 && n != O.if_slots[i])
			log_msg(PCSC_LOG_INFO,
			    "ifdh-drive: interface %u: driver reports %u slots, "
			    "descriptor %u", O.ifnum[i], n, O.if_slots[i]);
		for (s = 1; s < n; s++) {
			DWORD slun = lun | s;

			result_init(&res[i][s], i, s, slun);
			res[i][s].slots_reported = n;
			reason_reset();
			rc = F.create_by_name(slun, name);
			if (rc != IFD_SUCCESS)
				result_fail(&res[i][s], "open", rc,
				    "IFDHCreateChannelByName(0x%lX, %s): %s",
				    (unsigned long)slun, name, ifd_name(rc));
			else
				opened[i][s] = true;
		}
	}
	for (i = 0; i < O.n_if; i++) {
		unsigned desc_slots = O.if_slots[i] ? O.if_slots[i] : nslots[i];

		if (desc_slots > SIM_MAX_SLOTS)
			desc_slots = SIM_MAX_SLOTS;
		for (s = 0; s < nslots[i]; s++) {
			if (!opened[i][s])
				continue;
			if (s >= desc_slots) {
				result_wrong(&res[i][s], "slots", IFD_SUCCESS,
				    "slot %u beyond the device's %u", s,
				    desc_slots);
				continue;
			}
			run_slot(&res[i][s], sim_base + s);
		}
		sim_base += desc_slots;
	}
	/* Close further slots first, slot 0 last (it owns the device). */
	for (i = 0; i < O.n_if; i++) {
		for (s = MAX_SLOTS; s-- > 0;) {
			if (!opened[i][s])
				continue;
			reason_reset();
			if (F.close(res[i][s].lun) != IFD_SUCCESS &&
			    strcmp(res[i][s].outcome, "works") == 0)
				result_wrong(&res[i][s], "close",
				    IFD_COMMUNICATION_ERROR,
				    "IFDHCloseChannel failed");
		}
	}
	for (i = 0; i < O.n_if; i++) {
		unsigned n = nslots[i] ? nslots[i] : 1;

		for (s = 0; s < n; s++) {
			result_print(&res[i][s]);
			if (strcmp(res[i][s].outcome, "failed") == 0)
				status = 1;
		}
	}
	if (log_out != NULL && log_out != stderr)
		fclose(log_out);
	return status;
}
