//! The typed value of a `--qr` flag: where a program shows what it made.
//!
//! A program lists the forms it supports and clap refuses any other value
//! while parsing the arguments — before a wallet asks for its passphrase or
//! signs a presentation, not after.
//!
//! ```
//! use clap::Parser;
//! use tongban_cli_support::qr_arg::{QrForm, QrOutput, QrOutputParser};
//!
//! #[derive(Parser)]
//! struct Args {
//!     #[arg(long, default_value = "text", value_parser = QrOutputParser::new(&[QrForm::Text, QrForm::Png]))]
//!     qr: QrOutput,
//! }
//!
//! let a = Args::try_parse_from(["x", "--qr", "png:out.png"]).unwrap();
//! assert_eq!(a.qr, QrOutput::Png("out.png".into()));
//! assert!(Args::try_parse_from(["x", "--qr", "svg:out.svg"]).is_err());
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};

/// The forms a `--qr` value can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrForm {
    /// `text`: the transport text on standard output.
    Text,
    /// `plain`: the underlying text without the QR transport encoding.
    Plain,
    /// `terminal`: QR codes drawn in the terminal.
    Terminal,
    /// `png:FILE`: a PNG image of the code(s).
    Png,
    /// `svg:FILE`: an SVG image of the code(s).
    Svg,
}

impl QrForm {
    fn spelling(self) -> &'static str {
        match self {
            QrForm::Text => "text",
            QrForm::Plain => "plain",
            QrForm::Terminal => "terminal",
            QrForm::Png => "png:FILE",
            QrForm::Svg => "svg:FILE",
        }
    }
}

/// A parsed `--qr` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrOutput {
    /// `text`.
    Text,
    /// `plain`.
    Plain,
    /// `terminal`.
    Terminal,
    /// `png:FILE`.
    Png(PathBuf),
    /// `svg:FILE`.
    Svg(PathBuf),
}

impl QrOutput {
    /// The form of this value.
    pub fn form(&self) -> QrForm {
        match self {
            QrOutput::Text => QrForm::Text,
            QrOutput::Plain => QrForm::Plain,
            QrOutput::Terminal => QrForm::Terminal,
            QrOutput::Png(_) => QrForm::Png,
            QrOutput::Svg(_) => QrForm::Svg,
        }
    }

    /// Parses a value, accepting only the `allowed` forms; the error names
    /// the forms that are.
    pub fn parse(text: &str, allowed: &[QrForm]) -> Result<QrOutput, String> {
        let file = |rest: &str| {
            if rest.is_empty() {
                Err(format!("--qr {text:?}: name the file after the colon"))
            } else {
                Ok(PathBuf::from(rest))
            }
        };
        let value = match text {
            "text" => QrOutput::Text,
            "plain" => QrOutput::Plain,
            "terminal" => QrOutput::Terminal,
            _ => {
                if let Some(rest) = text.strip_prefix("png:") {
                    QrOutput::Png(file(rest)?)
                } else if let Some(rest) = text.strip_prefix("svg:") {
                    QrOutput::Svg(file(rest)?)
                } else {
                    return Err(unsupported(text, allowed));
                }
            }
        };
        if allowed.contains(&value.form()) {
            Ok(value)
        } else {
            Err(unsupported(text, allowed))
        }
    }
}

fn unsupported(text: &str, allowed: &[QrForm]) -> String {
    let forms: Vec<&str> = allowed.iter().map(|f| f.spelling()).collect();
    format!("--qr {text:?}: use {}", forms.join(", "))
}

impl fmt::Display for QrOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QrOutput::Text => f.write_str("text"),
            QrOutput::Plain => f.write_str("plain"),
            QrOutput::Terminal => f.write_str("terminal"),
            QrOutput::Png(p) => write!(f, "png:{}", p.display()),
            QrOutput::Svg(p) => write!(f, "svg:{}", p.display()),
        }
    }
}

/// A clap value parser for `--qr` that accepts only the forms a program
/// supports.
#[derive(Debug, Clone, Copy)]
pub struct QrOutputParser {
    allowed: &'static [QrForm],
}

impl QrOutputParser {
    /// A parser accepting `allowed`.
    pub const fn new(allowed: &'static [QrForm]) -> Self {
        QrOutputParser { allowed }
    }
}

impl TypedValueParser for QrOutputParser {
    type Value = QrOutput;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<QrOutput, clap::Error> {
        let text = value.to_str().ok_or_else(|| {
            clap::Error::raw(ErrorKind::InvalidUtf8, "--qr: the value is not UTF-8\n").with_cmd(cmd)
        })?;
        QrOutput::parse(text, self.allowed).map_err(|reason| {
            let mut e = clap::Error::new(ErrorKind::ValueValidation).with_cmd(cmd);
            if let Some(arg) = arg {
                e.insert(
                    ContextKind::InvalidArg,
                    ContextValue::String(arg.to_string()),
                );
            }
            e.insert(ContextKind::InvalidValue, ContextValue::String(text.into()));
            e.insert(ContextKind::Custom, ContextValue::String(reason));
            e
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.allowed
                .iter()
                .map(|f| PossibleValue::new(f.spelling())),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[QrForm] = &[
        QrForm::Text,
        QrForm::Plain,
        QrForm::Terminal,
        QrForm::Png,
        QrForm::Svg,
    ];

    #[test]
    fn every_form_parses_and_prints_back() {
        for text in ["text", "plain", "terminal", "png:a.png", "svg:dir/b.svg"] {
            let v = QrOutput::parse(text, ALL).unwrap();
            assert_eq!(v.to_string(), text);
        }
    }

    #[test]
    fn forms_a_program_does_not_offer_are_refused_with_the_ones_it_does() {
        let e = QrOutput::parse("svg:x.svg", &[QrForm::Text, QrForm::Png]).unwrap_err();
        assert_eq!(e, "--qr \"svg:x.svg\": use text, png:FILE");
        assert!(QrOutput::parse("jpeg:x", ALL).is_err());
        assert!(
            QrOutput::parse("png:", ALL)
                .unwrap_err()
                .contains("name the file")
        );
    }
}
