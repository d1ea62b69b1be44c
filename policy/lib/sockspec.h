/*
 * sockspec - a stream server as a configuration names it: "ADDR:PORT"
 * (numeric IPv4), "[ADDR]:PORT" (numeric IPv6), or the absolute path of a
 * unix socket ("/run/spamd.sock", or "unix:/run/spamd.sock").  Numeric
 * only: naming a server never costs a DNS lookup on the mail path.
 */
#ifndef RG_SOCKSPEC_H
#define RG_SOCKSPEC_H

#include <stddef.h>
#include <sys/socket.h>

/* sockspec_parse - spec to a socket address; 0, or -1 with why */
int sockspec_parse(const char *spec, struct sockaddr_storage *ss,
		   socklen_t *len, char *why, size_t whylen);

#endif
