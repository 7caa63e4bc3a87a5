"""Drives the Python `sd-jwt` 0.10.4 library (OpenWallet Foundation's
reference implementation) for Tongban's interoperability tests. Prints one
JSON object per command.

    python3 interop.py verify <presentation-file> <issuer-jwk-or-jwks-file> <aud> <nonce>
    python3 interop.py make <now> <aud> <nonce>

Known limitation worked around here: the library verifies the KB-JWT with
its default algorithm ES256 whatever the key, so the KB-JWT is checked by
calling its KB verification again with sign_alg="EdDSA" explicitly. Tongban's
own checks are never relaxed to match.
"""
import json
import sys
import time

from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier


def issuer_key_for(key_file):
    """The issuer's key: the file is one JWK, or a JWKS (tongban-issuer
    publishes /agencies/<id>/jwks.json), in which case the key is the one
    whose kid the credential's header names (none, or an unknown kid, fails)."""
    text = json.load(open(key_file, encoding="utf-8"))
    if "keys" not in text:
        key = JWK(**text)
        return lambda iss, header: key

    def by_kid(iss, header):
        for k in text["keys"]:
            if "kid" in k and k["kid"] == header.get("kid"):
                return JWK(**k)
        raise ValueError(f"no key with kid {header.get('kid')!r} in the issuer's JWKS")

    return by_kid


def verify(path, jwk_path, aud, nonce):
    presentation = open(path, encoding="utf-8").read().strip()
    # Issuer signature and disclosures (no aud/nonce: see the module doc).
    verifier = SDJWTVerifier(presentation, issuer_key_for(jwk_path))
    verifier._verify_key_binding_jwt(aud, nonce, sign_alg="EdDSA")
    return {"ok": True, "claims": verifier.get_verified_payload()}


def make(now, aud, nonce):
    issuer = JWK.generate(kty="OKP", crv="Ed25519", kid="py-1")
    holder = JWK.generate(kty="OKP", crv="Ed25519")
    claims = {
        "iss": "https://py-peer.example/issuer",
        "iat": now - 3600,
        "exp": now + 86400,
        "vct": "urn:tongban:business-licence:1",
        SDObj("company_name"): "青浦互通测试有限公司",
        SDObj("legal_representative"): "孙七",
        SDObj("establishment_date"): "2021-03-04",
    }
    issued = SDJWTIssuer(
        claims,
        issuer,
        holder_key=holder,
        sign_alg="EdDSA",
        extra_header_parameters={"typ": "dc+sd-jwt", "kid": "py-1"},
    )
    holder_view = SDJWTHolder(issued.sd_jwt_issuance)
    holder_view.create_presentation(
        {"company_name": True, "establishment_date": True}, nonce, aud, holder, "EdDSA"
    )
    return {
        "issuer_jwk": json.loads(issuer.export_public()),
        "credential": issued.sd_jwt_issuance,
        "presentation": holder_view.sd_jwt_presentation,
    }


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "verify":
        print(json.dumps(verify(*args), ensure_ascii=False))
    elif cmd == "make":
        print(json.dumps(make(int(args[0]), args[1], args[2]), ensure_ascii=False))
    else:
        sys.exit("usage: interop.py verify|make ...")
