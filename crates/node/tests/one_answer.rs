//! Property: for random SYNTHETIC registries (random seeds, years of random
//! length with late notifications) and random inspection records (random
//! sites, dates, discrepancies, and quota overruns), the node's `GET
//! /status` equals the regime's compliance function on the same data, on
//! random dates. The node is fed through its own API (notifications, then
//! inspections), so every path a report takes is exercised.

use accord_inspect::record::{conduct, deployed_missiles, Cheat, InspectionRecord};
use accord_log::{LogStore, Signer};
use accord_node::{router, Node};
use accord_regime::{compliance, Observations};
use accord_registry::{Meta, Store};
use accord_synth::store::synthesize;
use accord_synth::{Targets, Template, YearOptions};
use accord_treaty::Treaty;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use http_body_util::BodyExt;
use proptest::prelude::*;
use std::sync::Arc;
use tower::ServiceExt;

const TOKEN: &str = "operator-token-one-answer";

async fn send(node: &Arc<Node>, req: Request<Body>) -> (StatusCode, String) {
    let resp = router(node.clone()).oneshot(req).await.expect("response");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).to_string())
}

fn post(path: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::from(body))
        .expect("request")
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

/// One case: a US force with `changes` notifications over a year (`late`
/// of them late), and `inspections` Type One inspections of it by Russia,
/// one in `every` with an extra reentry vehicle found.
fn case(
    seed: u64,
    changes: usize,
    late: usize,
    inspections: u32,
    every: u32,
    day_offsets: Vec<u64>,
) {
    let treaty = Treaty::load("new-start-2021").expect("treaty");
    let template = Template::load("US").expect("template");
    let start = d(2020, 9, 1);
    let (all, _) = synthesize(
        &treaty,
        &template,
        Targets {
            deployed_delivery_vehicles: 675,
            deployed_warheads: 1457,
            launchers: 800,
        },
        start,
        seed,
        Some(YearOptions {
            days: 365,
            notifications: changes,
            late,
            seed,
        }),
    )
    .expect("generate");
    let dir = tempfile::tempdir().expect("tmp");
    let signer = Signer::from_seed("accord/new-start-2021/US", [3; 32]).expect("key");
    let log = LogStore::init(
        &dir.path().join("log.sqlite"),
        "accord/new-start-2021/US",
        &signer.verifier(),
    )
    .expect("log");
    let reg = Store::create(
        &dir.path().join("registry"),
        Meta {
            party: "US".into(),
            treaty: treaty.id.clone(),
            synthetic: false,
            provenance: "test".into(),
        },
    )
    .expect("registry");
    let node = Arc::new(Node::new(
        log,
        reg,
        treaty.clone(),
        signer,
        None,
        vec![TOKEN.into()],
    ));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    // The inspections, drawn on the declared state of their dates.
    let mut sorted = all.clone();
    sorted.sort_by_key(|n| n.fold_key());
    let mut records: Vec<InspectionRecord> = vec![];
    for i in 0..inspections {
        let date = start + chrono::Days::new(5 + day_offsets[i as usize % day_offsets.len()]);
        let upto: Vec<_> = sorted.iter().filter(|n| n.date <= date).cloned().collect();
        let (state, _) = accord_registry::store::fold(&treaty, "US", &upto);
        let bases: Vec<String> = state
            .facilities()
            .iter()
            .filter(|f| !deployed_missiles(&treaty, &state, &f.id).is_empty())
            .map(|f| f.id.to_string())
            .collect();
        let site = &bases[(seed as usize + i as usize) % bases.len()];
        let missile = deployed_missiles(&treaty, &state, site)[0].clone();
        let mut cheat = Cheat::default();
        if every > 0 && i % every == 0 {
            cheat.extra_reentry_vehicles.insert(missile.clone(), 1);
        }
        records.push(
            conduct(
                &treaty,
                &state,
                &cheat,
                &format!("RU-T1-{i:02}"),
                "RU",
                "type_one",
                site,
                date - chrono::Days::new(1),
                date,
                vec![missile],
            )
            .expect("conduct"),
        );
    }
    rt.block_on(async {
        let mut numbered = all.clone();
        numbered.sort_by_key(|n| n.number);
        for chunk in numbered.chunks(500) {
            let body = format!(
                "[{}]",
                chunk
                    .iter()
                    .map(|n| n.to_json())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let (s, b) = send(&node, post("/notifications", body)).await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
        for r in &records {
            let (s, b) = send(
                &node,
                post("/inspections", serde_json::to_string(r).expect("json")),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
        for date in [
            d(2020, 9, 1),
            d(2020, 12, 31),
            d(2021, 3, 1),
            d(2021, 9, 1),
            d(2021, 10, 1),
        ] {
            let (s, b) = send(
                &node,
                Request::get(format!("/status?date={date}"))
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{b}");
            let status: accord_api::Status =
                accord_api::read("status", b.as_bytes()).expect("typed");
            let expect = compliance(
                &treaty,
                "US",
                &all,
                false,
                Observations {
                    inspections: &records,
                    late_deliveries: &[],
                    draws: &[],
                },
                &[date],
            )
            .remove(0);
            assert_eq!(status.compliance, expect, "seed {seed} on {date}");
            // The quota overrun is Russia's, never in the US's report.
            assert!(status
                .compliance
                .findings
                .iter()
                .all(|f| f.kind != accord_registry::FindingKind::InspectionQuotaExceeded));
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    #[test]
    fn status_equals_the_regime_on_random_registries_and_inspections(
        seed in 0u64..1_000,
        changes in 50usize..400,
        late in 0usize..4,
        inspections in 0u32..14,
        every in 0u32..4,
        day_offsets in proptest::collection::vec(0u64..300, 1..6),
    ) {
        case(seed, changes, late, inspections, every, day_offsets);
    }
}
