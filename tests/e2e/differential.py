#!/usr/bin/python3
# tests/e2e/differential.py - the sender gate against Postfix itself.
#
# Used by tests/e2e/postfix_differential.sh, which starts a private Postfix
# with two SASL smtpd services:
#   --postfix PORT  smtpd_sender_restrictions = reject_sender_login_mismatch,
#                   smtpd_sender_login_maps = hash:FIXED, regexp:REGEXPS,
#                   no milter: Postfix's own verdict
#   --relayguard PORT  no sender restrictions, relayguard as the milter with
#                   sender_login_maps = the same keys in one file
# For every (login, sender) case it sends MAIL FROM to both (one connection
# per login and port, RSET between cases) and compares the verdicts:
# accept (250) or reject (553 ... not owned by user).  Writes one line per
# case to --out and prints the counts.  Exit status 0 only when every case
# that is not a listed deliberate difference agrees.
#
# Run with /usr/bin/python3 (no modules beyond the standard library).
import argparse
import base64
import socket
import sys

# ---------------------------------------------------------------- the cases
# "" is a client that does not log in: Postfix's
# reject_unauthenticated_sender_login_mismatch against SENDER_NOT_LOGGED_IN
LOGINS = ["alice", "bob", "carol", "dave", "john", "admin", "orgadmin",
          "helpdesk", "eve", ""]

LOCALS = [
    # plain, case, extension
    "alice", "ALICE", "Alice", "bob", "Bob", "BOB", "list", "shared",
    "alice+x", "alice+special", "ALICE+Special", "bob+x+y", "list+y",
    "+alice", "postmaster", "POSTMASTER", "postmaster+x", "carol", "CAROL",
    "carol+x", "eve", "nobody", "upper", "UPPER", "inline", "dave",
    # quoted local parts: quoted form first, then unquoted
    '"john doe"', '"JOHN DOE"', '"john  doe"', '"j..doe"', "j..doe",
    '"J..Doe"', '"alice"', '"ALICE"', "dave..x", '"dave..x"', '"a\\"b"',
    '"alice+x"', '"carol"',
    # UTF-8 (sent with SMTPUTF8): Postfix folds with ICU
    "J\u00d6RG", "j\u00f6rg", "J\u00f6rg", "STRASSE", "stra\u00dfe",
    "STRA\u00dfE", "J\u00d6RGEN", "\u00e9ve",
    # routing: percent hack, bang path, quoted operators
    "bob%example.org", "alice%example.com", "bob%EXAMPLE.ORG",
    "example.org!bob", "example.com!alice", "a%b%example.org",
    "alice%evil.test", "evil.test!alice", '"bob@example.org"',
    '"bob%example.org"', '"example.org!bob"', "x!bob%example.org",
    "bob%example.org%example.com", "carol%mx.test", "alice%[127.0.0.1]",
    # regexp keys
    "re-alice", "re-bob", "RE-Carol", "amy", "amy+x", "CASE", "case",
    "zz", "zz+y", '"q r"', '"Q R"', '"s t"',
    # odd corners: empty extensions, quoting, two "@", not UTF-8
    "alice+", "alice++x", "+", '"a\\\\b"', '"a@b"', "a@b", '""',
    "mailer-daemon", "MAILER-DAEMON+x", '"john doe"+x', '"john doe+x"',
    "\udcff\udcfebad", "J\udcc3(RG", "st\udce9ve",
]

DOMAINS = ["example.com", "EXAMPLE.COM", "example.org", "example.net",
           "mx.test", "MX.Test", "[127.0.0.1]", "utf.test", "UTF.Test",
           "catchall.test", ""]

EXTRA = ["", "@example.org,@example.com:alice@example.com",
         "alice@example.com.", "bob@example.org."]

# deliberate differences: (name, reason, predicate(login, sender, pf, rg))
DELIBERATE = [
    ("null-sender",
     "Postfix never checks <> (reject_sender_login_mismatch skips it); "
     "relayguard refuses it from a login unless sender_allow_null = yes; "
     "<\"\"> is the null sender to both",
     lambda login, s, pf, rg: s in ("", '""')),
    ("catch-all",
     "*@domain is relayguard's catch-all owner, added to what the lookup "
     "finds (so to a client without a login every address of the domain "
     "is protected); in Postfix it is a plain key that only <*@domain> "
     "matches",
     lambda login, s, pf, rg: s.lower().endswith("@catchall.test") and
     ((login == "helpdesk" and rg == "accept") or
      (login == "" and rg == "reject"))),
]


def senders():
    out = []
    for d in DOMAINS:
        for l in LOCALS:
            out.append(l + ("@" + d if d else ""))
    return out + EXTRA


# --------------------------------------------------------------- SMTP client
class Smtp:
    def __init__(self, port, login, password):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.f = self.s.makefile("rb")
        self.reply()
        self.cmd("EHLO differential.test")
        if not login:
            return
        tok = base64.b64encode(b"\0" + login.encode() + b"\0" +
                               password.encode()).decode()
        code, text = self.cmd("AUTH PLAIN " + tok)
        if code != 235:
            raise RuntimeError("AUTH %s on port %d: %d %s" %
                               (login, port, code, text))

    def reply(self):
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("connection closed")
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), " ".join(lines)

    def cmd(self, text):
        self.s.sendall(text.encode("utf-8", "surrogateescape") + b"\r\n")
        return self.reply()

    def mail(self, sender):
        opt = "" if sender.isascii() else " SMTPUTF8"
        code, text = self.cmd("MAIL FROM:<%s>%s" % (sender, opt))
        if code == 250:
            self.cmd("RSET")
        return code, text

    def close(self):
        try:
            self.cmd("QUIT")
        except Exception:
            pass
        self.s.close()


def verdict(code, text):
    if code == 250:
        return "accept"
    if code == 553 and ("not owned by user" in text or
                        "not logged in" in text):
        return "reject"
    if code == 451:
        return "tempfail"
    return "other:%d" % code


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--postfix", type=int)
    ap.add_argument("--relayguard", type=int)
    ap.add_argument("--password", default="secret")
    ap.add_argument("--out")
    ap.add_argument("--probe", nargs=3, metavar=("PORT", "LOGIN", "SENDER"),
                    help="print the reply to one MAIL FROM and exit")
    a = ap.parse_args()
    if a.probe:
        c = Smtp(int(a.probe[0]), a.probe[1], a.password)
        code, text = c.mail(a.probe[2])
        c.close()
        print(code, text)
        return 0

    cases = senders()
    agreed = disagreed = refused = 0
    excluded = {name: 0 for name, _, _ in DELIBERATE}
    bad = []
    with open(a.out, "w", encoding="utf-8", errors="backslashreplace") as out:
        for login in LOGINS:
            pf = Smtp(a.postfix, login, a.password)
            rg = Smtp(a.relayguard, login, a.password)
            for s in cases:
                pc, pt = pf.mail(s)
                rc, rt = rg.mail(s)
                pv, rv = verdict(pc, pt), verdict(rc, rt)
                why = "agree"
                if pv.startswith("other") and rv == pv:
                    # refused by smtpd itself before any restriction
                    refused += 1
                    why = "refused-by-smtpd"
                elif pv == rv:
                    agreed += 1
                else:
                    for name, _, pred in DELIBERATE:
                        if pred(login, s, pv, rv):
                            excluded[name] += 1
                            why = "excluded:" + name
                            break
                    else:
                        disagreed += 1
                        why = "DISAGREE"
                        bad.append("%s <%s>: postfix %s (%d %s), relayguard "
                                   "%s (%d %s)" % (login, s, pv, pc, pt, rv,
                                                   rc, rt))
                out.write("%s\t<%s>\t%s\t%s\t%s\n" % (login or "-", s, pv, rv,
                                                        why))
            pf.close()
            rg.close()
    total = len(LOGINS) * len(cases)
    print("differential: %d cases (%d logins x %d senders): %d agreed, "
          "%d disagreed, %d refused by smtpd alike, %d excluded" %
          (total, len(LOGINS), len(cases), agreed, disagreed, refused,
           sum(excluded.values())))
    for name, reason, _ in DELIBERATE:
        print("  excluded %-12s %4d  (%s)" % (name, excluded[name], reason))
    for line in bad[:40]:
        print("  DISAGREE " + line)
    return 0 if disagreed == 0 and agreed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
