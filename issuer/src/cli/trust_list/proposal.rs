//! `propose`, `sign --proposal`, `publish`, `show --proposal [--diff]`
//! and `root propose|sign|publish|show`: the operators' proposal flow
//! across provinces, one file passed from operator to operator.
//!
//! Every step reads its inputs, decides, and only then writes (atomically);
//! a refused step writes nothing.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use tongban_cli_support::time::{format_cst, now};
use tongban_issuer::files;
use tongban_issuer::trust_list::diff::{Change, diff};
use tongban_issuer::trust_list::governance::{self as gov, Kind, RootProposal};
use tongban_verifier::jws_json::MultiJws;
use tongban_verifier::root::{AnchorKey, TYP_TRUST_ROOT, TrustRoot, tally};
use tongban_verifier::trust::{Anchor, TrustList};
use tongban_verifier::{Ed25519Signer, ErrorCode, TrustAnchors};

use super::{CliError, Common, load_draft, save_draft};

/// Which language(s) `show` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Lang {
    /// 中文 and English.
    Both,
    /// 中文.
    Zh,
    /// English.
    En,
}

#[derive(Debug, Args)]
pub(crate) struct ProposeArgs {
    /// The draft list file (JSON): its next sequence is proposed.
    #[arg(long, value_name = "FILE", env = "TONGBAN_TRUST_LIST_DRAFT")]
    list: PathBuf,
    /// The zone's current root of trust (`root-<n>.json`), whose keys will
    /// sign; or, for a zone of one anchor, its public key.
    #[arg(long, value_name = "FILE")]
    root: PathBuf,
    /// Where to write the proposal (refused if it exists).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Days until verifiers should expect a newer list (next_update).
    #[arg(long, default_value_t = 7)]
    validity_days: u32,
    #[command(flatten)]
    pub(super) common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// The signed proposal.
    #[arg(long, value_name = "FILE")]
    proposal: PathBuf,
    /// The zone's current root of trust (or the single anchor's public key).
    #[arg(long, value_name = "FILE")]
    root: PathBuf,
    /// Where to write the list verifiers sync.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    pub(super) common: Common,
}

/// `tongban-issuer trust-list root …`.
#[derive(Debug, Subcommand)]
pub(crate) enum RootCommand {
    /// Propose a root of trust: the anchor keys and the threshold. The
    /// first root, or the next after --previous.
    Propose(RootProposeArgs),
    /// Add your signature to a root proposal.
    Sign(RootSignArgs),
    /// Write the root once it carries a threshold of the previous root's
    /// keys and of its own.
    Publish(RootPublishArgs),
    /// Show a root proposal (or a root) and who has signed it.
    Show(RootShowArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RootProposeArgs {
    /// Where to write the proposal (refused if it exists).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// An anchor key of the new root: a public JWK (or JWKS) file with a
    /// kid. Repeat for each operator.
    #[arg(long = "key", value_name = "FILE", required = true)]
    keys: Vec<PathBuf>,
    /// How many distinct anchor keys must sign (k of n).
    #[arg(long)]
    threshold: u32,
    /// The current root (`root-<n>.json`), or the single anchor key a zone
    /// used before it had roots. Omit only for the zone's first root.
    #[arg(long, value_name = "FILE")]
    previous: Option<PathBuf>,
    /// The zone's identifier (default: the previous root's).
    #[arg(long)]
    anchor_id: Option<String>,
    /// The zone's name in Chinese.
    #[arg(long, requires = "anchor_id")]
    name_zh: Option<String>,
    /// The zone's name in English.
    #[arg(long, requires = "anchor_id")]
    name_en: Option<String>,
    /// Days until the root expires (bundles verified under it go stale).
    #[arg(long, default_value_t = 365)]
    validity_days: u32,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct RootSignArgs {
    /// The root proposal.
    #[arg(long, value_name = "FILE")]
    proposal: PathBuf,
    /// Your anchor private key.
    #[arg(long = "key", visible_alias = "anchor-key", value_name = "FILE")]
    key: PathBuf,
    /// The current root (or the old single anchor key): its operators sign
    /// too, and a key of neither root is refused.
    #[arg(long, value_name = "FILE")]
    previous: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct RootPublishArgs {
    /// The signed root proposal.
    #[arg(long, value_name = "FILE")]
    proposal: PathBuf,
    /// The current root (or the old single anchor key); omit only for the
    /// zone's first root.
    #[arg(long, value_name = "FILE")]
    previous: Option<PathBuf>,
    /// Where to write the root (publish it as `root-<n>.json` beside the
    /// trust list).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct RootShowArgs {
    /// The root proposal (or a published root).
    #[arg(long, value_name = "FILE")]
    proposal: PathBuf,
    /// The current root, to count its operators' signatures too.
    #[arg(long, value_name = "FILE")]
    previous: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

impl RootCommand {
    /// Whether `--json` was asked for.
    pub(super) fn json(&self) -> bool {
        match self {
            RootCommand::Propose(a) => a.common.json,
            RootCommand::Sign(a) => a.common.json,
            RootCommand::Publish(a) => a.common.json,
            RootCommand::Show(a) => a.common.json,
        }
    }
}

/// Reads a pinned root, or an anchor public key (a zone of one anchor).
pub(super) fn read_root(path: &Path) -> Result<TrustAnchors, CliError> {
    let bytes = files::read_text(path)?;
    TrustAnchors::from_pin_document(bytes.as_bytes()).map_err(|r| {
        CliError::Draft(tongban_issuer::trust_list::DraftError::Refused(
            tongban_verifier::Rejection::new(r.code, format!("{}: {}", path.display(), r.detail)),
        ))
    })
}

fn read_signer(path: &Path) -> Result<Ed25519Signer, CliError> {
    let key = files::read_json(path)?;
    Ed25519Signer::from_private_jwk(&key)
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

fn read_proposal(path: &Path, kind: Kind) -> Result<MultiJws, CliError> {
    Ok(gov::parse(&files::read_text(path)?, kind)?)
}

fn refuse_existing(path: &Path) -> Result<(), CliError> {
    if path.exists() {
        return Err(CliError::Usage(format!(
            "{} already exists; choose another --out",
            path.display()
        )));
    }
    Ok(())
}

fn short(tp: &str) -> &str {
    tp.get(..16).unwrap_or(tp)
}

/// Who signed, against a key set: JSON and a line of text.
fn signatures(
    doc: &MultiJws,
    keys: &[AnchorKey],
    typ: &str,
    code: ErrorCode,
) -> Result<(Value, Vec<String>), CliError> {
    let t = tally(doc, keys, "the proposal", typ, code)
        .map_err(tongban_issuer::trust_list::DraftError::Refused)?;
    let kids: Vec<String> = t
        .signed_by
        .iter()
        .map(|s| {
            format!(
                "{} ({})",
                s.kid.as_deref().unwrap_or("?"),
                short(&s.thumbprint)
            )
        })
        .collect();
    let v = json!({
        "signed_by": t.signed_by,
        "invalid": t.failed,
        "ignored": t.unknown,
    });
    Ok((v, kids))
}

/// `propose`.
pub(super) fn propose(a: ProposeArgs) -> Result<(String, Value), CliError> {
    refuse_existing(&a.out)?;
    let mut d = load_draft(&a.list)?;
    let root = read_root(&a.root)?;
    let doc = gov::propose_list(&mut d, &root, now(), i64::from(a.validity_days) * 86_400)?;
    files::write_atomic(&a.out, doc.to_json_text().as_bytes())?;
    save_draft(&a.list, &d)?;
    Ok((
        format!(
            "proposal of trust list #{} written to {} (root {}, {} of {} anchor signatures needed)\n提案已写入：信任列表第 {} 版，需 {} 个信任锚签名。\nnext: each operator reviews it (show --proposal … --diff CURRENT) and signs it (sign --proposal …)",
            d.sequence,
            a.out.display(),
            root.sequence(),
            root.threshold(),
            root.keys().len(),
            d.sequence,
            root.threshold()
        ),
        json!({"sequence": d.sequence, "out": a.out, "root_sequence": root.sequence(),
               "threshold": root.threshold(), "issued_at": d.issued_at, "next_update": d.next_update}),
    ))
}

/// `sign --proposal`.
pub(super) fn sign(
    proposal: &Path,
    key: &Path,
    root: Option<&Path>,
) -> Result<(String, Value), CliError> {
    let mut doc = read_proposal(proposal, Kind::List)?;
    let signer = read_signer(key)?;
    let root = root.map(read_root).transpose()?;
    let eligible = root.as_ref().map(|r| r.keys().to_vec());
    gov::sign(&mut doc, Kind::List, &signer, eligible.as_deref())?;
    files::write_atomic(proposal, doc.to_json_text().as_bytes())?;
    signed_report(&doc, Kind::List, &signer, root.as_ref(), proposal)
}

fn signed_report(
    doc: &MultiJws,
    kind: Kind,
    signer: &Ed25519Signer,
    root: Option<&TrustAnchors>,
    proposal: &Path,
) -> Result<(String, Value), CliError> {
    use tongban_verifier::Signer as _;
    let tp = signer.public_key().thumbprint();
    let kid = signer.key_id().unwrap_or("?").to_owned();
    let mut text = format!(
        "signed {} with {kid} (thumbprint {tp}); it now carries {} signature(s)\n已签署，当前共有 {} 个签名。",
        proposal.display(),
        doc.signatures.len(),
        doc.signatures.len()
    );
    let mut v = json!({"proposal": proposal, "kid": kid, "thumbprint": tp,
                       "signatures": doc.signatures.len()});
    if let Some(r) = root {
        let (s, kids) = signatures(doc, r.keys(), kind.typ(), ErrorCode::TrustListMalformed)?;
        text.push_str(&format!(
            "\ncounted under root {}: {} of {} needed ({})",
            r.sequence(),
            kids.len(),
            r.threshold(),
            kids.join(", ")
        ));
        v["counted"] = s;
        v["threshold"] = json!(r.threshold());
    }
    Ok((text, v))
}

/// `publish`.
pub(super) fn publish(a: PublishArgs) -> Result<(String, Value), CliError> {
    let doc = read_proposal(&a.proposal, Kind::List)?;
    let root = read_root(&a.root)?;
    let v = gov::publish_list(&doc, &root)?;
    files::write_atomic(&a.out, doc.to_json_text().as_bytes())?;
    let kids: Vec<String> = v
        .signed_by()
        .iter()
        .map(|s| {
            format!(
                "{} ({})",
                s.kid.as_deref().unwrap_or("?"),
                short(&s.thumbprint)
            )
        })
        .collect();
    Ok((
        format!(
            "trust list #{} published to {}: signed by {} of {} anchor keys ({} needed): {}\n信任列表第 {} 版已发布。",
            v.list().sequence,
            a.out.display(),
            kids.len(),
            root.keys().len(),
            root.threshold(),
            kids.join(", "),
            v.list().sequence
        ),
        json!({"sequence": v.list().sequence, "version": v.list().version, "out": a.out,
               "root_sequence": root.sequence(), "signed_by": v.signed_by(),
               "threshold": {"k": root.threshold(), "n": root.keys().len()}}),
    ))
}

/// `show --proposal [--root] [--diff CURRENT]`.
pub(super) fn show(
    proposal: &Path,
    root: Option<&Path>,
    current: Option<&Path>,
    lang: Lang,
) -> Result<(String, Value), CliError> {
    let doc = read_proposal(proposal, Kind::List)?;
    let list: TrustList = serde_json::from_value(Value::Object(doc.payload.clone()))
        .map_err(|e| CliError::Usage(format!("not a trust list proposal: {e}")))?;
    let mut text = format!(
        "{}\n",
        pick(
            lang,
            &format!(
                "信任列表提案：第 {} 版，{} 个签发机构，依据信任根 {}，有效至 {}",
                list.sequence,
                list.issuers.len(),
                list.root_sequence.unwrap_or(0),
                format_cst(list.next_update)
            ),
            &format!(
                "trust list proposal #{} ({} issuers) under root {}, next update due {}",
                list.sequence,
                list.issuers.len(),
                list.root_sequence.unwrap_or(0),
                format_cst(list.next_update)
            ),
        )
    );
    let mut v = json!({"proposal": list, "signatures": doc.signatures.len()});
    if let Some(root) = root {
        let r = read_root(root)?;
        let (s, kids) = signatures(
            &doc,
            r.keys(),
            Kind::List.typ(),
            ErrorCode::TrustListMalformed,
        )?;
        let enough = kids.len() >= r.threshold();
        text.push_str(&pick(
            lang,
            &format!(
                "签名：{}/{}（需 {}）{} {}\n",
                kids.len(),
                r.keys().len(),
                r.threshold(),
                if enough {
                    "已达门限，可发布"
                } else {
                    "未达门限"
                },
                kids.join("，")
            ),
            &format!(
                "signatures: {}/{} ({} needed) {} {}\n",
                kids.len(),
                r.keys().len(),
                r.threshold(),
                if enough {
                    "threshold met, ready to publish"
                } else {
                    "below threshold"
                },
                kids.join(", ")
            ),
        ));
        v["counted"] = s;
        v["threshold"] = json!({"k": r.threshold(), "n": r.keys().len()});
        v["ready"] = json!(enough);
        v["anchor_keys"] = json!(
            r.keys()
                .iter()
                .map(|k| json!({"kid": k.kid, "thumbprint": k.thumbprint}))
                .collect::<Vec<_>>()
        );
    }
    if let Some(current) = current {
        let old = read_any_list(current)?;
        let changes = diff(&old, &list);
        text.push_str(&pick(
            lang,
            &format!(
                "相对第 {} 版的变更（{} 项）：\n",
                old.sequence,
                changes.len()
            ),
            &format!("changes from #{} ({}):\n", old.sequence, changes.len()),
        ));
        for c in &changes {
            text.push_str(&format!("  {}\n", change_line(c, lang)));
        }
        v["diff"] = json!({"from_sequence": old.sequence, "changes": changes});
    }
    Ok((text.trim_end().to_owned(), v))
}

fn pick(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Both => format!("{zh}\n{en}"),
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

fn change_line(c: &Change, lang: Lang) -> String {
    match lang {
        Lang::Both => format!("{} / {}", c.zh, c.en),
        Lang::Zh => c.zh.clone(),
        Lang::En => c.en.clone(),
    }
}

/// The list a diff starts from: a draft (JSON), a signed list or a
/// proposal (its payload; the signatures are not what a diff is about).
fn read_any_list(path: &Path) -> Result<TrustList, CliError> {
    let text = files::read_text(path)?;
    let value = match serde_json::from_str::<Value>(&text) {
        Ok(v) if v.get("signatures").is_none() => v,
        _ => Value::Object(gov::parse(&text, Kind::List)?.payload),
    };
    serde_json::from_value(value)
        .map_err(|e| CliError::Usage(format!("{}: not a trust list: {e}", path.display())))
}

/// `root …`.
pub(super) fn root(command: RootCommand) -> Result<(String, Value), CliError> {
    match command {
        RootCommand::Propose(a) => {
            refuse_existing(&a.out)?;
            let previous = a.previous.as_deref().map(read_root).transpose()?;
            let mut keys = Vec::new();
            for k in &a.keys {
                keys.extend(tongban_issuer::trust_list::keys_from_document(
                    &files::read_json(k)?,
                )?);
            }
            let anchor = match (a.anchor_id, a.name_zh, a.name_en) {
                (Some(id), Some(name_zh), Some(name_en)) => Some(Anchor {
                    id,
                    name_zh,
                    name_en,
                }),
                (None, None, None) => None,
                _ => {
                    return Err(CliError::Usage(
                        "give --anchor-id with --name-zh and --name-en".into(),
                    ));
                }
            };
            let doc = gov::propose_root(
                previous.as_ref(),
                RootProposal {
                    anchor,
                    keys,
                    threshold: a.threshold,
                    now: now(),
                    validity_secs: i64::from(a.validity_days) * 86_400,
                },
            )?;
            files::write_atomic(&a.out, doc.to_json_text().as_bytes())?;
            let (text, v) = root_show(&doc, previous.as_ref())?;
            Ok((
                format!("root proposal written to {}\n{text}", a.out.display()),
                v,
            ))
        }
        RootCommand::Sign(a) => {
            let mut doc = read_proposal(&a.proposal, Kind::Root)?;
            let signer = read_signer(&a.key)?;
            let previous = a.previous.as_deref().map(read_root).transpose()?;
            let eligible = gov::eligible_keys(&doc, Kind::Root, previous.as_ref())?;
            gov::sign(&mut doc, Kind::Root, &signer, Some(&eligible))?;
            files::write_atomic(&a.proposal, doc.to_json_text().as_bytes())?;
            let (_, v) = root_show(&doc, previous.as_ref())?;
            let (text, mut out) = signed_report(&doc, Kind::Root, &signer, None, &a.proposal)?;
            out["root"] = v;
            Ok((text, out))
        }
        RootCommand::Publish(a) => {
            let doc = read_proposal(&a.proposal, Kind::Root)?;
            let previous = a.previous.as_deref().map(read_root).transpose()?;
            let next = gov::publish_root(&doc, previous.as_ref())?;
            files::write_atomic(&a.out, doc.to_json_text().as_bytes())?;
            Ok((
                format!(
                    "root of trust {} published to {} ({} of {} anchor keys must sign)\n信任根第 {} 版已发布；请将其作为 root-{}.json 与信任列表一同发布。",
                    next.sequence(),
                    a.out.display(),
                    next.threshold(),
                    next.keys().len(),
                    next.sequence(),
                    next.sequence()
                ),
                json!({"sequence": next.sequence(), "out": a.out, "threshold": next.threshold(),
                       "keys": next.keys().iter().map(|k| json!({"kid": k.kid, "thumbprint": k.thumbprint})).collect::<Vec<_>>()}),
            ))
        }
        RootCommand::Show(a) => {
            let doc = read_proposal(&a.proposal, Kind::Root)?;
            let previous = a.previous.as_deref().map(read_root).transpose()?;
            root_show(&doc, previous.as_ref())
        }
    }
}

fn root_show(doc: &MultiJws, previous: Option<&TrustAnchors>) -> Result<(String, Value), CliError> {
    let root: TrustRoot = serde_json::from_value(Value::Object(doc.payload.clone()))
        .map_err(|e| CliError::Usage(format!("not a root proposal: {e}")))?;
    let keys = root
        .validate()
        .map_err(tongban_issuer::trust_list::DraftError::Refused)?;
    let (own, own_kids) = signatures(doc, &keys, TYP_TRUST_ROOT, ErrorCode::TrustRootChainBroken)?;
    let mut text = format!(
        "信任根第 {} 版 root of trust #{} for {}: {} of {} keys must sign, expires {}\n",
        root.sequence,
        root.sequence,
        root.anchor.id,
        root.threshold,
        keys.len(),
        format_cst(root.expires)
    );
    for k in &keys {
        text.push_str(&format!(
            "  {} {}\n",
            k.kid.as_deref().unwrap_or("?"),
            k.thumbprint
        ));
    }
    text.push_str(&format!(
        "新根自身密钥签名 signatures by its own keys: {}/{}: {}\n",
        own_kids.len(),
        root.threshold,
        own_kids.join(", ")
    ));
    let mut v = json!({"root": root, "own": own,
        "keys": keys.iter().map(|k| json!({"kid": k.kid, "thumbprint": k.thumbprint})).collect::<Vec<_>>()});
    if let Some(p) = previous {
        let (old, old_kids) = signatures(
            doc,
            p.keys(),
            TYP_TRUST_ROOT,
            ErrorCode::TrustRootChainBroken,
        )?;
        text.push_str(&format!(
            "上一信任根（第 {} 版）密钥签名 signatures by root {}'s keys: {}/{}: {}\n",
            p.sequence(),
            p.sequence(),
            old_kids.len(),
            p.threshold(),
            old_kids.join(", ")
        ));
        for k in p.keys() {
            if !keys.iter().any(|n| n.thumbprint == k.thumbprint) {
                text.push_str(&format!(
                    "  移除 removed: {} {}\n",
                    k.kid.as_deref().unwrap_or("?"),
                    k.thumbprint
                ));
            }
        }
        for k in &keys {
            if !p.keys().iter().any(|o| o.thumbprint == k.thumbprint) {
                text.push_str(&format!(
                    "  新增 added: {} {}\n",
                    k.kid.as_deref().unwrap_or("?"),
                    k.thumbprint
                ));
            }
        }
        v["previous"] = old;
        v["ready"] =
            json!(old_kids.len() >= p.threshold() && own_kids.len() >= root.threshold as usize);
    } else {
        v["ready"] = json!(own_kids.len() >= root.threshold as usize);
    }
    Ok((text.trim_end().to_owned(), v))
}
