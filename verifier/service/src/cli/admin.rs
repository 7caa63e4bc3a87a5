//! The operator's commands: tenants, tokens, the operator CA, the audit log.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;
use tongban_verifier_service::app::{ClientIdPrefix, TenantSpec, tenants::client_id};
use tongban_verifier_service::pki;
use tongban_verifier_service::tokens::TokenScope;

use super::{Failure, Target, actor, finish, open, runtime};

/// `tenant …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TenantCommand {
    /// Add a receiving agency: a P-256 key (sealed under the master key)
    /// and a certificate for DNS name --dns signed by the operator CA.
    ///
    ///   tongban-verifier-service tenant add --id qingpu-ywtb --name-zh 青浦区行政服务中心 \
    ///       --name-en "Qingpu service centre" --region 310118 --dns verifier.qingpu.example
    #[command(verbatim_doc_comment)]
    Add {
        #[command(flatten)]
        target: Target,
        /// Short id (lower-case letters, digits, hyphens).
        #[arg(long)]
        id: String,
        /// Name in Chinese, shown to citizens.
        #[arg(long)]
        name_zh: String,
        /// Name in English, shown to citizens.
        #[arg(long)]
        name_en: String,
        /// Six-digit GB/T 2260 region code.
        #[arg(long)]
        region: String,
        /// The DNS name in the certificate (dNSName).
        #[arg(long)]
        dns: String,
        /// Identify with x509_san_dns:<dns> instead of x509_hash:<hash>.
        #[arg(long)]
        san_dns: bool,
        /// Accept unencrypted direct_post responses (only if the service's
        /// configuration allows them).
        #[arg(long)]
        allow_plain_direct_post: bool,
    },
    /// List the receiving agencies with their client identifiers.
    List {
        #[command(flatten)]
        target: Target,
    },
}

/// `token …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token; the secret is printed once and stored only as a hash.
    ///
    ///   tongban-verifier-service token create --tenant qingpu-ywtb --label "back office"
    ///   tongban-verifier-service token create --admin --label "second operator"
    #[command(verbatim_doc_comment)]
    Create {
        #[command(flatten)]
        target: Target,
        /// The tenant the token acts for (its transactions only).
        #[arg(long, conflicts_with = "admin", required_unless_present = "admin")]
        tenant: Option<String>,
        /// An admin token (tenants and tokens, no transactions).
        #[arg(long)]
        admin: bool,
        /// A label for people (who holds it).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (never the secrets).
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Revoke a token by its id (tok_…).
    Revoke {
        #[command(flatten)]
        target: Target,
        /// The token id.
        id: String,
    },
}

/// `ca …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CaCommand {
    /// Make the operator CA (once; `serve` makes one on a fresh database).
    ///
    ///   tongban-verifier-service ca init --name "YRD receiving agencies CA"
    #[command(verbatim_doc_comment)]
    Init {
        #[command(flatten)]
        target: Target,
        /// The CA's common name.
        #[arg(long, default_value = "Tongban receiving agencies operator CA")]
        name: String,
    },
    /// Print the CA certificate (PEM) for wallets to trust.
    ///
    ///   tongban-verifier-service ca export > operator-ca.pem
    #[command(verbatim_doc_comment)]
    Export {
        #[command(flatten)]
        target: Target,
    },
}

/// `audit …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Verify every audit chain (exit 1 if one is broken).
    Verify {
        #[command(flatten)]
        target: Target,
    },
}

/// `tongban-verifier-service tenant …`.
pub(crate) fn tenant(c: TenantCommand) -> ExitCode {
    let json = match &c {
        TenantCommand::Add { target, .. } | TenantCommand::List { target } => target.json,
    };
    let r = runtime().and_then(|rt| {
        rt.block_on(async {
            match c {
                TenantCommand::Add { target, id, name_zh, name_en, region, dns, san_dns, allow_plain_direct_post } => {
                    let s = open(&target, false).await?;
                    let spec = TenantSpec {
                        id, name_zh, name_en, region, dns,
                        client_id_prefix: if san_dns { ClientIdPrefix::X509SanDns } else { ClientIdPrefix::X509Hash },
                        allow_plain_direct_post,
                    };
                    let t = s.create_tenant(&spec, &actor()).await?;
                    let cid = client_id(&t);
                    Ok((
                        format!("Tenant {} ({}), client_id {cid}\nIts certificate (signed by the operator CA):\n{}", t.id, t.name_zh, pki::pem(&t.cert_der)),
                        json!({"id": t.id, "client_id": cid, "dns": t.dns, "certificate_pem": pki::pem(&t.cert_der)}),
                    ))
                }
                TenantCommand::List { target } => {
                    let s = open(&target, false).await?;
                    let list = s.list_tenants().await?;
                    let text = list
                        .iter()
                        .map(|t| format!("{}  {}  {}  {}", t.id, t.region, t.name_zh, client_id(t)))
                        .collect::<Vec<_>>()
                        .join("\n");
                    let rows: Vec<_> = list.iter().map(|t| json!({"id": t.id, "name_zh": t.name_zh, "name_en": t.name_en, "region": t.region, "dns": t.dns, "client_id": client_id(t)})).collect();
                    Ok((if text.is_empty() { "No tenants.".into() } else { text }, json!({"tenants": rows})))
                }
            }
        })
    });
    finish(json, r)
}

/// `tongban-verifier-service token …`.
pub(crate) fn token(c: TokenCommand) -> ExitCode {
    let json = match &c {
        TokenCommand::Create { target, .. }
        | TokenCommand::List { target }
        | TokenCommand::Revoke { target, .. } => target.json,
    };
    let r = runtime().and_then(|rt| {
        rt.block_on(async {
            match c {
                TokenCommand::Create {
                    target,
                    tenant,
                    admin: _,
                    label,
                } => {
                    let s = open(&target, false).await?;
                    let scope = tenant.map_or(TokenScope::Admin, TokenScope::Tenant);
                    let t = s.create_token(scope.clone(), &label, &actor()).await?;
                    let who = scope
                        .tenant()
                        .map_or("admin".to_owned(), |t| format!("tenant {t}"));
                    Ok((
                        format!(
                            "Token {} ({who}). The secret is shown ONCE:\n\n    {}\n",
                            t.id, t.secret
                        ),
                        json!({"id": t.id, "scope": scope, "label": label, "token": t.secret}),
                    ))
                }
                TokenCommand::List { target } => {
                    let s = open(&target, false).await?;
                    let list = s.list_tokens().await?;
                    let text = list
                        .iter()
                        .map(|t| {
                            format!(
                                "{}  {}  {}{}",
                                t.id,
                                t.scope.tenant().unwrap_or("(admin)"),
                                t.label,
                                if t.revoked_at.is_some() {
                                    "  (revoked)"
                                } else {
                                    ""
                                }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n");
                    Ok((
                        if text.is_empty() {
                            "No tokens.".into()
                        } else {
                            text
                        },
                        json!({"tokens": list}),
                    ))
                }
                TokenCommand::Revoke { target, id } => {
                    let s = open(&target, false).await?;
                    s.revoke_token(&id, &actor()).await?;
                    Ok((format!("Revoked token {id}."), json!({"revoked": id})))
                }
            }
        })
    });
    finish(json, r)
}

/// `tongban-verifier-service ca …`.
pub(crate) fn ca(c: CaCommand) -> ExitCode {
    let json = match &c {
        CaCommand::Init { target, .. } | CaCommand::Export { target } => target.json,
    };
    let r = runtime().and_then(|rt| {
        rt.block_on(async {
            match c {
                CaCommand::Init { target, name } => {
                    let s = open(&target, true).await?;
                    let der = s.init_ca(&name, &actor()).await?;
                    let pem = pki::pem(&der);
                    Ok((format!("Made the operator CA {name:?}. Give wallets this certificate to trust (also: ca export):\n{pem}"), json!({"common_name": name, "certificate_pem": pem})))
                }
                CaCommand::Export { target } => {
                    let s = open(&target, false).await?;
                    let pem = pki::pem(&s.ca_certificate().await?);
                    Ok((pem.trim_end().to_owned(), json!({"certificate_pem": pem})))
                }
            }
        })
    });
    finish(json, r)
}

/// `tongban-verifier-service audit …`.
pub(crate) fn audit(c: AuditCommand) -> ExitCode {
    let AuditCommand::Verify { target } = c;
    let json = target.json;
    let r = runtime().and_then(|rt| {
        rt.block_on(async {
            let s = open(&target, false).await?;
            let checks = s.verify_audit().await?;
            let broken: Vec<_> = checks.iter().filter(|c| c.error.is_some()).collect();
            let text = checks
                .iter()
                .map(|c| {
                    format!(
                        "{}: {} entries {}",
                        c.chain,
                        c.entries,
                        c.error.as_deref().unwrap_or("ok")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            if broken.is_empty() {
                Ok((text, json!({"chains": checks})))
            } else {
                Err(Failure {
                    code: "audit_broken",
                    message: text,
                    exit: 1,
                })
            }
        })
    });
    finish(json, r)
}
