//! `present LINK`: answering an agency's online request (OpenID4VP). The
//! order: fetch and check the request (refused → nothing is sent), refuse
//! transaction data the wallet cannot handle (posted as
//! `invalid_transaction_data`), match the query (nothing matches → say so,
//! and tell the agency `access_denied` only when the citizen agrees), let
//! the citizen choose, show who asks for what, ask consent (declined →
//! `access_denied`, and a history line records who asked for what), then
//! post the encrypted presentation and print where the agency sends the
//! citizen next. Before any of it, the request is
//! judged against the trust list the wallet holds (who asks, for which
//! registered service item, and whether it asks beyond it); the wallet file
//! changes only by a line of history.

use std::io::IsTerminal as _;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use tongban_cli_support::time::now;
use tongban_wallet::oid4vp::x509::Cert;
use tongban_wallet::oid4vp::{
    self, AnswerError, Candidate, Choice, Fetched, Options, QueryMatch, ResponseProtection,
    Transaction,
};
use tongban_wallet::receive::printable;
use tongban_wallet::requester;
use tongban_wallet::store::{HistoryEntry, Wallet};
use tongban_wallet::trust;

use crate::cli::args::PresentArgs;
use crate::cli::error::CliError;
use crate::cli::prompt::{ask, passphrase};
use crate::cli::render::{self, label, type_name};

/// Answers the request behind `link`.
pub fn answer(dir: &Path, a: &PresentArgs, link: &str, json: bool) -> Result<(), CliError> {
    let mut w = Wallet::open(dir, passphrase(false)?)?;
    let mut trusted = Vec::new();
    for ca in w.verifier_cas() {
        let der = tongban_verifier::encoding::b64_decode(&ca.der, "a verifier CA")
            .map_err(|r| CliError::Usage(format!("verifier CA {}: {}", ca.id, r.detail)))?;
        trusted.push(
            Cert::from_der(&der)
                .map_err(|e| CliError::Usage(format!("verifier CA {}: {e}", ca.id)))?,
        );
    }
    for file in &a.verifier_ca {
        trusted.extend(read_ca_file(file)?);
    }
    let opts = Options {
        timeout: Duration::from_secs(a.timeout),
        allow_unencrypted: a.allow_unencrypted,
        trusted,
        now: now(),
    };
    let fetched = oid4vp::fetch(link, &opts).map_err(CliError::answer)?;
    let request = &fetched.request;

    let transactions = match oid4vp::transactions(&request.object) {
        Ok(t) => t,
        Err(e) => {
            let description = e.to_string();
            return Err(tell(
                &fetched,
                oid4vp::INVALID_TRANSACTION_DATA,
                &description,
                e,
            ));
        }
    };

    // Who asks, and may they (the trust list): refused before anything is
    // matched or shown, with only a history line written.
    let list = w.trust().map(trust::verify_held).transpose()?;
    let client_id = request.object.client_id.clone();
    let item = request
        .object
        .tongban_purpose
        .as_ref()
        .map(|p| p.service_item.clone());
    let asked = |e: &mut HistoryEntry| {
        e.claims = tongban_protocol::oid4vp::registration::asked(&request.object.dcql_query)
            .iter()
            .flat_map(|x| x.claims.clone())
            .collect();
    };
    let judged = match requester::online(
        &client_id,
        item.as_deref(),
        &request.object.dcql_query,
        list.as_ref(),
        now(),
    ) {
        Ok(j) => j,
        Err(rejection) => {
            let mut e = requester::history_entry("online", "refused", &client_id, None, now());
            e.code = Some(rejection.code.code().into());
            e.service_item = item.clone();
            asked(&mut e);
            w.record(e);
            w.save()?;
            return Err(CliError::Requester {
                rejection,
                excess: Vec::new(),
            });
        }
    };
    render::requester(&judged.requester);
    if let Some(rejection) = judged.over_asking() {
        let excess: Vec<String> = judged.excess.iter().map(ToString::to_string).collect();
        if !a.allow_unregistered {
            let mut e =
                requester::history_entry("online", "refused", &client_id, Some(&judged), now());
            e.code = Some(rejection.code.code().into());
            asked(&mut e);
            w.record(e);
            w.save()?;
            return Err(CliError::Requester { rejection, excess });
        }
        eprintln!(
            "WARNING 警告: asks beyond its registration 超出登记范围: {} (--allow-unregistered)",
            excess.join(", ")
        );
    }
    let record = |w: &mut Wallet, outcome: &str, choices: &[Choice]| -> Result<(), CliError> {
        let mut e = requester::history_entry("online", outcome, &client_id, Some(&judged), now());
        e.allow_unregistered = a.allow_unregistered && !e.excess.is_empty();
        for c in choices {
            e.credentials
                .push(format!("{} {}", c.candidate.credential_id, c.candidate.vct));
            e.claims
                .extend(c.candidate.paths.iter().map(ToString::to_string));
        }
        w.record(e);
        w.save()?;
        Ok(())
    };

    let matches = oid4vp::match_credentials(&request.object.dcql_query, w.credentials());
    show_requester(&fetched);
    let missing: Vec<&str> = matches
        .iter()
        .filter(|m| m.candidates.is_empty())
        .map(|m| m.query_id.as_str())
        .collect();
    if !missing.is_empty() {
        let e =
            AnswerError::NoMatchingCredential(format!("nothing answers {}", missing.join(", ")));
        eprintln!(
            "钱包中没有符合请求的证照 / No credential in this wallet answers the request ({}).",
            missing.join(", ")
        );
        if a.tell_if_none
            || a.decline
            || ask("Tell the agency you cannot answer? 是否告知请求方无法提供？")
        {
            return Err(tell(
                &fetched,
                oid4vp::ACCESS_DENIED,
                "the wallet holds no credential that answers the request",
                e,
            ));
        }
        return Err(CliError::answer(e));
    }

    let choices = choose(&matches, &a.credential).map_err(CliError::answer)?;
    show_claims(&choices);
    show_transactions(&transactions);
    // A decline presents nothing; the history says who asked for what.
    let declined = |w: &mut Wallet| -> Result<(), CliError> {
        let mut e =
            requester::history_entry("online", "declined", &client_id, Some(&judged), now());
        asked(&mut e);
        w.record(e);
        w.save()?;
        Ok(())
    };
    if a.decline {
        declined(&mut w)?;
        let e = AnswerError::Declined("declined with --decline; nothing was presented".into());
        return Err(tell(
            &fetched,
            oid4vp::ACCESS_DENIED,
            "the citizen declined",
            e,
        ));
    }
    if !a.yes && !ask("Present these fields? 同意出示？") {
        declined(&mut w)?;
        let e = AnswerError::Declined("the citizen did not consent; nothing was presented".into());
        return Err(tell(
            &fetched,
            oid4vp::ACCESS_DENIED,
            "the citizen declined",
            e,
        ));
    }

    // A copy never presented before for each choice, when the licence
    // came in a batch.
    let mut copies = Vec::with_capacity(choices.len());
    for choice in &choices {
        let copy = w.take_copy(&choice.candidate.credential_id)?;
        super::present::warn_if_reused(&copy);
        copies.push(copy);
    }
    let token = oid4vp::vp_token(request, &choices, &transactions, &copies, now())
        .map_err(CliError::answer)?;
    let form = oid4vp::response_form(request, token).map_err(CliError::answer)?;
    let redirect_uri = fetched.post(&form).map_err(CliError::answer)?;
    record(&mut w, "presented", &choices)?;
    report(
        &fetched,
        &judged.requester,
        &choices,
        &transactions,
        redirect_uri.as_deref(),
        json,
    );
    Ok(())
}

/// Reads the CA certificates of a PEM file.
pub fn read_ca_file(file: &Path) -> Result<Vec<Cert>, CliError> {
    let pem =
        std::fs::read(file).map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
    Cert::from_pem_chain(&pem).map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))
}

/// Posts the error response `error` (best effort) and returns `e` as the
/// command's error, saying what was posted.
fn tell(fetched: &Fetched, error: &'static str, description: &str, e: AnswerError) -> CliError {
    let form = oid4vp::error_form(&fetched.request, error, description);
    match fetched.post(&form) {
        Ok(redirect_uri) => CliError::Answer {
            error: e,
            posted: Some(error),
            redirect_uri,
            post_failed: None,
        },
        Err(post) => CliError::Answer {
            error: e,
            posted: None,
            redirect_uri: None,
            post_failed: Some(post.to_string()),
        },
    }
}

/// For each query, its credential: the only candidate, the one named by
/// `--credential`, or the citizen's pick at the terminal.
fn choose(matches: &[QueryMatch], named: &[String]) -> Result<Vec<Choice>, AnswerError> {
    for id in named {
        if !matches
            .iter()
            .any(|m| m.candidates.iter().any(|c| &c.credential_id == id))
        {
            return Err(AnswerError::CredentialChoice(format!(
                "--credential {id}: that credential does not answer the request"
            )));
        }
    }
    matches
        .iter()
        .map(|m| {
            let pool: Vec<&Candidate> = if named.is_empty() {
                m.candidates.iter().collect()
            } else {
                m.candidates
                    .iter()
                    .filter(|c| named.contains(&c.credential_id))
                    .collect()
            };
            let candidate = match pool.as_slice() {
                [only] => (*only).clone(),
                [] => {
                    return Err(AnswerError::CredentialChoice(format!(
                        "none of the credentials named with --credential answers {}",
                        m.query_id
                    )));
                }
                several => pick(&m.query_id, several)?,
            };
            Ok(Choice {
                query_id: m.query_id.clone(),
                candidate,
            })
        })
        .collect()
}

/// Asks which of `several` to present.
fn pick(query_id: &str, several: &[&Candidate]) -> Result<Candidate, AnswerError> {
    let ids: Vec<&str> = several.iter().map(|c| c.credential_id.as_str()).collect();
    if !std::io::stdin().is_terminal() {
        return Err(AnswerError::CredentialChoice(format!(
            "several credentials answer {query_id} ({}): choose one with --credential",
            ids.join(", ")
        )));
    }
    eprintln!("Several credentials answer the request 有多个证照符合请求:");
    for (i, c) in several.iter().enumerate() {
        eprintln!("  [{}] {} {}", i + 1, c.credential_id, type_name(&c.vct));
    }
    eprint!("Which one? 请选择 [1-{}]: ", several.len());
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    line.trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| several.get(i))
        .map(|c| (*c).clone())
        .ok_or_else(|| {
            AnswerError::CredentialChoice(format!("no credential chosen for {query_id}"))
        })
}

/// Who asks, and why (standard error). The names and purpose are the
/// agency's own words, signed with the request; the certificate is what
/// the trusted CA vouches for.
fn show_requester(f: &Fetched) {
    let r = &f.request;
    if let Some(p) = &r.object.tongban_purpose {
        eprintln!(
            "Request from 请求方: {} {}",
            printable(&p.verifier_name_zh),
            printable(&p.verifier_name_en)
        );
        eprintln!("  service item 事项: {}", printable(&p.service_item));
        eprintln!(
            "  purpose 用途: {} / {}",
            printable(&p.purpose_zh),
            printable(&p.purpose_en)
        );
    } else {
        eprintln!("Request from 请求方 (no name given 未提供名称)");
    }
    eprintln!("  client id 标识: {}", printable(&r.object.client_id));
    eprintln!("  certificate 证书: {}", printable(&r.subject));
    if !r.dns_names.is_empty() {
        eprintln!("  domain 域名: {}", printable(&r.dns_names.join(", ")));
    }
    eprintln!("  certified by 证书签发机构: {}", printable(&r.ca_subject));
}

/// What the citizen authorizes besides showing the claims (standard error).
fn show_transactions(transactions: &[Transaction]) {
    for t in transactions {
        eprintln!(
            "and authorize 并授权: {} / {} (application 申请号 {})",
            printable(&t.data.summary_zh),
            printable(&t.data.summary_en),
            printable(&t.data.application_id)
        );
    }
}

/// What leaves the wallet (standard error).
fn show_claims(choices: &[Choice]) {
    for c in choices {
        eprintln!(
            "{} ({}) will disclose 将披露:",
            type_name(&c.candidate.vct),
            c.candidate.credential_id
        );
        for p in &c.candidate.paths {
            eprintln!("  {}", label(&c.candidate.vct, &p.to_string()));
        }
    }
}

fn report(
    f: &Fetched,
    requester: &requester::Requester,
    choices: &[Choice],
    transactions: &[Transaction],
    redirect_uri: Option<&str>,
    json: bool,
) {
    let r = &f.request;
    if json {
        let presented: Vec<Value> = choices
            .iter()
            .map(|c| {
                json!({"query_id": c.query_id, "credential": c.candidate.credential_id,
                       "vct": c.candidate.vct,
                       "claims": c.candidate.paths.iter().map(ToString::to_string).collect::<Vec<_>>()})
            })
            .collect();
        let (mode, enc) = match &r.protection {
            ResponseProtection::Encrypted { enc, .. } => ("direct_post.jwt", Some(enc.as_str())),
            ResponseProtection::Plain => ("direct_post", None),
        };
        let authorized: Vec<&str> = transactions
            .iter()
            .map(|t| t.data.application_id.as_str())
            .collect();
        println!(
            "{}",
            json!({
                "status": "presented",
                "client_id": r.object.client_id,
                "verifier": {"subject": r.subject, "dns_names": r.dns_names, "ca_subject": r.ca_subject},
                "requester": render::requester_json(requester),
                "purpose": r.object.tongban_purpose,
                "presented": presented,
                "authorized_applications": authorized,
                "response_mode": mode,
                "enc": enc,
                "redirect_uri": redirect_uri,
            })
        );
        return;
    }
    println!("presented 已出示 to {}", printable(&r.object.client_id));
    match redirect_uri {
        Some(u) => println!("continue at 请继续办理: {u}"),
        None => println!("the agency has the answer; continue on its page 请回到办事页面继续"),
    }
}
