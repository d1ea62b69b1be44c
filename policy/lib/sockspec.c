/*
 * sockspec - parse a server's address (see sockspec.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "sockspec.h"

int
sockspec_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
	     char *why, size_t whylen)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = spec;
	size_t hlen;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (strncmp(spec, "unix:", 5) == 0)
		spec += 5;
	if (*spec == '/') {
		if (strlen(spec) >= sizeof(sun->sun_path)) {
			snprintf(why, whylen, "socket path too long");
			return -1;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, spec, strlen(spec) + 1);
		*len = (socklen_t)sizeof(*sun);
		return 0;
	}
	if (*h == '[') {
		const char *rb = strchr(h, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		h++;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(h, ':');
		if (colon == NULL)
			goto bad;
		hlen = (size_t)(colon - h);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno ||
	    port < 1 || port > 65535)
		goto bad;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		*len = (socklen_t)sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		*len = (socklen_t)sizeof(*sin6);
		return 0;
	}
bad:
	snprintf(why, whylen, "bad server \"%.80s\": want ADDR:PORT, "
		 "[ADDR]:PORT (numeric) or the path of a unix socket", spec);
	return -1;
}
