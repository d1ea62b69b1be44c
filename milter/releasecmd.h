/*
 * releasecmd - "relayguard release": lift the compromised-account brake.
 */
#ifndef RG_RELEASECMD_H
#define RG_RELEASECMD_H

int releasecmd_main(int argc, char **argv);

#endif
