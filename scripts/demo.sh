#!/usr/bin/env bash
# The Yangtze River Delta demonstration zone, end to end, in one command:
#
#   scripts/demo.sh            # narrated; leaves its files in a temp directory
#   scripts/demo.sh --keep DIR # …in DIR (must not exist yet)
#
# What happens (each step prints what it does in plain words):
#   1. The zone's trust-list operator makes an anchor key and a list.
#   2. Three issuing services start, one per province, each with SQLite:
#      Qingpu (Shanghai), Wujiang (Jiangsu), Jiashan (Zhejiang).
#   3. The operator registers the three agencies and signs the list.
#   4. Wujiang issues a business licence and Jiashan a driving licence to two
#      citizens' wallets over OpenID4VCI (offer + PIN sent separately).
#   5. A counter in Qingpu syncs its trust bundle (the only online step).
#   6. The counter asks for three fields of the business licence; the wallet
#      answers with a QR code (PNG); the counter verifies it OFFLINE.
#   7. Online: a Shanghai receiving agency's service (tongban-verifier-service,
#      which syncs the same trust list itself) asks for the Jiangsu licence
#      over OpenID4VP; the wallet answers the QR code of the agency's page;
#      the back office reads the verified claims.
#   8. Wujiang revokes the licence; the counter re-syncs and the same answer
#      is now rejected.
#
# Needs: a Rust toolchain, curl and python3. Uses ports 18300-18304 on
# 127.0.0.1. Stops every process it started when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

KEEP=""
if [[ "${1:-}" == "--keep" ]]; then
  KEEP="${2:?--keep needs a directory}"
  [[ -e "$KEEP" ]] && { echo "$KEEP exists; give a new directory" >&2; exit 2; }
fi

step() { printf '\n\033[1;34m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
json() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if k.isdigit() else v[k]
print(v if not isinstance(v,(dict,list)) else json.dumps(v, ensure_ascii=False))' "$1"; }

step "Building the four programs (tongban-issuer, tongban-wallet, tongban-verify, tongban-verifier-service)"
cargo build --quiet -p tongban-issuer -p tongban-wallet -p tongban-verify -p tongban-verifier-service --bins
BIN="$ROOT/target/debug"
ISSUER="$BIN/tongban-issuer"; WALLET="$BIN/tongban-wallet"; VERIFY="$BIN/tongban-verify"
VSERVICE="$BIN/tongban-verifier-service"

if [[ -n "$KEEP" ]]; then mkdir -p "$KEEP"; W="$(cd "$KEEP" && pwd)"; else W="$(mktemp -d /tmp/tongban-demo.XXXXXX)"; fi
note "working directory: $W"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

wait_ready() {
  for _ in $(seq 1 600); do
    curl -fsS "$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "service at $1 did not become ready; see its log" >&2
  exit 1
}

# ---------------------------------------------------------------------------
step "1. The demonstration zone's trust anchor"
"$ISSUER" trust-list anchor-key --out "$W/anchor.key.json" --public-out "$W/anchor.jwk.json" >/dev/null
"$ISSUER" trust-list init --list "$W/zone.json" --anchor-id https://trust.yrd.example \
  --name-zh 长三角生态绿色一体化发展示范区 --name-en "Yangtze River Delta demonstration zone" >/dev/null
note "anchor key made; counters pin its public half: $W/anchor.jwk.json"

# ---------------------------------------------------------------------------
step "2. Three issuing services, one per province (SQLite each)"
# start_agency NAME PORT ID NAME_ZH NAME_EN REGION VCT
start_agency() {
  local name=$1 port=$2 id=$3 zh=$4 en=$5 region=$6 vct=$7
  local dir="$W/$name" url="http://127.0.0.1:$port"
  "$ISSUER" agency create --data-dir "$dir" --public-url "$url" --id "$id" \
    --name-zh "$zh" --name-en "$en" --region "$region" --vct "$vct" --json >"$W/$name.agency.json"
  "$ISSUER" token create --data-dir "$dir" --agency "$id" --scope all --label "demo clerk" --json \
    | json token >"$W/$name.token"
  "$ISSUER" serve --data-dir "$dir" --listen "127.0.0.1:$port" >"$W/$name.log" 2>&1 &
  PIDS+=($!)
  wait_ready "$url"
  note "$zh ($en): issuer $url/agencies/$id, may issue $vct"
}
start_agency qingpu 18301 qingpu-ca 上海市青浦区民政局 "Qingpu Civil Affairs Bureau" 310118 urn:tongban:marriage-certificate:1
start_agency wujiang 18302 wujiang-amr 苏州市吴江区市场监督管理局 "Wujiang Administration for Market Regulation" 320509 urn:tongban:business-licence:1
start_agency jiashan 18303 jiashan-tp 嘉善县公安局交通警察大队 "Jiashan Traffic Police" 330421 urn:tongban:driving-licence:1
QINGPU=http://127.0.0.1:18301/agencies/qingpu-ca
WUJIANG=http://127.0.0.1:18302/agencies/wujiang-amr
JIASHAN=http://127.0.0.1:18303/agencies/jiashan-tp

# ---------------------------------------------------------------------------
step "3. The operator registers the agencies and signs the trust list"
# Keys fetched from a JWKS URL are signed in only once confirmed: --yes here
# (the demonstration has no agency to compare thumbprints with).
register() { # ISS NAME_ZH NAME_EN REGION VCT
  "$ISSUER" trust-list add-issuer --list "$W/zone.json" --id "$1" --name-zh "$2" --name-en "$3" \
    --region "$4" --vct "$5" --jwks-url "$1/jwks.json" --yes --status-list "$1/status/0" >/dev/null
}
"$ISSUER" trust-list add-issuer --list "$W/zone.json" --id "$QINGPU" --name-zh 上海市青浦区民政局 \
  --name-en "Qingpu Civil Affairs Bureau" --region 310118 --vct urn:tongban:marriage-certificate:1 \
  --jwks-url "$QINGPU/jwks.json" --yes >/dev/null
register "$WUJIANG" 苏州市吴江区市场监督管理局 "Wujiang Administration for Market Regulation" 320509 urn:tongban:business-licence:1
register "$JIASHAN" 嘉善县公安局交通警察大队 "Jiashan Traffic Police" 330421 urn:tongban:driving-licence:1
mkdir -p "$W/www"
sign_list() {
  "$ISSUER" trust-list sign --list "$W/zone.json" --anchor-key "$W/anchor.key.json" --out "$W/www/trust-list.jwt" >/dev/null
}
sign_list
python3 -m http.server 18300 --bind 127.0.0.1 --directory "$W/www" >"$W/www.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do curl -fsS http://127.0.0.1:18300/trust-list.jwt >/dev/null 2>&1 && break; sleep 0.1; done
note "three agencies listed with their keys, regions and licence types; the list is published at http://127.0.0.1:18300/trust-list.jwt"

# ---------------------------------------------------------------------------
step "4. Citizens receive licences over OpenID4VCI"
export TONGBAN_WALLET_PASSPHRASE="demo passphrase, not for real use"
"$WALLET" --wallet "$W/wallet-li" init >/dev/null
"$WALLET" --wallet "$W/wallet-wang" init >/dev/null
note "two wallets made: Li Ming (a company's legal representative) and Wang Fang (a driver)"

offer() { # SERVICE_URL TOKEN_FILE SLUG SERIAL OUT
  python3 - "$ROOT/tests/src/samples.json" "$3" "$4" >"$W/offer-request.json" <<'PY'
import json, sys
samples, slug, serial = sys.argv[1], sys.argv[2], sys.argv[3]
claims = json.load(open(samples))[slug]
head = claims["licence_id"].rsplit("-", 1)[0]
claims["licence_id"] = f"{head}-{int(serial):06d}"
print(json.dumps({"vct": f"urn:tongban:{slug}:1", "claims": claims, "offer": {"tx_code": True}}, ensure_ascii=False))
PY
  curl -fsS -H "Authorization: Bearer $(cat "$2")" -H 'Content-Type: application/json' \
    --data @"$W/offer-request.json" "$1/admin/v1/credentials" >"$5"
}
offer http://127.0.0.1:18302 "$W/wujiang.token" business-licence 1 "$W/offer-bl.json"
note "Wujiang's clerk made an offer; the PIN goes to Li Ming by SMS: $(json tx_code <"$W/offer-bl.json")"
"$WALLET" --wallet "$W/wallet-li" receive "$(json offer_link <"$W/offer-bl.json")" \
  --tx-code "$(json tx_code <"$W/offer-bl.json")" >/dev/null
note "Li Ming's wallet received and verified the business licence"
offer http://127.0.0.1:18303 "$W/jiashan.token" driving-licence 1 "$W/offer-dl.json"
"$WALLET" --wallet "$W/wallet-wang" receive "$(json offer_link <"$W/offer-dl.json")" \
  --tx-code "$(json tx_code <"$W/offer-dl.json")" >/dev/null
note "Wang Fang's wallet received the driving licence from Jiashan"
"$WALLET" --wallet "$W/wallet-li" list

# ---------------------------------------------------------------------------
step "5. A counter in Qingpu syncs its trust bundle (its only online step)"
"$VERIFY" sync --trust-list http://127.0.0.1:18300/trust-list.jwt --anchor-key "$W/anchor.jwk.json" --bundle "$W/qingpu-bundle"

# ---------------------------------------------------------------------------
step "6. The counter asks for three fields; the wallet answers with a QR code"
"$VERIFY" request --aud https://counter.qingpu.example --vct urn:tongban:business-licence:1 \
  --claims company_name,unified_social_credit_code,legal_representative \
  --out "$W/request.txt" --qr "png:$W/request.png" >/dev/null
note "request shown as a QR code: $W/request.png"
CRED_ID="$("$WALLET" --wallet "$W/wallet-li" --json list | json 0.id)"
"$WALLET" --wallet "$W/wallet-li" present "$CRED_ID" --request "$W/request.png" --yes --qr "png:$W/answer.png" >/dev/null
note "Li Ming consented; the wallet's answer: $W/answer.png"
offline() {
  # No route out: every proxy variable points at an unroutable address, and
  # the issuers are not asked anything.
  HTTP_PROXY=http://192.0.2.1:9 HTTPS_PROXY=http://192.0.2.1:9 ALL_PROXY=http://192.0.2.1:9 \
  http_proxy=http://192.0.2.1:9 https_proxy=http://192.0.2.1:9 all_proxy=http://192.0.2.1:9 "$@"
}
note "verifying offline:"
offline "$VERIFY" verify --bundle "$W/qingpu-bundle" --anchor-key "$W/anchor.jwk.json" \
  --request "$W/request.txt" "$W/answer.png"

# ---------------------------------------------------------------------------
step "7. Online: a Shanghai agency asks for the Jiangsu licence over OpenID4VP"
# The receiving agency's service: the operator CA first, then a first start
# that syncs the zone's trust list itself and prints an admin token once.
VS=http://127.0.0.1:18304
"$VSERVICE" ca init --data-dir "$W/verifier-service" --name "YRD receiving agencies CA (demo)" >/dev/null
"$VSERVICE" ca export --data-dir "$W/verifier-service" >"$W/operator-ca.pem"
cat >"$W/verifier-service.toml" <<TOML
trust_list_url = "http://127.0.0.1:18300/trust-list.jwt"
anchor_key_files = ["$W/anchor.jwk.json"]
TOML
"$VSERVICE" serve --config "$W/verifier-service.toml" --data-dir "$W/verifier-service" \
  --listen 127.0.0.1:18304 >"$W/verifier-service.log" 2>&1 &
PIDS+=($!)
wait_ready "$VS"
VADMIN="$(grep -o 'tbvs_[A-Za-z0-9_-]*' "$W/verifier-service.log" | head -n1)"
curl -fsS -H "Authorization: Bearer $VADMIN" -H 'Content-Type: application/json' \
  --data '{"id":"qingpu-ywtb","name_zh":"上海市青浦区行政服务中心","name_en":"Qingpu Administrative Service Centre","region":"310118","dns":"verifier.qingpu.example"}' \
  "$VS/api/v1/tenants" >"$W/tenant.json"
VTOKEN="$(curl -fsS -H "Authorization: Bearer $VADMIN" -H 'Content-Type: application/json' \
  --data '{"tenant":"qingpu-ywtb","label":"demo back office"}' "$VS/api/v1/tokens" | json token)"
note "Qingpu's service centre is a tenant of $VS, client id $(json client_id <"$W/tenant.json")"
curl -fsS -H "Authorization: Bearer $VTOKEN" -H 'Content-Type: application/json' \
  --data '{"licence":{"type":"business-licence","claims":["company_name","unified_social_credit_code","legal_representative"]},"purpose":{"zh":"办理跨省企业迁移登记","en":"Cross-province company relocation"},"service_item":"310118-QY-0042"}' \
  "$VS/api/v1/transactions" >"$W/transaction.json"
TX="$(json id <"$W/transaction.json")"
curl -fsS -H "Authorization: Bearer $VTOKEN" "$VS/api/v1/transactions/$TX/qr.png" >"$W/online-request.png"
note "the back office made transaction $TX; its page shows the QR code: $W/online-request.png"
note "link: $(json authorization_request <"$W/transaction.json")"
# Li Ming's wallet trusts the operator CA, checks the signed request, shows
# who asks for what, and (consent given with --yes) sends the encrypted answer.
"$WALLET" --wallet "$W/wallet-li" present "$W/online-request.png" --yes --verifier-ca "$W/operator-ca.pem"
curl -fsS -H "Authorization: Bearer $VTOKEN" "$VS/api/v1/transactions/$TX?wait=30" >"$W/outcome.json"
note "the back office reads the outcome: $(json state <"$W/outcome.json"), verified against the zone's trust list:"
for c in company_name unified_social_credit_code legal_representative; do
  note "  $c: $(json "claims.licence.0.$c" <"$W/outcome.json")"
done
note "read again, the claims are gone (handed over once): claims_erased=$(curl -fsS -H "Authorization: Bearer $VTOKEN" "$VS/api/v1/transactions/$TX" | json claims_erased)"
[[ "$(json state <"$W/outcome.json")" == accepted ]] || { echo "expected the online answer to be accepted" >&2; exit 1; }

# ---------------------------------------------------------------------------
step "8. Wujiang revokes the licence; the counter re-syncs and checks again"
ADMIN_ID="$(curl -fsS -H "Authorization: Bearer $(cat "$W/wujiang.token")" http://127.0.0.1:18302/admin/v1/credentials | json credentials.0.id)"
curl -fsS -X POST -H "Authorization: Bearer $(cat "$W/wujiang.token")" -H 'Content-Type: application/json' \
  --data '{"reason":"company deregistered (demo)"}' "http://127.0.0.1:18302/admin/v1/credentials/$ADMIN_ID/revoke" >/dev/null
note "revoked $ADMIN_ID at Wujiang; its status list now says so"
"$VERIFY" sync --trust-list http://127.0.0.1:18300/trust-list.jwt --anchor-key "$W/anchor.jwk.json" --bundle "$W/qingpu-bundle" >/dev/null
set +e
offline "$VERIFY" verify --bundle "$W/qingpu-bundle" --anchor-key "$W/anchor.jwk.json" \
  --request "$W/request.txt" "$W/answer.png"
rc=$?
set -e
if [[ $rc -ne 1 ]]; then
  echo "expected the revoked licence to be rejected (exit 1), got exit $rc" >&2
  exit 1
fi

step "Done"
note "the revoked licence was rejected, as it should be. Files: $W"
