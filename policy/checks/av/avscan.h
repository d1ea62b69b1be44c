/*
 * avscan - what a virus scan of one message found, whichever engine
 * scanned it (libclamav in process, or clamd).
 */
#ifndef RG_AVSCAN_H
#define RG_AVSCAN_H

enum av_status {
	AV_CLEAN,		/* scanned whole, nothing found */
	AV_INFECTED,		/* name holds the virus name */
	AV_ERROR,		/* could not be scanned whole: name says why
				   (a limit, an encrypted archive, an engine
				   error); the message is not known clean */
	AV_UNAVAILABLE,		/* no engine to ask: none loaded, clamd down,
				   refused or too slow; name says which */
	AV_LIMIT,		/* a scan limit was reached (size, recursion,
				   files, time): not scanned whole */
	AV_ENCRYPTED,		/* an encrypted archive or document */
};

struct av_result {
	enum av_status	status;
	char		name[256];	/* virus name or reason, never empty
					   unless clean */
};

#endif
