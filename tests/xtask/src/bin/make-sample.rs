//! Writes the README's sample (issuer key, credential, presentation) into
//! `specs/vectors/sample/`. The output is reproducible byte for byte; the
//! test `sample_is_reproducible` keeps the committed files honest.

use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = tongban_test_support::sample::sample_dir();
    let result = tongban_test_support::sample::generate().and_then(|s| {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("issuer.jwk.json"), s.issuer_jwk)?;
        std::fs::write(dir.join("credential.txt"), s.credential)?;
        std::fs::write(dir.join("presentation.txt"), s.presentation)?;
        std::fs::write(dir.join("presentation.tb1.txt"), s.presentation_transport)?;
        std::fs::write(dir.join("credential.parts.txt"), s.credential_parts)?;
        Ok(())
    });
    match result {
        Ok(()) => {
            println!("wrote the sample into {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("make-sample: {e}");
            ExitCode::FAILURE
        }
    }
}
