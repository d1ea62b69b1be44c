/*
 * learncmd - "relayguard learn": train the built-in spam engine.
 */
#ifndef RG_LEARNCMD_H
#define RG_LEARNCMD_H

int learncmd_main(int argc, char **argv);

#endif
