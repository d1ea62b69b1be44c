/*
 * dkimcmd - the "relayguard dkim-keygen" and "relayguard dkim-check"
 * commands: make a signing key and its DNS record; compare every key of
 * the configured key table with the record published for its selector.
 */
#ifndef RG_DKIMCMD_H
#define RG_DKIMCMD_H

int dkimcmd_keygen(int argc, char **argv);
int dkimcmd_check(int argc, char **argv);

#endif
