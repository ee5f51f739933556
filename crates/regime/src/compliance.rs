//! The one compliance function: a party's aggregates, limits and findings on
//! a date. `accord check`, a node's `GET /status` and `GET /history`, the
//! dashboard, `accord demo` and the scenarios' starting forces all ask it;
//! no other code assembles findings.
//!
//! # Who a finding is against
//!
//! Every finding in party P's report is against P. The rule, by source:
//!
//! | source | findings | against |
//! |---|---|---|
//! | P's notifications (the registry's fold) | `limit_exceeded`, impossible transitions, `data_exchange_mismatch`, `late_notification`, `missing_data_exchange` | P, the declaring party |
//! | inspections **of** P | `reentry_vehicle_discrepancy`, `status_discrepancy`, `undeclared_items` | P, the inspected party |
//! | inspections **by** P | `inspection_quota_exceeded` | P, the inspecting party |
//! | the observer's receipts of P's log | `late_delivery` | P, the sender |
//! | draws P checks (the observer's draw files, [`crate::draws`]) | `reveal_late`, `reveal_withheld` | P, the checking party |
//! | draws of P | `population_withheld`, `drawn_site_refused` | P, the checked party |
//!
//! A draw's findings on a date are those of the draw as it stands at the end
//! of that day (UTC), dated by the deadline missed or the refusal: an
//! observer that is a party to the draw holds it, so both parties' nodes
//! report the same.
//!
//! The inspections known to an observer are the union, by id, of the records
//! in every registry it holds (its own and each mirror): a quota overrun is
//! found in the inspecting party's report whichever log carried the record.
//!
//! # Order
//!
//! Findings are sorted by date, then notification number (none first), then
//! kind, then item, then message: a total order, so every presentation
//! lists the same findings in the same order.

use crate::error::RegimeError;
use crate::inspection;
use accord_inspect::record::InspectionRecord;
use accord_registry::{Finding, FindingKind, Notification, Report, Store};
use accord_treaty::Treaty;
use chrono::NaiveDate;

/// What an observer knows that bears on a party besides its notifications.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observations<'a> {
    /// Every inspection record the observer holds (any parties).
    pub inspections: &'a [InspectionRecord],
    /// Late deliveries of this party's notifications, from the observer's
    /// receipts (empty for the observer's own party).
    pub late_deliveries: &'a [Finding],
    /// Every draw the observer takes part in (any parties), verified.
    pub draws: &'a [crate::draws::DrawRecord],
}

/// A party's compliance on each of `dates` (reports in the order of
/// `dates`), from its notifications and what the observer knows.
pub fn compliance(
    treaty: &Treaty,
    party: &str,
    notifications: &[Notification],
    synthetic: bool,
    observed: Observations<'_>,
    dates: &[NaiveDate],
) -> Vec<Report> {
    let mut reports =
        accord_registry::compliance::evaluate(treaty, party, notifications, dates, synthetic);
    for r in &mut reports {
        observe(treaty, r, observed);
    }
    reports
}

/// [`compliance`] of the party whose registry `registry` is.
pub fn compliance_of(
    treaty: &Treaty,
    registry: &Store,
    observed: Observations<'_>,
    dates: &[NaiveDate],
) -> Result<Vec<Report>, RegimeError> {
    let all = registry.notifications()?;
    let m = registry.meta();
    Ok(compliance(
        treaty,
        &m.party,
        &all,
        m.synthetic,
        observed,
        dates,
    ))
}

/// Adds what the observer knows to a report of the registry's own findings,
/// by the rule above, and puts the findings in the one order.
pub fn observe(treaty: &Treaty, report: &mut Report, observed: Observations<'_>) {
    let date = report.date;
    let from_inspections = inspection_findings(treaty, &report.party, observed.inspections, date);
    report.findings.extend(from_inspections);
    report.findings.extend(
        observed
            .late_deliveries
            .iter()
            .filter(|f| f.date <= date)
            .cloned(),
    );
    report
        .findings
        .extend(crate::draws::findings(observed.draws, &report.party, date));
    sort(&mut report.findings);
}

/// The findings against `party` that `inspections` raise up to `date`, by
/// the rule above: discrepancies found in inspections of it, and quotas it
/// exceeded as an inspecting party. In the one order.
pub fn inspection_findings(
    treaty: &Treaty,
    party: &str,
    inspections: &[InspectionRecord],
    date: NaiveDate,
) -> Vec<Finding> {
    let received: Vec<InspectionRecord> = inspections
        .iter()
        .filter(|r| r.inspected_party == party)
        .cloned()
        .collect();
    let made: Vec<InspectionRecord> = inspections
        .iter()
        .filter(|r| r.inspecting_party == party)
        .cloned()
        .collect();
    let mut out: Vec<Finding> = accord_inspect::record::findings(treaty, &received, date)
        .into_iter()
        .filter(|f| f.kind != FindingKind::InspectionQuotaExceeded)
        .collect();
    out.extend(
        accord_inspect::record::findings(treaty, &made, date)
            .into_iter()
            .filter(|f| f.kind == FindingKind::InspectionQuotaExceeded),
    );
    sort(&mut out);
    out
}

/// The one order of findings (see the module docs).
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.date, a.notification, a.kind, &a.item, &a.message).cmp(&(
            b.date,
            b.notification,
            b.kind,
            &b.item,
            &b.message,
        ))
    });
}

/// The inspections recorded in `registries`, each id once.
pub fn inspections_in<'a>(
    registries: impl IntoIterator<Item = &'a Store>,
) -> Result<Vec<InspectionRecord>, RegimeError> {
    let sets = registries
        .into_iter()
        .map(inspection::recorded)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(inspection::union(sets))
}
