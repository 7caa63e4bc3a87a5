"""Which JWS algorithm names the Python peer reads (docs/interop.md):
Tongban's presentation checked by `sd-jwt` 0.10.4 (issuer JWT and KB-JWT,
the KB-JWT's algorithm named explicitly, as the library otherwise assumes
ES256), which signs and verifies through jwcrypto 1.5.6. Prints one JSON
object: {"ok": true, "alg"} or {"ok": false, "error"}.

    python3 alg_names.py <presentation-file> <issuer-jwk-file> <aud> <nonce>
"""
import base64
import json
import sys

from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier


def header(jws):
    part = jws.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def main(path, jwk_path, aud, nonce):
    presentation = open(path, encoding="utf-8").read().strip()
    key = JWK(**json.load(open(jwk_path, encoding="utf-8")))
    parts = presentation.split("~")
    try:
        verifier = SDJWTVerifier(presentation, lambda iss, h: key)
        verifier._verify_key_binding_jwt(aud, nonce, sign_alg=header(parts[-1])["alg"])
        return {"ok": True, "alg": header(parts[0])["alg"]}
    except Exception as e:  # the peer's refusal, whatever its type
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5]), ensure_ascii=False))
