/*
 * spfcmd - "relayguard spf": the operator's spfquery, through the same
 * engine, resolver and limits as the daemon.
 */
#ifndef RG_SPFCMD_H
#define RG_SPFCMD_H

int spfcmd_main(int argc, char **argv);

#endif
