#!/usr/bin/env python3
"""An independent implementation of SPEC §2 (key derivation), in Python's standard library only.

It shares no code with et-core, so agreement between the two is evidence that both follow the
specification and not merely each other. Used by tests/e2e/interop.rs:

  spec2.py vector                          check the SPEC test vector, print "ok"
  spec2.py mint MASTER_HEX INSTANCE N      print N pairs as JSON [{"api_key","api_secret"}]
  spec2.py verify MASTER_HEX < pairs.json  check pairs [{"api_key","api_secret","instance"}], print "ok N"
"""
import hashlib
import hmac
import json
import os
import sys


def instance_key(master: bytes, instance_id: str) -> bytes:
    return hmac.new(master, b"entrytarget.instance.v1\x00" + instance_id.encode(), hashlib.sha256).digest()


def api_key(r: bytes) -> str:
    rand_hex = r.hex()
    return "ak_" + rand_hex + hashlib.sha256(rand_hex.encode()).hexdigest()[:8]


def api_secret(ikey: bytes, key: str) -> str:
    return "sk_" + hmac.new(ikey, b"entrytarget.credential.v1\x00" + key.encode(), hashlib.sha256).hexdigest()


def stored_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def checksum_ok(key: str) -> bool:
    return len(key) == 43 and key.startswith("ak_") and hashlib.sha256(key[3:35].encode()).hexdigest()[:8] == key[35:]


def main() -> int:
    cmd = sys.argv[1]
    if cmd == "vector":
        master = bytes(range(32))
        ikey = instance_key(master, "acme-prod-eu1")
        assert ikey.hex() == "089489b6e984867345c43d15dc262b9a5b7afdc76bd1c7c5426ac000fac4a63c"
        key = api_key(bytes(range(16)))
        assert key == "ak_000102030405060708090a0b0c0d0e0fd65df89f"
        secret = api_secret(ikey, key)
        assert secret == "sk_503baa03e200179d94e68a83c1b510594e56fd9ff84ce7ef436335c0399f797c"
        assert stored_hash(secret) == "684973506859df19ac316208329d03b18da03ecbd11ef2db0561ac72602000c0"
        print("ok")
    elif cmd == "mint":
        master, instance, n = bytes.fromhex(sys.argv[2]), sys.argv[3], int(sys.argv[4])
        ikey = instance_key(master, instance)
        pairs = []
        for _ in range(n):
            key = api_key(os.urandom(16))
            pairs.append({"api_key": key, "api_secret": api_secret(ikey, key)})
        print(json.dumps(pairs))
    elif cmd == "verify":
        master = bytes.fromhex(sys.argv[2])
        pairs = json.load(sys.stdin)
        for p in pairs:
            if not checksum_ok(p["api_key"]):
                print("bad checksum: " + p["api_key"])
                return 1
            if not hmac.compare_digest(api_secret(instance_key(master, p["instance"]), p["api_key"]), p["api_secret"]):
                print("secret does not match the derivation for " + p["api_key"])
                return 1
        print("ok %d" % len(pairs))
    else:
        print("unknown command " + cmd, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
