//! Writes the hostile-input corpus into `verifier/core/tests/corpus/` (see
//! `tongban_xtask::corpus`); reproducible byte for byte.

use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = tongban_test_support::workspace_root().join("verifier/core/tests/corpus");
    match tongban_xtask::corpus::write(&dir) {
        Ok(n) => {
            println!("wrote {n} corpus entries into {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("make-corpus: {e}");
            ExitCode::FAILURE
        }
    }
}
