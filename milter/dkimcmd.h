/*
 * dkimcmd - the "relayguard dkim-keygen" and "relayguard dkim-check"
 * commands: make a signing key and its DNS record; compare every key of
 * the configured key table with the record published for its selector.
 */
#ifndef RG_DKIMCMD_H
#define RG_DKIMCMD_H

struct conf;

int dkimcmd_keygen(int argc, char **argv);
/*
 * dkimcmd_log_keys - the dkim-check lines of c's key table to the log
 * (warnings for keys whose record is missing or does not match), within
 * a few seconds; for the daemon at start and reload
 */
void dkimcmd_log_keys(struct conf *c);
int dkimcmd_check(int argc, char **argv);

#endif
