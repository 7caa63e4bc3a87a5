//! The wallet file: the holder key and the credentials, encrypted with the
//! `age` crate's passphrase mode (scrypt, a memory-hard KDF, and
//! ChaCha20-Poly1305) — never hand-rolled — and written atomically
//! (temporary file, fsync, rename), so a crash or a full disk never leaves a
//! half-written wallet. A wrong passphrase, a damaged file and a wallet from
//! a newer format version are distinct errors, and the file is never touched
//! when opening fails.

use std::fs;
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tongban_verifier::encoding::{b64_decode, b64_encode};
use tongban_verifier::{
    Algorithm, AnySigner, CredentialInfo, Ed25519Signer, P256Signer, PublicKey, Signer, Sm2Signer,
};

/// The file inside the wallet directory.
pub const WALLET_FILE: &str = "wallet.age";
/// The format version this build writes and reads. Version 2 added the
/// trusted verifier CAs; version 3 the trust list (the receiving agencies'
/// registrations) and the disclosure history; version 4 the wallet and key
/// attestations; version 5 the copies of a credential received in a batch,
/// each with its own holder key, ES256 holder keys and the fully specified
/// `Ed25519` name. An older file is read as having none and is written back
/// as version 5, so an older `tongban-wallet` refuses it ("update it")
/// instead of saving over what it does not know (and dropping the copies'
/// keys or the attestation).
pub const FORMAT_VERSION: u32 = 5;

/// The most copies of one credential the wallet asks an issuer for in one
/// batch (`receive --batch`, and the default when the issuer offers more).
pub const MAX_BATCH: usize = 10;

/// Why the wallet could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// There is no wallet in the directory.
    #[error("no wallet in {0} (create one with `tongban-wallet init`)")]
    NotFound(PathBuf),
    /// A wallet already exists there.
    #[error("a wallet already exists in {0}")]
    AlreadyExists(PathBuf),
    /// The passphrase does not open the wallet.
    #[error("the passphrase is wrong")]
    WrongPassphrase,
    /// The file is damaged or truncated.
    #[error("the wallet file is damaged: {0}")]
    Corrupted(String),
    /// The wallet was written by a newer version of Tongban.
    #[error(
        "the wallet uses format version {0}; this tongban-wallet reads version {FORMAT_VERSION} — update it"
    )]
    NewerVersion(u32),
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// No credential with this id.
    #[error("no credential {0} in the wallet (see `tongban-wallet list`)")]
    NoSuchCredential(String),
    /// No trusted verifier CA with this id.
    #[error("no verifier CA {0} in the wallet (see `tongban-wallet verifier-ca list`)")]
    NoSuchVerifierCa(String),
}

impl WalletError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            WalletError::NotFound(_) => "wallet_not_found",
            WalletError::AlreadyExists(_) => "wallet_exists",
            WalletError::WrongPassphrase => "wrong_passphrase",
            WalletError::Corrupted(_) => "wallet_corrupted",
            WalletError::NewerVersion(_) => "wallet_newer_version",
            WalletError::Io { .. } => "io_error",
            WalletError::NoSuchCredential(_) => "credential_not_found",
            WalletError::NoSuchVerifierCa(_) => "verifier_ca_not_found",
        }
    }
}

/// One stored credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCredential {
    /// A short local id (`c1`, `c2`, …).
    pub id: String,
    /// The issued SD-JWT (all disclosures).
    pub sd_jwt: String,
    /// Issuer (`iss`).
    pub iss: String,
    /// Licence type (`vct`).
    pub vct: String,
    /// Expiry, if any.
    pub exp: Option<i64>,
    /// The issuer's display name (zh / en) from its metadata, when it was
    /// received over OpenID4VCI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_name: Option<String>,
    /// When it was received (Unix seconds).
    pub received_at: i64,
    /// The last status check, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<StatusCheck>,
    /// Version 5: the copies of a credential received in a batch, each
    /// bound to its own key (the first is [`StoredCredential::sd_jwt`]);
    /// empty for a credential bound to the wallet's holder key. Each
    /// presentation uses a copy not presented before
    /// ([`Wallet::take_copy`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<CredentialCopy>,
}

/// One copy of a credential received in a batch (OpenID4VCI batch
/// issuance): the same licence, bound to a key of its own, with its own
/// salts and status index, so two presentations of different copies
/// cannot be linked by what they carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialCopy {
    /// The issued SD-JWT (all disclosures).
    pub sd_jwt: String,
    /// The key it is bound to (secret: the wallet file is encrypted).
    pub key: HolderKey,
    /// How many times it was presented.
    #[serde(default)]
    pub presented: u32,
}

/// A holder key kept in the wallet file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderKey {
    /// Its algorithm.
    pub alg: HolderKeyAlg,
    /// The 32-byte secret, base64url (an Ed25519 seed or a P-256 or SM2
    /// scalar).
    pub secret: String,
    /// An Ed25519 key whose signatures say the fully specified `Ed25519`
    /// (RFC 9864) instead of `EdDSA`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fully_specified: bool,
}

impl HolderKey {
    /// A fresh key of `alg` (the `Ed25519` name when `fully_specified`).
    pub fn generate(alg: HolderKeyAlg, fully_specified: bool) -> HolderKey {
        let mut rng = rand::rngs::OsRng;
        let secret = match alg {
            HolderKeyAlg::Ed25519 => Ed25519Signer::generate(&mut rng, None).seed(),
            HolderKeyAlg::Es256 => P256Signer::generate(&mut rng, None).secret_bytes(),
            HolderKeyAlg::Sm2 => Sm2Signer::generate(&mut rng, None).secret_bytes(),
        };
        HolderKey {
            alg,
            secret: b64_encode(secret),
            fully_specified: fully_specified && alg == HolderKeyAlg::Ed25519,
        }
    }

    /// A fresh key of the same kind as `like` (its algorithm and name).
    pub fn generate_like(like: &dyn Signer) -> HolderKey {
        let alg = match like.public_key() {
            PublicKey::P256(_) => HolderKeyAlg::Es256,
            PublicKey::Sm2(_) => HolderKeyAlg::Sm2,
            PublicKey::Ed25519(_) => HolderKeyAlg::Ed25519,
        };
        HolderKey::generate(alg, like.algorithm() == Algorithm::Ed25519)
    }

    /// The key, ready to sign.
    pub fn signer(&self) -> Result<AnySigner, WalletError> {
        let secret: [u8; 32] = b64_decode(&self.secret, "holder key")
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| WalletError::Corrupted("a holder key is not 32 bytes".into()))?;
        let invalid =
            |what: &str| WalletError::Corrupted(format!("the {what} holder key is not valid"));
        match self.alg {
            HolderKeyAlg::Ed25519 => Ok(AnySigner::Ed25519(
                Ed25519Signer::from_seed(&secret, None).fully_specified(self.fully_specified),
            )),
            HolderKeyAlg::Es256 => P256Signer::from_bytes(&secret, None)
                .map(AnySigner::P256)
                .map_err(|_| invalid("P-256")),
            HolderKeyAlg::Sm2 => Sm2Signer::from_bytes(&secret, None)
                .map(AnySigner::Sm2)
                .map_err(|_| invalid("SM2")),
        }
    }
}

/// The copy of a credential chosen for one presentation
/// ([`Wallet::take_copy`]).
#[derive(Debug)]
pub struct CopyInUse {
    /// The credential's local id.
    pub credential_id: String,
    /// The SD-JWT to present.
    pub sd_jwt: String,
    /// The key it is bound to (signs the KB-JWT).
    pub signer: AnySigner,
    /// Which copy (1-based) of how many, for a credential received in a
    /// batch.
    pub copy: Option<(usize, usize)>,
    /// Every copy had been presented before: this one is presented again,
    /// and two presentations of it can be linked.
    pub reused: bool,
}

impl StoredCredential {
    /// The record of a credential that passed the checks on receipt:
    /// `info` is what the verifier read from `sd_jwt`, `issuer_name` the
    /// issuer's display name (OpenID4VCI only). The id is given by
    /// [`Wallet::add`]; the status is not checked yet.
    pub fn received(
        sd_jwt: String,
        info: &CredentialInfo,
        issuer_name: Option<String>,
        received_at: i64,
    ) -> StoredCredential {
        StoredCredential {
            id: String::new(),
            sd_jwt,
            iss: info.iss.clone().unwrap_or_default(),
            vct: info.vct.clone().unwrap_or_default(),
            exp: info.exp,
            issuer_name,
            received_at,
            last_status: None,
            copies: Vec::new(),
        }
    }

    /// The copies received in a batch, when there are several: the first
    /// becomes [`StoredCredential::sd_jwt`].
    pub fn with_copies(mut self, copies: Vec<CredentialCopy>) -> StoredCredential {
        if let Some(first) = copies.first() {
            self.sd_jwt = first.sd_jwt.clone();
        }
        self.copies = copies;
        self
    }

    /// How many copies are left that were never presented, of how many
    /// (`None` for a credential without copies).
    pub fn unused_copies(&self) -> Option<(usize, usize)> {
        (!self.copies.is_empty()).then(|| {
            let unused = self.copies.iter().filter(|c| c.presented == 0).count();
            (unused, self.copies.len())
        })
    }
}

/// The result of checking a credential against its issuer's status list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCheck {
    /// `valid`, `revoked`, `suspended` or `unknown`.
    pub status: String,
    /// When it was checked (Unix seconds).
    pub checked_at: i64,
}

/// A CA whose certificates the citizen trusts to identify receiving
/// agencies online (OpenID4VP request signers). Kept inside the encrypted
/// wallet file, so nobody who can only write the wallet's directory can add
/// one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifierCa {
    /// A short local id (`ca1`, `ca2`, …).
    pub id: String,
    /// The certificate's subject (RFC 4514).
    pub subject: String,
    /// The base64url SHA-256 of its DER.
    pub sha256: String,
    /// The DER certificate, base64url.
    pub der: String,
    /// When it was added (Unix seconds).
    pub added_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Contents {
    version: u32,
    /// The holder key's secret (32 bytes: an Ed25519 seed, or an SM2
    /// secret scalar when `holder_key_alg` says `sm2`).
    holder_seed: String,
    /// `sm2` for an SM2 holder key, `es256` for P-256; absent for Ed25519
    /// (every wallet made before SM2 existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    holder_key_alg: Option<HolderKeyAlg>,
    /// Version 5: an Ed25519 holder key signs under the fully specified
    /// `Ed25519` (RFC 9864) instead of `EdDSA`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    holder_fully_specified: bool,
    credentials: Vec<StoredCredential>,
    /// Absent in wallets written before OpenID4VP: read as none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    verifier_cas: Vec<VerifierCa>,
    /// Version 3: the trust list the wallet holds (absent before the first
    /// sync or import).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trust: Option<HeldTrust>,
    /// Version 3: what was disclosed (or refused) to whom and when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<HistoryEntry>,
    /// Version 4: the wallet attestation (and key attester) shown to
    /// issuers that ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attestation: Option<crate::attestation::StoredAttestation>,
}

/// The trust list the wallet holds, with what verifies it: kept inside the
/// encrypted file, so nobody who can only write the wallet's directory can
/// swap the pinned root or replay an older list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldTrust {
    /// The pinned root of trust or anchor key document (JSON text).
    pub pin: String,
    /// The roots followed beyond the pin, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roots: Vec<String>,
    /// The signed trust list as received.
    pub trust_list: String,
    /// Its sequence: a list below it is refused (rollback).
    pub sequence: u64,
    /// The root it was verified under: a root below it is refused.
    pub root_sequence: u64,
    /// Where it was synced from, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When it was stored (Unix seconds).
    pub stored_at: i64,
}

/// One line of the disclosure history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When (Unix seconds).
    pub at: i64,
    /// `counter` (a TBR1 request or explicit flags) or `online` (OpenID4VP).
    pub channel: String,
    /// `presented`, `refused` (by the wallet, against the trust list) or
    /// `declined` (by the citizen; nothing was presented).
    pub outcome: String,
    /// The refusal's code, if refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The audience or client identifier the request named.
    pub audience: String,
    /// The registered agency (its trust list id), when identified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier: Option<String>,
    /// The agency's names (zh / en), when identified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier_name: Option<String>,
    /// The registered service item, when identified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_item: Option<String>,
    /// Whether the requester was identified through the trust list.
    pub requester_verified: bool,
    /// The credentials presented (local ids) with their types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<String>,
    /// The claim paths disclosed (or asked, when refused or declined).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<String>,
    /// Claims asked beyond the registration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excess: Vec<String>,
    /// The citizen answered beyond the registration with
    /// `--allow-unregistered`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unregistered: bool,
}

/// The holder key's algorithm, chosen at `init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum HolderKeyAlg {
    /// Ed25519 (`EdDSA`), the default.
    #[default]
    Ed25519,
    /// ECDSA on P-256 (`ES256`, what HAIP 1.0 requires every wallet to
    /// support): key proofs and presentations are signed ES256.
    Es256,
    /// SM2 with SM3 (`SM2SM3`, `specs/credential-format.md` §9): key
    /// proofs and presentations are signed with SM2.
    Sm2,
}

/// An open wallet.
pub struct Wallet {
    dir: PathBuf,
    passphrase: SecretString,
    contents: Contents,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WalletError + '_ {
    move |source| WalletError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Wallet {
    /// Creates a wallet with a fresh Ed25519 holder key; refuses to
    /// overwrite one.
    pub fn create(dir: &Path, passphrase: SecretString) -> Result<Wallet, WalletError> {
        Wallet::create_with(dir, passphrase, HolderKeyAlg::Ed25519)
    }

    /// Creates a wallet with a fresh holder key of `alg`; refuses to
    /// overwrite one.
    pub fn create_with(
        dir: &Path,
        passphrase: SecretString,
        alg: HolderKeyAlg,
    ) -> Result<Wallet, WalletError> {
        Wallet::create_named(dir, passphrase, alg, false)
    }

    /// As [`Wallet::create_with`], an Ed25519 key signing under the fully
    /// specified `Ed25519` name (RFC 9864) when `fully_specified`.
    pub fn create_named(
        dir: &Path,
        passphrase: SecretString,
        alg: HolderKeyAlg,
        fully_specified: bool,
    ) -> Result<Wallet, WalletError> {
        let file = dir.join(WALLET_FILE);
        if file.exists() {
            return Err(WalletError::AlreadyExists(dir.to_path_buf()));
        }
        fs::create_dir_all(dir).map_err(io(dir))?;
        let key = HolderKey::generate(alg, fully_specified);
        let wallet = Wallet {
            dir: dir.to_path_buf(),
            passphrase,
            contents: Contents {
                version: FORMAT_VERSION,
                holder_seed: key.secret,
                holder_key_alg: (alg != HolderKeyAlg::Ed25519).then_some(alg),
                holder_fully_specified: key.fully_specified,
                credentials: Vec::new(),
                verifier_cas: Vec::new(),
                trust: None,
                history: Vec::new(),
                attestation: None,
            },
        };
        wallet.save()?;
        Ok(wallet)
    }

    /// Opens and decrypts a wallet; the file is only read.
    pub fn open(dir: &Path, passphrase: SecretString) -> Result<Wallet, WalletError> {
        let file = dir.join(WALLET_FILE);
        if !file.exists() {
            return Err(WalletError::NotFound(dir.to_path_buf()));
        }
        let bytes = fs::read(&file).map_err(io(&file))?;
        let contents = decrypt(&bytes, &passphrase)?;
        Ok(Wallet {
            dir: dir.to_path_buf(),
            passphrase,
            contents,
        })
    }

    /// The trust list held, if any.
    pub fn trust(&self) -> Option<&HeldTrust> {
        self.contents.trust.as_ref()
    }

    /// Replaces the trust list held (the caller verified it).
    pub fn set_trust(&mut self, trust: HeldTrust) {
        self.contents.trust = Some(trust);
    }

    /// The wallet attestation, if one was imported.
    pub fn attestation(&self) -> Option<&crate::attestation::StoredAttestation> {
        self.contents.attestation.as_ref()
    }

    /// Keeps `attestation` (replacing any before), or forgets it (`None`).
    pub fn set_attestation(&mut self, attestation: Option<crate::attestation::StoredAttestation>) {
        self.contents.attestation = attestation;
    }

    /// The disclosure history, oldest first.
    pub fn history(&self) -> &[HistoryEntry] {
        &self.contents.history
    }

    /// Appends a line to the history (saved with [`Wallet::save`]).
    pub fn record(&mut self, entry: HistoryEntry) {
        self.contents.history.push(entry);
    }

    /// Encrypts and writes the wallet atomically.
    pub fn save(&self) -> Result<(), WalletError> {
        let contents = Contents {
            version: FORMAT_VERSION,
            ..self.contents.clone()
        };
        let bytes = encrypt(&contents, &self.passphrase)?;
        write_atomic(&self.dir.join(WALLET_FILE), &bytes)
    }

    /// The holder's signing key (Ed25519, P-256 or SM2).
    pub fn holder(&self) -> Result<AnySigner, WalletError> {
        HolderKey {
            alg: self.contents.holder_key_alg.unwrap_or_default(),
            secret: self.contents.holder_seed.clone(),
            fully_specified: self.contents.holder_fully_specified,
        }
        .signer()
    }

    /// The copy of credential `id` to present next, marked presented (the
    /// wallet is changed; save it once the presentation is made): the
    /// first copy never presented; when every copy was presented, the one
    /// presented least often, with [`CopyInUse::reused`] set so the caller
    /// warns the citizen (two presentations of one copy can be linked;
    /// receiving the licence again brings fresh copies). A credential
    /// without copies is presented with the wallet's holder key.
    pub fn take_copy(&mut self, id: &str) -> Result<CopyInUse, WalletError> {
        let holder = self.holder()?;
        let c = self
            .contents
            .credentials
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| WalletError::NoSuchCredential(id.into()))?;
        let total = c.copies.len();
        let Some((i, copy)) = c
            .copies
            .iter_mut()
            .enumerate()
            .min_by_key(|(i, copy)| (copy.presented, *i))
        else {
            return Ok(CopyInUse {
                credential_id: c.id.clone(),
                sd_jwt: c.sd_jwt.clone(),
                signer: holder,
                copy: None,
                reused: false,
            });
        };
        let reused = copy.presented > 0;
        copy.presented = copy.presented.saturating_add(1);
        Ok(CopyInUse {
            credential_id: c.id.clone(),
            sd_jwt: copy.sd_jwt.clone(),
            signer: copy.key.signer()?,
            copy: Some((i + 1, total)),
            reused,
        })
    }

    /// The stored credentials.
    pub fn credentials(&self) -> &[StoredCredential] {
        &self.contents.credentials
    }

    /// One credential by id.
    pub fn credential(&self, id: &str) -> Result<&StoredCredential, WalletError> {
        self.contents
            .credentials
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| WalletError::NoSuchCredential(id.into()))
    }

    /// Adds a credential (already verified by the caller) and returns its id.
    pub fn add(&mut self, mut credential: StoredCredential) -> String {
        let next = (1..)
            .map(|n| format!("c{n}"))
            .find(|id| !self.contents.credentials.iter().any(|c| &c.id == id));
        credential.id = next.unwrap_or_default();
        let id = credential.id.clone();
        self.contents.credentials.push(credential);
        id
    }

    /// Records a status check.
    pub fn record_status(&mut self, id: &str, check: StatusCheck) -> Result<(), WalletError> {
        let c = self
            .contents
            .credentials
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| WalletError::NoSuchCredential(id.into()))?;
        c.last_status = Some(check);
        Ok(())
    }

    /// Removes a credential.
    pub fn remove(&mut self, id: &str) -> Result<StoredCredential, WalletError> {
        let pos = self
            .contents
            .credentials
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(|| WalletError::NoSuchCredential(id.into()))?;
        Ok(self.contents.credentials.remove(pos))
    }

    /// The verifier CAs the citizen trusts.
    pub fn verifier_cas(&self) -> &[VerifierCa] {
        &self.contents.verifier_cas
    }

    /// Trusts a verifier CA (the caller parsed `der`); returns its id, or
    /// the id it already has.
    pub fn add_verifier_ca(
        &mut self,
        der: &[u8],
        subject: String,
        sha256: String,
        now: i64,
    ) -> String {
        if let Some(known) = self
            .contents
            .verifier_cas
            .iter()
            .find(|c| c.sha256 == sha256)
        {
            return known.id.clone();
        }
        let id = (1..)
            .map(|n| format!("ca{n}"))
            .find(|id| !self.contents.verifier_cas.iter().any(|c| &c.id == id))
            .unwrap_or_default();
        self.contents.verifier_cas.push(VerifierCa {
            id: id.clone(),
            subject,
            sha256,
            der: b64_encode(der),
            added_at: now,
        });
        id
    }

    /// Stops trusting the verifier CA with this id (or SHA-256).
    pub fn remove_verifier_ca(&mut self, id: &str) -> Result<VerifierCa, WalletError> {
        let pos = self
            .contents
            .verifier_cas
            .iter()
            .position(|c| c.id == id || c.sha256 == id)
            .ok_or_else(|| WalletError::NoSuchVerifierCa(id.into()))?;
        Ok(self.contents.verifier_cas.remove(pos))
    }

    /// The holder public key as a JWK (what issuers bind credentials to).
    pub fn holder_jwk(&self) -> Result<serde_json::Value, WalletError> {
        Ok(self.holder()?.public_key().to_jwk())
    }
}

fn encrypt(contents: &Contents, passphrase: &SecretString) -> Result<Vec<u8>, WalletError> {
    let plain = serde_json::to_vec(contents).map_err(|e| WalletError::Corrupted(e.to_string()))?;
    let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
    if let Some(log_n) = test_work_factor() {
        recipient.set_work_factor(log_n);
    }
    age::encrypt(&recipient, &plain).map_err(|e| WalletError::Corrupted(e.to_string()))
}

/// The variable through which the test suite lowers the scrypt work factor
/// of the wallets it creates (`N = 2^log_n`, 1 to 16). It exists only in
/// debug builds, which the tests run: a release build always lets `age`
/// pick a work factor of about one second on the device, whatever the
/// environment says (`docs/security.md`, "The wallet file").
pub const TEST_KDF_VARIABLE: &str = "TONGBAN_WALLET_TEST_KDF_LOG_N";

/// The test suite's work factor, in a debug build when the variable holds
/// one from 1 to 16.
#[cfg(debug_assertions)]
fn test_work_factor() -> Option<u8> {
    std::env::var(TEST_KDF_VARIABLE)
        .ok()?
        .parse::<u8>()
        .ok()
        .filter(|n| (1..=16).contains(n))
}

/// Release builds: never.
#[cfg(not(debug_assertions))]
fn test_work_factor() -> Option<u8> {
    None
}

fn decrypt(bytes: &[u8], passphrase: &SecretString) -> Result<Contents, WalletError> {
    let identity = age::scrypt::Identity::new(passphrase.clone());
    let plain = age::decrypt(&identity, bytes).map_err(|e| match e {
        age::DecryptError::DecryptionFailed
        | age::DecryptError::KeyDecryptionFailed
        | age::DecryptError::NoMatchingKeys => WalletError::WrongPassphrase,
        other => WalletError::Corrupted(other.to_string()),
    })?;
    let value: serde_json::Value =
        serde_json::from_slice(&plain).map_err(|e| WalletError::Corrupted(e.to_string()))?;
    let version = value
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if version > u64::from(FORMAT_VERSION) {
        return Err(WalletError::NewerVersion(
            u32::try_from(version).unwrap_or(u32::MAX),
        ));
    }
    serde_json::from_value(value).map_err(|e| WalletError::Corrupted(e.to_string()))
}

/// Writes a wallet file atomically and readable by its owner only.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WalletError> {
    tongban_cli_support::fs::write_atomic(path, bytes, tongban_cli_support::fs::Access::Private)
        .map_err(|source| WalletError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Reads an exported wallet file and checks the passphrase opens it.
pub fn check_backup(bytes: &[u8], passphrase: &SecretString) -> Result<(), WalletError> {
    decrypt(bytes, passphrase).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn create_open_wrong_passphrase_corruption_and_versions() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Wallet::create(dir.path(), pass("correct horse")).unwrap();
        assert!(matches!(
            Wallet::create(dir.path(), pass("x")),
            Err(WalletError::AlreadyExists(_))
        ));
        let id = w.add(StoredCredential {
            id: String::new(),
            sd_jwt: "a~".into(),
            iss: "i".into(),
            vct: "v".into(),
            exp: None,
            received_at: 1,
            issuer_name: None,
            last_status: None,
            copies: Vec::new(),
        });
        assert_eq!(id, "c1");
        w.save().unwrap();
        let before = fs::read(dir.path().join(WALLET_FILE)).unwrap();
        assert!(matches!(
            Wallet::open(dir.path(), pass("wrong")),
            Err(WalletError::WrongPassphrase)
        ));
        assert_eq!(
            fs::read(dir.path().join(WALLET_FILE)).unwrap(),
            before,
            "a failed open leaves the file untouched"
        );
        let w2 = Wallet::open(dir.path(), pass("correct horse")).unwrap();
        assert_eq!(w2.credentials().len(), 1);
        assert_eq!(
            w2.holder().unwrap().public_key(),
            w.holder().unwrap().public_key()
        );
        // Truncated file.
        fs::write(dir.path().join(WALLET_FILE), &before[..before.len() / 2]).unwrap();
        assert!(matches!(
            Wallet::open(dir.path(), pass("correct horse")),
            Err(WalletError::Corrupted(_))
        ));
        // A newer format version.
        let newer = encrypt(
            &Contents {
                version: 9,
                holder_seed: String::new(),
                holder_key_alg: None,
                holder_fully_specified: false,
                credentials: vec![],
                verifier_cas: vec![],
                trust: None,
                history: vec![],
                attestation: None,
            },
            &pass("p"),
        )
        .unwrap();
        fs::write(dir.path().join(WALLET_FILE), newer).unwrap();
        assert!(matches!(
            Wallet::open(dir.path(), pass("p")),
            Err(WalletError::NewerVersion(9))
        ));
        assert!(matches!(
            Wallet::open(&dir.path().join("nope"), pass("p")),
            Err(WalletError::NotFound(_))
        ));
    }

    #[test]
    fn a_version_1_wallet_is_read_and_written_back_as_version_2() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = serde_json::json!({
            "version": 1,
            "holder_seed": b64_encode([7u8; 32]),
            "credentials": [],
        });
        let plain = serde_json::to_vec(&v1).unwrap();
        let recipient = age::scrypt::Recipient::new(pass("p"));
        fs::write(
            dir.path().join(WALLET_FILE),
            age::encrypt(&recipient, &plain).unwrap(),
        )
        .unwrap();
        let w = Wallet::open(dir.path(), pass("p")).unwrap();
        assert!(w.verifier_cas().is_empty());
        w.save().unwrap();
        let bytes = fs::read(dir.path().join(WALLET_FILE)).unwrap();
        assert_eq!(decrypt(&bytes, &pass("p")).unwrap().version, FORMAT_VERSION);
    }

    #[test]
    fn a_version_4_wallet_keeps_its_attestation_and_is_written_back_as_version_5() {
        let dir = tempfile::tempdir().unwrap();
        let v4 = serde_json::json!({
            "version": 4,
            "holder_seed": b64_encode([7u8; 32]),
            "credentials": [],
            "attestation": {
                "wallet_attestation": "a.b.c",
                "client_id": "https://wallet.example/cli",
                "provider": "https://provider.example",
                "expires_at": 1,
                "instance_key": {"kty": "EC"},
            },
        });
        let recipient = age::scrypt::Recipient::new(pass("p"));
        fs::write(
            dir.path().join(WALLET_FILE),
            age::encrypt(&recipient, &serde_json::to_vec(&v4).unwrap()).unwrap(),
        )
        .unwrap();
        let w = Wallet::open(dir.path(), pass("p")).unwrap();
        assert_eq!(
            w.attestation().unwrap().client_id,
            "https://wallet.example/cli"
        );
        w.save().unwrap();
        let bytes = fs::read(dir.path().join(WALLET_FILE)).unwrap();
        let contents = decrypt(&bytes, &pass("p")).unwrap();
        assert_eq!(contents.version, 5);
        assert!(contents.attestation.is_some());
    }

    #[test]
    fn a_received_credential_is_recorded_with_what_it_says_of_itself() {
        let info = CredentialInfo {
            iss: Some("https://amr.example".into()),
            vct: Some("urn:tongban:bl".into()),
            exp: Some(2_000),
            ..CredentialInfo::default()
        };
        let c = StoredCredential::received("a~".into(), &info, Some("AMR".into()), 1_000);
        assert_eq!(
            c,
            StoredCredential {
                id: String::new(),
                sd_jwt: "a~".into(),
                iss: "https://amr.example".into(),
                vct: "urn:tongban:bl".into(),
                exp: Some(2_000),
                issuer_name: Some("AMR".into()),
                received_at: 1_000,
                last_status: None,
                copies: Vec::new(),
            }
        );
        let bare = StoredCredential::received("b~".into(), &CredentialInfo::default(), None, 5);
        assert_eq!(
            (bare.iss.as_str(), bare.vct.as_str(), bare.exp),
            ("", "", None)
        );
    }

    #[test]
    fn es256_and_ed25519_named_holder_keys_are_kept() {
        for (alg, named, want) in [
            (HolderKeyAlg::Es256, false, Algorithm::Es256),
            (HolderKeyAlg::Ed25519, true, Algorithm::Ed25519),
            (HolderKeyAlg::Ed25519, false, Algorithm::EdDsa),
            (HolderKeyAlg::Sm2, false, Algorithm::Sm2Sm3),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let w = Wallet::create_named(dir.path(), pass("p"), alg, named).unwrap();
            let before = w.holder().unwrap().public_key();
            let w = Wallet::open(dir.path(), pass("p")).unwrap();
            assert_eq!(w.holder().unwrap().algorithm(), want, "{alg:?}");
            assert_eq!(w.holder().unwrap().public_key(), before);
        }
    }

    #[test]
    fn copies_are_used_fresh_first_then_the_least_used_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Wallet::create(dir.path(), pass("p")).unwrap();
        let keys: Vec<HolderKey> = (0..3)
            .map(|_| HolderKey::generate(HolderKeyAlg::Es256, false))
            .collect();
        let copies: Vec<CredentialCopy> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| CredentialCopy {
                sd_jwt: format!("copy{i}~"),
                key: k.clone(),
                presented: 0,
            })
            .collect();
        let c = StoredCredential::received("x~".into(), &CredentialInfo::default(), None, 1)
            .with_copies(copies);
        assert_eq!(c.sd_jwt, "copy0~");
        let id = w.add(c);
        w.save().unwrap();
        let mut w = Wallet::open(dir.path(), pass("p")).unwrap();
        let mut seen = Vec::new();
        for _ in 0..3 {
            let u = w.take_copy(&id).unwrap();
            assert!(!u.reused);
            seen.push(u.sd_jwt.clone());
            assert_eq!(u.signer.algorithm(), Algorithm::Es256);
        }
        assert_eq!(seen, ["copy0~", "copy1~", "copy2~"]);
        assert_eq!(w.credential(&id).unwrap().unused_copies(), Some((0, 3)));
        let again = w.take_copy(&id).unwrap();
        assert!(again.reused, "all used: the least used, flagged");
        assert_eq!(
            (again.sd_jwt.as_str(), again.copy),
            ("copy0~", Some((1, 3)))
        );
        assert_eq!(
            again.signer.public_key(),
            keys[0].signer().unwrap().public_key()
        );
        // What was taken is kept across a save; the file is version 5.
        w.save().unwrap();
        let bytes = fs::read(dir.path().join(WALLET_FILE)).unwrap();
        let contents = decrypt(&bytes, &pass("p")).unwrap();
        assert_eq!(contents.version, 5);
        assert_eq!(contents.credentials[0].copies[0].presented, 2);
        // A credential without copies is presented with the holder key.
        let single = w.add(StoredCredential::received(
            "s~".into(),
            &CredentialInfo::default(),
            None,
            1,
        ));
        let u = w.take_copy(&single).unwrap();
        assert_eq!(u.copy, None);
        assert_eq!(u.signer.public_key(), w.holder().unwrap().public_key());
    }
}
