//! The `eurofxref` XML files: the gesmes envelope with one `<Cube time=…>` per day and one
//! `<Cube currency=… rate=…/>` per currency, newest day first.

use time::{Date, Duration};

use super::rates;

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
const ENVELOPE_OPEN: &str = "<gesmes:Envelope xmlns:gesmes=\"http://www.gesmes.org/xml/2002-08-01\" xmlns=\"http://www.ecb.int/vocabulary/2002-08-01/eurofxref\">";

/// `eurofxref-daily.xml`: the latest day, laid out as the ECB's file is (tabs, single-quoted attributes).
pub(crate) fn daily(seed: u64, day: Date) -> String {
    let mut xml = format!(
        "{HEAD}\n{ENVELOPE_OPEN}\n\t<gesmes:subject>Reference rates</gesmes:subject>\n\t<gesmes:Sender>\n\t\t<gesmes:name>European Central Bank</gesmes:name>\n\t</gesmes:Sender>\n\t<Cube>\n\t\t<Cube time='{day}'>\n"
    );
    for code in rates::codes(day) {
        if let Some(rate) = rates::rate(seed, day, code) {
            xml.push_str(&format!("\t\t\t<Cube currency='{code}' rate='{rate}'/>\n"));
        }
    }
    xml.push_str("\t\t</Cube>\n\t</Cube>\n</gesmes:Envelope>");
    xml
}

/// `eurofxref-hist*.xml`: every business day from `latest` back to `first` (inclusive), newest first.
// guess: the history files are written on one line with double-quoted attributes and trailing zeros dropped
// from rates, unlike the daily file.
pub(crate) fn history(seed: u64, latest: Date, first: Date) -> String {
    let mut xml = format!(
        "{HEAD}{ENVELOPE_OPEN}<gesmes:subject>Reference rates</gesmes:subject><gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender><Cube>"
    );
    let mut day = latest;
    while day >= first {
        if rates::is_business_day(day) {
            xml.push_str(&format!("<Cube time=\"{day}\">"));
            for code in rates::codes(day) {
                if let Some(rate) = rates::rate(seed, day, code) {
                    xml.push_str(&format!(
                        "<Cube currency=\"{code}\" rate=\"{}\"/>",
                        rate.normalize()
                    ));
                }
            }
            xml.push_str("</Cube>");
        }
        day -= Duration::days(1);
    }
    xml.push_str("</Cube></gesmes:Envelope>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn daily_has_the_ecb_layout() {
        let xml = daily(1, date!(2026 - 11 - 20));
        assert!(xml.contains("\t\t<Cube time='2026-11-20'>\n\t\t\t<Cube currency='USD' rate='"));
        assert!(xml.ends_with("\t\t</Cube>\n\t</Cube>\n</gesmes:Envelope>"));
    }

    #[test]
    fn history_lists_business_days_newest_first() {
        let xml = history(1, date!(2026 - 11 - 23), date!(2026 - 11 - 19));
        let days: Vec<&str> = xml
            .match_indices("time=\"")
            .map(|(i, _)| &xml[i + 6..i + 16])
            .collect();
        assert_eq!(days, ["2026-11-23", "2026-11-20", "2026-11-19"]);
    }
}
