/*
 * av - scan the transaction's spool and name what was found (see av.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "av.h"
#include "avclamd.h"
#include "avengine.h"
#include "conf.h"
#include "symbols.h"
#include "txn.h"
#include "util.h"

int
av_enabled(const struct conf *c)
{
	if (!c->av)
		return 0;
	return c->av_backend == AV_BACKEND_CLAMD || av_engine_wanted();
}

const char *
av_status_name(enum av_status s)
{
	static const char *const names[] = {
		[AV_CLEAN] = "clean", [AV_INFECTED] = "infected",
		[AV_ERROR] = "error", [AV_UNAVAILABLE] = "unavailable",
		[AV_LIMIT] = "limit", [AV_ENCRYPTED] = "encrypted",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* av_starts - does s begin with prefix */
static int
av_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * av_classify - ClamAV reports what it could not scan as "viruses" of its
 * heuristics (with CL_SCAN_HEURISTIC_ENCRYPTED_* and _EXCEEDS_MAX, in
 * process and in clamd alike): they are not known bad, only not known
 * clean
 */
static void
av_classify(struct av_result *r)
{
	/* clamd's StreamMaxLength, or ours before sending: a size limit */
	if (r->status == AV_ERROR && (strstr(r->name, "StreamMaxLength") ||
	    strstr(r->name, "clamd_stream_max")))
		r->status = AV_LIMIT;
	if (r->status != AV_INFECTED)
		return;
	if (av_starts(r->name, "Heuristics.Encrypted."))
		r->status = AV_ENCRYPTED;
	else if (av_starts(r->name, "Heuristics.Limits.Exceeded"))
		r->status = AV_LIMIT;
}

/*
 * av_prefix - libclamav takes a file for mail only when it starts with
 * one of these fields (its built-in file types; measured, see
 * conf/clamav/README): anything else first (X-Foo: and a kilobyte of
 * padding, say) and MIME parts go unopened, a base64 virus unseen.
 * Postfix does not pass milters the Received field it adds, so the first
 * field is whatever the client wrote: such a message is scanned behind a
 * Received line of ours, never copied.
 */
static const char *
av_prefix(const struct spool_view *v)
{
	static const char *const starts[] = {
		"Received: ", "From: ", "To: ", "Subject: ", "Date: ",
		"Message-ID: ", "Message-Id: ", "Return-Path: ",
		"Return-path: ", "Delivered-To: ", "Received-SPF: ",
		"X-Original-To: ", "X-Envelope-From: ", "Envelope-to: ",
	};
	char head[32];
	size_t n = v->len < sizeof(head) ? v->len : sizeof(head);

	if (v->data != NULL)
		memcpy(head, v->data, n);
	else if (v->fd < 0 || pread(v->fd, head, n, 0) != (ssize_t)n)
		n = 0;
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		size_t k = strlen(starts[i]);

		if (n >= k && memcmp(head, starts[i], k) == 0)
			return NULL;
	}
	return "Received: by relayguard (virus scan)\r\n";
}

/* av_headers - X-Virus-Scanned and X-Virus-Status, forged copies gone */
static void
av_headers(struct txn *t, const struct av_result *r)
{
	char scanner[128], value[384];

	txn_strip_header(t, "X-Virus-Scanned");
	txn_strip_header(t, "X-Virus-Status");
	if (t->conf->av_backend == AV_BACKEND_CLAMD)
		snprintf(scanner, sizeof(scanner), "clamd");
	else
		av_engine_describe(scanner, sizeof(scanner));
	snprintf(value, sizeof(value), "%s (relayguard %s) at %s", scanner,
		 PACKAGE_VERSION, t->conf->authserv_id);
	txn_add_trace(t, "X-Virus-Scanned", value);
	if (r->status == AV_CLEAN)
		snprintf(value, sizeof(value), "Clean");
	else if (r->status == AV_INFECTED)
		snprintf(value, sizeof(value), "Infected (%.200s)", r->name);
	else
		snprintf(value, sizeof(value), "Not scanned (%s)",
			 av_status_name(r->status));
	txn_add_trace(t, "X-Virus-Status", value);
}

void
av_eom(struct txn *t)
{
	const struct conf *c = t->conf;
	struct spool_view view;
	struct av_result r;

	/* a spool that failed is SPOOL_ERROR already: nothing to scan */
	if (t->spool.err != 0)
		return;
	spool_view(&t->spool, &view);
	memset(&r, 0, sizeof(r));
	if (c->av_backend == AV_BACKEND_CLAMD)
		avclamd_scan_prefixed(c->clamd_socket, av_prefix(&view), &view,
				      (size_t)c->clamd_chunk_size,
				      (size_t)c->clamd_stream_max,
				      c->av_timeout, &r);
	else
		av_engine_scan(&view, av_prefix(&view), &r);
	av_classify(&r);
	switch (r.status) {
	case AV_CLEAN:
		break;
	case AV_INFECTED:
		symbols_add_opts(&t->symbols, "AV_VIRUS", 0, r.name, NULL, "%s",
				 r.name);
		break;
	case AV_ENCRYPTED:
		symbols_add_opts(&t->symbols, "AV_ENCRYPTED", 0,
				 "encrypted content", NULL, "%s", r.name);
		break;
	case AV_LIMIT:
		symbols_add_opts(&t->symbols, "AV_LIMIT", 0,
				 "a scan limit was reached", NULL, "%s", r.name);
		break;
	case AV_ERROR:
		symbols_add_opts(&t->symbols, "AV_SCAN_ERROR", 0,
				 "scanner error", NULL, "%s", r.name);
		break;
	case AV_UNAVAILABLE:
		symbols_add_opts(&t->symbols, "AV_UNAVAILABLE", 0,
				 "scanner unavailable", NULL, "%s", r.name);
		break;
	}
	if (c->av_headers)
		av_headers(t, &r);
}
