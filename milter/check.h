/*
 * check - "relayguard check": the whole policy on one message, no MTA.
 *
 * Output (DESIGN.md section 4): "verdict: WORD", then "reply: CODE X.Y.Z
 * TEXT" when there is one, one "header: Name: value" per header to add,
 * one "remove-header: Name" per header to remove, one "symbol: NAME SCORE
 * DETAIL" per result.  Exit 0 when a verdict was reached.
 */
#ifndef RG_CHECK_H
#define RG_CHECK_H

int check_main(int argc, char **argv);

#endif
