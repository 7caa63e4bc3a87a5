//! `present`: chosen claims of a credential, with the counter's request or
//! explicit flags, after consent, in the form `--qr` chose. A request is
//! first judged against the trust list the wallet holds (who asks, and
//! whether it may); a refusal by the wallet and a presentation each add a
//! line to the history, and nothing else in the wallet changes (a decline
//! changes nothing).

use std::path::Path;

use tongban_cli_support::time::{format_cst, now};
use tongban_verifier::HeldCredential;
use tongban_wallet::present::{
    self, Presented, RequestMismatch, claim_paths, read_request, wallet_nonce,
};
use tongban_wallet::requester::{self, Judged};
use tongban_wallet::store::Wallet;
use tongban_wallet::trust;

use crate::cli::args::PresentArgs;
use crate::cli::error::CliError;
use crate::cli::prompt::{ask, passphrase};
use crate::cli::render::{self, type_name};

/// Presents credential `a.id` to the counter, or answers the online
/// request `a.id` names.
pub fn present(dir: &Path, mut a: PresentArgs, json: bool) -> Result<(), CliError> {
    if let Some(link) = tongban_wallet::oid4vp::read_link(&a.id) {
        return super::online::answer(dir, &a, &link, json);
    }
    if a.request.is_none() && (a.disclose.is_empty() || a.aud.is_none()) {
        return Err(CliError::Usage(
            "give --disclose and --aud (or --request) to present to a counter, or an openid4vp:// link".into(),
        ));
    }
    let mut w = Wallet::open(dir, passphrase(false)?)?;
    let c = w.credential(&a.id)?.clone();
    let mut judged: Option<Judged> = None;
    if let Some(r) = &a.request {
        let received = read_request(r)?;
        let req = received.request.clone();
        match present::check_request(&req, &c.vct, now()) {
            Ok(()) => {}
            Err(RequestMismatch::Expired { exp }) => {
                return Err(CliError::Declined(format!(
                    "the counter's request expired at {}; ask for a new one",
                    format_cst(exp)
                )));
            }
            Err(RequestMismatch::OtherType { asked, held }) => {
                return Err(CliError::Usage(format!(
                    "the counter asks for {}, but {} is a {}",
                    type_name(&asked),
                    c.id,
                    type_name(&held)
                )));
            }
        }
        let list = w.trust().map(trust::verify_held).transpose()?;
        let j = match requester::counter(&received, list.as_ref(), now()) {
            Ok(j) => j,
            Err(rejection) => {
                let mut e = requester::history_entry("counter", "refused", &req.aud, None, now());
                e.code = Some(rejection.code.code().into());
                e.claims = req.claims.clone();
                e.verifier = req.verifier.clone();
                e.service_item = req.service_item.clone();
                w.record(e);
                w.save()?;
                return Err(CliError::Requester {
                    rejection,
                    excess: Vec::new(),
                });
            }
        };
        render::requester(&j.requester);
        if let Some(rejection) = j.over_asking() {
            let excess: Vec<String> = j.excess.iter().map(ToString::to_string).collect();
            if !a.allow_unregistered {
                let mut e =
                    requester::history_entry("counter", "refused", &req.aud, Some(&j), now());
                e.code = Some(rejection.code.code().into());
                e.claims = req.claims.clone();
                w.record(e);
                w.save()?;
                return Err(CliError::Requester { rejection, excess });
            }
            eprintln!(
                "WARNING 警告: asks beyond its registration 超出登记范围: {} (--allow-unregistered)",
                excess.join(", ")
            );
        }
        judged = Some(j);
        a.disclose = req.claims;
        a.aud = Some(req.aud);
        a.nonce = Some(req.nonce);
    }
    let aud = a.aud.clone().unwrap_or_default();
    // A credential that does not parse is refused before anything is asked.
    HeldCredential::parse(&c.sd_jwt).map_err(|e| CliError::Refused(e.to_string()))?;
    let paths = claim_paths(&a.disclose)?;
    let (nonce, generated) = match a.nonce {
        Some(n) => (n, false),
        None => (wallet_nonce(), true),
    };
    if judged.is_none() {
        render::requester(&tongban_wallet::requester::Requester::Unverified(
            "no request was given",
        ));
    }
    if !json {
        render::presentation_preview(&c, &aud, &a.disclose, generated.then_some(nonce.as_str()));
    }
    let entry = |outcome: &str| {
        let mut e = requester::history_entry("counter", outcome, &aud, judged.as_ref(), now());
        e.credentials = vec![format!("{} {}", c.id, c.vct)];
        e.claims = a.disclose.clone();
        e.allow_unregistered = a.allow_unregistered && !e.excess.is_empty();
        e
    };
    // A decline discloses nothing; a counter's request declined leaves a
    // line of history (who asked for what), a presentation made without
    // one leaves the wallet as it was.
    if !a.yes && !ask("Present these fields? 同意出示？") {
        if judged.is_some() {
            let mut e = entry("declined");
            e.credentials.clear();
            w.record(e);
            w.save()?;
        }
        return Err(CliError::Declined("nothing was presented".into()));
    }
    // A copy never presented before, when the licence came in a batch.
    let copy = w.take_copy(&c.id)?;
    warn_if_reused(&copy);
    let held = HeldCredential::parse(&copy.sd_jwt).map_err(|e| CliError::Refused(e.to_string()))?;
    let presented: Presented = present::present(
        &held,
        &paths,
        &copy.signer,
        aud.clone(),
        nonce.clone(),
        now(),
    )?;
    w.record(entry("presented"));
    w.save()?;
    // A QR image is written whatever the output; what goes to standard
    // output is either the chosen form or, with --json, one JSON document.
    let qr_file = render::write_qr_file(&a.qr, &presented.parts)?;
    if json {
        render::presentation_json(&presented, &nonce, generated, qr_file);
        return Ok(());
    }
    render::presentation(&a.qr, &presented)
}

/// Warns that a credential's every copy was presented before, so this
/// presentation can be linked to an earlier one.
pub(crate) fn warn_if_reused(copy: &tongban_wallet::store::CopyInUse) {
    if let (true, Some((_, total))) = (copy.reused, copy.copy) {
        eprintln!(
            "WARNING 警告: all {total} copies of {} were presented before; presenting one again, which can be linked to its earlier presentation. Receive the licence again for fresh copies. 该证照的{total}份副本均已出示过，本次重复使用，可能被关联；请重新领取以获得新副本。",
            copy.credential_id
        );
    }
}
