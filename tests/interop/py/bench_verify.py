"""Times the Python `sd-jwt` library (pinned in requirements.txt) verifying
one presentation, for the peers' row of docs/performance.md. The same calls
as `interop.py verify` (issuer signature and disclosures, then the KB-JWT
with EdDSA, its nonce, aud and sd_hash). The key object is made once,
outside the timed part.

    python3 bench_verify.py <presentation-file> <issuer-jwk-file> <aud> <nonce> [seconds]

Prints one JSON object: the median over batches of the time per
verification, in µs, and the number of verifications.
"""
import json
import platform
import sys
import time

from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier


def main(path, jwk_path, aud, nonce, seconds="5"):
    presentation = open(path, encoding="utf-8").read().strip()
    key = JWK(**json.load(open(jwk_path, encoding="utf-8")))

    def once():
        verifier = SDJWTVerifier(presentation, lambda iss, header: key)
        verifier._verify_key_binding_jwt(aud, nonce, sign_alg="EdDSA")
        return verifier.get_verified_payload()

    if "company_name" not in once():
        sys.exit("company_name not disclosed")
    stop = time.perf_counter() + 1.0  # warm-up
    while time.perf_counter() < stop:
        once()
    batch, per_batch = 50, []
    end = time.perf_counter() + float(seconds)
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        for _ in range(batch):
            once()
        per_batch.append((time.perf_counter() - t0) * 1e6 / batch)
    per_batch.sort()
    print(json.dumps({
        "peer": "sd-jwt (Python)",
        "python": platform.python_version(),
        "median_us": round(per_batch[len(per_batch) // 2], 1),
        "min_us": round(per_batch[0], 1),
        "verifications": len(per_batch) * batch,
    }))


if __name__ == "__main__":
    main(*sys.argv[1:])
