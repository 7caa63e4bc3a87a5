//! Percent-encoding of a URI component (RFC 3986 §2.1), e.g. a credential
//! offer carried by value in `openid-credential-offer://?credential_offer=`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but the unreserved characters (RFC 3986 §2.3).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` with every byte outside the unreserved set as `%XX` (upper-case
/// hex).
pub fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_stay_as_they_are() {
        assert_eq!(encode_component("aZ09-._~"), "aZ09-._~");
        assert_eq!(
            encode_component(r#"{"a":"b c/吴"}"#),
            "%7B%22a%22%3A%22b%20c%2F%E5%90%B4%22%7D"
        );
    }
}
