//! Identifier checks used by the catalogue's schemas (and exposed for
//! issuers and verifiers): the unified social credit code (GB 32100), the
//! resident identity number (GB 11643), administrative division codes
//! (GB/T 2260), calendar dates, and the e-licence identifier.

/// Why an identifier is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// Wrong length.
    #[error("wrong length: expected {expected} characters, found {found}")]
    Length {
        /// Expected length.
        expected: usize,
        /// Actual length.
        found: usize,
    },
    /// A character outside the allowed set at this position.
    #[error("character {position} is not allowed there")]
    Character {
        /// 1-based position.
        position: usize,
    },
    /// The check character does not match.
    #[error("the check character is {found:?}, but the code computes to {expected:?}")]
    CheckCharacter {
        /// The computed check character.
        expected: char,
        /// The character found.
        found: char,
    },
    /// The embedded date does not exist.
    #[error("the date it contains does not exist")]
    Date,
    /// The region code is not a known GB/T 2260 code.
    #[error("the administrative division code is not known")]
    Region,
    /// The value does not follow the documented format.
    #[error("it does not follow the format {0}")]
    Format(&'static str),
}

/// The 31 characters of GB 32100 (no I, O, S, V, Z), in value order.
const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Checks an 18-character unified social credit code (GB 32100-2015):
/// characters from the code's 31-character set, digits at positions 3–8
/// (the administrative division), and the check character (position 18).
pub fn check_uscc(code: &str) -> Result<(), IdError> {
    let found = code.chars().count();
    if found != 18 {
        return Err(IdError::Length {
            expected: 18,
            found,
        });
    }
    if let Some(i) = code.chars().position(|c| !c.is_ascii()) {
        return Err(IdError::Character { position: i + 1 });
    }
    let b = code.as_bytes();
    let mut sum = 0u32;
    for (i, &c) in b.iter().enumerate() {
        let value = USCC_CHARS
            .iter()
            .position(|&x| x == c)
            .ok_or(IdError::Character { position: i + 1 })?;
        if (2..8).contains(&i) && !c.is_ascii_digit() {
            return Err(IdError::Character { position: i + 1 });
        }
        if i < 17 {
            sum += USCC_WEIGHTS[i] * value as u32;
        }
    }
    let expected = USCC_CHARS[((31 - sum % 31) % 31) as usize] as char;
    let found = b[17] as char;
    if expected != found {
        return Err(IdError::CheckCharacter { expected, found });
    }
    Ok(())
}

/// Checks an 18-character resident identity number (GB 11643-1999): 17
/// digits, a province-level region prefix, a real date of birth, and the
/// ISO 7064 MOD 11-2 check character (`0`–`9` or `X`).
pub fn check_resident_id(id: &str) -> Result<(), IdError> {
    let found = id.chars().count();
    if found != 18 {
        return Err(IdError::Length {
            expected: 18,
            found,
        });
    }
    if let Some(i) = id.chars().position(|c| !c.is_ascii()) {
        return Err(IdError::Character { position: i + 1 });
    }
    let b = id.as_bytes();
    for (i, c) in b[..17].iter().enumerate() {
        if !c.is_ascii_digit() {
            return Err(IdError::Character { position: i + 1 });
        }
    }
    if province(&id[..2]).is_none() {
        return Err(IdError::Region);
    }
    let (y, m, d) = (&id[6..10], &id[10..12], &id[12..14]);
    if !date_exists(y, m, d) {
        return Err(IdError::Date);
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = b[..17]
        .iter()
        .zip(W)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    let expected = b"10X98765432"[(sum % 11) as usize] as char;
    let found = b[17] as char;
    if expected != found {
        return Err(IdError::CheckCharacter { expected, found });
    }
    Ok(())
}

fn date_exists(y: &str, m: &str, d: &str) -> bool {
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2999).contains(&y) && (1..=days).contains(&d)
}

/// Checks an RFC 3339 full-date, `YYYY-MM-DD`, that exists in the calendar.
pub fn check_date(text: &str) -> Result<(), IdError> {
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(IdError::Format("YYYY-MM-DD"));
    }
    if !date_exists(&text[..4], &text[5..7], &text[8..10]) {
        return Err(IdError::Date);
    }
    Ok(())
}

/// A GB/T 2260 administrative division.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// The 6-digit code.
    pub code: &'static str,
    /// Name in Chinese.
    pub name_zh: &'static str,
    /// Name in English.
    pub name_en: &'static str,
}

macro_rules! regions {
    ($($code:literal $zh:literal $en:literal;)+) => {
        /// The divisions Tongban knows: every province-level division and
        /// the cities and counties of the Yangtze River Delta demonstration zone.
        pub const REGIONS: &[Region] = &[$(Region { code: $code, name_zh: $zh, name_en: $en },)+];
    };
}

regions! {
    "110000" "北京市" "Beijing"; "120000" "天津市" "Tianjin"; "130000" "河北省" "Hebei";
    "140000" "山西省" "Shanxi"; "150000" "内蒙古自治区" "Inner Mongolia"; "210000" "辽宁省" "Liaoning";
    "220000" "吉林省" "Jilin"; "230000" "黑龙江省" "Heilongjiang"; "310000" "上海市" "Shanghai";
    "320000" "江苏省" "Jiangsu"; "330000" "浙江省" "Zhejiang"; "340000" "安徽省" "Anhui";
    "350000" "福建省" "Fujian"; "360000" "江西省" "Jiangxi"; "370000" "山东省" "Shandong";
    "410000" "河南省" "Henan"; "420000" "湖北省" "Hubei"; "430000" "湖南省" "Hunan";
    "440000" "广东省" "Guangdong"; "450000" "广西壮族自治区" "Guangxi"; "460000" "海南省" "Hainan";
    "500000" "重庆市" "Chongqing"; "510000" "四川省" "Sichuan"; "520000" "贵州省" "Guizhou";
    "530000" "云南省" "Yunnan"; "540000" "西藏自治区" "Tibet"; "610000" "陕西省" "Shaanxi";
    "620000" "甘肃省" "Gansu"; "630000" "青海省" "Qinghai"; "640000" "宁夏回族自治区" "Ningxia";
    "650000" "新疆维吾尔自治区" "Xinjiang";
    "310118" "上海市青浦区" "Qingpu District, Shanghai";
    "320500" "江苏省苏州市" "Suzhou, Jiangsu"; "320509" "苏州市吴江区" "Wujiang District, Suzhou";
    "330400" "浙江省嘉兴市" "Jiaxing, Zhejiang"; "330421" "嘉兴市嘉善县" "Jiashan County, Jiaxing";
}

/// The province-level division with this 2-digit prefix.
pub fn province(prefix: &str) -> Option<&'static Region> {
    REGIONS
        .iter()
        .find(|r| r.code.len() == 6 && r.code.starts_with(prefix) && r.code.ends_with("0000"))
}

/// Looks a GB/T 2260 code up in [`REGIONS`].
pub fn region(code: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.code == code)
}

/// Checks a GB/T 2260 code against [`REGIONS`].
pub fn check_region(code: &str) -> Result<(), IdError> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdError::Format("6 digits"));
    }
    region(code).map(|_| ()).ok_or(IdError::Region)
}

/// Checks an e-licence identifier, `<region>-<type>-<year>-<serial>`:
/// a known GB/T 2260 code, 2–4 capital letters for the licence type, the
/// year of issue, and a serial of 6–10 digits (e.g. `320509-BL-2026-000001`).
/// Uniqueness per issuer is the issuer's to enforce.
pub fn check_licence_id(id: &str) -> Result<(), IdError> {
    const FORMAT: &str = "<region>-<TYPE>-<year>-<serial>, e.g. 320509-BL-2026-000001";
    let parts: Vec<&str> = id.split('-').collect();
    let [region_code, kind, year, serial] = parts.as_slice() else {
        return Err(IdError::Format(FORMAT));
    };
    check_region(region_code)?;
    let kind_ok = (2..=4).contains(&kind.len()) && kind.bytes().all(|b| b.is_ascii_uppercase());
    let year_ok = year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && ("1949".."3000").contains(year);
    let serial_ok = (6..=10).contains(&serial.len()) && serial.bytes().all(|b| b.is_ascii_digit());
    if !(kind_ok && year_ok && serial_ok) {
        return Err(IdError::Format(FORMAT));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uscc() {
        // The sample's code, and a well-known published one.
        assert_eq!(check_uscc("91320509MA1Q8K3T2C"), Ok(()));
        assert_eq!(check_uscc("91110000600037341L"), Ok(()));
        assert!(matches!(
            check_uscc("91320509MA1Q8K3T2D"),
            Err(IdError::CheckCharacter {
                expected: 'C',
                found: 'D'
            })
        ));
        assert_eq!(
            check_uscc("91320509MA1Q8K3T2"),
            Err(IdError::Length {
                expected: 18,
                found: 17
            })
        );
        assert_eq!(
            check_uscc("9132050IMA1Q8K3T2C"),
            Err(IdError::Character { position: 8 })
        );
        assert_eq!(
            check_uscc("91320509MA1Q8K3T2\u{4e2d}"),
            Err(IdError::Character { position: 18 })
        );
    }

    #[test]
    fn resident_id() {
        assert_eq!(check_resident_id("320509198503124212"), Ok(()));
        // The GB 11643 standard's own example.
        assert_eq!(check_resident_id("11010519491231002X"), Ok(()));
        assert!(matches!(
            check_resident_id("320509198503124213"),
            Err(IdError::CheckCharacter { .. })
        ));
        assert_eq!(check_resident_id("320509198502304210"), Err(IdError::Date));
        assert_eq!(
            check_resident_id("990509198503124212"),
            Err(IdError::Region)
        );
        assert_eq!(
            check_resident_id("3205091985031242"),
            Err(IdError::Length {
                expected: 18,
                found: 16
            })
        );
        assert_eq!(
            check_resident_id("32050919850312421x"),
            Err(IdError::CheckCharacter {
                expected: '2',
                found: 'x'
            })
        );
    }

    #[test]
    fn dates_regions_and_licence_ids() {
        assert_eq!(check_date("2024-02-29"), Ok(()));
        assert_eq!(check_date("2023-02-29"), Err(IdError::Date));
        assert_eq!(check_date("2023-2-28"), Err(IdError::Format("YYYY-MM-DD")));
        assert_eq!(check_region("320509"), Ok(()));
        assert_eq!(check_region("320599"), Err(IdError::Region));
        assert_eq!(region("330421").map(|r| r.name_zh), Some("嘉兴市嘉善县"));
        assert_eq!(check_licence_id("320509-BL-2026-000001"), Ok(()));
        assert_eq!(
            check_licence_id("999999-BL-2026-000001"),
            Err(IdError::Region)
        );
        assert!(check_licence_id("320509-bl-2026-000001").is_err());
        assert!(check_licence_id("320509-BL-26-000001").is_err());
        assert!(check_licence_id("320509-BL-2026-1").is_err());
    }
}
