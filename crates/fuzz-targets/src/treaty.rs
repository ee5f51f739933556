//! Treaty definitions (`treaties/*.toml`, or a file an analyst writes).

use crate::{invariant, text, Outcome};
use accord_treaty::Treaty;
use chrono::NaiveDate;

/// A treaty's TOML text, loaded with `Treaty::from_str` (the loader that
/// takes text; `extends` resolves built-in names), then every function of
/// the treaty's dates on the dates where arithmetic is likeliest to break:
/// entry into force, expiry, the days either side, the calendar's ends and
/// the range a query may ask about.
///
/// Invariants: the treaty expires after it enters into force; it is not in
/// force the day before; a query range holds its life.
pub fn treaty(data: &[u8]) -> Outcome {
    let Some(t) = text(data) else {
        return Outcome::Rejected;
    };
    let Ok(treaty) = Treaty::from_str("fuzz.toml", t) else {
        return Outcome::Rejected;
    };
    let eif = treaty.entry_into_force;
    let expires = treaty.expires();
    invariant(expires >= eif, || format!("expires {expires} before {eif}"));
    let (first, last) = accord_regime::dates::range(&treaty);
    invariant(first <= eif && expires <= last, || {
        format!("query range {first} to {last} does not hold {eif} to {expires}")
    });
    let mut dates = vec![eif, expires, first, last, NaiveDate::MIN, NaiveDate::MAX];
    dates.extend(eif.pred_opt());
    dates.extend(eif.succ_opt());
    dates.extend(expires.pred_opt());
    dates.extend(expires.succ_opt());
    if let Some(d) = eif.pred_opt() {
        invariant(!treaty.in_force_on(d), || {
            format!("in force on {d}, before {eif}")
        });
    }
    let schedule = treaty.data_exchange_schedule();
    invariant(schedule.windows(2).all(|w| w[0] <= w[1]), || {
        "the data-exchange schedule is not sorted".into()
    });
    for d in dates {
        let _ = treaty.in_force_on(d);
        let _ = treaty.expires_as_known_on(d);
        let _ = treaty.binding_limits(d).count();
        let _ = treaty.data_exchange_due(d);
        let _ = treaty.next_data_exchange(d);
        if let Some((_, start, end)) = treaty.treaty_year(d) {
            invariant(start <= d && d < end, || {
                format!("treaty year {start}..{end} for {d}")
            });
        }
        let _ = treaty.timeline(d);
        let _ = accord_regime::dates::check(&treaty, d);
    }
    Outcome::Accepted
}
