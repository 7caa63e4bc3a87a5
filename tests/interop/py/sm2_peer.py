"""Drives the Python `gmssl` 3.2.2 library (an SM2/SM3 implementation
independent of Tongban's) for the interoperability tests of the SM2SM3
suite (specs/credential-format.md §9). Prints one JSON object per command.

    python3 sm2_peer.py verify <compact-jws-file> <jwk-file>
    python3 sm2_peer.py public <secret-hex>
    python3 sm2_peer.py sign <secret-hex> <signing-input-file>

`verify` checks the JWS's SM2 signature over its signing input
(ASCII(header "." payload)) with the JWK's key; `sign` signs a signing
input, returning the 64-byte r||s signature in base64url as JWS carries it.
gmssl computes Z with ENTL 0x0080 and ID "1234567812345678", the identity
Tongban's profile fixes; nothing here configures it.
"""
import base64
import binascii
import json
import sys

from gmssl import sm2

CURVE = sm2.default_ecc_table


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_hex_of_jwk(jwk):
    if jwk.get("kty") != "EC" or jwk.get("crv") != "SM2":
        raise ValueError(f"not an SM2 key: {jwk.get('kty')}/{jwk.get('crv')}")
    x, y = b64d(jwk["x"]), b64d(jwk["y"])
    if len(x) != 32 or len(y) != 32:
        raise ValueError("coordinates are not 32 bytes")
    return (x + y).hex()


def public_hex_of_secret(secret_hex):
    crypt = sm2.CryptSM2(private_key=secret_hex, public_key="")
    point = crypt._kg(int(secret_hex, 16), CURVE["g"])
    return point.lower()


def verify(jws_file, jwk_file):
    jws = open(jws_file, encoding="ascii").read().strip()
    header_b64, payload_b64, sig_b64 = jws.split(".")
    header = json.loads(b64d(header_b64))
    jwk = json.load(open(jwk_file, encoding="utf-8"))
    sig = b64d(sig_b64)
    if header.get("alg") != "SM2SM3" or len(sig) != 64:
        return {"ok": False, "why": "not an SM2SM3 signature"}
    crypt = sm2.CryptSM2(private_key="", public_key=public_hex_of_jwk(jwk))
    signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
    if not crypt.verify_with_sm3(sig.hex(), signing_input):
        return {"ok": False, "why": "the signature does not verify"}
    return {"ok": True, "payload": json.loads(b64d(payload_b64))}


def public(secret_hex):
    pub = bytes.fromhex(public_hex_of_secret(secret_hex))
    return {"jwk": {"crv": "SM2", "kty": "EC", "x": b64e(pub[:32]), "y": b64e(pub[32:])}}


def sign(secret_hex, input_file):
    signing_input = open(input_file, "rb").read()
    crypt = sm2.CryptSM2(private_key=secret_hex, public_key=public_hex_of_secret(secret_hex))
    sig_hex = crypt.sign_with_sm3(signing_input)
    sig = binascii.a2b_hex(sig_hex)
    assert len(sig) == 64, "gmssl returned a signature of unexpected length"
    return {"signature": b64e(sig)}


def main(argv):
    cmd, args = argv[1], argv[2:]
    out = {"verify": verify, "public": public, "sign": sign}[cmd](*args)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv)
