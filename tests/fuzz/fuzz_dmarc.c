/*
 * fuzz_dmarc - dmarc_parse() (policy/checks/dmarc/dmarcrec.c), the reader
 * of DMARC records from DNS (hostile data).
 *
 * Feeds: the input as one TXT record (NUL bytes included), with a normal
 * and a one-byte error buffer.
 *
 * Invariants beyond "no crash, no leak":
 *   - the result is -1, 0 or 1; a record (1) has p, sp, np in none..reject,
 *     psd one of y/n/u, t 0 or 1, pct -1 or 0..100;
 *   - why is always terminated within its buffer;
 *   - the same input parses the same way twice.
 *
 * Built and run by scripts/fuzz (target dmarc).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_record r, r2;
	char why[96], tiny[1];
	int rc = dmarc_parse((const char *)data, size, &r, why, sizeof(why));

	FZ_CHECK(rc >= -1 && rc <= 1, "rc %d", rc);
	FZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL, "why unterminated");
	if (rc == 1) {
		FZ_CHECK(r.p <= DMARC_P_REJECT && r.sp <= DMARC_P_REJECT &&
			 r.np <= DMARC_P_REJECT, "policy out of range");
		FZ_CHECK(r.psd == 'y' || r.psd == 'n' || r.psd == 'u',
			 "psd %d", r.psd);
		FZ_CHECK(r.testing == 0 || r.testing == 1, "t %d", r.testing);
		FZ_CHECK(r.pct >= -1 && r.pct <= 100, "pct %d", r.pct);
	}
	FZ_CHECK(dmarc_parse((const char *)data, size, &r2, tiny,
			     sizeof(tiny)) == rc, "not deterministic");
	FZ_CHECK(tiny[0] == '\0', "tiny why not empty");
	if (rc == 1)
		FZ_CHECK(memcmp(&r, &r2, sizeof(r)) == 0, "two readings");
	return 0;
}
