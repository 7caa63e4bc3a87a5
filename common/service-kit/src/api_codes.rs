//! The table of a service's API error codes ([`api_codes!`](crate::api_codes)).

/// Declares a service's `ApiCode` enum from a table: each variant with its
/// stable snake_case code, HTTP status, and an English and a Chinese
/// sentence a clerk, operator or developer can act on, e.g.
/// `NotFound => ("not_found", 404, "Nothing …", "本机构下 …"),`. The enum
/// gets `ALL` (every code in declaration order), `code()`, `status()`,
/// `message_en()` and `message_zh()`. Each service writes its own table and
/// its own error body; the codes are part of its public interface.
#[macro_export]
macro_rules! api_codes {
    ($( $(#[$doc:meta])* $variant:ident => ($code:literal, $status:literal, $en:literal, $zh:literal), )+) => {
        /// Why a request failed: one stable code each, with its HTTP status
        /// and sentences in English and Chinese.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ApiCode {
            $( $(#[$doc])* $variant, )+
        }

        impl ApiCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ApiCode] = &[ $( ApiCode::$variant, )+ ];

            /// The stable machine code.
            pub const fn code(self) -> &'static str {
                match self { $( ApiCode::$variant => $code, )+ }
            }

            /// The HTTP status.
            pub const fn status(self) -> u16 {
                match self { $( ApiCode::$variant => $status, )+ }
            }

            /// What happened and what to do, in English.
            pub const fn message_en(self) -> &'static str {
                match self { $( ApiCode::$variant => $en, )+ }
            }

            /// What happened and what to do, in Chinese.
            pub const fn message_zh(self) -> &'static str {
                match self { $( ApiCode::$variant => $zh, )+ }
            }
        }
    };
}

/// The detail of the answer to a request no route matches (each service's
/// fallback answers its `unknown_endpoint` code with it).
pub const NO_ROUTE: &str = "no route matches this method and path";

#[cfg(test)]
mod tests {
    mod table {
        crate::api_codes! {
            /// A test code.
            Gone => ("gone", 410, "It is gone.", "已删除。"),
            /// Another.
            Teapot => ("teapot", 418, "A teapot.", "茶壶。"),
        }
    }

    #[test]
    fn the_table_gives_codes_statuses_and_sentences() {
        use table::ApiCode;
        assert_eq!(ApiCode::ALL, &[ApiCode::Gone, ApiCode::Teapot]);
        assert_eq!(ApiCode::Teapot.code(), "teapot");
        assert_eq!(ApiCode::Gone.status(), 410);
        assert_eq!(ApiCode::Gone.message_en(), "It is gone.");
        assert_eq!(ApiCode::Teapot.message_zh(), "茶壶。");
    }
}
