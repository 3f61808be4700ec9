/*
 * openccid - libFuzzer harness for the trace parser (openccid-replay
 * reads traces users send). Every parsed trace is formatted again and
 * must parse to the same records.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/trace_fmt.h"
#include "codec/trace_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Format t again (header and records) into a fresh buffer. */
static char *
reformat(const struct trace *t, size_t *len)
{
	size_t cap = 4096, used = 0, n, i;
	char *buf = malloc(cap);

	if (buf == NULL || trace_fmt_header(&t->dev, buf, cap, &used) != OC_OK)
		abort();
	for (i = 0; i < t->n; i++) {
		size_t need = 2 * t->rec[i].data_len + 256;

		if (cap - used < need) {
			cap = used + need;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		if (trace_fmt_record(&t->rec[i], buf + used, cap - used, &n) !=
		    OC_OK)
			abort();
		used += n;
	}
	*len = used;
	return buf;
}

static void
same(const struct trace_record *a, const struct trace_record *b)
{
	size_t at;

	if (a->kind != b->kind || a->ms != b->ms || a->data_len != b->data_len)
		abort();
	if (a->data_len > 0 && !trace_data_match(a, b->data, b->data_len, &at))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace t, u;
	char err[200];
	char *again;
	size_t len, i;

	if (trace_parse((const char *)data, size, &t, err, sizeof(err)) !=
	    OC_OK) {
		if (strncmp(err, "line ", 5) != 0)
			abort();
		return 0;
	}
	again = reformat(&t, &len);
	if (trace_parse(again, len, &u, err, sizeof(err)) != OC_OK ||
	    u.n != t.n)
		abort();
	for (i = 0; i < t.n; i++)
		same(&t.rec[i], &u.rec[i]);
	trace_free(&t);
	trace_free(&u);
	free(again);
	return 0;
}
