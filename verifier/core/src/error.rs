//! Rejection codes: one stable machine code per way a credential can fail,
//! each with a sentence in English and Chinese
//! that a counter clerk can act on.
//!
//! The codes are part of Tongban's public interface (they appear in `--json`
//! reports and in `specs/credential-format.md`): never rename one, only add.

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => ($code:literal, $en:literal, $zh:literal), )+) => {
        /// Why a presentation or credential was rejected.
        ///
        /// Each variant has a stable snake_case [`code`](ErrorCode::code) and
        /// clerk-facing sentences in English
        /// ([`message_en`](ErrorCode::message_en)) and Chinese
        /// ([`message_zh`](ErrorCode::message_zh)).
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in declaration order (for documentation and tests).
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )+ ];

            /// The stable machine code, e.g. `disclosure_unreferenced`.
            pub const fn code(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )+ }
            }

            /// A sentence in English for the clerk.
            pub const fn message_en(self) -> &'static str {
                match self { $( ErrorCode::$variant => $en, )+ }
            }

            /// A sentence in Chinese for the clerk.
            pub const fn message_zh(self) -> &'static str {
                match self { $( ErrorCode::$variant => $zh, )+ }
            }

            /// Looks a code up by its machine string.
            pub fn from_code(code: &str) -> Option<ErrorCode> {
                match code { $( $code => Some(ErrorCode::$variant), )+ _ => None }
            }
        }
    };
}

error_codes! {
    // ---- structure -------------------------------------------------------
    /// The input is larger than the configured bound.
    InputTooLarge => ("input_too_large",
        "The presentation is larger than any genuine credential; it was not read.",
        "出示内容超出正常证照的大小上限，未予读取。"),
    /// The input or a decoded part of it is not valid UTF-8.
    InvalidUtf8 => ("invalid_utf8",
        "The presentation contains bytes that are not valid text (UTF-8).",
        "出示内容含有无效的文本字节（非 UTF-8）。"),
    /// The `~`-separated SD-JWT structure is wrong.
    SdJwtMalformed => ("sd_jwt_malformed",
        "The presentation is not a well-formed SD-JWT (its ~-separated parts are wrong).",
        "出示内容不是格式正确的 SD-JWT（以 ~ 分隔的各部分有误）。"),
    /// A JWS is not three `.`-separated parts.
    JwsMalformed => ("jws_malformed",
        "A signed part is not a well-formed compact JWS (header.payload.signature).",
        "签名部分不是格式正确的紧凑 JWS（头部.载荷.签名）。"),
    /// A segment is not canonical unpadded base64url.
    Base64Invalid => ("base64_invalid",
        "A part is not canonical base64url; the presentation may have been altered.",
        "某部分不是规范的 base64url 编码，出示内容可能被改动过。"),
    /// A JSON document does not parse, or is of the wrong type.
    JsonInvalid => ("json_invalid",
        "A part does not contain valid JSON of the expected form.",
        "某部分不是预期格式的有效 JSON。"),
    /// JSON nesting exceeds the fixed bound.
    JsonTooDeep => ("json_too_deep",
        "A part is nested more deeply than any genuine credential.",
        "某部分的嵌套层级超出正常证照的上限。"),
    /// A JSON object repeats a member name.
    JsonDuplicateKey => ("json_duplicate_key",
        "A part repeats the same field name; such input is ambiguous and refused.",
        "某部分重复出现同一字段名，存在歧义，予以拒绝。"),
    /// More disclosures than the configured bound.
    TooManyDisclosures => ("too_many_disclosures",
        "The presentation carries more disclosures than allowed.",
        "出示内容包含的披露项数量超出上限。"),

    // ---- QR transport ----------------------------------------------------
    /// The scanned text is neither an SD-JWT nor a known transport prefix.
    TransportPrefixUnknown => ("transport_prefix_unknown",
        "The code is not a Tongban presentation (unknown prefix or version).",
        "该二维码不是通办出示码（前缀或版本未知）。"),
    /// The base45 text is invalid.
    TransportBase45Invalid => ("transport_base45_invalid",
        "The code's content is damaged (invalid characters); scan it again.",
        "二维码内容损坏（字符无效），请重新扫描。"),
    /// The transport body is malformed.
    TransportMalformed => ("transport_malformed",
        "The code's content is damaged; scan it again.",
        "二维码内容损坏，请重新扫描。"),
    /// The transport body inflates beyond the bound.
    TransportTooLarge => ("transport_too_large",
        "The code holds far more data than any presentation; refused.",
        "二维码所含数据远超正常出示内容，予以拒绝。"),
    /// A presentation to encode has non-canonical parts.
    TransportNonCanonical => ("transport_non_canonical",
        "The presentation is not in canonical form and cannot be put in a QR code unaltered.",
        "出示内容不是规范格式，无法原样编入二维码。"),
    /// Parts of a multi-part code are missing.
    TransportPartMissing => ("transport_part_missing",
        "Not all parts of the multi-part code were scanned; scan the remaining ones.",
        "多码出示尚未扫描完整，请扫描其余部分。"),
    /// Parts of different presentations were mixed.
    TransportPartMixed => ("transport_part_mixed",
        "The scanned parts belong to different presentations.",
        "扫描的各部分属于不同的出示。"),
    /// The same part was given twice.
    TransportPartDuplicate => ("transport_part_duplicate",
        "The same part of a multi-part code was scanned twice.",
        "多码出示的同一部分被扫描了两次。"),
    /// The assembled parts do not match their shared digest.
    TransportDigestMismatch => ("transport_digest_mismatch",
        "The parts do not fit together (digest mismatch); scan them again.",
        "各部分无法拼合（摘要不符），请重新扫描。"),
    /// The code names the issuer's certificate by reference, and the trust
    /// bundle does not hold it.
    TransportCertificateUnknown => ("transport_certificate_unknown",
        "The code refers to an issuer certificate this counter's trust bundle does not hold; sync the trust bundle, or ask the citizen to show the code with the certificate included.",
        "二维码引用了本窗口信任包中没有的签发机构证书，请同步信任包，或请群众出示包含证书的二维码。"),

    // ---- presentation request ---------------------------------------------
    /// A presentation request is malformed or unsupported.
    RequestInvalid => ("request_invalid",
        "The counter's request code is not a valid Tongban request; ask the counter to show it again.",
        "窗口的请求码无效，请让窗口重新出示。"),
    /// A signed request's signature does not verify under the key the
    /// trust list registers for the agency it names.
    RequestSignatureInvalid => ("request_signature_invalid",
        "The request's signature is not valid for the agency it names; it may be forged. Do not answer it.",
        "请求的签名与其自称的机构不符，可能是伪造的，请勿响应。"),
    /// The agency, its key or its certificate is not in the trust list.
    RequesterUnknown => ("requester_unknown",
        "The requesting agency (or its key or certificate) is not registered in the trust list; the request is refused.",
        "请求方（或其密钥、证书）未在信任列表中登记，请求予以拒绝。"),
    /// The requester's key or certificate was reported compromised.
    RequesterKeyRevoked => ("requester_key_revoked",
        "The requesting agency's key has been reported compromised; the request is refused.",
        "请求方的密钥已被报告泄露，请求予以拒绝。"),
    /// The agency's registration, key or certificate is outside its validity window.
    RequesterRegistrationExpired => ("requester_registration_expired",
        "The requesting agency's registration (or its key) is not valid now; the request is refused.",
        "请求方的登记（或其密钥）当前不在有效期内，请求予以拒绝。"),
    /// The request names a service item the agency has not registered.
    ServiceItemUnregistered => ("service_item_unregistered",
        "The request names a service item the agency has not registered; the request is refused.",
        "请求所列事项未在该机构的登记中，请求予以拒绝。"),
    /// The request asks for claims beyond the agency's registration.
    ClaimsNotRegistered => ("claims_not_registered",
        "The request asks for more than the agency's registered data-sharing agreement allows; the excess is listed.",
        "请求索取的信息超出该机构登记的数据共享范围，超出部分已列出。"),

    // ---- header policy ---------------------------------------------------
    /// `alg` is missing, `none`, an HMAC, or not on the allow-list.
    AlgUnsupported => ("alg_unsupported",
        "The credential uses a signature algorithm Tongban does not accept.",
        "该证照使用了通办不接受的签名算法。"),
    /// `alg` does not fit the key that must verify it.
    AlgKeyMismatch => ("alg_key_mismatch",
        "The signature algorithm does not match the issuer's registered key.",
        "签名算法与签发机构登记的密钥类型不符。"),
    /// The header tries to choose its own verification key.
    HeaderKeyInjection => ("header_key_injection",
        "The credential tries to supply its own verification key (jwk/jku/x5u/x5c); refused.",
        "该证照试图自带验证密钥（jwk/jku/x5u/x5c），予以拒绝。"),
    /// The header lists a critical extension we do not understand.
    CritUnsupported => ("crit_unsupported",
        "The credential requires an extension this verifier does not understand.",
        "该证照要求本核验端不支持的扩展。"),
    /// The header has no `typ`.
    TypMissing => ("typ_missing",
        "The credential does not declare its type (typ); it is not a Tongban credential.",
        "该证照未声明类型（typ），不是通办证照。"),
    /// The header `typ` is not the expected media type.
    TypInvalid => ("typ_invalid",
        "The credential declares the wrong type (typ); it is not an SD-JWT VC.",
        "该证照声明的类型（typ）有误，不是 SD-JWT VC。"),

    // ---- trust (the signed trust list) -------------------------------------
    /// The issuer is listed but not for this `vct`.
    VctNotAuthorised => ("vct_not_authorised",
        "This issuing agency is not authorised to issue this type of licence.",
        "该签发机构无权签发此类证照。"),
    /// The key was not within its validity window at the credential's `iat`.
    KeyNotValidAtIssuance => ("key_not_valid_at_issuance",
        "The issuer's key was not valid when the credential was issued.",
        "证照签发时，签发机构的密钥不在有效期内。"),
    /// The key was reported compromised: nothing it signed is accepted,
    /// whatever the credential's `iat` says.
    KeyRevoked => ("key_revoked",
        "The issuer's key has been reported compromised; nothing signed with it is accepted. The agency must reissue the credential.",
        "签发机构的密钥已被报告泄露，用该密钥签发的证照一律不予认可，请向签发机构申请重新签发。"),
    // ---- X.509 key resolution (the x5c header, HAIP 1.0) -----------------
    /// `x5c` is not 1 to 4 canonical base64 DER certificates.
    X5cMalformed => ("x5c_malformed",
        "The issuer's certificate chain (x5c) is damaged or not a certificate chain; the credential is refused.",
        "签发机构的证书链（x5c）已损坏或不是证书链，证照不予认可。"),
    /// A certificate of the chain uses a key or signature algorithm other
    /// than Ed25519 or ECDSA P-256 with SHA-256.
    X5cAlgorithmUnsupported => ("x5c_algorithm_unsupported",
        "The issuer's certificate uses an algorithm this verifier does not accept.",
        "签发机构的证书使用了本核验端不接受的算法。"),
    /// The chain carries the anchor certificate itself.
    X5cIncludesAnchor => ("x5c_includes_anchor",
        "The credential carries the zone's root certificate itself; it must come from the trust list only. Refused.",
        "证照自带了信任区的根证书；根证书只能来自信任列表，予以拒绝。"),
    /// A certificate of the chain is self-signed (self-issued).
    X5cSelfSigned => ("x5c_self_signed",
        "The issuer's certificate is self-signed instead of issued by the zone's certificate authority; refused.",
        "签发机构的证书为自签名证书，并非由信任区的证书机构签发，予以拒绝。"),
    /// A certificate does not name the next one as its issuer.
    X5cChainBroken => ("x5c_chain_broken",
        "The issuer's certificates do not form a chain; the credential is refused.",
        "签发机构的证书无法构成证书链，证照不予认可。"),
    /// A certificate's signature does not verify under its issuer's key.
    X5cSignatureInvalid => ("x5c_signature_invalid",
        "A signature in the issuer's certificate chain is not valid: a certificate was altered or forged.",
        "签发机构证书链中的签名无效：证书被篡改或伪造。"),
    /// The chain does not end at an anchor certificate of the trust list.
    X5cAnchorUnreached => ("x5c_anchor_unreached",
        "The issuer's certificate was not issued under a root certificate of this counter's trust list.",
        "签发机构的证书并非由本窗口信任列表中的根证书签发。"),
    /// A certificate is not valid at the verification time.
    X5cCertificateExpired => ("x5c_certificate_expired",
        "A certificate in the issuer's chain is expired or not yet valid; the agency must renew it.",
        "签发机构证书链中的证书已过期或尚未生效，请签发机构更新证书。"),
    /// The leaf is a CA, or an issuer is not a CA (or exceeds its path length).
    X5cBasicConstraintsInvalid => ("x5c_basic_constraints_invalid",
        "The issuer's certificates are not marked for their roles (signing certificate or certificate authority); refused.",
        "签发机构证书的用途标记（签名证书或证书机构）不符，予以拒绝。"),
    /// The leaf may not sign, or an issuer may not sign certificates.
    X5cKeyUsageInvalid => ("x5c_key_usage_invalid",
        "The issuer's certificate does not allow this use of its key; refused.",
        "签发机构证书的密钥用途不允许此用法，予以拒绝。"),
    /// A certificate marks an extension critical that is not processed.
    X5cCriticalExtensionUnknown => ("x5c_critical_extension_unknown",
        "The issuer's certificate requires an extension this verifier does not understand.",
        "签发机构的证书要求本核验端不支持的扩展。"),
    /// The signing certificate is for another agency than the credential's `iss`.
    X5cIssuerMismatch => ("x5c_issuer_mismatch",
        "The signing certificate belongs to another agency than the one named in the credential.",
        "签名证书属于另一机构，与证照所载签发机构不符。"),
    /// The signing certificate's key is not a key the trust list lists for
    /// the agency (or not the one the header's `kid` names).
    X5cKeyNotListed => ("x5c_key_not_listed",
        "The key in the issuer's certificate is not one the trust list registers for the agency.",
        "签发机构证书中的密钥不是信任列表为该机构登记的密钥。"),
    /// The credential has no `iat`, so key validity cannot be checked.
    IatMissing => ("iat_missing",
        "The credential does not say when it was issued (iat), so its issuer key cannot be checked.",
        "证照未写明签发时间（iat），无法核对签发密钥。"),

    // ---- signature -------------------------------------------------------
    /// No trusted key is known for this issuer.
    IssuerUnknown => ("issuer_unknown",
        "The issuer is not one this counter trusts.",
        "签发机构不在本窗口信任的范围内。"),
    /// The issuer is known but not the `kid` the credential names.
    KeyUnknown => ("key_unknown",
        "The issuer's signing key named by the credential is not known.",
        "证照所指的签发机构签名密钥未登记。"),
    /// The issuer signature does not verify.
    SignatureInvalid => ("signature_invalid",
        "The issuer's signature is not valid: the credential was altered or forged.",
        "签发机构的签名无效：证照被篡改或伪造。"),

    // ---- disclosures (RFC 9901 section 7) ---------------------------------
    /// `_sd_alg` names a hash we do not support.
    SdAlgUnsupported => ("sd_alg_unsupported",
        "The credential uses a digest algorithm Tongban does not accept.",
        "该证照使用了通办不接受的摘要算法。"),
    /// `_sd_alg` appears below the top level.
    SdAlgMisplaced => ("sd_alg_misplaced",
        "The credential's digest algorithm field is in the wrong place.",
        "证照的摘要算法字段位置错误。"),
    /// `_sd` is not an array of strings, or an array digest is not a string.
    SdInvalid => ("sd_invalid",
        "The credential's list of hidden-field digests is malformed.",
        "证照中隐藏字段摘要列表格式错误。"),
    /// A disclosure is not a 2- or 3-element array of the right types.
    DisclosureMalformed => ("disclosure_malformed",
        "A disclosed field is malformed.",
        "某个披露字段格式错误。"),
    /// The same disclosure occurs twice.
    DisclosureDuplicate => ("disclosure_duplicate",
        "The same disclosed field appears twice.",
        "同一披露字段出现了两次。"),
    /// A disclosure is not referenced by any digest.
    DisclosureUnreferenced => ("disclosure_unreferenced",
        "A disclosed field does not belong to this credential.",
        "某个披露字段不属于该证照。"),
    /// A digest value occurs more than once.
    DigestDuplicate => ("digest_duplicate",
        "The credential lists the same field digest twice.",
        "证照中同一字段摘要出现了两次。"),
    /// A disclosure names a claim `_sd` or `...`.
    DisclosureNameReserved => ("disclosure_name_reserved",
        "A disclosed field uses a reserved name (_sd or ...).",
        "某个披露字段使用了保留名称（_sd 或 ...）。"),
    /// A disclosed claim name already exists at that level.
    DisclosureNameCollision => ("disclosure_name_collision",
        "A disclosed field would overwrite a field already present.",
        "某个披露字段会覆盖已存在的字段。"),
    /// A 2-element disclosure from `_sd`, or a 3-element one from `...`.
    DisclosureKindMismatch => ("disclosure_kind_mismatch",
        "A disclosed field is of the wrong kind for where it is referenced.",
        "某个披露字段的类型与其引用位置不符。"),
    /// A claim that must never be selectively disclosed was disclosed.
    ClaimNotDisclosable => ("claim_not_disclosable",
        "A field that must always be visible (such as iss, vct, exp, cnf or status) was hidden.",
        "必须明示的字段（如 iss、vct、exp、cnf、status）被设为可选披露。"),

    /// Disclosed claims break the licence type's schema.
    ClaimsSchemaViolation => ("claims_schema_violation",
        "A disclosed field does not follow the rules of its licence type (for example a wrong check character).",
        "披露字段不符合该证照类型的规范（例如校验位错误）。"),

    // ---- credential claims and validity ----------------------------------
    /// `iss` is missing or not a string.
    IssMissing => ("iss_missing",
        "The credential does not name its issuer (iss).",
        "证照未写明签发机构（iss）。"),
    /// `vct` is missing or not a string.
    VctMissing => ("vct_missing",
        "The credential does not name its licence type (vct).",
        "证照未写明证照类型（vct）。"),
    /// A registered claim has the wrong JSON type.
    ClaimTypeInvalid => ("claim_type_invalid",
        "A standard field of the credential (iat, exp, nbf, cnf, status) has the wrong form.",
        "证照的标准字段（iat、exp、nbf、cnf、status）格式错误。"),
    /// `exp` has passed.
    Expired => ("expired",
        "The credential has expired.",
        "证照已过有效期。"),
    /// `nbf` is still in the future.
    NotYetValid => ("not_yet_valid",
        "The credential is not valid yet.",
        "证照尚未生效。"),
    /// `iat` is in the future beyond the allowed clock skew.
    IssuedInFuture => ("issued_in_future",
        "The credential claims to be issued in the future; check this terminal's clock.",
        "证照的签发时间晚于当前时间，请检查本终端时钟。"),

    // ---- holder binding --------------------------------------------------
    /// Holder binding is required but the credential has no `cnf.jwk`.
    CnfMissing => ("cnf_missing",
        "The credential is not bound to a holder's key, but this counter requires it.",
        "证照未绑定持有人密钥，而本窗口要求绑定。"),
    /// `cnf.jwk` is not a supported public key.
    CnfInvalid => ("cnf_invalid",
        "The holder key in the credential is malformed or of an unsupported kind.",
        "证照中的持有人密钥格式错误或类型不受支持。"),
    /// Holder binding is required but no KB-JWT is present.
    KbMissing => ("kb_missing",
        "The holder did not sign this presentation; ask them to present it from their wallet.",
        "持有人未对本次出示签名，请让持有人从钱包重新出示。"),
    /// The KB-JWT `typ` is not `kb+jwt`.
    KbTypInvalid => ("kb_typ_invalid",
        "The holder's signature part has the wrong type.",
        "持有人签名部分的类型有误。"),
    /// A required KB-JWT claim is missing or of the wrong type.
    KbClaimMissing => ("kb_claim_missing",
        "The holder's signature part lacks a required field (iat, aud, nonce or sd_hash).",
        "持有人签名部分缺少必需字段（iat、aud、nonce 或 sd_hash）。"),
    /// The KB-JWT `sd_hash` does not match the presentation.
    KbSdHashMismatch => ("kb_sd_hash_mismatch",
        "The holder's signature does not cover exactly what was presented.",
        "持有人签名与出示内容不一致。"),
    /// The KB-JWT `iat` is outside the accepted window.
    KbIatInvalid => ("kb_iat_invalid",
        "The holder signed this presentation too long ago or in the future; ask for a fresh one.",
        "持有人签名时间过早或晚于当前时间，请重新出示。"),
    /// The KB-JWT is not signed by the key in `cnf`.
    KbSignatureInvalid => ("kb_signature_invalid",
        "The presentation was not signed by the credential's holder.",
        "本次出示并非由证照持有人签名。"),

    // ---- status (Token Status List) ----------------------------------------
    /// The bundle has no status list with the credential's URI.
    StatusListMissing => ("status_list_missing",
        "The revocation list for this credential is not in this counter's trust bundle; sync it.",
        "本窗口的信任包中没有该证照的状态列表，请同步。"),
    /// The issuer publishes status lists, but the credential references none.
    StatusMissing => ("status_missing",
        "This issuer publishes revocation lists, but the credential names no entry in one, so it cannot be checked; refused.",
        "该签发机构发布状态列表，但证照未注明其状态条目，无法核验，不予认可。"),
    /// The status list belongs to another issuer.
    StatusListIssuerMismatch => ("status_list_issuer_mismatch",
        "The credential points to a revocation list of another issuer.",
        "证照指向的是其他签发机构的状态列表。"),
    /// The credential's index is beyond the list.
    StatusIndexOutOfRange => ("status_index_out_of_range",
        "The credential's entry is not in its issuer's revocation list.",
        "证照的状态序号超出签发机构状态列表的范围。"),
    /// Status 1: revoked.
    StatusRevoked => ("status_revoked",
        "The issuing agency has revoked this credential.",
        "签发机构已吊销（注销）该证照。"),
    /// Status 2: suspended.
    StatusSuspended => ("status_suspended",
        "The issuing agency has suspended this credential.",
        "签发机构已暂停该证照的效力。"),
    /// Status 3 or a reserved value.
    StatusUnknown => ("status_unknown",
        "The credential's status is not one this verifier understands.",
        "证照状态值无法识别。"),
    /// The status list (or trust list) is past its freshness.
    StatusStale => ("status_stale",
        "This counter's trust bundle is out of date; sync it before relying on the status.",
        "本窗口的信任包已过期，请先同步再核验状态。"),

    // ---- loading a trust list, status list or bundle ------------------------
    /// The trust list is not a well-formed, valid document.
    TrustListMalformed => ("trust_list_malformed",
        "The trust list is malformed.",
        "信任列表格式错误。"),
    /// The trust list is signed by a key that is not a pinned anchor.
    TrustListAnchorUnknown => ("trust_list_anchor_unknown",
        "The trust list is signed by an unknown trust anchor.",
        "信任列表由未知的信任锚签署。"),
    /// The trust list signature does not verify.
    TrustListSignatureInvalid => ("trust_list_signature_invalid",
        "The trust list's signature is not valid; it may have been altered.",
        "信任列表签名无效，可能被篡改。"),
    /// An older trust list than the one held.
    TrustListRollback => ("trust_list_rollback",
        "The trust list is older than the one this counter already holds; refused.",
        "该信任列表比本窗口已有的版本旧，予以拒绝。"),
    /// Fewer distinct anchor keys of the current root signed the trust list
    /// than its threshold asks for.
    TrustListThresholdNotMet => ("trust_list_threshold_not_met",
        "The trust list carries too few valid signatures from the zone's anchor keys; it is refused. Ask the trust-list operators for a list signed by enough of them.",
        "信任列表上的信任锚有效签名数不足，予以拒绝。请联系信任列表运营方，获取由足够多信任锚签署的列表。"),
    /// A signature counted toward the threshold is by a key an anchor
    /// rotation removed.
    TrustAnchorRemoved => ("trust_anchor_removed",
        "The trust list is signed by an anchor key that has been removed from the zone's root of trust; it is refused.",
        "信任列表由已从示范区信任根中移除的信任锚密钥签署，予以拒绝。"),
    /// A root of trust in the chain from the pinned one does not follow
    /// from its predecessor, or a needed root is missing.
    TrustRootChainBroken => ("trust_root_chain_broken",
        "The chain of roots of trust from the one this counter pinned is broken or incomplete; sync again, or have the counter's pinned root renewed.",
        "从本窗口预置的信任根出发的信任根链条断裂或不完整，请重新同步，或请运维人员更新预置的信任根。"),
    /// An older root of trust than the one held.
    TrustRootRollback => ("trust_root_rollback",
        "The root of trust offered is older than the one this counter already follows; refused.",
        "所提供的信任根比本窗口当前采用的旧，予以拒绝。"),
    /// A status list token is malformed.
    StatusListMalformed => ("status_list_malformed",
        "A revocation list is malformed.",
        "状态列表格式错误。"),
    /// A status list token is not signed by a valid key of its issuer.
    StatusListSignatureInvalid => ("status_list_signature_invalid",
        "A revocation list's signature is not valid.",
        "状态列表签名无效。"),
    /// A status list token belongs to no listed issuer.
    StatusListIssuerUnknown => ("status_list_issuer_unknown",
        "A revocation list does not belong to any listed issuer.",
        "状态列表不属于任何已列入的签发机构。"),
    /// The bundle manifest is malformed or inconsistent.
    BundleManifestInvalid => ("bundle_manifest_invalid",
        "The trust bundle's manifest is malformed; sync again.",
        "信任包清单格式错误，请重新同步。"),
    /// A file named by the manifest is missing.
    BundleFileMissing => ("bundle_file_missing",
        "A file of the trust bundle is missing; sync again.",
        "信任包缺少文件，请重新同步。"),
    /// A file does not match its digest in the manifest.
    BundleFileTampered => ("bundle_file_tampered",
        "A file of the trust bundle has been altered; the bundle is refused.",
        "信任包中的文件被改动，整个信任包予以拒绝。"),
    /// A status list of a listed issuer is missing from the bundle.
    BundleIncomplete => ("bundle_incomplete",
        "The trust bundle lacks a listed issuer's revocation list; sync again.",
        "信任包缺少某签发机构的状态列表，请重新同步。"),

    // ---- nonce and audience ---------------------------------------------
    /// The KB-JWT `aud` is not this verifier.
    KbAudMismatch => ("kb_aud_mismatch",
        "The presentation was made for a different counter.",
        "本次出示是为其他窗口生成的。"),
    /// The KB-JWT `nonce` is not the one this verifier asked for.
    KbNonceMismatch => ("kb_nonce_mismatch",
        "The presentation does not answer this counter's request (nonce); it may be replayed.",
        "本次出示与本窗口的请求（nonce）不符，可能是重放。"),
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.code())
    }
}

/// A rejection: the stable code plus a detail for engineers (never shown
/// as the clerk's sentence, never containing secrets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct Rejection {
    /// The stable code.
    pub code: ErrorCode,
    /// What exactly was wrong, in English, for logs and `--json`.
    pub detail: String,
}

impl Rejection {
    /// A rejection with a detail.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Rejection {
            code,
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for &c in ErrorCode::ALL {
            assert!(seen.insert(c.code()), "duplicate code {}", c.code());
            assert!(
                c.code()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{} is not snake_case",
                c.code()
            );
            assert_eq!(ErrorCode::from_code(c.code()), Some(c));
            assert!(!c.message_en().is_empty() && !c.message_zh().is_empty());
        }
    }
}
